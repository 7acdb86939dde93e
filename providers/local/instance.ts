/**
 * The `process` runtime of the local provider (main process and bench
 * workers): a FunctionInstance (function-instance.ts) that is one child
 * process running the wrapper's HTTP
 * server (`node server.js` / `python3 -u server.py`) in the package
 * directory, with its own TMPDIR (its "/tmp", where the cold-start marker
 * lives).
 *
 * Lifecycle guarantees (CONVENTIONS.md §9, "cleanup is guaranteed"):
 *  - every live instance has a pid file under `<cacheDir>/local/instances/<runId>/`
 *    so `sweep` can find it after a crash of the harness;
 *  - the child runs in its own process group, and every process it starts
 *    carries its run and instance id in its environment: when the instance
 *    ends (stop, timeout, crash) its group and every tagged process go too,
 *    daemonised ones included (process-tree.ts);
 *  - the child's stdin is a lifeline: when this process dies, the instance
 *    sees EOF, kills what it started and exits by itself;
 *  - a synchronous `exit` handler SIGKILLs whatever is still running.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { closeSync, openSync, readSync, rmSync } from 'node:fs'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { delay } from '../../core/delay.ts'
import { ProviderError, errorMessage } from '../../core/errors.ts'
import type { Logger } from '../../core/logger.ts'
import {
  applyMemoryLimit,
  memoryLimitMessage,
  readMemoryLimitOutcome,
  releaseMemoryLimit,
  releaseMemoryLimitSync,
  type MemoryLimit,
} from './limits.ts'
import {
  STDERR_TAIL_BYTES,
  formatExit,
  withStderrTail,
  type ExitStatus, type FunctionInstance, type InstanceResponse, type InstanceStartOptions } from './function-instance.ts'
import { createHttpTarget, invokeOverHttp, type HttpInvokeTarget } from './http-invoke.ts'
import { instanceTmpRoot, pidFilePath, safeSegment, type PidFileEntry } from './paths.ts'
import { TAG_ENV, killProcessGroup, killTaggedProcesses, type ProcessTag } from './process-tree.ts'
import { ReadyTimeout, readyTimeoutMessage, waitForReadyLine } from './ready-line.ts'

export interface Runtimes {
  python: string
  node: string
}

/** What a process instance needs beyond what every runtime does. */
export interface InstanceOptions extends InstanceStartOptions {
  runtimes: Runtimes
  cacheDir: string
  /**
   * Configured memory, MB: enforced as the machine permits (limits.ts).
   * When unset, `SEBS_FUNCTION_MEMORY_MB` from `env` is used, so that a
   * memory given through `update({ env })` is applied too.
   */
  memoryMb?: number
  /** `auto` (default): the strongest limit available; `off`: none. */
  memoryLimits?: 'auto' | 'off'
  /**
   * Run the instance under a profiler (counters.ts reads it per invocation).
   * When unset, `SEBS_LOCAL_PROFILER=callgrind` in `env` selects callgrind.
   * Memory is not limited under a profiler: valgrind's own overhead would count.
   */
  profiler?: 'callgrind'
}

/** Environment names the local provider reads from a function's env (they are settings, not function data). */
export const LOCAL_SETTING_ENV = {
  memoryMb: 'SEBS_FUNCTION_MEMORY_MB',
  profiler: 'SEBS_LOCAL_PROFILER',
} as const

/** Where callgrind writes an instance's profile (`%p` is its pid). */
export function callgrindOutPattern(tmpDir: string): string {
  return join(tmpDir, 'callgrind.out.%p')
}

/**
 * Variables a function instance inherits from the harness. Deliberately a
 * short list: a cloud function does not see the caller's environment, and
 * variables such as NODE_OPTIONS (set by test runners and loaders) or
 * credentials must not leak into functions. PATH, HOME, PYENV_* and LD_LIBRARY_PATH
 * are needed to find interpreters, their libraries and tools (pyenv, ffmpeg).
 */
const INHERITED_ENV = /^(PATH|HOME|USER|LOGNAME|SHELL|LANG|LANGUAGE|LC_[A-Z_]+|TZ|PYENV_[A-Z_]+|LD_LIBRARY_PATH|SSL_CERT_FILE|SSL_CERT_DIR)$/

function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && INHERITED_ENV.test(key)) env[key] = value
  }
  return env
}

