/**
 * The contract of a benchmark's `input.ts`: the only harness types a
 * benchmark imports. It mirrors SeBS's `input.py` (`buckets_count`,
 * `generate_input`, `validate_output`) in TypeScript.
 */
import type { Language, Size } from './types.ts'

/** Upload a local file into input prefix `prefixIndex` under `key`. Resolves to the object key used. */
export type UploadFn = (prefixIndex: number, key: string, filePath: string) => Promise<string>

/** Insert one item into a NoSQL table declared by the benchmark (SeBS's `nosql_func`). */
export type NosqlInsertFn = (
  table: string,
  data: Record<string, unknown>,
  primaryKey: [name: string, value: string],
  secondaryKey?: [name: string, value: string],
) => Promise<void>

export interface GenerateInputContext {
  /** `<dataRoot>/<N00.group>/<NNN.name>`: where the benchmark keeps (or generates) its data files. */
  dataDir: string
  size: Size
  /** The single benchmarks bucket (SeBS's single-bucket layout). */
  bucket: string
  /** `<benchmark>-<i>-input` prefixes, `bucketsCount()[0]` of them. */
  inputPrefixes: string[]
  /** `<benchmark>-<i>-output` prefixes, `bucketsCount()[1]` of them. */
  outputPrefixes: string[]
  upload: UploadFn
  nosql?: NosqlInsertFn
  /**
   * Base URL of the harness's loopback file server (120.uploader), when one
   * is running; cloud runs configure a reachable one.
   */
  fileServerUrl?: string
  /**
   * Runs a long part of the generation (installing a tool, generating a model)
   * as a step the user sees: announced, with heartbeats showing the latest
   * `update(detail)` (e.g. pip's own lines), and its own duration at the end.
   * Absent where nobody watches (unit tests); call `ctx.task?.(…) ?? work(() => {})`.
   */
  task?: <T>(label: string, work: (update: (detail: string) => void) => Promise<T>) => Promise<T>
}

export interface ValidateOutputContext {
  dataDir: string
  size: Size
  language: Language
  /** The event the function was invoked with (what `generateInput` returned). */
  input: Record<string, unknown>
  /** `result` from the wrapper envelope. */
  output: unknown
  /** `measurement` from the wrapper envelope (SeBS validators receive it with the output). */
  measurement?: Record<string, unknown>
  /** Read an object back from storage, for benchmarks whose output is a stored file. */
  download?: (bucket: string, key: string) => Promise<Buffer>
}

export interface NosqlTableSpec {
  primaryKey: string
  secondaryKey?: string
}

export interface BenchmarkInputModule {
  /** `[inputPrefixes, outputPrefixes]`; default `[0, 0]`. */
  bucketsCount?: () => [number, number]
  /** Tables the benchmark needs (SeBS's `allocate_nosql`). */
  allocateNosql?: () => Record<string, NosqlTableSpec>
  generateInput: (ctx: GenerateInputContext) => Promise<Record<string, unknown>> | Record<string, unknown>
  /** Returns undefined when the output is right, else a message saying what differed. */
  validateOutput?: (ctx: ValidateOutputContext) => Promise<string | undefined> | string | undefined
  /** Releases what loading the module started (the Python bridge of a SeBS-format input.py). */
  close?: () => Promise<void>
}
