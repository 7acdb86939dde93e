/**
 * What a local function instance is, whichever runtime runs it: the
 * `FunctionInstance` interface that child processes (instance.ts) and Docker
 * containers (container/docker-instance.ts) both implement, the options both
 * start from, what one request to an instance comes to, and the one wording
 * of how an instance ended. Loaded wherever instances live (the main process
 * and bench workers).
 *
 * Types and one pure function only: the runtimes and the pool
 * (local-function.ts) import this module, and it imports neither, so the
 * runtimes never import each other or the pool (no cycle).
 */
import type { Logger } from '../../core/logger.ts'
import type { Language, WrapperEnvelope } from '../../core/types.ts'

/** How an instance ended: a process's exit code or signal; for a container also whether the OOM killer ended it. */
export interface ExitStatus {
  code: number | null
  signal: NodeJS.Signals | null
  /** The engine says the kernel's OOM killer ended it (containers). */
  oomKilled?: boolean
}

/** What one request to an instance came to (http-invoke.ts makes it; it never rejects). */
export type InstanceResponse =
  | { kind: 'ok'; envelope: WrapperEnvelope }
  | { kind: 'timeout' }
  | { kind: 'exited'; code: number | null; signal: NodeJS.Signals | null; stderrTail: string }
  | { kind: 'failed'; message: string }

/**
 * An instance's response with, where the runtime measures it per invocation
 * (containers), the peak memory during it, and, when an answer came, the
 * hrtime (ns) at which its last byte was read: the client window ends there
 * (docs/results-schema.md, "Timed windows").
 */
export type InstanceInvocation = InstanceResponse & { memoryUsedMb?: number; answeredAt?: bigint }

/** What starting an instance needs, whichever runtime runs it. */
export interface InstanceStartOptions {
  runId: string
  functionName: string
  language: Language
  /** The package directory the instance runs from. */
  packageDir: string
  /** The function's environment from the deployment (storage endpoints, …). */
  env: Record<string, string>
  /** Configured memory, MB. */
  memoryMb?: number
  /** How long to wait for `SEBS_READY` before giving up. */
  startTimeoutMs: number
  logger: Logger
}

/**
 * One live instance of a local function: started ready (its server printed
 * `SEBS_READY`), serves one request at a time, ends by stop, kill, timeout or
 * crash. The pool (local-function.ts) uses instances only through this.
 */
export interface FunctionInstance {
  /** Random id: in the instance's tags, pid file or container labels. */
  readonly id: string
  /** Host pid of the instance's process (a container's init process; 0 when it could not be read). */
  readonly pid: number
  /** The container's id; undefined for a process instance. */
  readonly containerId: string | undefined
  /** The instance's temp dir (its "/tmp"), as the function sees it. */
  readonly tmpDir: string
  /** Start → `SEBS_READY`, µs: the cold start's platform part. */
  readonly startupUs: number
  /** True when the configured memory bounds the whole instance. */
  readonly memoryEnforced: boolean
  /** True until the instance has ended. */
  readonly alive: boolean
  /** Alive and not being killed or stopped: may take a request. */
  readonly usable: boolean
  /** How the instance ended, once it has. */
  readonly exitStatus: ExitStatus | undefined
  /** The last few KB the instance wrote to stderr. */
  stderrTail(): string
  /** Sends one event. Resolves (never rejects) with the outcome; a timeout kills the instance. */
  invoke(body: string, requestId: string, timeoutMs: number): Promise<InstanceInvocation>
  /**
   * The instance process's own peak RSS so far, KiB, where the runtime reads
   * it outside the function (a process's VmHWM); undefined otherwise
   * (containers report theirs per invocation as `memoryUsedMb`).
   */
  ownPeakRssKb(): number | undefined
  /** Kills the instance now, without waiting; its files or container go once it has ended. */
  kill(): void
  /** Stops the instance (gracefully within `graceMs` where the runtime has a graceful stop); resolves once it is gone. */
  stop(graceMs?: number): Promise<void>
}

/** How much of an instance's stderr is kept for error messages (the end of it), bytes. */
export const STDERR_TAIL_BYTES = 4096

/** `what`, then the end of the instance's stderr (or that it wrote none): how every start failure reads. */
export function withStderrTail(what: string, stderrTail: string): string {
  const tail = stderrTail.trim()
  return `${what}${tail ? `; its stderr ends with:\n${tail}` : ' (no stderr output)'}`
}

/**
 * How an instance ended, in the words every message uses: "exited with
 * code 3", "was killed by SIGKILL", and for an OOM kill
 * "was killed by SIGKILL (out of memory: over its 128 MB limit, OOMKilled)".
 */
export function formatExit(status: ExitStatus, memoryMb?: number): string {
  const how = status.signal ? `was killed by ${status.signal}` : `exited with code ${status.code}`
  if (!status.oomKilled) return how
  return `${how} (out of memory${memoryMb !== undefined ? `: over its ${memoryMb} MB limit` : ''}, OOMKilled)`
}
