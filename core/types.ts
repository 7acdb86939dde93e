/**
 * Types shared by every part of the suite: benchmark definitions, the wrapper
 * envelope every function returns, and the invocation record (one JSONL line,
 * the source of truth for every reporter).
 */

export const LANGUAGES = ['python', 'nodejs'] as const
export type Language = (typeof LANGUAGES)[number]

/** Languages SeBS knows that this project does not run; skipped with a notice. */
export const FOREIGN_LANGUAGES = ['java', 'cpp'] as const

export const SIZES = ['test', 'small', 'large'] as const
export type Size = (typeof SIZES)[number]

export const PROVIDERS = ['local', 'aws', 'azure'] as const
export type ProviderName = (typeof PROVIDERS)[number]
/** The provider a run uses when none is chosen: embedded, no account needed. */
export const DEFAULT_PROVIDER: ProviderName = 'local'

export type Trigger = 'http' | 'library'
export type Architecture = 'x64' | 'arm64'

/** `config.json` of a benchmark directory, validated and normalised. */
export interface BenchmarkConfig {
  /** Seconds. */
  timeout: number
  /** MB: the lowest memory on which the benchmark runs on every platform. */
  memory: number
  /** Languages this project runs (foreign ones are dropped with a notice). */
  languages: Language[]
  /** SeBS's language variants, per language (`{ language, variants }` entries). */
  variants: Partial<Record<Language, string[]>>
  modules: Array<'storage' | 'nosql'>
  /**
   * Folders whose files go into the package next to the function's own
   * `<language>/` files (config.json `shared`), per language: absolute paths,
   * checked at discovery to be directories inside the benchmarks folder.
   * Absent: none (definitions built outside discovery may leave it out).
   */
  shared?: Partial<Record<Language, string[]>>
}

/** A discovered, validated benchmark directory. */
export interface BenchmarkDefinition {
  /** `NNN.name`, e.g. `110.dynamic-html`. */
  id: string
  /** `N00.group`, e.g. `100.webapps`. */
  group: string
  /** Absolute path of the benchmark directory. */
  dir: string
  config: BenchmarkConfig
  /** `input.ts` (ours) or `input.py` (SeBS's format, run through the Python bridge). */
  input: { kind: 'ts' | 'py'; path: string }
  /** Which folder of benchmarks it came from (built-in or a `--benchmarks DIR`). */
  source: string
}

/**
 * What the wrapper around a benchmark function returns, the same for every
 * provider and language. Times are epoch microseconds unless named otherwise.
 */
export interface WrapperEnvelope {
  begin: number
  end: number
  computeTimeUs: number
  isCold: boolean
  containerId: string
  requestId: string
  result: unknown
  measurement?: Record<string, unknown>
  rssPeakKb?: number
  cpuUserUs?: number
  cpuSystemUs?: number
  /** Set when the handler threw; `result` is then null. */
  error?: { type: string; message: string; trace?: string }
  /** Time to import the benchmark module on this invocation (µs; 0 once imported). */
  importTimeUs?: number
  /** Per-invocation counters the wrapper measured (rusage, procfs). */
  counters?: Record<string, CounterValue>
  /** Whether the instance ran under an enforced memory limit. */
  memoryEnforced?: boolean
  /** Azure's worker-level cold flag: first call in this language worker process. */
  isColdWorker?: boolean
}

export interface CounterValue {
  value: number
  /** Where the value came from: `perf`, `callgrind`, `procfs`, `rusage`, … */
  source: string
}

/** Fields every invocation record has, whatever its outcome. */
interface InvocationRecordBase {
  runId: string
  benchmark: string
  language: Language
  size: Size
  provider: string
  /** Configured memory, MB. */
  memory: number
  /**
   * Memory the platform actually gave the function, MB, when it differs from
   * `memory` (Azure Flex Consumption runs 512, 2048 or 4096 MB instances).
   */
  providerMemoryMb?: number
  trigger: Trigger
  /** `cold`, `warm`, `burst`, `sequential` or an experiment's own phase name. */
  phase: string
  /** 0-based index of this invocation within its case and phase. */
  repetition: number
  requestId: string
  containerId: string
  isCold: boolean
  outputValid: boolean
  /** Kept on disk, left out of statistics (warm-up, wrong-kind samples). */
  discarded?: boolean
  discardReason?: string
  /** Client round trip, µs (for a cold start it includes starting the instance). */
  clientTimeUs: number
  connectTimeUs?: number
  functionTimeUs: number
  computeTimeUs?: number
  providerTimeUs?: number
  initTimeUs?: number
  billedTimeMs?: number
  memoryUsedMb?: number
  rssPeakKb?: number
  cpuUserUs?: number
  cpuSystemUs?: number
  memoryEnforced?: boolean
  /** Time the wrapper spent importing the benchmark module (µs). */
  importTimeUs?: number
  isColdWorker?: boolean
  counters?: Record<string, CounterValue>
  costUsd?: number
  /** The price row `costUsd` was computed with, e.g. `aws-x86_64 2026-11-28 (estimate)`. */
  costModel?: string
  /** Epoch ms when the client started the invocation. */
  startedAt: number
  /** Experiment name, when the record came from an experiment suite. */
  experiment?: string
  /**
   * The experiment point the record was measured for: its bench name after
   * `<language> <size> `, e.g. `payload 1024B warm`, `cold-start 128MB`,
   * `idle 2s`. Every record an experiment writes has it (warm-ups and
   * clock-sync calls included), so a payload, code-size or idle-time sweep is
   * summarised per point instead of mixing its points in one phase. Absent for
   * plain bench cases and in records written before the field existed.
   */
  point?: string
  /** Free-form experiment parameters (payload size, idle time, …). */
  params?: Record<string, unknown>
  /** Benchmark-reported measurements (download/upload/compute times, sizes). */
  measurement?: Record<string, unknown>
}

export interface OkInvocationRecord extends InvocationRecordBase {
  state: 'ok'
  /** Why validation failed, when `outputValid` is false. */
  validationError?: string
}
export interface ErrorInvocationRecord extends InvocationRecordBase {
  state: 'error'
  error: string
  /**
   * What kind of error, when the harness recognises it: `oom` when the
   * function ran out of memory (killed by a memory limit, MemoryError, a
   * JavaScript heap limit, AWS `Runtime.OutOfMemory`). Summaries count these
   * apart (`outOfMemory`). Absent for other errors.
   */
  errorKind?: 'oom'
}
export interface TimeoutInvocationRecord extends InvocationRecordBase {
  state: 'timeout'
  error: string
}

export type InvocationRecord = OkInvocationRecord | ErrorInvocationRecord | TimeoutInvocationRecord
