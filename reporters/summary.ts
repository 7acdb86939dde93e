/**
 * Invocation records → per-case, per-phase summaries (pure).
 *
 * A case is benchmark × language × size × memory × trigger × phase
 * (× experiment, × point, × provider). Cold and warm are separate phases and
 * are never mixed: the phase is part of the key. So is an experiment's point
 * (`payload 1024B warm`, `idle 2s`): the points of a payload, code-size or
 * idle-time sweep share a phase and would otherwise be mixed in one row.
 *
 * Counting rules (every record is counted somewhere, none is dropped silently):
 * - `total`   every record of the case;
 * - `ok`      state 'ok' with a valid output;
 * - `invalid` state 'ok' whose output failed validation;
 * - `errors`, `timeouts` state 'error' / 'timeout';
 *   so ok + invalid + errors + timeouts = total;
 * - `outOfMemory` the errors that were out-of-memory ends (`errorKind: 'oom'`),
 *   a part of `errors` that reports name apart;
 * - `discarded` records flagged `discarded` (warm-up, wrong-kind samples),
 *   whatever their state: a failed warm-up still counts as an error;
 * - `n`       records the statistics use: ok and not discarded;
 * - `cold`, `warm` how the wrapper classified the records that answered
 *   (state 'ok'), discarded or not, so that a "cold" phase whose instance
 *   was in fact warm shows it.
 */
import type { InvocationRecord, Language, Size, Trigger } from '../core/types.ts'
import { caseGroupKey, compareCases, usableForStatistics } from '../analysis/cases.ts'
import { computeStatistics, type Statistics } from '../analysis/statistics.ts'

export interface PhaseSummary {
  benchmark: string
  language: Language
  size: Size
  provider: string
  /** Configured memory, MB. */
  memory: number
  trigger: Trigger
  phase: string
  experiment?: string
  /** The experiment point (e.g. `payload 1024B warm`), when the records came from one; see InvocationRecord.point. */
  point?: string
  /** Records used in the statistics: state 'ok', valid output, not discarded. */
  n: number
  /** All records of the case and phase. */
  total: number
  ok: number
  errors: number
  /** Of `errors`, those that ran out of memory (records with `errorKind: 'oom'`). */
  outOfMemory: number
  timeouts: number
  invalid: number
  discarded: number
  cold: number
  warm: number
  /** Statistics in the records' units (µs, KB, MB, USD), over the `n` records that carry the field. */
  clientTimeUs?: Statistics
  functionTimeUs?: Statistics
  computeTimeUs?: Statistics
  providerTimeUs?: Statistics
  rssPeakKb?: Statistics
  memoryUsedMb?: Statistics
  costUsd?: Statistics
  /** The earliest error or timeout message of the case; else the earliest validation failure. */
  firstError?: string
}

/**
 * The summary.json version this code writes. 2: cases are split by
 * experiment point (`point`), so a sweep's points are separate cases; a
 * version 1 summary has no `point` and reads as one whose cases have none.
 */
export const SUMMARY_SCHEMA_VERSION = 2
/** The summary.json versions readers of this project understand. */
export const KNOWN_SUMMARY_SCHEMA_VERSIONS: readonly number[] = [1, SUMMARY_SCHEMA_VERSION]

export interface RunSummary {
  /** {@link SUMMARY_SCHEMA_VERSION} when written by this code; 1 in older summaries read back (no `point`). */
  schemaVersion: 1 | typeof SUMMARY_SCHEMA_VERSION
  runId: string
  provider: string
  /** ISO time: `meta.createdAt`, else the earliest record's start. */
  createdAt: string
  cases: PhaseSummary[]
  totals: { invocations: number; ok: number; errors: number; outOfMemory: number; timeouts: number; invalid: number; discarded: number }
}

export interface SummaryMeta {
  runId: string
  /** Defaults to the records' provider(s). */
  provider?: string
  /** ISO time; defaults to the earliest `startedAt` of the records (the current time for a run without records). */
  createdAt?: string
}

/** The record fields that get statistics, in the order the writers list them. */
export const SUMMARY_METRICS = [
  'clientTimeUs',
  'functionTimeUs',
  'computeTimeUs',
  'providerTimeUs',
  'rssPeakKb',
  'memoryUsedMb',
  'costUsd',
] as const satisfies ReadonlyArray<keyof PhaseSummary & keyof InvocationRecord>
export type SummaryMetric = (typeof SUMMARY_METRICS)[number]