// ---------------------------------------------------------------------------
// Process-wide registry: the synchronous exit handler kills what is left.

const liveInstances = new Set<LocalInstance>()
let exitHandlerInstalled = false

function installExitHandler(): void {
  if (exitHandlerInstalled) return
  exitHandlerInstalled = true
  // 'exit' handlers must be synchronous: signal, unlink, done.
  process.on('exit', () => {
    const tags = [...liveInstances].map((instance) => ({ runId: instance.runId, instanceId: instance.id }))
    for (const instance of liveInstances) instance.killSync(false)
    // One pass over /proc for all of them.
    killTaggedProcesses(tags)
  })
}

// ---------------------------------------------------------------------------

/** A function instance as a child process (the local provider's default runtime). */
export class LocalInstance implements FunctionInstance {
  readonly id: string
  readonly runId: string
  readonly pid: number
  readonly tmpDir: string
  readonly pidFile: string
  /** A process instance has no container. */
  readonly containerId = undefined
  /** Spawn → `SEBS_READY`, µs. */
  readonly startupUs: number
  readonly #child: ChildProcess
  readonly #port: number
  readonly #http: HttpInvokeTarget
  readonly #logger: Logger
  readonly #closed: Promise<ExitStatus>
  readonly #stderr: () => string
  readonly #exitListeners = new Set<() => void>()
  readonly #limit: MemoryLimit
  readonly #profiler: 'callgrind' | undefined
  /** Set on exit when the instance died of its memory limit: appended to the stderr tail. */
  #limitNote: string | undefined
  #exit: ExitStatus | undefined
  /** Set once a kill or stop was requested: the instance must not get new requests. */
  #dying = false
  #cleanup: Promise<void> | undefined
  /** Opened at the first reading (ownPeakRssKb), closed once the process has exited. */
  #peakRss: PeakRssReader | undefined

  private constructor(init: {
    id: string
    runId: string
    child: ChildProcess
    port: number
    tmpDir: string
    pidFile: string
    startupUs: number
    logger: Logger
    closed: Promise<ExitStatus>
    stderr: () => string
    limit: MemoryLimit
    profiler?: 'callgrind'
  }) {
    this.id = init.id
    this.runId = init.runId
    this.#child = init.child
    this.pid = init.child.pid!
    this.#port = init.port
    this.tmpDir = init.tmpDir
    this.pidFile = init.pidFile
    this.startupUs = init.startupUs
    this.#logger = init.logger
    this.#closed = init.closed
    this.#limit = init.limit
    this.#profiler = init.profiler
    this.#stderr = () => (this.#limitNote ? `${init.stderr().trimEnd()}\n${this.#limitNote}` : init.stderr())
    this.#http = createHttpTarget({
      port: init.port,
      noun: 'instance',
      isAlive: () => this.alive,
      endListeners: this.#exitListeners,
      ended: this.#closed,
      endResponse: () => {
        const status = this.#exit ?? { code: null, signal: null }
        return { kind: 'exited', code: status.code, signal: status.signal, stderrTail: this.#stderr() }
      },
      kill: () => void this.kill(),
    })

