/**
 * Result files for continuous-benchmarking services, written into the run
 * directory:
 *
 * - `github-action-benchmark.json`: the `customSmallerIsBetter` input of
 *   benchmark-action/github-action-benchmark, an array of
 *   `{ name, unit, value, range?, extra? }`. One entry per case, phase and
 *   metric (client time, function time in ms; instructions and cost in USD per
 *   1M invocations when the records carry them); `value` is the median, `range`
 *   "± h" with h the larger distance from the median to an end of its 95% CI.
 *   Values carry 4 significant digits (a median is not known better).
 *   The same entries split by phase: `github-action-benchmark-cold.json` (the
 *   one-sample forced-cold series, which move far more between runs) and
 *   `github-action-benchmark-warm.json` (every other phase), so that each can
 *   have its own alert threshold (one action step per file).
 * - `bencher.json`: Bencher Metric Format,
 *   `{ "<benchmark>": { "<measure>": { value, lower_value, upper_value } } }`,
 *   `value` the median and the bounds its nonparametric 95% CI. Client time is
 *   the built-in `latency` measure, in nanoseconds as Bencher defines it; the
 *   custom measures (`BENCHER_CUSTOM_MEASURES`, which the CI recipe creates with
 *   their units before the first upload) also carry their unit in their slug:
 *   `function-time-ns`, `instructions`, `cost-usd-per-1m-invocations`.
 *
 * Only usable samples count (state ok, valid output, not discarded), as in
 * the summary; cases with none are left out.
 */
import { join } from 'node:path'
import type { InvocationRecord } from '../core/types.ts'
import { writeFileAtomic } from './atomic-write.ts'
import { computeStatistics, type Statistics } from '../analysis/statistics.ts'
import { caseGroupKey, usableForStatistics, type PhaseSummary, type RunSummary } from './summary.ts'

export const GITHUB_ACTION_BENCHMARK_JSON = 'github-action-benchmark.json'
/** The forced-cold series alone (one sample per case): its own alert threshold. */
export const GITHUB_ACTION_BENCHMARK_COLD_JSON = 'github-action-benchmark-cold.json'
/** Every other phase (warm, and experiments' phases). */
export const GITHUB_ACTION_BENCHMARK_WARM_JSON = 'github-action-benchmark-warm.json'
export const BENCHER_JSON = 'bencher.json'

/** One entry of github-action-benchmark's `customSmallerIsBetter` input. */
export interface GithubBenchmarkEntry {
  name: string
  unit: string
  value: number
  range?: string
  extra?: string
}

/** Bencher Metric Format: benchmark name → measure slug → metric. */
export type BencherMetricFormat = Record<string, Record<string, BencherMetric>>
export interface BencherMetric {
  value: number
  lower_value?: number
  upper_value?: number
}

/**
 * The name of a case and phase in CI services: `110.dynamic-html/nodejs/test/256MB/http/warm`,
 * with the experiment in front, the experiment point after the phase
 * (`…/http/warm/payload 1024B warm`: the points of a sweep share a phase and
 * would collide without it), and the provider at the end when the run has
 * several providers. Names stay stable across runs, which is what lets the
 * services line runs up.
 */
export function ciCaseName(c: PhaseSummary, withProvider = false): string {
  const parts = [c.experiment, c.benchmark, c.language, c.size, `${c.memory}MB`, c.trigger, c.phase, c.point]
  if (withProvider) parts.push(c.provider)
  return parts.filter((p) => p !== undefined && p !== '').join('/')
}

/** Significant digits of values in CI files: enough for a median whose CI is rarely narrower than 0.1%. */
export const SIGNIFICANT_DIGITS = 4

/** `value` to `digits` significant digits, without binary-fraction noise (3.8750037500000003e-7 → 3.875e-7). */
export function significant(value: number, digits = SIGNIFICANT_DIGITS): number {
  if (!Number.isFinite(value) || value === 0) return value
  return Number(value.toPrecision(digits))
}

interface Metric {
  /** Name suffix (github-action-benchmark) and measure slug (Bencher). */
  label: string
  slug: string
  /** Statistics of the case in record units. */
  stats: (c: PhaseSummary, counters: Map<string, Statistics>) => Statistics | undefined
  /** github-action-benchmark: unit and scale from record units. */
  unit: string
  toUnit: (v: number) => number
  /** Bencher: scale from record units. */
  toBencher: (v: number) => number
  /** Bencher: the measure's name and units when it is a custom one (absent for the built-in `latency`). */
  bencherMeasure?: { name: string; units: string }
}

const METRICS: Metric[] = [
  {
    label: 'client time',
    slug: 'latency',
    stats: (c) => c.clientTimeUs,
    unit: 'ms',
    toUnit: (us) => significant(us / 1000),
    toBencher: (us) => Math.round(us * 1000),
  },
  {
    label: 'function time',
    slug: 'function-time-ns',
    stats: (c) => c.functionTimeUs,
    unit: 'ms',
    toUnit: (us) => significant(us / 1000),
    toBencher: (us) => Math.round(us * 1000),
    bencherMeasure: { name: 'Function time', units: 'nanoseconds (ns)' },
  },
  {
    label: 'instructions',
    slug: 'instructions',
    stats: (c, counters) => counters.get(caseGroupKey(c)),
    unit: 'instructions',
    toUnit: (v) => Math.round(v),
    toBencher: (v) => Math.round(v),
    bencherMeasure: { name: 'Instructions', units: 'instructions' },
  },
  {
    label: 'cost',
    slug: 'cost-usd-per-1m-invocations',
    stats: (c) => c.costUsd,
    // Per million invocations, as price lists quote it: 0.3875 reads better than 3.875e-7.
    unit: 'USD per 1M invocations',
    toUnit: (v) => significant(v * 1e6),
    toBencher: (v) => significant(v * 1e6),
    bencherMeasure: { name: 'Cost per 1M invocations', units: 'US dollars (USD)' },
  },
]

