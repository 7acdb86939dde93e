/**
 * Which image runs a language's functions, and making sure it is there.
 *
 * Order, unless an image is configured:
 *  1. the offline base image built from this host's interpreter
 *     (`sebs docker base`): it runs exactly the interpreter the package was
 *     built with;
 *  2. the official image for the same version (`python:3.11-slim`,
 *     `node:20-slim`), when it is present or can be pulled;
 *  3. otherwise an error that says to run `npx sebs docker base`.
 */
import type Docker from 'dockerode'
import { ProviderError, errorMessage } from '../../core/errors.ts'
import type { Logger } from '../../core/logger.ts'
import type { Language } from '../../core/types.ts'
import { baseImageExists, baseImageKey } from './base-image.ts'
import { dockerErrorMessage, isNotFound } from './client.ts'

/** How long a pull of an official image may take before we give up on it. */
export const DEFAULT_PULL_TIMEOUT_MS = 300_000

export interface ResolvedImage {
  image: string
  /** Where it came from: the configuration, the offline base image or the official image. */
  source: 'configured' | 'base' | 'official'
}

/** `python:3.11-slim` / `node:20-slim` for a runtime version (`python3.11.7`, `node20.20.2`). */
export function officialImage(language: Language, runtimeVersion: string): string {
  const m = /(\d+)\.(\d+)/.exec(runtimeVersion)
  if (!m) throw new ProviderError('docker', 'CONFIG_INVALID', `cannot tell the version of runtime '${runtimeVersion}'`)
  return language === 'python' ? `python:${m[1]}.${m[2]}-slim` : `node:${m[1]}-slim`
}

/** How to build the offline base image, for messages. */
export function baseImageHint(language?: Language, command?: string): string {
  const flags = [
    ...(language ? [`--language ${language}`] : []),
    ...(command ? [`--${language === 'python' ? 'python' : 'node'} ${command}`] : []),
  ]
  return `Build the offline base image with \`npx sebs docker base${flags.length ? ' ' + flags.join(' ') : ''}\``
}

export async function imageExists(docker: Docker, image: string): Promise<boolean> {
  try {
    await docker.getImage(image).inspect()
    return true
  } catch (err) {
    if (isNotFound(err)) return false
    throw new ProviderError('docker', 'TOOL_MISSING', `cannot inspect image ${image}: ${dockerErrorMessage(err)}`, { cause: err })
  }
}

/** Pulls an image; rejects with the engine's reason (no network, unknown image, …). */
export async function pullImage(docker: Docker, image: string, timeoutMs = DEFAULT_PULL_TIMEOUT_MS): Promise<void> {
  const abort = new AbortController()
  const timer = setTimeout(() => abort.abort(), timeoutMs)
  try {
    const stream = (await docker.pull(image, { abortSignal: abort.signal })) as NodeJS.ReadableStream
    await new Promise<void>((resolve, reject) => {
      docker.modem.followProgress(stream, (err: Error | null, output: Array<{ error?: string }>) => {
        const failed = output?.find((o) => o.error)
        if (err || failed) reject(err ?? new Error(failed!.error))
        else resolve()
      })
    })
  } catch (err) {
    if (abort.signal.aborted) throw new Error(`no progress within ${Math.round(timeoutMs / 1000)} s`)
    throw new Error(dockerErrorMessage(err))
  } finally {
    clearTimeout(timer)
  }
}

/**
 * The image for a language's functions (see the module comment for the
 * order). `command` is the interpreter the package was built with; `runtime`
 * its version (`python3.11.7`). Rejects with DEPLOY_FAILED and what to run
 * when no image is available.
 */
export async function resolveRuntimeImage(
  docker: Docker,
  options: {
    language: Language
    command: string
    runtimeVersion: string
    configured?: string
    /** Try `docker pull` for missing images (default true). */
    pull?: boolean
    logger?: Logger
  },
): Promise<ResolvedImage> {
  const { language, configured } = options
  const pull = options.pull ?? true
  if (configured) {
    if (await imageExists(docker, configured)) return { image: configured, source: 'configured' }
    let why = 'pulling is disabled (docker.pull: false)'
    if (pull) {
      try {
        options.logger?.info(`pulling ${configured}…`)
        await pullImage(docker, configured)
        return { image: configured, source: 'configured' }
      } catch (err) {
        why = `it could not be pulled: ${errorMessage(err)}`
      }
    }
    throw new ProviderError(
      'docker',
      'DEPLOY_FAILED',
      `the configured ${language} image ${configured} is not in the Docker engine and ${why}. ` +
        `Pull or build it, or remove docker.images.${language} from the local provider's options to use the offline base image ` +
        `(${baseImageHint(language).replace(/^B/, 'b')}).`,
    )
  }

  const key = await baseImageKey(language, options.command)
  if (await baseImageExists(docker, key)) return { image: key.tag, source: 'base' }

  const official = officialImage(language, options.runtimeVersion)
  if (await imageExists(docker, official)) return { image: official, source: 'official' }
  let pullProblem = 'pulling is disabled (docker.pull: false)'
  if (pull) {
    try {
      options.logger?.info(`no ${key.tag}; pulling ${official}…`)
      await pullImage(docker, official)
      return { image: official, source: 'official' }
    } catch (err) {
      pullProblem = `${official} could not be pulled (${errorMessage(err)})`
    }
  }
  throw new ProviderError(
    'docker',
    'DEPLOY_FAILED',
    `no image to run ${language} functions in: the offline base image ${key.tag} (for ${key.executable}) does not exist and ${pullProblem}. ` +
      `${baseImageHint(language, options.command)}, or set docker.images.${language} in the local provider's options.`,
  )
}