// The order, keys and usability of cases are shared with the comparison (analysis/cases.ts).
export { caseGroupKey, compareCases, comparePointNames, usableForStatistics, type CaseFields } from '../analysis/cases.ts'

function summarizeCase(records: InvocationRecord[]): PhaseSummary {
  const first = records[0]
  const summary: PhaseSummary = {
    benchmark: first.benchmark,
    language: first.language,
    size: first.size,
    provider: first.provider,
    memory: first.memory,
    trigger: first.trigger,
    phase: first.phase,
    ...(first.experiment !== undefined ? { experiment: first.experiment } : {}),
    ...(first.point !== undefined ? { point: first.point } : {}),
    n: 0,
    total: records.length,
    ok: 0,
    errors: 0,
    outOfMemory: 0,
    timeouts: 0,
    invalid: 0,
    discarded: 0,
    cold: 0,
    warm: 0,
  }

  const used: InvocationRecord[] = []
  for (const r of records) {
    if (r.discarded) summary.discarded++
    if (r.state === 'error') {
      summary.errors++
      if (r.errorKind === 'oom') summary.outOfMemory++
    }
    else if (r.state === 'timeout') summary.timeouts++
    else {
      if (r.outputValid) summary.ok++
      else summary.invalid++
      if (r.isCold) summary.cold++
      else summary.warm++
      if (usableForStatistics(r)) used.push(r)
    }
  }
  summary.n = used.length

  for (const metric of SUMMARY_METRICS) {
    const values: number[] = []
    for (const r of used) {
      const v = r[metric]
      if (typeof v === 'number' && Number.isFinite(v)) values.push(v)
    }
    if (values.length > 0) summary[metric] = computeStatistics(values)
  }

  const firstError = earliestFailure(records)
  if (firstError !== undefined) summary.firstError = firstError
  return summary
}

/** The earliest error or timeout; when there is none, the earliest invalid output. */
function earliestFailure(records: InvocationRecord[]): string | undefined {
  // Records arrive in completion order; `startedAt` orders them by start, file order breaks ties.
  const byStart = records
    .map((r, index) => ({ r, index }))
    .sort((x, y) => (x.r.startedAt ?? 0) - (y.r.startedAt ?? 0) || x.index - y.index)
    .map((x) => x.r)
  for (const r of byStart) {
    if (r.state === 'error') return r.error
    if (r.state === 'timeout') return `timeout: ${r.error}`
  }
  for (const r of byStart) {
    if (r.state === 'ok' && !r.outputValid) return `invalid output: ${r.validationError ?? 'validation failed'}`
  }
  return undefined
}

/**
 * Summarises a run's invocation records: one {@link PhaseSummary} per case and
 * phase (and experiment point), in a stable order (benchmark, language, size
 * test < small < large, memory, phase cold < warm < others, point), and run totals.
 */
export function summarizeRecords(records: InvocationRecord[], meta: SummaryMeta): RunSummary {
  const groups = new Map<string, InvocationRecord[]>()
  for (const r of records) {
    const key = caseGroupKey(r)
    const group = groups.get(key)
    if (group) group.push(r)
    else groups.set(key, [r])
  }
  const cases = [...groups.values()].map(summarizeCase).sort(compareCases)

  const totals = { invocations: 0, ok: 0, errors: 0, outOfMemory: 0, timeouts: 0, invalid: 0, discarded: 0 }
  for (const c of cases) {
    totals.invocations += c.total
    totals.ok += c.ok
    totals.errors += c.errors
    totals.outOfMemory += c.outOfMemory
    totals.timeouts += c.timeouts
    totals.invalid += c.invalid
    totals.discarded += c.discarded
  }

  const providers = [...new Set(records.map((r) => r.provider))].sort()
  // A loop, not Math.min(...starts): a spread of 100k+ arguments overflows the stack.
  let earliest = Infinity
  for (const r of records) if (Number.isFinite(r.startedAt) && r.startedAt < earliest) earliest = r.startedAt
  const createdAt = meta.createdAt ?? new Date(Number.isFinite(earliest) ? earliest : Date.now()).toISOString()

  return {
    schemaVersion: SUMMARY_SCHEMA_VERSION,
    runId: meta.runId,
    provider: meta.provider ?? (providers.length > 0 ? providers.join(',') : 'unknown'),
    createdAt,
    cases,
    totals,
  }
}

/** Failures of a case: errors, timeouts and invalid outputs. */
export function caseFailures(c: Pick<PhaseSummary, 'errors' | 'timeouts' | 'invalid'>): number {
  return c.errors + c.timeouts + c.invalid
}
