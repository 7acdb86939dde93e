/**
 * Errors the suite raises on purpose. Each has a stable `code` (for tests and
 * for users searching the docs) and a message that says what failed, which
 * file or resource, and what to do next. Causes are kept with `{ cause }`.
 */

export type SebsErrorCode =
  | 'CONFIG_INVALID'
  | 'BENCHMARK_CONFIG_INVALID'
  | 'BENCHMARK_NOT_FOUND'
  | 'BENCHMARK_DUPLICATE'
  | 'BENCHMARK_NAME_INVALID'
  | 'BENCHMARK_LAYOUT_INVALID'
  | 'BENCHMARK_DATA_MISSING'
  | 'UNKNOWN_PROVIDER'
  | 'UNKNOWN_LANGUAGE'
  | 'UNKNOWN_SIZE'
  | 'UNKNOWN_FLAG'
  | 'UNKNOWN_EXPERIMENT'
  | 'NOTHING_SELECTED'
  | 'BUILD_FAILED'
  | 'TOOL_MISSING'
  | 'DEPLOY_FAILED'
  | 'STORAGE_FAILED'
  | 'INPUT_GENERATION_FAILED'
  | 'INVOCATION_FAILED'
  | 'OUTPUT_INVALID'
  | 'CREDENTIALS_MISSING'
  | 'CREDENTIALS_INVALID'
  | 'REGION_MISSING'
  | 'TIMEOUT'
  | 'NOT_SUPPORTED'
  | 'RESULTS_NOT_FOUND'
  | 'BASELINE_INVALID'
  | 'RESULTS_LOCKED'
  | 'RESULTS_UNWRITABLE'
  | 'INTERRUPTED'
  | 'DEPENDENCY_UNAVAILABLE'

export class SebsError extends Error {
  readonly code: SebsErrorCode

  constructor(code: SebsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'SebsError'
    this.code = code
  }
}

/** A configuration value (file, flag or environment) that cannot be used. */
export class ConfigError extends SebsError {
  constructor(code: SebsErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options)
    this.name = 'ConfigError'
  }
}

/** A benchmark directory that breaks the benchmark contract. */
export class BenchmarkError extends SebsError {
  readonly path: string
  constructor(code: SebsErrorCode, path: string, message: string, options?: { cause?: unknown }) {
    super(code, `${path}: ${message}`, options)
    this.name = 'BenchmarkError'
    this.path = path
  }
}

/** A provider operation (build, deploy, invoke, storage, cleanup) that failed. */
export class ProviderError extends SebsError {
  readonly provider: string
  constructor(provider: string, code: SebsErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, `[${provider}] ${message}`, options)
    this.name = 'ProviderError'
    this.provider = provider
  }
}

/** Formats "did you mean / choose one of" lists for unknown-value errors. */
export function listChoices(choices: readonly string[]): string {
  return choices.length === 0 ? '(none)' : choices.map((c) => `'${c}'`).join(', ')
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message
  return String(err)
}
