/**
 * The connection to a Docker engine, through dockerode.
 *
 * dockerode (docker-modem) reads `DOCKER_HOST` itself (`unix:///path`,
 * `tcp://host:port`, `ssh://…`) and falls back to the standard socket
 * (`/var/run/docker.sock`, or `~/.docker/run/docker.sock`): we rely on that
 * and only describe the endpoint in messages. The container runtime needs a
 * *local* engine (host networking, bind mounts of package directories,
 * cgroup files): a remote DOCKER_HOST works for image builds only.
 */
import { existsSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { createRequire } from 'node:module'
import type Docker from 'dockerode'

// dockerode (with ssh2 and friends) is loaded on first use: most runs never
// touch Docker, and loading it costs a noticeable part of start-up.
const requireModule = createRequire(import.meta.url)
let DockerClass: typeof Docker | undefined
import { ProviderError, errorMessage } from '../../core/errors.ts'

/** How long `dockerAvailable()` waits for the engine to answer. */
export const PING_TIMEOUT_MS = 1000

/**
 * What to do without an engine. The process runtime needs no Docker, so the
 * hint says so: nothing else stops working.
 */
export const DOCKER_START_HINT =
  'Start one with `bash scripts/docker-setup.sh` (as root: installs docker.io if missing, starts dockerd with its own socket ' +
  'and prints the DOCKER_HOST to export), or point DOCKER_HOST at a running engine. ' +
  'The process runtime (`--runtime process`, the default) does not need Docker.'

/** The engine endpoint dockerode will use, for messages. */
export function describeDockerHost(): string {
  const fromEnv = process.env.DOCKER_HOST
  if (fromEnv) return `${fromEnv} (from DOCKER_HOST)`
  const user = join(homedir(), '.docker', 'run', 'docker.sock')
  return `unix://${existsSync(user) ? user : '/var/run/docker.sock'} (the default; DOCKER_HOST is not set)`
}

/**
 * A dockerode client for the configured engine. `timeoutMs` bounds every
 * request of this client: only for short calls (ping), never for a client
 * that follows a container or an image import.
 */
export function createDockerClient(options: { timeoutMs?: number } = {}): Docker {
  try {
    DockerClass ??= requireModule('dockerode') as typeof Docker
    return new DockerClass(options.timeoutMs !== undefined ? { timeout: options.timeoutMs } : undefined)
  } catch (cause) {
    // docker-modem throws on a DOCKER_HOST it cannot parse.
    throw new ProviderError(
      'docker',
      'CONFIG_INVALID',
      `cannot use DOCKER_HOST='${process.env.DOCKER_HOST}': ${errorMessage(cause)}. ` +
        `Set it to unix:///path/to/docker.sock or tcp://host:port, or unset it for the standard socket.`,
      { cause },
    )
  }
}

export type DockerAvailability = { ok: true } | { ok: false; reason: string }

/**
 * Whether a Docker engine answers, within about a second. Never throws: the
 * reason says which endpoint was tried, what went wrong and how to start an
 * engine.
 */
export async function dockerAvailable(): Promise<DockerAvailability> {
  let client: Docker
  try {
    client = createDockerClient({ timeoutMs: PING_TIMEOUT_MS })
  } catch (err) {
    return { ok: false, reason: errorMessage(err) }
  }
  // docker-modem's timeout covers the request; the abort is a second guard
  // for a socket that accepts the connection and then says nothing.
  const abort = new AbortController()
  const timer = setTimeout(() => abort.abort(), PING_TIMEOUT_MS + 200)
  const started = performance.now()
  try {
    // @types/dockerode 4 does not declare ping's options; dockerode 5 takes { abortSignal }.
    const ping = client.ping.bind(client) as unknown as (opts: { abortSignal: AbortSignal }) => Promise<unknown>
    await ping({ abortSignal: abort.signal })
    return { ok: true }
  } catch (err) {
    return { ok: false, reason: `no Docker engine answers on ${describeDockerHost()}: ${pingFailure(err, performance.now() - started)}. ${DOCKER_START_HINT}` }
  } finally {
    clearTimeout(timer)
  }
}

function pingFailure(err: unknown, elapsedMs: number): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  // docker-modem's timeout destroys the request: it surfaces as "socket hang up".
  if (elapsedMs >= PING_TIMEOUT_MS * 0.9) return `no answer within ${PING_TIMEOUT_MS} ms`
  if (code === 'ENOENT') return 'the socket does not exist'
  if (code === 'ECONNREFUSED') return 'connection refused (a stale socket, or the engine is not running)'
  if (code === 'EACCES') return 'permission denied on the socket (run as root or join the docker group)'
  if (code === 'ABORT_ERR' || /abort|timeout/i.test(errorMessage(err))) return `no answer within ${PING_TIMEOUT_MS} ms`
  return errorMessage(err)
}

/**
 * A client for an engine known to answer; rejects with TOOL_MISSING and how
 * to start one otherwise. `what` names the operation for the message.
 */
export async function requireDocker(what: string): Promise<Docker> {
  const available = await dockerAvailable()
  if (!available.ok) throw new ProviderError('docker', 'TOOL_MISSING', `${what} needs a Docker engine, but ${available.reason}`)
  return createDockerClient()
}

/** True for dockerode's "no such image/container" errors. */
export function isNotFound(err: unknown): boolean {
  return (err as { statusCode?: number } | undefined)?.statusCode === 404
}

/** The message of a dockerode error without its HTTP noise ("(HTTP code 404) no such container - …"). */
export function dockerErrorMessage(err: unknown): string {
  const json = (err as { json?: { message?: string } } | undefined)?.json
  if (json && typeof json.message === 'string') return json.message
  return errorMessage(err)
}
