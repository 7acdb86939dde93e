/**
 * The local provider's Docker runtime at deploy time: its options, the
 * engine check, and the image each language runs in.
 */
import { ProviderError, SebsError, errorMessage } from '../../../core/errors.ts'
import type { Logger } from '../../../core/logger.ts'
import type { Language } from '../../../core/types.ts'
import { dockerAvailable } from '../../docker/client.ts'
import { resolveRuntimeImage } from '../../docker/images.ts'
import { dockerClient, type DockerRuntimeData } from './docker-instance.ts'

export { DEFAULT_DOCKER_CPUS, DEFAULT_TMP_SIZE_MB, dockerOptionsSchema, type LocalDockerOptions } from './options.ts'
import { DEFAULT_DOCKER_CPUS, DEFAULT_TMP_SIZE_MB, type LocalDockerOptions } from './options.ts'

/** Fails (TOOL_MISSING, with how to start an engine) when no Docker engine answers. */
export async function requireDockerRuntime(what: string): Promise<void> {
  const available = await dockerAvailable()
  if (!available.ok) {
    throw new ProviderError('local', 'TOOL_MISSING', `${what} uses the docker runtime (--runtime docker), but ${available.reason}`)
  }
}

/**
 * Checks the engine and finds the image for one function: what goes into
 * the handle so that every process starts the same containers.
 */
export async function prepareDockerRuntime(options: {
  what: string
  language: Language
  /** The interpreter the package was built with (resolved). */
  command: string
  /** Its version, e.g. `python3.11.7`. */
  runtimeVersion: string
  docker: LocalDockerOptions
  logger: Logger
}): Promise<DockerRuntimeData> {
  await requireDockerRuntime(options.what)
  const configured = options.docker.images?.[options.language]
  let resolved
  try {
    resolved = await resolveRuntimeImage(dockerClient(), {
      language: options.language,
      command: options.command,
      runtimeVersion: options.runtimeVersion,
      ...(configured !== undefined ? { configured } : {}),
      pull: options.docker.pull ?? true,
      logger: options.logger,
    })
  } catch (err) {
    const code = err instanceof SebsError ? err.code : 'DEPLOY_FAILED'
    throw new ProviderError('local', code, `cannot deploy ${options.what}: ${errorMessage(err).replace(/^\[docker\] /, '')}`, { cause: err })
  }
  options.logger.debug(`${options.what} runs in ${resolved.image} (${resolved.source})`)
  return {
    image: resolved.image,
    imageSource: resolved.source,
    cpus: options.docker.cpus ?? DEFAULT_DOCKER_CPUS,
    tmpSizeMb: options.docker.tmpSizeMb ?? DEFAULT_TMP_SIZE_MB,
  }
}
