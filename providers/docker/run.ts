/**
 * Run one command in a throwaway container and collect its output: the
 * smoke test of a base image, and each step of a dependency install in a
 * build image. The container is always removed, also on timeout or error.
 */
import { hostname } from 'node:os'
import { PassThrough } from 'node:stream'
import type Docker from 'dockerode'
import { delay } from '../../core/delay.ts'
import { tailLines } from '../../core/format.ts'
import { ProviderError } from '../../core/errors.ts'
import { dockerErrorMessage, isNotFound } from './client.ts'
import { LABEL_KIND, LABEL_MANAGED, LABEL_OWNER, type ContainerKind } from './labels.ts'

export interface RunContainerOptions {
  image: string
  cmd: string[]
  kind: ContainerKind
  env?: Record<string, string>
  /** `host:container[:ro]` bind mounts. */
  binds?: string[]
  workingDir?: string
  /** `uid:gid`; default: the image's user. */
  user?: string
  timeoutMs: number
  /** Extra labels (run id, …). */
  labels?: Record<string, string>
  /** Keep at most this much output (the tail); default 1 MB. */
  maxLogBytes?: number
}

export interface RunContainerResult {
  exitCode: number
  /** stdout and stderr, interleaved as they came. */
  logs: string
  oomKilled: boolean
  durationMs: number
}

/** Thrown when the image does not exist locally; the caller knows how to build it. */
export class ImageMissingError extends ProviderError {
  readonly image: string
  constructor(image: string, message: string, options?: { cause?: unknown }) {
    super('docker', 'DEPLOY_FAILED', message, options)
    this.name = 'ImageMissingError'
    this.image = image
  }
}

export function ownerLabel(): string {
  return `${process.pid}@${hostname()}`
}

/**
 * Runs `cmd` in a new container on the host network (package indexes and
 * registries are reached as from the host) and waits for it to exit.
 * Rejects with TIMEOUT after `timeoutMs` (the container is killed) and with
 * ImageMissingError when the image is not there; a non-zero exit is a
 * result, not an error.
 */
export async function runContainer(docker: Docker, options: RunContainerOptions): Promise<RunContainerResult> {
  const started = performance.now()
  const maxLog = options.maxLogBytes ?? 1024 * 1024
  let container: Docker.Container
  try {
    container = await docker.createContainer({
      Image: options.image,
      Cmd: options.cmd,
      Env: Object.entries(options.env ?? {}).map(([k, v]) => `${k}=${v}`),
      WorkingDir: options.workingDir,
      ...(options.user ? { User: options.user } : {}),
      Labels: { [LABEL_MANAGED]: 'true', [LABEL_KIND]: options.kind, [LABEL_OWNER]: ownerLabel(), ...(options.labels ?? {}) },
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
      HostConfig: {
        NetworkMode: 'host',
        Binds: options.binds ?? [],
        // tini as PID 1: signals reach the command, zombies are reaped.
        Init: true,
      },
    })
  } catch (err) {
    if (isNotFound(err)) {
      throw new ImageMissingError(options.image, `image ${options.image} does not exist in the Docker engine: ${dockerErrorMessage(err)}`, { cause: err })
    }
    throw new ProviderError('docker', 'INVOCATION_FAILED', `cannot create a container from ${options.image}: ${dockerErrorMessage(err)}`, { cause: err })
  }

  let logs = ''
  let timedOut = false
  let timer: NodeJS.Timeout | undefined
  try {
    const stream = (await container.attach({ stream: true, stdout: true, stderr: true })) as NodeJS.ReadableStream
    const sink = new PassThrough()
    sink.setEncoding('utf8')
    sink.on('data', (chunk: string) => {
      logs += chunk
      if (logs.length > maxLog * 2) logs = logs.slice(-maxLog)
    })
    // Non-TTY output is multiplexed (8-byte frame headers); both go to one sink, in order.
    docker.modem.demuxStream(stream, sink, sink)
    const streamEnded = new Promise<void>((resolve) => {
      stream.on('end', resolve)
      stream.on('close', resolve)
      stream.on('error', () => resolve())
    })

    // Registered before start: the default condition ('not-running') would return at once for a created container.
    const waited = container.wait({ condition: 'next-exit' }) as Promise<{ StatusCode: number }>
    await container.start()
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), options.timeoutMs)
    })
    const outcome = await Promise.race([waited, timeout])
    if (outcome === 'timeout') {
      timedOut = true
      await container.kill().catch(() => {})
      throw new ProviderError(
        'docker',
        'TIMEOUT',
        `\`${options.cmd.join(' ')}\` in ${options.image} did not finish within ${Math.round(options.timeoutMs / 1000)} s and was killed. ` +
          `Output so far:\n${tailLines(logs, 30, '…')}`,
      )
    }
    // The last output can arrive after the exit is reported.
    await Promise.race([streamEnded, delay(2000, { unref: true })])
    const state = (await container.inspect()).State
    return {
      exitCode: outcome.StatusCode,
      logs: maxLog > 0 && logs.length > maxLog ? logs.slice(-maxLog) : logs,
      oomKilled: Boolean(state?.OOMKilled),
      durationMs: performance.now() - started,
    }
  } catch (err) {
    if (timedOut || err instanceof ProviderError) throw err
    throw new ProviderError('docker', 'INVOCATION_FAILED', `running \`${options.cmd.join(' ')}\` in ${options.image} failed: ${dockerErrorMessage(err)}`, {
      cause: err,
    })
  } finally {
    clearTimeout(timer)
    await container.remove({ force: true }).catch(() => {})
  }
}

