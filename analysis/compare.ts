/**
 * The comparison of two runs (pure, every process): which cases moved, by how
 * much, and whether the new run is a regression. Its table and Markdown
 * output, the `sebs compare` command and the baseline gate are in
 * reporters/compare.ts.
 *
 * A case is benchmark × language × size × memory × trigger × phase (×
 * experiment × experiment point); cold and warm are separate phases, and the
 * points of a sweep (`payload 1024B warm`, `payload 65536B warm`) are separate
 * cases. Records without a point match records without one. Only usable
 * records count (state ok, valid output, not discarded), as in the summary.
 *
 * Verdict of a case present in both runs, on the gated metric (client time by
 * default):
 * - too few samples on a side (fewer than `minSamples`, default 5)
 *   → `inconclusive`: the test cannot decide anything;
 * - two-sided Mann-Whitney U test p < α (default 0.01) and the median moved
 *   by more than BOTH the relative threshold (default 10 %) and the absolute
 *   one (default 0.5 ms; time metrics only) → `slower` (a regression) or
 *   `faster`;
 * - p < α but the move is below a threshold → `unchanged` (real, but too
 *   small to matter);
 * - p ≥ α → `unchanged` when the data rule out a change above the
 *   thresholds: the most the medians can differ within their 95% CIs,
 *   [lo_new − hi_base, hi_new − lo_base], stays within ±max(threshold·median,
 *   absolute); otherwise `inconclusive` (high variance: a change that matters
 *   could hide in the noise, more repetitions would decide).
 * A case in one run only is `added` or `removed`, never a regression.
 */
import { ConfigError, SebsError, listChoices } from '../core/errors.ts'
import type { InvocationRecord, Language, Size, Trigger } from '../core/types.ts'
import { compareCases, usableForStatistics } from './cases.ts'
import { leBoudecMedianInterval, mannWhitneyU, median } from './statistics.ts'

export const COMPARE_METRICS = ['client', 'function', 'instructions'] as const
export type CompareMetric = (typeof COMPARE_METRICS)[number]

export type Verdict = 'faster' | 'slower' | 'unchanged' | 'inconclusive' | 'added' | 'removed'

export interface CompareOptions {
  /** Gated metric: client round trip (default), function time, or instruction count (`counters.instructions.value`). */
  metric?: CompareMetric
  /** Significance level of the two-sided Mann-Whitney U test; default 0.01. */
  alpha?: number
  /** Relative median change, in percent, a change must exceed; default 10. */
  threshold?: number
  /** Absolute median change, in ms, a time change must exceed; default 0.5 (not used for instructions). */
  minChangeMs?: number
  /** Fewer usable samples than this on either side makes a case inconclusive; default 5. */
  minSamples?: number
}

export type ResolvedCompareOptions = Required<CompareOptions>

export const DEFAULT_COMPARE_OPTIONS: ResolvedCompareOptions = {
  metric: 'client',
  alpha: 0.01,
  threshold: 10,
  minChangeMs: 0.5,
  minSamples: 5,
}

/** One side of a compared case. Values in the metric's record units (µs, or instructions). */
export interface CompareSide {
  /** Usable samples with the metric. */
  n: number
  /** All records of the case. */
  total: number
  /** Errors, timeouts and invalid outputs. */
  failures: number
  median?: number
  /** Le Boudec nonparametric 95% CI of the median; absent for n < 6. */
  ci95?: [number, number]
}

export interface CaseComparison {
  benchmark: string
  language: Language
  size: Size
  memory: number
  trigger: Trigger
  phase: string
  experiment?: string
  /** The experiment point, when the records came from one (see InvocationRecord.point). */
  point?: string
  provider: string
  verdict: Verdict
  /** Why, in a few words: the evidence behind the verdict. */
  reason: string
  base?: CompareSide
  next?: CompareSide
  /** Two-sided Mann-Whitney U p-value (both sides with ≥ minSamples). */
  pValue?: number
  /** Median change, new − base, in record units. */
  change?: number
  /** Median change relative to the base median, percent. */
  changePct?: number
}

export interface ComparisonResult {
  options: ResolvedCompareOptions
  /** "client time", "function time", "instructions". */
  metricLabel: string
  cases: CaseComparison[]
  counts: Record<Verdict, number>
  /** True when any case is `slower`. */
  regression: boolean
  /** Things a reader should know (providers differ, records without the metric, …). */
  notes: string[]
}

/** Every verdict, in the order counts are reported. */
export const VERDICTS: Verdict[] = ['slower', 'faster', 'inconclusive', 'added', 'removed', 'unchanged']

/** How a comparable metric is read from a record and labelled. */
export interface MetricDef {
  label: string
  isTime: boolean
  value: (r: InvocationRecord) => number | undefined
}

/** The metrics a comparison can gate on. */
export const METRICS: Record<CompareMetric, MetricDef> = {
  client: { label: 'client time', isTime: true, value: (r) => r.clientTimeUs },
  function: { label: 'function time', isTime: true, value: (r) => r.functionTimeUs },
  instructions: { label: 'instructions', isTime: false, value: (r) => r.counters?.instructions?.value },
}

