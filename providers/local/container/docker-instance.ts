/**
 * The `docker` runtime of the local provider (main process and bench
 * workers): a FunctionInstance (function-instance.ts) that is one Docker
 * container (`--runtime docker`):
 * the same wrapper server as a process instance (`python3 -u server.py` /
 * `node server.js`), but with the package bind-mounted read-only at
 * /function, its own tmpfs /tmp (the cold-start marker lives there), the
 * function's memory as a hard limit (no swap) and a CPU quota.
 *
 * - Networking: the host's (`--network host`); the server binds 127.0.0.1
 *   with a random port and prints `SEBS_READY <port>` as it does in a process.
 * - Cold start: create + start + readiness; `startupUs` measures all of it.
 * - Memory: a function that allocates past the limit is killed by the
 *   kernel's OOM killer; the engine reports `OOMKilled` and the invocation is
 *   an error saying "out of memory". Peak memory per invocation comes from
 *   the container's memory cgroup (cgroup-memory.ts).
 * - Timeouts: the container is killed (and removed).
 * - Cleanup: every container carries the run id, function and instance as
 *   labels (sweep finds them); its stdin is attached and closes when this
 *   process dies, so the server exits by itself (the lifeline of process
 *   instances) and a stopped container is left for `sebs cleanup`.
 */
import { randomBytes } from 'node:crypto'
import { constants as osConstants } from 'node:os'
import type { Socket } from 'node:net'
import { PassThrough } from 'node:stream'
import type Docker from 'dockerode'
import { delay } from '../../../core/delay.ts'
import { ProviderError, errorMessage } from '../../../core/errors.ts'
import type { Logger } from '../../../core/logger.ts'
import { DOCKER_START_HINT, createDockerClient, describeDockerHost, dockerErrorMessage, isNotFound } from '../../docker/client.ts'
import { baseImageHint } from '../../docker/images.ts'
import {
  LABEL_FUNCTION,
  LABEL_INSTANCE,
  LABEL_KIND,
  LABEL_MANAGED,
  LABEL_OWNER,
  LABEL_RUN_ID,
} from '../../docker/labels.ts'
import { ownerLabel } from '../../docker/run.ts'
import {
  STDERR_TAIL_BYTES,
  formatExit,
  withStderrTail,
  type ExitStatus,
  type FunctionInstance,
  type InstanceInvocation,
  type InstanceStartOptions,
} from '../function-instance.ts'
import { createHttpTarget, invokeOverHttp, type HttpInvokeTarget } from '../http-invoke.ts'
import { containerMemoryCounter, type MemoryPeakCounter } from './cgroup-memory.ts'
import { ReadyTimeout, readyTimeoutMessage, waitForReadyLine } from '../ready-line.ts'

/** The Docker part of a local function handle (plain data). */
export interface DockerRuntimeData {
  /** The image the containers run (resolved at deploy). */
  image: string
  /** Where the image came from: configured, the offline base image, or the official one. */
  imageSource: 'configured' | 'base' | 'official'
  /** CPU quota per container (1 = one core). */
  cpus: number
  /** Size of the per-container /tmp tmpfs, MB (it counts against the memory limit). */
  tmpSizeMb: number
}

/** What a container instance needs beyond what every runtime does. */
export interface DockerInstanceOptions extends InstanceStartOptions {
  /** The memory limit, MB. */
  memoryMb: number
  docker: DockerRuntimeData
}

/** Where the package is mounted in the container. */
export const FUNCTION_MOUNT = '/function'

const MIB = 1024 * 1024

let sharedClient: Docker | undefined
/** One client per process: dockerode clients hold no connections between calls. */
export function dockerClient(): Docker {
  sharedClient ??= createDockerClient()
  return sharedClient
}

/** A container name from the function name and instance id (Docker allows [a-zA-Z0-9][a-zA-Z0-9_.-]*). */
export function containerName(functionName: string, instanceId: string): string {
  const base = functionName.replace(/[^a-zA-Z0-9_.-]/g, '_').replace(/^[^a-zA-Z0-9]+/, '')
  return `${base.slice(0, 180) || 'sebs'}-${instanceId}`
}

/** The exit status of a container process: codes above 128 are a signal's (tini reports 128 + signal). */
export function exitStatusOf(exitCode: number | undefined): ExitStatus {
  if (exitCode !== undefined && exitCode > 128) {
    const signal = Object.entries(osConstants.signals).find(([, n]) => n === exitCode - 128)?.[0]
    if (signal) return { code: null, signal: signal as NodeJS.Signals }
  }
  return { code: exitCode ?? null, signal: null }
}

