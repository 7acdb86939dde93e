/**
 * A deployed local function, live in the calling process: it owns a pool of
 * instances (child processes) and behaves like a FaaS platform's scheduler:
 *
 *  - an invocation takes an idle instance (warm) or starts a new one (cold;
 *    the client time then includes spawn and readiness, like a cloud cold start);
 *  - concurrent invocations that find every instance busy start more (burst);
 *  - an invocation that overruns the timeout kills its instance;
 *  - with `keepAliveMs`, instances idle for longer are stopped (eviction).
 *
 * Instances are child processes (the `process` runtime, instance.ts) or
 * Docker containers (`runtime: 'docker'`, container/docker-instance.ts),
 * chosen by the handle; the pool uses both only through the FunctionInstance
 * interface (function-instance.ts).
 *
 * Each process that calls `provider.connect(handle)` (the main process, each
 * bench worker) gets its own pool; instances never outlive it.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { envelopeProblem } from '../../core/envelope.ts'
import { ProviderError, errorMessage } from '../../core/errors.ts'
import type { Logger } from '../../core/logger.ts'
import type { Language, WrapperEnvelope } from '../../core/types.ts'
import type { CodeUpdateResult, DeployedFunction, FunctionHandle, InvokeOptions, InvokeResult } from '../types.ts'
import type { DockerRuntimeData } from './container/docker-instance.ts'
import { formatExit, type FunctionInstance, type InstanceInvocation } from './function-instance.ts'
import type { Runtimes } from './instance.ts'
import { paddedPackagesRoot, safeSegment } from './paths.ts'
import { startInstance } from './start-instance.ts'
import { killFunctionInstances } from './sweep.ts'

/** The provider-specific part of a local FunctionHandle (plain data). */
export interface LocalHandleData {
  packageDir: string
  /** Size of the package's files, bytes (from the build). */
  packageSizeBytes?: number
  language: Language
  runtimes: Runtimes
  env: Record<string, string>
  cacheDir: string
  /** Stop instances idle for longer than this (no limit when unset). */
  keepAliveMs?: number
  /** How long an instance may take to become ready; default 30 s. */
  startTimeoutMs?: number
  /** `process` (default): child processes; `docker`: containers with the function's memory as a hard limit. */
  runtime?: 'process' | 'docker'
  /** The container settings (image, CPUs), resolved at deploy; required with `runtime: 'docker'`. */
  docker?: DockerRuntimeData
}

export const DEFAULT_START_TIMEOUT_MS = 30_000
/** Lines of an exited instance's stderr kept in the error message. */
const ERROR_STDERR_LINES = 20
/** How long a stopped instance gets between SIGTERM and SIGKILL. */
const STOP_GRACE_MS = 1000

interface Slot {
  instance: FunctionInstance
  /** The package directory the instance runs from. */
  packageDir: string
  busy: boolean
  /** Stop as soon as the current request finishes (forceColdStart, update). */
  retired: boolean
  lastUsed: number
  idleTimer?: NodeJS.Timeout
}

/** Reads and checks the local part of a handle; a wrong handle is a programming error worth a clear message. */
export function localHandleData(handle: FunctionHandle): LocalHandleData {
  const data = handle.data as Partial<LocalHandleData>
  const problems: string[] = []
  if (handle.provider !== 'local') problems.push(`provider is '${handle.provider}', not 'local'`)
  if (typeof data.packageDir !== 'string') problems.push('data.packageDir is missing')
  if (data.language !== 'python' && data.language !== 'nodejs') problems.push('data.language is missing')
  if (typeof data.runtimes?.python !== 'string' || typeof data.runtimes?.node !== 'string') problems.push('data.runtimes is missing')
  if (typeof data.cacheDir !== 'string') problems.push('data.cacheDir is missing')
  if (data.env !== undefined && (typeof data.env !== 'object' || data.env === null)) problems.push('data.env is not an object')
  if (data.runtime !== undefined && data.runtime !== 'process' && data.runtime !== 'docker') problems.push(`data.runtime '${String(data.runtime)}' is neither 'process' nor 'docker'`)
  if (data.runtime === 'docker' && typeof data.docker?.image !== 'string') problems.push('data.docker.image is missing (runtime docker)')
  if (problems.length > 0) {
    throw new ProviderError(
      'local',
      'INVOCATION_FAILED',
      `cannot connect to function '${handle.name}': the handle is not a local function handle (${problems.join('; ')}). ` +
        `Pass a handle returned by the local provider's deploy().`,
    )
  }
  return { ...(data as LocalHandleData), env: data.env ?? {} }
}