/**
 * The custom measures `bencher.json` uses, with the name and units to create
 * them with (`bencher measure create PROJECT --slug … --name … --units …`)
 * before the first upload; docs/ci.md's recipe creates exactly these.
 */
export const BENCHER_CUSTOM_MEASURES: ReadonlyArray<{ slug: string; name: string; units: string }> = METRICS.flatMap((m) =>
  m.bencherMeasure ? [{ slug: m.slug, ...m.bencherMeasure }] : [],
)

/** Statistics of `counters.instructions.value` per case, from the usable records that have it. */
function instructionStats(records: InvocationRecord[]): Map<string, Statistics> {
  const values = new Map<string, number[]>()
  for (const r of records) {
    const v = r.counters?.instructions?.value
    if (!usableForStatistics(r) || typeof v !== 'number' || !Number.isFinite(v)) continue
    const key = caseGroupKey(r)
    const list = values.get(key)
    if (list) list.push(v)
    else values.set(key, [v])
  }
  return new Map([...values].map(([key, list]) => [key, computeStatistics(list)]))
}

function multiProvider(summary: RunSummary): boolean {
  return new Set(summary.cases.map((c) => c.provider)).size > 1
}

/**
 * The `customSmallerIsBetter` entries of a run: per case and phase with
 * usable samples, client and function time in ms, then instructions and cost
 * when present.
 */
export function formatGithubActionBenchmark(
  summary: RunSummary,
  records: InvocationRecord[] = [],
  /** Only the forced-cold phase ('cold'), or every other phase ('warm'); default both. */
  series?: 'cold' | 'warm',
): GithubBenchmarkEntry[] {
  const counters = instructionStats(records)
  const withProvider = multiProvider(summary)
  const entries: GithubBenchmarkEntry[] = []
  for (const c of summary.cases) {
    if (c.n === 0) continue
    if (series === 'cold' && c.phase !== 'cold') continue
    if (series === 'warm' && c.phase === 'cold') continue
    for (const metric of METRICS) {
      const stats = metric.stats(c, counters)
      if (!stats) continue
      const value = metric.toUnit(stats.median)
      const entry: GithubBenchmarkEntry = { name: `${ciCaseName(c, withProvider)} - ${metric.label}`, unit: metric.unit, value }
      const extra = [`n=${stats.n} (${c.cold} cold, ${c.warm} warm of ${c.total} invocations)`]
      if (stats.ciMedian95) {
        const lo = metric.toUnit(stats.ciMedian95[0])
        const hi = metric.toUnit(stats.ciMedian95[1])
        entry.range = `± ${significant(Math.max(value - lo, hi - value), 2)}`
        extra.push(`95% CI of the median: [${lo}, ${hi}] ${metric.unit}`)
      }
      extra.push(`p95: ${metric.toUnit(stats.p95)} ${metric.unit}`)
      const failures = c.errors + c.timeouts + c.invalid
      if (failures) extra.push(`failures: ${failures}`)
      entry.extra = extra.join('\n')
      entries.push(entry)
    }
  }
  return entries
}

/** The Bencher Metric Format document of a run: per case and phase, one measure per metric present. */
export function formatBencher(summary: RunSummary, records: InvocationRecord[] = []): BencherMetricFormat {
  const counters = instructionStats(records)
  const withProvider = multiProvider(summary)
  const out: BencherMetricFormat = {}
  for (const c of summary.cases) {
    if (c.n === 0) continue
    const measures: Record<string, BencherMetric> = {}
    for (const metric of METRICS) {
      const stats = metric.stats(c, counters)
      if (!stats) continue
      const m: BencherMetric = { value: metric.toBencher(stats.median) }
      if (stats.ciMedian95) {
        m.lower_value = metric.toBencher(stats.ciMedian95[0])
        m.upper_value = metric.toBencher(stats.ciMedian95[1])
      }
      measures[metric.slug] = m
    }
    out[ciCaseName(c, withProvider)] = measures
  }
  return out
}

/** Writes `github-action-benchmark.json` and `bencher.json` into the run directory; returns their paths. */
export async function writeCiFormats(runDir: string, summary: RunSummary, records: InvocationRecord[]): Promise<string[]> {
  const gab = join(runDir, GITHUB_ACTION_BENCHMARK_JSON)
  const gabCold = join(runDir, GITHUB_ACTION_BENCHMARK_COLD_JSON)
  const gabWarm = join(runDir, GITHUB_ACTION_BENCHMARK_WARM_JSON)
  const bencher = join(runDir, BENCHER_JSON)
  const json = (value: unknown) => JSON.stringify(value, null, 2) + '\n'
  await writeFileAtomic(gab, json(formatGithubActionBenchmark(summary, records)))
  await writeFileAtomic(gabCold, json(formatGithubActionBenchmark(summary, records, 'cold')))
  await writeFileAtomic(gabWarm, json(formatGithubActionBenchmark(summary, records, 'warm')))
  await writeFileAtomic(bencher, json(formatBencher(summary, records)))
  return [gab, gabCold, gabWarm, bencher]
}