/** Validates options and fills in defaults; bad values are ConfigErrors that say what is allowed. */
export function resolveCompareOptions(options: CompareOptions = {}): ResolvedCompareOptions {
  const o = { ...DEFAULT_COMPARE_OPTIONS }
  for (const [key, value] of Object.entries(options)) if (value !== undefined) (o as Record<string, unknown>)[key] = value
  if (!(COMPARE_METRICS as readonly string[]).includes(o.metric)) {
    throw new ConfigError('CONFIG_INVALID', `Unknown metric '${o.metric}'. Choose one of ${listChoices(COMPARE_METRICS)}.`)
  }
  if (!(o.alpha > 0 && o.alpha < 1)) throw new ConfigError('CONFIG_INVALID', `alpha must be between 0 and 1 (e.g. 0.01), got ${o.alpha}.`)
  if (!(o.threshold >= 0) || !Number.isFinite(o.threshold)) {
    throw new ConfigError('CONFIG_INVALID', `threshold must be a percentage ≥ 0 (e.g. 10), got ${o.threshold}.`)
  }
  if (!(o.minChangeMs >= 0) || !Number.isFinite(o.minChangeMs)) {
    throw new ConfigError('CONFIG_INVALID', `min-change-ms must be ≥ 0 (e.g. 0.5), got ${o.minChangeMs}.`)
  }
  if (!Number.isInteger(o.minSamples) || o.minSamples < 2) {
    throw new ConfigError('CONFIG_INVALID', `min-samples must be a whole number ≥ 2, got ${o.minSamples}.`)
  }
  return o
}

type CaseId = Pick<CaseComparison, 'benchmark' | 'language' | 'size' | 'memory' | 'trigger' | 'phase' | 'experiment' | 'point' | 'provider'>

function compareKey(r: InvocationRecord): string {
  // No provider: a run is compared with its baseline whatever the provider is called (a note says when they differ).
  const key: unknown[] = [r.benchmark, r.language, r.size, r.memory, r.trigger, r.phase, r.experiment ?? null]
  // The point only when there is one: records without a point keep the key they always had.
  if (r.point !== undefined) key.push(r.point)
  return JSON.stringify(key)
}

function groupRecords(records: InvocationRecord[]): Map<string, InvocationRecord[]> {
  const groups = new Map<string, InvocationRecord[]>()
  for (const r of records) {
    const key = compareKey(r)
    const list = groups.get(key)
    if (list) list.push(r)
    else groups.set(key, [r])
  }
  return groups
}

function caseId(r: InvocationRecord): CaseId {
  return {
    benchmark: r.benchmark,
    language: r.language,
    size: r.size,
    memory: r.memory,
    trigger: r.trigger,
    phase: r.phase,
    ...(r.experiment !== undefined ? { experiment: r.experiment } : {}),
    ...(r.point !== undefined ? { point: r.point } : {}),
    provider: r.provider,
  }
}

/** Whether a run has experiment records written before records carried their point. */
function hasPointlessExperimentRecords(records: InvocationRecord[]): boolean {
  return records.some((r) => r.experiment !== undefined && r.point === undefined)
}

function metricValues(records: InvocationRecord[], metric: MetricDef): number[] {
  const values: number[] = []
  for (const r of records) {
    if (!usableForStatistics(r)) continue
    const v = metric.value(r)
    if (typeof v === 'number' && Number.isFinite(v)) values.push(v)
  }
  return values
}

function side(records: InvocationRecord[], values: number[]): CompareSide {
  const s: CompareSide = {
    n: values.length,
    total: records.length,
    failures: records.filter((r) => r.state !== 'ok' || !r.outputValid).length,
  }
  if (values.length > 0) {
    const sorted = [...values].sort((a, b) => a - b)
    s.median = median(sorted)
    const ci = leBoudecMedianInterval(sorted, 0.95)
    if (ci) s.ci95 = ci
  }
  return s
}

function hasMetric(records: InvocationRecord[], metric: MetricDef): boolean {
  return records.some((r) => usableForStatistics(r) && Number.isFinite(metric.value(r)))
}

/**
 * Compares the cases of two runs (see the module comment for the rules) and
 * returns one CaseComparison per case, regressions first. Throws a SebsError
 * when `metric` is `instructions` and a run has no instruction counts.
 */