export class LocalFunction implements DeployedFunction {
  #handle: FunctionHandle
  #data: LocalHandleData
  readonly #logger: Logger
  readonly #slots = new Set<Slot>()
  /** Instances being started (not yet in #slots), so close() can wait for them. */
  readonly #starting = new Set<Promise<unknown>>()
  #closed = false
  readonly #onClose: (fn: LocalFunction) => void
  /** The deployed package; `#data.packageDir` differs from it while padded. */
  readonly #basePackageDir: string
  /** The padded copy instances run from now (code-size sweeps), owned by this object. */
  #padded: { dir: string; bytes: number; sizeBytes: number } | undefined
  /** Code updates run one at a time. */
  #codeUpdate: Promise<unknown> = Promise.resolve()

  constructor(handle: FunctionHandle, logger: Logger, onClose: (fn: LocalFunction) => void = () => {}) {
    this.#data = localHandleData(handle)
    this.#handle = handle
    this.#logger = logger.child(handle.name)
    this.#onClose = onClose
    this.#basePackageDir = this.#data.packageDir
  }

  get handle(): FunctionHandle {
    return this.#handle
  }

  /** Live instances of this function in this process (diagnostics and tests); `containerId` for the docker runtime. */
  instances(): Array<{ pid: number; busy: boolean; tmpDir: string; packageDir: string; containerId?: string }> {
    return [...this.#slots]
      .filter((slot) => slot.instance.alive)
      .map((slot) => ({
        pid: slot.instance.pid,
        busy: slot.busy,
        tmpDir: slot.instance.tmpDir,
        packageDir: slot.packageDir,
        ...(slot.instance.containerId !== undefined ? { containerId: slot.instance.containerId } : {}),
      }))
  }

  async invoke(payload: Record<string, unknown>, _options?: InvokeOptions): Promise<InvokeResult> {
    // The local provider has one trigger path (HTTP on loopback); a 'library'
    // trigger is served the same way.
    if (this.#closed) {
      throw new ProviderError(
        'local',
        'INVOCATION_FAILED',
        `function '${this.#handle.name}' was closed or deleted in this process; connect to its handle again to invoke it`,
      )
    }
    let body: string
    try {
      body = JSON.stringify(payload)
    } catch (cause) {
      throw new ProviderError(
        'local',
        'INVOCATION_FAILED',
        `the event for '${this.#handle.name}' is not JSON-serializable: ${errorMessage(cause)}`,
        { cause },
      )
    }

    // The client window starts here, after serialization (which grows with
    // the payload and is the harness's work, not the platform's) and ends
    // when the answer's last byte is read (http-invoke.ts), before it is
    // parsed and handed back; sentAtUs marks the start on the epoch clock for
    // windows that end inside the function (invocation-overhead).
    const started = process.hrtime.bigint()
    const sentAtUs = Math.round((performance.timeOrigin + performance.now()) * 1000)
    const elapsedUs = (): number => Number((process.hrtime.bigint() - started) / 1000n)
    const timeoutS = this.#handle.timeout

    this.#evictExpired()
    let slot = this.#takeIdle()
    let initTimeUs: number | undefined
    if (!slot) {
      try {
        slot = await this.#startInstance()
      } catch (err) {
        return { state: 'error', error: errorMessage(err), clientTimeUs: elapsedUs(), sentAtUs, memoryEnforced: this.#data.runtime === 'docker' }
      }
      initTimeUs = slot.instance.startupUs
    }

    let response: InstanceInvocation
    try {
      response = await slot.instance.invoke(body, randomUUID(), timeoutS * 1000)
    } finally {
      this.#release(slot)
    }
    // Without an answer (timeout, the instance died) the window ends now.
    const clientTimeUs = response.answeredAt !== undefined ? Number((response.answeredAt - started) / 1000n) : elapsedUs()
    // Containers report their cgroup's peak memory during the invocation.
    const memoryUsedMb = response.memoryUsedMb
    const times = {
      clientTimeUs,
      sentAtUs,
      // Containers always run under a hard limit; process instances say what limits.ts could apply.
      memoryEnforced: slot.instance.memoryEnforced,
      // An instance killed by its limit answers with no envelope: the record still says which limit.
      ...memoryLimitMechanism(slot.instance),
      ...(initTimeUs !== undefined ? { initTimeUs } : {}),
      ...(memoryUsedMb !== undefined ? { memoryUsedMb } : {}),
    }

    switch (response.kind) {
      case 'timeout':
        return { state: 'timeout', error: `function exceeded its ${timeoutS} s timeout; instance killed`, ...times }
      case 'exited': {
        const tail = lastLines(response.stderrTail, ERROR_STDERR_LINES)
        return { state: 'error', error: `instance ${formatExit(response)}: ${tail || '(no stderr output)'}`, ...times }
      }
      case 'failed':
        return { state: 'error', error: response.message, ...times }
      case 'ok': {
        const problem = envelopeProblem(response.envelope)
        if (problem) return { state: 'error', error: `malformed wrapper envelope: ${problem}`, ...times }
        const envelope = response.envelope
        // The wrapper's ru_maxrss is not the instance's own peak where the
        // runtime knows better (a process's VmHWM, instance.ts). Read here,
        // after the client's timing, so that measuring memory adds nothing to
        // the measured latency.
        const ownPeakKb = slot.instance.ownPeakRssKb()
        if (ownPeakKb !== undefined) envelope.rssPeakKb = ownPeakKb
        if (envelope.error) {
          return { state: 'error', error: `${envelope.error.type}: ${envelope.error.message}`, envelope, ...times }
        }
        return { state: 'ok', envelope, ...times }
      }
    }
  }

  async forceColdStart(): Promise<void> {
    await this.#retireAll()
  }

  async update(options: { memory?: number; timeout?: number; env?: Record<string, string> }): Promise<void> {
    if (options.timeout !== undefined && !(options.timeout > 0)) {
      throw new ProviderError('local', 'DEPLOY_FAILED', `cannot update '${this.#handle.name}': timeout must be > 0 s, got ${options.timeout}`)
    }
    if (options.memory !== undefined && !(options.memory > 0)) {
      throw new ProviderError('local', 'DEPLOY_FAILED', `cannot update '${this.#handle.name}': memory must be > 0 MB, got ${options.memory}`)
    }
    const env = options.env ? { ...this.#data.env, ...options.env } : this.#data.env
    this.#data = { ...this.#data, env }
    this.#handle = {
      ...this.#handle,
      memory: options.memory ?? this.#handle.memory,
      timeout: options.timeout ?? this.#handle.timeout,
      data: { ...this.#handle.data, env },
    }
    // A configuration change gives new instances on a platform (Lambda starts
    // new sandboxes after UpdateFunctionConfiguration); a timeout-only change
    // applies to the next invocation without that.
    if (options.env !== undefined || options.memory !== undefined) await this.#retireAll()
  }

  /**
   * Runs the function from a copy of its package padded with `paddingBytes`
   * random bytes (hard links plus `sebs-padding.bin`, under the run's state
   * dir), or from its own package again with 0. Running instances are
   * retired, so the next invocation starts a new instance from the new
   * directory (cold); an invocation in flight finishes on the old code.
   */
  updateCode(options: { paddingBytes: number }): Promise<CodeUpdateResult> {
    const next = this.#codeUpdate.then(() => this.#applyPadding(options.paddingBytes))
    this.#codeUpdate = next.catch(() => {})
    return next
  }

  async #applyPadding(paddingBytes: number): Promise<CodeUpdateResult> {
    // Loaded on use, as the Docker runtime below: bench workers load this
    // module to invoke, and every module costs them start-up time.
    const { checkPaddingBytes, createPaddedDirectory } = await import('../packaging/code-padding.ts')
    checkPaddingBytes('local', paddingBytes)
    if (this.#closed) {
      throw new ProviderError('local', 'DEPLOY_FAILED', `function '${this.#handle.name}' was closed or deleted in this process; connect to its handle again to update its code`)
    }
    const previous = this.#padded
    let result: CodeUpdateResult
    if (paddingBytes === 0) {
      this.#padded = undefined
      this.#data = { ...this.#data, packageDir: this.#basePackageDir }
      result = { paddingBytes: 0, packageSizeBytes: await this.#baseSize() }
    } else {
      const dir = join(
        paddedPackagesRoot(this.#data.cacheDir, this.#handle.runId),
        `${safeSegment(this.#handle.name)}-${paddingBytes}B-${process.pid}-${randomBytes(4).toString('hex')}`,
      )
      const { sizeBytes } = await createPaddedDirectory(this.#basePackageDir, dir, paddingBytes)
      this.#padded = { dir, bytes: paddingBytes, sizeBytes }
      this.#data = { ...this.#data, packageDir: dir }
      result = { paddingBytes, packageSizeBytes: sizeBytes }
    }
    await this.#retireAll()
    if (previous) await this.#removePadded(previous.dir)
    this.#logger.debug(`${this.#handle.name} runs from ${this.#data.packageDir} (${result.paddingBytes} bytes of padding)`)
    return result
  }

  async #baseSize(): Promise<number> {
    if (this.#data.packageSizeBytes === undefined) {
      const { directorySize } = await import('../packaging/sizes.ts')
      this.#data.packageSizeBytes = await directorySize(this.#basePackageDir)
    }
    return this.#data.packageSizeBytes
  }

  async #removePadded(dir: string): Promise<void> {
    await rm(dir, { recursive: true, force: true }).catch((err: unknown) =>
      this.#logger.warn(`cannot remove the padded package ${dir}: ${errorMessage(err)}; \`sebs cleanup\` removes it later`),
    )
  }

  /**
   * Deletes the function: stops its instances in this process and, as a
   * platform would, any other process's instances of it that are still
   * running (found through their pid files, e.g. a bench worker's).
   */
  async delete(): Promise<void> {
    await this.close()
    const killed =
      this.#data.runtime === 'docker'
        ? await import('./container/docker-sweep.ts').then(({ removeFunctionContainers }) => removeFunctionContainers(this.#handle.runId, this.#handle.name)).catch((err: unknown) => {
            this.#logger.warn(`cannot remove the containers of ${this.#handle.name}: ${errorMessage(err)}; \`sebs cleanup\` removes them later`)
            return 0
          })
        : await killFunctionInstances(this.#data.cacheDir, this.#handle.runId, this.#handle.name)
    if (killed > 0) this.#logger.debug(`stopped ${killed} instance(s) of ${this.#handle.name} left by other processes`)
  }

  /** Stops every instance of this function in this process and removes their pid files. */
  async close(): Promise<void> {
    this.#closed = true
    // Starting instances join the pool (and are stopped below) or fail on their own.
    await Promise.allSettled([...this.#starting])
    await Promise.all([...this.#slots].map((slot) => this.#stopSlot(slot)))
    // A padded copy lives only as long as this object's instances.
    await this.#codeUpdate
    const padded = this.#padded
    this.#padded = undefined
    if (padded) await this.#removePadded(padded.dir)
    this.#onClose(this)
  }

  // -------------------------------------------------------------------------

  async #startInstance(): Promise<Slot> {
    const packageDir = this.#data.packageDir
    const options = {
      runId: this.#handle.runId,
      functionName: this.#handle.name,
      language: this.#data.language,
      packageDir,
      env: this.#data.env,
      // The configured memory is enforced where the platform permits (limits.ts), so a sweep is never only a label.
      memoryMb: this.#handle.memory,
      startTimeoutMs: this.#data.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS,
      logger: this.#logger,
    }
    const starting: Promise<FunctionInstance> = startInstance(
      options,
      this.#data.runtime === 'docker'
        ? { runtime: 'docker', docker: this.#data.docker! }
        : { runtime: 'process', runtimes: this.#data.runtimes, cacheDir: this.#data.cacheDir },
    )
    this.#starting.add(starting)
    try {
      const instance = await starting
      const slot: Slot = { instance, packageDir, busy: true, retired: false, lastUsed: Date.now() }
      this.#slots.add(slot)
      return slot
    } finally {
      this.#starting.delete(starting)
    }
  }

  /** The most recently used idle instance: platforms prefer hot sandboxes too. */
  #takeIdle(): Slot | undefined {
    let best: Slot | undefined
    for (const slot of this.#slots) {
      if (!slot.instance.usable) {
        this.#slots.delete(slot)
        continue
      }
      if (slot.busy || slot.retired) continue
      if (!best || slot.lastUsed > best.lastUsed) best = slot
    }
    if (best) {
      best.busy = true
      clearTimeout(best.idleTimer)
      best.idleTimer = undefined
    }
    return best
  }

  #release(slot: Slot): void {
    slot.busy = false
    slot.lastUsed = Date.now()
    if (!slot.instance.usable) {
      // Killed on timeout or exited: it stops (or has stopped) on its own.
      this.#slots.delete(slot)
      void this.#stopSlot(slot)
      return
    }
    if (slot.retired || this.#closed) {
      void this.#stopSlot(slot)
      return
    }
    const keepAliveMs = this.#data.keepAliveMs
    if (keepAliveMs !== undefined) {
      // Eviction is also checked before each invocation (#evictExpired); the
      // timer only makes sure idle processes do not linger when no call comes.
      slot.idleTimer = setTimeout(() => {
        if (!slot.busy) void this.#stopSlot(slot)
      }, keepAliveMs)
      slot.idleTimer.unref()
    }
  }

  #evictExpired(): void {
    const keepAliveMs = this.#data.keepAliveMs
    if (keepAliveMs === undefined) return
    const now = Date.now()
    for (const slot of this.#slots) {
      if (!slot.busy && now - slot.lastUsed >= keepAliveMs) {
        // Taken out of the pool right away; the process stops in the background.
        slot.retired = true
        void this.#stopSlot(slot)
      }
    }
  }

  async #retireAll(): Promise<void> {
    const stopping: Promise<void>[] = []
    for (const slot of this.#slots) {
      slot.retired = true
      if (!slot.busy) stopping.push(this.#stopSlot(slot))
    }
    await Promise.all(stopping)
  }

  async #stopSlot(slot: Slot): Promise<void> {
    clearTimeout(slot.idleTimer)
    slot.retired = true
    this.#slots.delete(slot)
    try {
      await slot.instance.stop(STOP_GRACE_MS)
    } catch (err) {
      this.#logger.warn(`stopping instance pid ${slot.instance.pid} of ${this.#handle.name} failed: ${errorMessage(err)}`)
    }
  }
}

/** The last `n` non-empty lines of a text. */
function lastLines(text: string, n: number): string {
  return text
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l !== '')
    .slice(-n)
    .join('\n')
}

/** The memory-limit mechanism of a process instance (containers have the engine's limit and say none here). */
function memoryLimitMechanism(instance: object): { memoryLimitMechanism?: string } {
  const mechanism = (instance as { memoryLimit?: { mechanism?: string } }).memoryLimit?.mechanism
  return mechanism ? { memoryLimitMechanism: mechanism } : {}
}
