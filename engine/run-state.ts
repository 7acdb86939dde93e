/**
 * State shared inside the main process, and the typed data handed to bench
 * workers through Vitest's `provide`/`inject`.
 *
 * The plugin object, the global setup and the reporter are loaded by
 * different module loaders (the CLI's, Vite's module runner, Vitest's), so
 * they do not share module instances; a `globalThis` slot keyed by a
 * registered symbol is the one place all of them see.
 */
import type { BenchmarkDefinition, Language, ProviderName, Size } from '../core/types.ts'
import type { FunctionHandle, StorageConnection } from '../providers/types.ts'
import type { SebsConfig } from './settings.ts'
import type { ResolvedSettings, WorkerSettingKey } from './settings-schema.ts'
import type { BenchCase } from './selection.ts'
import type { SetupFailure } from './setup-failures.ts'

export interface SebsRunState {
  config: SebsConfig
  benchmarks: BenchmarkDefinition[]
  notices: string[]
  /** Every case the configured languages and sizes give (before -t and file filters). */
  cases: BenchCase[]
  /** Set by the global setup once it has finished (the reporter prints a summary only then). */
  setupDone?: boolean
  /** What the global setup provided to workers, once it has (a second project of the same run reuses it). */
  provided?: SebsProvided
  /** Set on the first SIGINT/SIGTERM (plugin/interrupt.ts): the run stops starting invocations and reports what completed. */
  interrupted?: NodeJS.Signals
}

const STATE_KEY = Symbol.for('serverless-benchmarks.run-state')

export function setRunState(state: SebsRunState): void {
  ;(globalThis as Record<symbol, unknown>)[STATE_KEY] = state
}

export function getRunState(): SebsRunState | undefined {
  return (globalThis as Record<symbol, unknown>)[STATE_KEY] as SebsRunState | undefined
}

/** One prepared case: the deployed function and the event to send it. */
export interface ProvidedCase {
  benchmark: string
  language: Language
  size: Size
  handle: FunctionHandle
  event: Record<string, unknown>
  memory: number
}

export interface ProvidedBenchmark {
  id: string
  dir: string
  inputKind: 'ts' | 'py'
  inputPath: string
  dataDir: string
  languages: Language[]
}

/**
 * What bench workers receive (plain, structured-cloneable data only; no secrets written anywhere).
 * The settings among it are the `worker: true` rows of engine/settings-schema.ts, as resolved.
 */
export interface SebsProvided extends Pick<ResolvedSettings, WorkerSettingKey> {
  runId: string
  provider: ProviderName
  /** Functions run on this machine (the provider descriptor's flag): local-only experiments check it. */
  functionsOnThisMachine: boolean
  recordsFile: string
  /** Whether the user set `repetitions` (experiments with their own default use it otherwise). */
  repetitionsSet?: boolean
  python: string
  providerOptions: Record<string, unknown>
  benchmarks: ProvidedBenchmark[]
  cases: ProvidedCase[]
  /** Benchmarks the setup could not prepare: their cases have error records already and are not run. */
  setupFailures?: SetupFailure[]
  storage?: StorageConnection
  /** Price row for each record's cost (`aws-x86_64`, …); local runs are labelled estimates. */
  costModel: string
  /** The experiment this run executes, with its settings from the config file. */
  experiment?: { name: string; options: Record<string, unknown> }
}

declare module 'vitest' {
  interface ProvidedContext {
    sebs: SebsProvided
  }
}