    liveInstances.add(this)
    installExitHandler()
    // Idle instances must not keep the harness (or a bench worker) alive;
    // in-flight requests and stop() keep the event loop busy themselves.
    this.#child.unref()
    for (const stream of [this.#child.stdin, this.#child.stdout, this.#child.stderr]) {
      ;(stream as unknown as { unref?: () => void } | null)?.unref?.()
    }
    // After readiness, stdout is the function's own output: keep draining it.
    this.#child.stdout!.on('data', (chunk: Buffer) => this.#logger.debug(`stdout: ${chunk.toString('utf8').trimEnd()}`))
    this.#child.stdin!.on('error', () => {
      // EPIPE after the instance died; the exit status tells the story.
    })
    void this.#closed.then(async (status) => {
      const note = memoryLimitMessage(this.#limit, readMemoryLimitOutcome(this.#limit))
      if (note) this.#limitNote = note
      this.#exit = status
      this.#logger.debug(`pid ${this.pid} ${formatExit(status)}`)
      for (const listener of this.#exitListeners) listener()
      this.#exitListeners.clear()
      await this.#removeFiles()
    })
  }

  /**
   * Spawns an instance and waits until it listens. Rejects with a
   * ProviderError (code TIMEOUT, TOOL_MISSING or INVOCATION_FAILED) that says
   * why, with the last lines of the instance's stderr.
   */
  static async start(options: InstanceOptions): Promise<LocalInstance> {
    const id = randomBytes(4).toString('hex')
    const logger = options.logger.child(`instance:${id}`)
    // Absolute: the instance runs in its package directory, where a relative
    // TMPDIR would put its temp files (and the cold-start marker).
    const tmpDir = resolve(instanceTmpRoot(options.cacheDir, options.runId), `${safeSegment(options.functionName)}-${id}`)
    await mkdir(tmpDir, { recursive: true })

    let [command, args] =
      options.language === 'python'
        ? [options.runtimes.python, ['-u', 'server.py']]
        : [options.runtimes.node, ['server.js']]
    const profiler = options.profiler ?? (options.env[LOCAL_SETTING_ENV.profiler] === 'callgrind' ? 'callgrind' : undefined)
    if (profiler === 'callgrind') {
      // Counting starts at once; counters.ts zeroes and dumps around each invocation.
      args = ['--tool=callgrind', `--callgrind-out-file=${callgrindOutPattern(tmpDir)}`, command, ...args]
      command = 'valgrind'
    }
    const envMemory = Number(options.env[LOCAL_SETTING_ENV.memoryMb])
    const memoryMb = options.memoryMb ?? (Number.isFinite(envMemory) && envMemory > 0 ? envMemory : undefined)
    const limited = applyMemoryLimit(
      {
        memoryMb,
        language: options.language,
        // The function name carries the run id already.
        instanceName: `${options.functionName}-${id}`,
        mode: profiler ? 'off' : (options.memoryLimits ?? 'auto'),
      },
      command,
      args,
    )
    if (limited.limit.note) logger.debug(`memory limit: ${limited.limit.mechanism} (${limited.limit.note})`)
    const env: Record<string, string> = {
      ...baseEnv(),
      ...options.env,
      ...limited.env,
      ...(memoryMb !== undefined ? { [LOCAL_SETTING_ENV.memoryMb]: String(memoryMb) } : {}),
      TMPDIR: tmpDir,
      [TAG_ENV.runId]: options.runId,
      SEBS_FUNCTION_NAME: options.functionName,
      [TAG_ENV.instanceId]: id,
      SEBS_EXIT_ON_STDIN_EOF: '1',
      // Cold starts must not get faster from run to run because a previous
      // instance left compiled bytecode in the package.
      PYTHONDONTWRITEBYTECODE: '1',
    }

    const spawnedAt = process.hrtime.bigint()
    const child = spawn(limited.command, limited.args, {
      cwd: options.packageDir,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
      // Own process group: killing -pid also reaches the function's children.
      detached: true,
    })

    // Nothing the function started outlives its instance, however it ended. On
    // 'exit', not 'close': a process the function started may hold the
    // instance's stdout/stderr open, and 'close' waits for every holder.
    child.once('exit', () => killTree(child.pid, { runId: options.runId, instanceId: id }, logger))

    let stderrTail = ''
    child.stderr!.setEncoding('utf8')
    child.stderr!.on('data', (chunk: string) => {
      stderrTail = (stderrTail + chunk).slice(-STDERR_TAIL_BYTES)
      logger.debug(`stderr: ${chunk.trimEnd()}`)
    })

    let spawnError: Error | undefined
    const closed = new Promise<ExitStatus>((resolve) => {
      child.on('error', (err) => {
        spawnError ??= err
        // A child that never started emits 'error' and no 'close'.
        if (child.pid === undefined) resolve({ code: null, signal: null })
      })
      // 'close' comes after the pipes are drained, so the stderr tail is complete.
      child.once('close', (code, signal) => resolve({ code, signal }))
    })

    const describeFailure = (what: string): string => {
      const note = memoryLimitMessage(limited.limit, readMemoryLimitOutcome(limited.limit))
      return withStderrTail(what, note ? `${stderrTail.trimEnd()}\n${note}` : stderrTail)
    }

    let pidFile = ''
    try {
      if (child.pid === undefined) {
        await closed
        const missing = (spawnError as NodeJS.ErrnoException | undefined)?.code === 'ENOENT'
        throw new ProviderError(
          'local',
          missing ? 'TOOL_MISSING' : 'INVOCATION_FAILED',
          `cannot start the ${options.language} instance of ${options.functionName} with '${command}': ${errorMessage(spawnError)}. ` +
            `Check the '${options.language === 'python' ? 'python' : 'node'}' entry of the local provider's runtimes.`,
          { cause: spawnError },
        )
      }
      pidFile = pidFilePath(options.cacheDir, options.runId, child.pid)
      const entry: PidFileEntry = {
        pid: child.pid,
        runId: options.runId,
        functionName: options.functionName,
        instanceId: id,
        tmpDir,
        startedAt: new Date().toISOString(),
      }
      await writeFile(pidFile, JSON.stringify(entry) + '\n')

      const port = await waitForReadyLine(child.stdout!, closed, options.startTimeoutMs, (status) => status).catch((err: unknown) => {
        if (err instanceof ReadyTimeout) {
          throw new ProviderError(
            'local',
            'TIMEOUT',
            describeFailure(readyTimeoutMessage('instance', options.functionName, options.startTimeoutMs)),
          )
        }
        const status = err as ExitStatus
        throw new ProviderError(
          'local',
          'INVOCATION_FAILED',
          describeFailure(`the instance of ${options.functionName} ${formatExit(status)} before it was ready`),
        )
      })

      const startupUs = Number((process.hrtime.bigint() - spawnedAt) / 1000n)
      logger.debug(`pid ${child.pid} ready on port ${port} after ${Math.round(startupUs / 1000)} ms`)
      return new LocalInstance({
        id,
        runId: options.runId,
        child,
        port,
        tmpDir,
        pidFile,
        startupUs,
        logger,
        closed,
        stderr: () => stderrTail,
        limit: limited.limit,
        ...(profiler ? { profiler } : {}),
      })
    } catch (err) {
      // A failed start leaves nothing behind: no process, no pid file, no temp dir.
      killGroup(child, 'SIGKILL')
      await Promise.race([closed, delay(2000, { unref: true })])
      await rm(tmpDir, { recursive: true, force: true })
      if (pidFile) await rm(pidFile, { force: true })
      await releaseMemoryLimit(limited.limit)
      throw err
    }
  }

  /** True until the process has exited. */
  get alive(): boolean {
    return this.#exit === undefined
  }

  /** Alive and not being killed or stopped: may take a request. */
  get usable(): boolean {
    return this.#exit === undefined && !this.#dying
  }

  get exitStatus(): ExitStatus | undefined {
    return this.#exit
  }

  /** How this instance's memory is limited (mechanism, MB, whether it binds the whole process). */
  get memoryLimit(): MemoryLimit {
    return this.#limit
  }

  /** True when the configured memory bounds the whole instance (cgroup or address-space limit). */
  get memoryEnforced(): boolean {
    return this.#limit.enforced
  }

  /** The profiler the instance runs under, if any. */
  get profiler(): 'callgrind' | undefined {
    return this.#profiler
  }

  /** The last few KB the instance wrote to stderr. */
  stderrTail(): string {
    return this.#stderr()
  }

  /**
   * The process's own peak RSS (VmHWM), KiB. Not ru_maxrss from the
   * wrapper: Linux carries that over fork and exec from the process that
   * spawned the instance (a python echo started by a 256 MB harness
   * reported 273 MB for a 22 MB peak). Undefined once the process is gone.
   */
  ownPeakRssKb(): number | undefined {
    if (!this.alive) return undefined
    this.#peakRss ??= new PeakRssReader(this.pid)
    return this.#peakRss.read()
  }

  /** Sends one event (http-invoke.ts). Resolves (never rejects) with the outcome; a timeout kills the instance. */
  invoke(body: string, requestId: string, timeoutMs: number): Promise<InstanceResponse> {
    return invokeOverHttp(this.#http, body, requestId, timeoutMs)
  }

  /**
   * Stops the instance: SIGTERM to its process group, SIGKILL after
   * `graceMs`, then removes its pid file and temp dir. Resolves once the
   * process is gone (if even SIGKILL does not end it within 5 s, it logs a
   * warning and gives up: `sweep` can retry later).
   */
  async stop(graceMs = 2000): Promise<void> {
    this.#dying = true
    if (this.alive) {
      // Keep the event loop alive while waiting for the exit.
      this.#child.ref()
      killGroup(this.#child, 'SIGTERM')
      const ended = await Promise.race([this.#closed.then(() => true), delay(graceMs, { unref: true }).then(() => false)])
      if (!ended) {
        killGroup(this.#child, 'SIGKILL')
        const killed = await Promise.race([this.#closed.then(() => true), delay(5000, { unref: true }).then(() => false)])
        if (!killed) this.#logger.warn(`local instance pid ${this.pid} did not exit after SIGKILL`)
      }
    }
    await this.#removeFiles()
  }

  /** SIGKILL the process group now; files are removed once the process is reaped. */
  kill(): void {
    this.#dying = true
    if (this.alive) killGroup(this.#child, 'SIGKILL')
  }

  /** For the process 'exit' handler: SIGKILL the instance and all it started, remove the files synchronously. */
  killSync(tree = true): void {
    this.kill()
    if (tree) this.#killTree()
    if (this.#cleanup) {
      // The asynchronous cleanup may not get to run before the process exits.
      releaseMemoryLimitSync(this.#limit)
      return
    }
    try {
      rmSync(this.pidFile, { force: true })
      rmSync(this.tmpDir, { recursive: true, force: true })
      releaseMemoryLimitSync(this.#limit)
    } catch {
      // Best effort: `sweep` removes what is left.
    }
  }

  #killTree(): void {
    killTree(this.pid, { runId: this.runId, instanceId: this.id }, this.#logger)
  }

  /** Once the process has exited: forget it and remove its pid file and temp dir (once; callers share the promise). */
  #removeFiles(): Promise<void> {
    if (this.alive) return Promise.resolve()
    this.#cleanup ??= (async () => {
      liveInstances.delete(this)
      this.#http.connection.destroy()
      this.#peakRss?.close()
      // The process has exited: its cgroup is empty now (first, so a harness exiting right after leaves none behind).
      if (!releaseMemoryLimitSync(this.#limit, 0) && !(await releaseMemoryLimit(this.#limit))) {
        this.#logger.debug(`cgroup ${this.#limit.cgroupDir} is still busy; sweepStaleCgroups removes it later`)
      }
      await rm(this.pidFile, { force: true })
      await rm(this.tmpDir, { recursive: true, force: true })
    })()
    return this.#cleanup
  }
}

/** SIGKILLs an instance's process group and every process carrying its tag (daemonised ones). */
function killTree(pid: number | undefined, tag: ProcessTag, logger: Logger): void {
  killProcessGroup(pid)
  const killed = killTaggedProcesses([tag])
  if (killed.length > 0) logger.debug(`killed ${killed.length} process(es) the instance left: ${killed.join(', ')}`)
}


function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return
  try {
    process.kill(-child.pid, signal)
  } catch {
    try {
      child.kill(signal)
    } catch {
      // Already gone.
    }
  }
}

/**
 * VmHWM of a live process, KiB, from its /proc/<pid>/status kept open:
 * reading at offset 0 makes the kernel render the file anew, so one open
 * serves every invocation of the instance. Opening, reading and closing it
 * per invocation cost ~40 µs between two samples, reading the open file
 * ~15 µs (a microbenchmark; at the 2,000 warm invocations/s scripts/perf.ts
 * aims for, a sample has 500 µs in all).
 * Undefined where /proc cannot tell (not Linux, or the process has exited).
 */
class PeakRssReader {
  readonly #pid: number
  #fd: number | undefined
  #failed = false
  readonly #buffer = Buffer.allocUnsafe(8192)

  constructor(pid: number) {
    this.#pid = pid
  }

  read(): number | undefined {
    if (this.#failed) return undefined
    try {
      this.#fd ??= openSync(`/proc/${this.#pid}/status`, 'r')
      const n = readSync(this.#fd, this.#buffer, 0, this.#buffer.length, 0)
      const m = /^VmHWM:\s+(\d+) kB$/m.exec(this.#buffer.toString('latin1', 0, n))
      return m ? Number(m[1]) : undefined
    } catch {
      // No /proc, or the process is gone (ESRCH): nothing to report from now on.
      this.#failed = true
      this.close()
      return undefined
    }
  }

  close(): void {
    if (this.#fd === undefined) return
    try {
      closeSync(this.#fd)
    } catch {
      // Already closed.
    }
    this.#fd = undefined
  }
}
