/**
 * `serverless-benchmarks/benchmark`: the types a benchmark author's `input.ts`
 * uses (types only; nothing here runs). Import with `import type`.
 */
export type {
  BenchmarkInputModule,
  GenerateInputContext,
  ValidateOutputContext,
  NosqlTableSpec,
  UploadFn,
  NosqlInsertFn,
} from '../core/benchmark-input.ts'
export type { BenchmarkConfig, Language, Size } from '../core/types.ts'