/** How the container ended, once it has. */
interface ContainerEnd {
  status: ExitStatus
  oomKilled: boolean
}

/** The end as an ExitStatus that carries the OOM kill, for formatExit and `exitStatus`. */
function endStatus(end: ContainerEnd): ExitStatus {
  return end.oomKilled ? { ...end.status, oomKilled: true } : end.status
}

/** Errors talking to the engine itself (not the function) get the engine hint. */
function engineError(what: string, err: unknown, code: 'TOOL_MISSING' | 'INVOCATION_FAILED' = 'INVOCATION_FAILED'): ProviderError {
  const errno = (err as NodeJS.ErrnoException | undefined)?.code
  if (errno === 'ENOENT' || errno === 'ECONNREFUSED' || errno === 'EACCES') {
    return new ProviderError(
      'local',
      'TOOL_MISSING',
      `${what}: no Docker engine answers on ${describeDockerHost()} (${errorMessage(err)}). ${DOCKER_START_HINT}`,
      { cause: err },
    )
  }
  return new ProviderError('local', code, `${what}: ${dockerErrorMessage(err)}`, { cause: err })
}

/** A function instance as a Docker container (`runtime: 'docker'`). */
export class DockerInstance implements FunctionInstance {
  readonly id: string
  /** The container's id. */
  readonly containerId: string
  /** Host pid of the container's init process (0 when it could not be read). */
  readonly pid: number
  /** The instance's temp dir, inside the container. */
  readonly tmpDir = '/tmp'
  /** Create → `SEBS_READY`, µs. */
  readonly startupUs: number
  /** The container runs under a hard memory limit. */
  readonly memoryEnforced = true
  readonly memoryMb: number
  readonly #container: Docker.Container
  readonly #port: number
  readonly #http: HttpInvokeTarget
  readonly #logger: Logger
  readonly #socket: Socket
  readonly #ended: Promise<ContainerEnd>
  readonly #stderr: () => string
  readonly #memory: MemoryPeakCounter | undefined
  readonly #exitListeners = new Set<() => void>()
  #end: ContainerEnd | undefined
  #dying = false
  #removal: Promise<void> | undefined

