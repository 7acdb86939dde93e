/**
 * What a case is (pure, every process): the stable order of cases, the key a
 * record and its summary row share, and which records count in statistics.
 * Used by the summary and by the run comparison alike.
 */
import { SIZES, type InvocationRecord } from '../core/types.ts'

/** Sizes in their natural order; unknown sizes sort after them. */
function sizeRank(size: string): number {
  const i = (SIZES as readonly string[]).indexOf(size)
  return i === -1 ? SIZES.length : i
}

/** cold < warm < every other phase (alphabetically). */
function phaseRank(phase: string): number {
  if (phase === 'cold') return 0
  if (phase === 'warm') return 1
  return 2
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** Runs of digits (with an optional fraction) and the text between them. */
const NUMBER_CHUNK = /(\d+(?:\.\d+)?)/

/**
 * Natural order of point names: numbers compare by value, the text between
 * them as strings, so `payload 1024B` < `payload 65536B` < `payload 1048576B`
 * and `idle 0.5s` < `idle 2s`. Records carry only the point's name, not its
 * place in the plan, so this is the closest stable order to the plan's.
 * Cases without a point come first.
 */
export function comparePointNames(a: string | undefined, b: string | undefined): number {
  if (a === b) return 0
  if (a === undefined) return -1
  if (b === undefined) return 1
  // split with a capture group alternates text (even indices) and numbers (odd indices).
  const x = a.split(NUMBER_CHUNK)
  const y = b.split(NUMBER_CHUNK)
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = i % 2 === 1 ? Number(x[i]) - Number(y[i]) : compareStrings(x[i]!, y[i]!)
    if (d !== 0) return d
  }
  return x.length - y.length || compareStrings(a, b)
}

/** The fields that make a case and phase (a record and a PhaseSummary both have them). */
export interface CaseFields {
  benchmark: string
  language: string
  size: string
  memory: number
  trigger: string
  phase: string
  experiment?: string
  point?: string
  provider: string
}

/**
 * The stable order of cases: benchmark, language, size, memory, phase, point
 * (natural order, {@link comparePointNames}), then trigger, experiment, provider.
 */
export function compareCases(a: CaseFields, b: CaseFields): number {
  return (
    compareStrings(a.benchmark, b.benchmark) ||
    compareStrings(a.language, b.language) ||
    sizeRank(a.size) - sizeRank(b.size) ||
    compareStrings(a.size, b.size) ||
    a.memory - b.memory ||
    phaseRank(a.phase) - phaseRank(b.phase) ||
    compareStrings(a.phase, b.phase) ||
    comparePointNames(a.point, b.point) ||
    compareStrings(a.trigger, b.trigger) ||
    compareStrings(a.experiment ?? '', b.experiment ?? '') ||
    compareStrings(a.provider, b.provider)
  )
}

/**
 * The key of a case and phase: a record and the PhaseSummary it lands in get
 * the same key, so reports can go from a summary row back to its samples.
 * The point is appended only when there is one, so a case without a point
 * (a plain bench case, a record or summary.json from before points) keeps
 * the key it always had and still lines up with older runs.
 */
export function caseGroupKey(r: CaseFields): string {
  const key: unknown[] = [r.benchmark, r.language, r.size, r.memory, r.trigger, r.phase, r.experiment ?? null, r.provider]
  if (r.point !== undefined) key.push(r.point)
  return JSON.stringify(key)
}

/** Whether a record counts in statistics: state 'ok', valid output, not discarded. */
export function usableForStatistics(r: InvocationRecord): boolean {
  return r.state === 'ok' && r.outputValid && !r.discarded
}
