/**
 * The Lambda runtimes this provider builds for, with AWS's deprecation
 * schedule (main process: checked before a package is built and before a
 * function is created). After "block create" CreateFunction answers
 * InvalidParameterValueException for the runtime, after "block update"
 * UpdateFunctionCode/Configuration too; checking the table first turns that
 * late failure into a clear error before anything is built.
 *
 * Source: https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html
 * (supported and deprecated runtimes tables), looked up 2026-12-05. The
 * dates are AWS's projections and move: `aws.runtime` still accepts any id
 * the table does not know, with a warning, so a new runtime needs no release.
 */
import { ConfigError } from '../../core/errors.ts'

export interface LambdaRuntime {
  id: string
  language: 'python' | 'nodejs'
  /** Amazon Linux release, which fixes the glibc the runtime's wheels must fit. */
  os: 'al2' | 'al2023'
  /** glibc of that OS: 2.26 (AL2) or 2.34 (AL2023). */
  glibc: [major: number, minor: number]
  /** ISO dates; absent: not announced. */
  deprecated?: string
  blockCreate?: string
  blockUpdate?: string
}

const AL2: Pick<LambdaRuntime, 'os' | 'glibc'> = { os: 'al2', glibc: [2, 26] }
const AL2023: Pick<LambdaRuntime, 'os' | 'glibc'> = { os: 'al2023', glibc: [2, 34] }

/** The table, newest first per language. */
export const LAMBDA_RUNTIMES: readonly LambdaRuntime[] = [
  { id: 'python3.14', language: 'python', ...AL2023, deprecated: '2029-06-30', blockCreate: '2029-07-31', blockUpdate: '2029-08-31' },
  { id: 'python3.13', language: 'python', ...AL2023, deprecated: '2029-06-30', blockCreate: '2029-07-31', blockUpdate: '2029-08-31' },
  { id: 'python3.12', language: 'python', ...AL2023, deprecated: '2028-10-31', blockCreate: '2028-11-30', blockUpdate: '2029-01-10' },
  { id: 'python3.11', language: 'python', ...AL2, deprecated: '2027-06-30', blockCreate: '2027-07-31', blockUpdate: '2027-08-31' },
  { id: 'python3.10', language: 'python', ...AL2, deprecated: '2026-10-31', blockCreate: '2026-11-30', blockUpdate: '2027-01-15' },
  { id: 'python3.9', language: 'python', ...AL2, deprecated: '2025-12-15', blockCreate: '2026-02-03', blockUpdate: '2026-03-09' },
  { id: 'python3.8', language: 'python', ...AL2, deprecated: '2024-10-14', blockCreate: '2025-02-28', blockUpdate: '2025-03-31' },
  { id: 'nodejs24.x', language: 'nodejs', ...AL2023, deprecated: '2028-04-30', blockCreate: '2028-06-01', blockUpdate: '2028-07-01' },
  { id: 'nodejs22.x', language: 'nodejs', ...AL2023, deprecated: '2027-04-30', blockCreate: '2027-06-01', blockUpdate: '2027-07-01' },
  { id: 'nodejs20.x', language: 'nodejs', ...AL2023, deprecated: '2026-04-30', blockCreate: '2026-08-31', blockUpdate: '2026-09-30' },
  { id: 'nodejs18.x', language: 'nodejs', ...AL2, deprecated: '2025-09-01', blockCreate: '2026-02-03', blockUpdate: '2026-03-09' },
  { id: 'nodejs16.x', language: 'nodejs', ...AL2, deprecated: '2024-06-12', blockCreate: '2025-02-28', blockUpdate: '2025-03-31' },
]

/** Where the table's dates come from (error messages point at it). */
export const RUNTIME_TABLE_SOURCE = 'https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html'

export function lambdaRuntime(id: string): LambdaRuntime | undefined {
  return LAMBDA_RUNTIMES.find((r) => r.id === id)
}

/** Runtimes of a language that can still be created at `now`, newest first. */
export function creatableRuntimes(language: 'python' | 'nodejs', now: Date = new Date()): string[] {
  const today = now.toISOString().slice(0, 10)
  return LAMBDA_RUNTIMES.filter((r) => r.language === language && (!r.blockCreate || r.blockCreate > today)).map((r) => r.id)
}

/**
 * Checks a runtime against the table at `now`: creation blocked → ConfigError
 * naming the date, the config key and what to use instead; deprecated (or
 * unknown to the table) → a warning to log. `action` is what is about to
 * happen: creating a function, or updating one that exists.
 */
export function checkRuntime(
  id: string,
  language: 'python' | 'nodejs',
  options: { now?: Date; action?: 'create' | 'update' } = {},
): { warning?: string } {
  const now = options.now ?? new Date()
  const today = now.toISOString().slice(0, 10)
  const r = lambdaRuntime(id)
  if (!r) {
    return { warning: `Lambda runtime '${id}' is not in this version's runtime table (${RUNTIME_TABLE_SOURCE}); it is used as configured.` }
  }
  if (r.language !== language) {
    throw new ConfigError('CONFIG_INVALID', `aws.runtime.${language} is '${id}', a ${r.language} runtime. Use one of ${creatableRuntimes(language, now).join(', ')}.`)
  }
  const blocked = options.action === 'update' ? r.blockUpdate : r.blockCreate
  if (blocked && blocked <= today) {
    throw new ConfigError(
      'CONFIG_INVALID',
      `Lambda runtime ${id} is deprecated: AWS has blocked ${options.action === 'update' ? 'updating' : 'creating'} functions with it since ${blocked} (${RUNTIME_TABLE_SOURCE}). ` +
        `Set aws.runtime.${language} to one of ${creatableRuntimes(language, now).join(', ')}.`,
    )
  }
  if (r.deprecated && r.deprecated <= today) {
    return { warning: `Lambda runtime ${id} is deprecated since ${r.deprecated}; creating functions with it is blocked from ${r.blockCreate ?? 'a date AWS has not announced'}. Consider aws.runtime.${language} = ${creatableRuntimes(language, now)[0]}.` }
  }
  return {}
}