  private constructor(init: {
    id: string
    container: Docker.Container
    pid: number
    port: number
    startupUs: number
    memoryMb: number
    logger: Logger
    socket: Socket
    ended: Promise<ContainerEnd>
    stderr: () => string
    memory: MemoryPeakCounter | undefined
  }) {
    this.id = init.id
    this.containerId = init.container.id
    this.#container = init.container
    this.pid = init.pid
    this.#port = init.port
    this.startupUs = init.startupUs
    this.memoryMb = init.memoryMb
    this.#logger = init.logger
    this.#socket = init.socket
    this.#ended = init.ended
    this.#stderr = init.stderr
    this.#memory = init.memory
    this.#http = createHttpTarget({
      port: init.port,
      noun: 'container',
      isAlive: () => this.alive,
      endListeners: this.#exitListeners,
      ended: this.#ended,
      endResponse: () => {
        const end = this.#end ?? { status: { code: null, signal: null }, oomKilled: false }
        if (!end.oomKilled) return { kind: 'exited', code: end.status.code, signal: end.status.signal, stderrTail: this.#stderr() }
        const tail = this.#stderr().trim()
        return {
          kind: 'failed',
          message:
            `out of memory: the function exceeded its ${this.memoryMb} MB memory limit and the container was killed (OOMKilled)` +
            (tail ? `; its stderr ends with:\n${tail}` : ''),
        }
      },
      kill: () => void this.kill(),
    })
    // An idle container must not keep the harness (or a bench worker) alive.
    this.#socket.unref()
    void this.#ended.then((end) => {
      this.#end = end
      this.#logger.debug(`container ${this.containerId.slice(0, 12)} ${formatExit(endStatus(end), this.memoryMb)}`)
      for (const listener of this.#exitListeners) listener()
      this.#exitListeners.clear()
      this.#http.connection.destroy()
    })
  }

  /**
   * Creates and starts a container and waits until its server listens.
   * Rejects with a ProviderError: TOOL_MISSING (no engine), DEPLOY_FAILED
   * (image missing, with how to build it), TIMEOUT or INVOCATION_FAILED
   * (with the end of the container's stderr). A failed start removes the
   * container.
   */
  static async start(options: DockerInstanceOptions): Promise<DockerInstance> {
    const id = randomBytes(4).toString('hex')
    const logger = options.logger.child(`container:${id}`)
    const docker = dockerClient()
    const memoryBytes = Math.round(options.memoryMb * MIB)
    const env: Record<string, string> = {
      ...options.env,
      TMPDIR: '/tmp',
      SEBS_RUN_ID: options.runId,
      SEBS_FUNCTION_NAME: options.functionName,
      SEBS_INSTANCE_ID: id,
      SEBS_EXIT_ON_STDIN_EOF: '1',
      // Cold starts must not get faster because a previous instance left bytecode behind (the mount is read-only anyway).
      PYTHONDONTWRITEBYTECODE: '1',
      // What the wrappers report back in the envelope.
      SEBS_MEMORY_ENFORCED: '1',
      SEBS_MEMORY_LIMIT_MB: String(options.memoryMb),
      SEBS_MEMORY_LIMIT_MECHANISM: 'docker',
    }
    const cmd = options.language === 'python' ? ['python3', '-u', 'server.py'] : ['node', 'server.js']

    const startedAt = process.hrtime.bigint()
    let container: Docker.Container
    try {
      container = await docker.createContainer({
        name: containerName(options.functionName, id),
        Image: options.docker.image,
        Cmd: cmd,
        WorkingDir: FUNCTION_MOUNT,
        Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
        Labels: {
          [LABEL_MANAGED]: 'true',
          [LABEL_KIND]: 'function-instance',
          [LABEL_RUN_ID]: options.runId,
          [LABEL_FUNCTION]: options.functionName,
          [LABEL_INSTANCE]: id,
          [LABEL_OWNER]: ownerLabel(),
        },
        // stdin stays open while this process holds the attach connection: the lifeline.
        OpenStdin: true,
        StdinOnce: true,
        AttachStdin: true,
        AttachStdout: true,
        AttachStderr: true,
        Tty: false,
        HostConfig: {
          NetworkMode: 'host',
          Memory: memoryBytes,
          // Equal to Memory: no swap on top, as on a FaaS platform.
          MemorySwap: memoryBytes,
          NanoCpus: Math.round(options.docker.cpus * 1e9),
          Binds: [`${options.packageDir}:${FUNCTION_MOUNT}:ro`],
          Tmpfs: { '/tmp': `rw,exec,nosuid,nodev,size=${options.docker.tmpSizeMb}m,mode=1777` },
          // Like Lambda: only /tmp is writable.
          ReadonlyRootfs: true,
          // tini as PID 1: signals reach the server, and its exit code says which signal ended it.
          Init: true,
        },
      })
    } catch (err) {
      if (isNotFound(err)) {
        throw new ProviderError(
          'local',
          'DEPLOY_FAILED',
          `cannot start an instance of ${options.functionName}: image ${options.docker.image} is not in the Docker engine. ` +
            `${options.docker.imageSource === 'configured' ? `Pull or build it, or drop docker.images.${options.language}. ` : ''}` +
            `${baseImageHint(options.language)} and deploy again.`,
          { cause: err },
        )
      }
      throw engineError(`cannot create a container for ${options.functionName}`, err)
    }

    let socket: Socket | undefined
    let stderrTail = ''
    const stdout = new PassThrough()
    const stderr = new PassThrough()
    try {
      socket = (await container.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true })) as Socket
      docker.modem.demuxStream(socket, stdout, stderr)
      stderr.setEncoding('utf8')
      stderr.on('data', (chunk: string) => {
        stderrTail = (stderrTail + chunk).slice(-STDERR_TAIL_BYTES)
        logger.debug(`stderr: ${chunk.trimEnd()}`)
      })
      socket.on('error', () => {
        // The connection ends with the container; the end promise tells how.
      })
      const attached = socket
      const ended = new Promise<ContainerEnd>((resolve) => {
        let done = false
        const finish = (): void => {
          if (done) return
          done = true
          // The engine knows the exit code and whether the OOM killer struck.
          container
            .inspect()
            .then(async (info) => {
              if (info.State?.Running) {
                // The connection broke (an engine restart) but the container runs on without its
                // lifeline and output: end it rather than leave it unowned.
                await container.remove({ force: true }).catch(() => {})
                resolve({ status: { code: null, signal: 'SIGKILL' }, oomKilled: false })
                return
              }
              resolve({ status: exitStatusOf(info.State?.ExitCode), oomKilled: Boolean(info.State?.OOMKilled) })
            })
            .catch(() => resolve({ status: { code: null, signal: 'SIGKILL' }, oomKilled: false }))
        }
        attached.on('end', finish)
        attached.on('close', finish)
      })

      await container.start()
      const [port, info] = await Promise.all([
        waitForReadyLine(stdout, ended, options.startTimeoutMs, (end) => new ContainerEnded(end)),
        container.inspect().catch(() => undefined),
      ])
      const startupUs = Number((process.hrtime.bigint() - startedAt) / 1000n)
      const pid = info?.State?.Pid ?? 0
      const memory = containerMemoryCounter(pid)
      if (!memory) logger.debug(`no readable memory cgroup for container pid ${pid}: peak memory is not reported`)
      // After readiness stdout is the function's own output: keep draining it.
      stdout.on('data', (chunk: Buffer) => logger.debug(`stdout: ${chunk.toString('utf8').trimEnd()}`))
      logger.debug(`container ${container.id.slice(0, 12)} ready on port ${port} after ${Math.round(startupUs / 1000)} ms`)
      return new DockerInstance({
        id,
        container,
        pid,
        port,
        startupUs,
        memoryMb: options.memoryMb,
        logger,
        socket: attached,
        ended,
        stderr: () => stderrTail,
        memory,
      })
    } catch (err) {
      // A failed start leaves nothing behind.
      const end = await container
        .inspect()
        .then((i) => (i.State?.Running ? undefined : { status: exitStatusOf(i.State?.ExitCode), oomKilled: Boolean(i.State?.OOMKilled) }))
        .catch(() => undefined)
      await container.remove({ force: true }).catch(() => {})
      socket?.destroy()
      const describe = (what: string): string => withStderrTail(what, stderrTail)
      if (err instanceof ReadyTimeout) {
        throw new ProviderError(
          'local',
          'TIMEOUT',
          describe(readyTimeoutMessage('container', options.functionName, options.startTimeoutMs)),
        )
      }
      if (err instanceof ContainerEnded || end) {
        const status = end ?? (err as ContainerEnded).end
        throw new ProviderError(
          'local',
          'INVOCATION_FAILED',
          describe(`the container of ${options.functionName} ${formatExit(endStatus(status), options.memoryMb)} before it was ready`),
        )
      }
      if (err instanceof ProviderError) throw err
      throw engineError(`cannot start the container of ${options.functionName}`, err)
    }
  }

  /** True until the container has stopped. */
  get alive(): boolean {
    return this.#end === undefined
  }

  /** Alive and not being killed or stopped: may take a request. */
  get usable(): boolean {
    return this.#end === undefined && !this.#dying
  }

  get exitStatus(): ExitStatus | undefined {
    return this.#end && endStatus(this.#end)
  }

  /** The last few KB the server wrote to stderr. */
  stderrTail(): string {
    return this.#stderr()
  }

  /**
   * Sends one event. Resolves (never rejects) with the outcome and the
   * container's peak memory during it; on timeout the container is killed.
   */
  invoke(body: string, requestId: string, timeoutMs: number): Promise<InstanceInvocation> {
    const memory = this.#memory
    memory?.reset()
    return invokeOverHttp(this.#http, body, requestId, timeoutMs).then((response): InstanceInvocation => {
      const peak = response.kind === 'ok' || response.kind === 'failed' ? memory?.peakBytes() : undefined
      return peak !== undefined ? { ...response, memoryUsedMb: Math.ceil(peak / MIB) } : response
    })
  }

  /** A container's peak memory is read per invocation (`memoryUsedMb` of `invoke`), not here. */
  ownPeakRssKb(): undefined {
    return undefined
  }

  /** Kills and removes the container now (timeouts); resolves once it is gone. */
  kill(): Promise<void> {
    this.#dying = true
    this.#removal ??= (async () => {
      try {
        await this.#container.remove({ force: true })
      } catch (err) {
        if (!isNotFound(err)) this.#logger.warn(`removing container ${this.containerId.slice(0, 12)} failed: ${dockerErrorMessage(err)}; \`sebs cleanup\` removes it later`)
      }
      // The attach connection ends with the container; do not wait forever for it.
      await Promise.race([this.#ended, delay(5000, { unref: true })])
      this.#socket.destroy()
      this.#http.connection.destroy()
    })()
    return this.#removal
  }

  /**
   * Stops the instance: the container is killed and removed at once (a
   * function keeps no state worth a graceful stop; `graceMs` is accepted for
   * the process runtime's signature).
   */
  async stop(_graceMs?: number): Promise<void> {
    await this.kill()
  }
}

class ContainerEnded extends Error {
  constructor(readonly end: ContainerEnd) {
    super('container ended')
  }
}