export function compareRuns(base: InvocationRecord[], next: InvocationRecord[], options: CompareOptions = {}): ComparisonResult {
  const o = resolveCompareOptions(options)
  const metric = METRICS[o.metric]
  const notes: string[] = []

  if (o.metric === 'instructions') {
    const missing = [hasMetric(base, metric) ? '' : 'the base run', hasMetric(next, metric) ? '' : 'the new run'].filter(Boolean)
    if (missing.length > 0) {
      throw new SebsError(
        'NOT_SUPPORTED',
        `--metric instructions: no successful invocation in ${missing.join(' or ')} has an instruction count (counters.instructions). ` +
          'Instruction counts are recorded only when hardware counters or callgrind are enabled for the run; ' +
          'rerun both runs with counters enabled, or compare on --metric client or --metric function.',
      )
    }
  }

  const baseProviders = [...new Set(base.map((r) => r.provider))].sort().join(',')
  const nextProviders = [...new Set(next.map((r) => r.provider))].sort().join(',')
  if (base.length > 0 && next.length > 0 && baseProviders !== nextProviders) {
    notes.push(`The runs used different providers (base: ${baseProviders}, new: ${nextProviders}); their times are not comparable like for like.`)
  }

  const withPoints = (rs: InvocationRecord[]) => rs.some((r) => r.point !== undefined)
  if ((hasPointlessExperimentRecords(base) && withPoints(next)) || (withPoints(base) && hasPointlessExperimentRecords(next))) {
    const older = hasPointlessExperimentRecords(base) ? 'base' : 'new'
    notes.push(
      `The ${older} run's experiment records carry no point (they predate per-point records), the other run's do; ` +
        'those experiment cases cannot be matched point by point and show as added and removed. Rerun that experiment to compare it.',
    )
  }

  const minChange = metric.isTime ? o.minChangeMs * 1000 : 0
  const baseGroups = groupRecords(base)
  const nextGroups = groupRecords(next)
  const keys = new Set([...baseGroups.keys(), ...nextGroups.keys()])
  const cases: CaseComparison[] = []
  let withoutMetric = 0

  for (const key of keys) {
    const b = baseGroups.get(key)
    const n = nextGroups.get(key)
    const id = caseId((n ?? b)![0])
    if (!b || !n) {
      const records = (b ?? n)!
      const s = side(records, metricValues(records, metric))
      cases.push(
        b
          ? { ...id, verdict: 'removed', reason: 'only in the base run', base: s }
          : { ...id, verdict: 'added', reason: 'only in the new run', next: s },
      )
      continue
    }
    const baseValues = metricValues(b, metric)
    const nextValues = metricValues(n, metric)
    const bs = side(b, baseValues)
    const ns = side(n, nextValues)
    const c: CaseComparison = { ...id, verdict: 'inconclusive', reason: '', base: bs, next: ns }
    if (bs.median !== undefined && ns.median !== undefined) {
      c.change = ns.median - bs.median
      c.changePct = bs.median !== 0 ? (c.change / bs.median) * 100 : c.change === 0 ? 0 : Infinity
    }
    if (o.metric === 'instructions') {
      const usable = (rs: InvocationRecord[]) => rs.filter(usableForStatistics).length
      if (usable(b) > baseValues.length || usable(n) > nextValues.length) withoutMetric++
    }

    if (bs.n < o.minSamples || ns.n < o.minSamples) {
      c.reason = `too few samples (base ${bs.n}, new ${ns.n}; the test needs ${o.minSamples} per side)`
      cases.push(c)
      continue
    }

    const { pValue } = mannWhitneyU(nextValues, baseValues)
    c.pValue = pValue
    const change = c.change!
    const band = Math.max((o.threshold / 100) * Math.abs(bs.median!), minChange)
    const matters = Math.abs(c.changePct!) > o.threshold && Math.abs(change) > minChange
    const thresholds = metric.isTime ? `${o.threshold}% and ${o.minChangeMs} ms` : `${o.threshold}%`

    if (pValue < o.alpha) {
      if (matters) {
        c.verdict = change > 0 ? 'slower' : 'faster'
        c.reason = `significant (p < ${o.alpha}) and above ${thresholds}`
      } else {
        c.verdict = 'unchanged'
        c.reason = `significant but within ${thresholds}`
      }
    } else if (bs.ci95 && ns.ci95 && Math.max(Math.abs(ns.ci95[0] - bs.ci95[1]), Math.abs(ns.ci95[1] - bs.ci95[0])) <= band) {
      c.verdict = 'unchanged'
      c.reason = `no significant change; the CIs rule out one above ${thresholds}`
    } else {
      c.verdict = 'inconclusive'
      c.reason = bs.ci95 && ns.ci95
        ? `not significant (p ≥ ${o.alpha}), but the CIs are too wide to rule out a change above ${thresholds}: more repetitions would decide`
        : `not significant (p ≥ ${o.alpha}), and too few samples for a CI of the median`
    }
    cases.push(c)
  }

  if (withoutMetric > 0) {
    notes.push(`${withoutMetric} case(s) have successful invocations without an instruction count; those invocations were left out.`)
  }

  const rank = (v: Verdict) => VERDICTS.indexOf(v)
  cases.sort((x, y) => rank(x.verdict) - rank(y.verdict) || compareCases(x, y))
  const counts = Object.fromEntries(VERDICTS.map((v) => [v, 0])) as Record<Verdict, number>
  for (const c of cases) counts[c.verdict]++
  return { options: o, metricLabel: metric.label, cases, counts, regression: counts.slower > 0, notes }
}
