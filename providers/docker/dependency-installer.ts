/**
 * The cloud packagers' choice of where dependencies are installed: in a
 * build image that matches the target runtime (Amazon Linux for Lambda, the
 * Azure Functions image, …) when a Docker engine answers, otherwise on the
 * host with a warning that says why native modules may not match.
 *
 * The choice is made before the package hash is computed (it is part of
 * it), so a package built on the host is rebuilt in the image once an engine
 * is available, and the other way round.
 */
import type { Logger } from '../../core/logger.ts'
import type { Language } from '../../core/types.ts'
import type { DependencyInstaller, InstallStep } from '../packaging/package-builder.ts'
import { installDependenciesInImage } from './build-image.ts'
import { errorMessage } from '../../core/errors.ts'
import { createDockerClient, dockerAvailable, type DockerAvailability } from './client.ts'
import { imageExists, pullImage } from './images.ts'

export interface InstallerChoice {
  /** Undefined: the package builder runs pip/npm on the host. */
  installer?: DependencyInstaller
  /** `docker:<image>` when installing in an image; part of the package hash. */
  installerId?: string
  /** The build image used, when any. */
  image?: string
}

export interface ChooseInstallerOptions {
  /** The configured build image; `false` forces the host path. */
  image: string | false
  /** The config key that sets it, for messages (e.g. `aws.buildImage`). */
  configKey: string
  benchmark: string
  language: Language
  /** Where the package runs, for the warning: 'Lambda', 'Azure Functions'. */
  platform: string
  logger: Logger
  /**
   * The image is the provider's default, not one the user configured: when it
   * is neither in the engine nor pullable (an offline machine), install on the
   * host with a warning instead of failing. A configured image must exist.
   */
  defaultImage?: boolean
}

/**
 * One ping per engine address and process: packaging many benchmarks must
 * not pay the ping (up to a second without an engine) for each of them.
 * Keyed by DOCKER_HOST so that a changed address is checked again.
 */
const availability = new Map<string, Promise<DockerAvailability>>()

function cachedDockerAvailable(): Promise<DockerAvailability> {
  const key = process.env.DOCKER_HOST ?? ''
  let pending = availability.get(key)
  if (!pending) {
    pending = dockerAvailable()
    availability.set(key, pending)
    // An engine that is down now may be started later in a long session: only success is remembered.
    void pending.then((a) => {
      if (!a.ok) availability.delete(key)
    })
  }
  return pending
}

/**
 * The container command of one install step. The package is the container's
 * working directory (/package); a step in a subdirectory changes into it
 * through the image's `sh` (present in the provider build images and in the
 * offline base images).
 */
/** Why a default build image cannot be used (undefined when it is there or was pulled). Remembered per image. */
const defaultImageChecks = new Map<string, Promise<string | undefined>>()

function defaultImageUnavailable(image: string, logger: Logger): Promise<string | undefined> {
  let pending = defaultImageChecks.get(image)
  if (!pending) {
    pending = (async () => {
      const docker = createDockerClient()
      if (await imageExists(docker, image)) return undefined
      try {
        logger.info(`pulling build image ${image}…`)
        await pullImage(docker, image, DEFAULT_IMAGE_PULL_TIMEOUT_MS)
        return undefined
      } catch (err) {
        return `it could not be pulled: ${errorMessage(err).split('\n')[0]}`
      }
    })()
    defaultImageChecks.set(image, pending)
  }
  return pending
}

/** A default image is optional, so an offline machine should not wait long for it. */
const DEFAULT_IMAGE_PULL_TIMEOUT_MS = 120_000

export function containerCommand(step: Pick<InstallStep, 'tool' | 'args' | 'cwd'>): string[] {
  const command = [step.tool, ...step.args]
  if (step.cwd === '.' || step.cwd === '') return command
  return ['sh', '-c', 'cd "$1" && shift && exec "$@"', 'sh', step.cwd, ...command]
}

/**
 * Decides where the dependencies of one package are installed. Never throws
 * for a missing engine (that is the host fallback, with a warning); a
 * missing image surfaces later, from the install, with the docker module's
 * message on how to get or build it.
 */
export async function chooseDependencyInstaller(opts: ChooseInstallerOptions): Promise<InstallerChoice> {
  const hostWarning = (reason: string) =>
    opts.logger.warn(
      `installing ${opts.benchmark} (${opts.language}) dependencies on the host: ${reason}; ` +
        `native modules are built for this machine and may not load on ${opts.platform}`,
    )
  if (opts.image === false) {
    hostWarning(`${opts.configKey} is false`)
    return {}
  }
  const docker = await cachedDockerAvailable()
  if (!docker.ok) {
    hostWarning(docker.reason.replace(/\.\s*$/, ''))
    return {}
  }
  const image = opts.image
  if (opts.defaultImage) {
    const unavailable = await defaultImageUnavailable(image, opts.logger)
    if (unavailable) {
      hostWarning(`the default build image ${image} is not available (${unavailable}); pull it or set ${opts.configKey}`)
      return {}
    }
  }
  const installer: DependencyInstaller = async (step) => {
    const command = containerCommand(step)
    opts.logger.info(`installing ${opts.benchmark} (${opts.language}) dependencies in ${image}: ${command.join(' ')}`)
    const { logs } = await installDependenciesInImage({
      image,
      packageDir: step.packageDir,
      language: opts.language,
      commands: [command],
      timeoutMs: step.timeoutMs,
      logger: opts.logger,
    })
    opts.logger.debug(logs)
    // pip's and npm's closing line ("Successfully installed …", "added 12 packages …").
    const last = logs.trim().split('\n').filter((l) => l.trim() && !l.startsWith('$ ')).pop()
    if (last) opts.logger.info(`in ${image}: ${last.trim()}`)
  }
  return { installer, installerId: `docker:${image}`, image }
}
