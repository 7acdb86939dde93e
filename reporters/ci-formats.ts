/**
 * Result files for continuous-benchmarking services, written into the run
 * directory:
 *
 * - `github-action-benchmark.json`: the `customSmallerIsBetter` input of
 *   benchmark-action/github-action-benchmark, an array of
 *   `{ name, unit, value, range?, extra? }`. One entry per case, phase and
 *   metric (client time, function time in ms; instructions and cost when the
 *   records carry them); `value` is the median, `range` "± h" with h the larger
 *   distance from the median to an end of its 95% CI.
 * - `bencher.json`: Bencher Metric Format,
 *   `{ "<benchmark>": { "<measure>": { value, lower_value, upper_value } } }`,
 *   `value` the median and the bounds its nonparametric 95% CI. Client time is
 *   the built-in `latency` measure, in nanoseconds as Bencher defines it;
 *   `function-time` (ns), `instructions` (count) and `cost` (USD per
 *   invocation) are created by Bencher on first upload.
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

/** Round to a fixed number of decimals, dropping binary-fraction noise. */
function round(value: number, decimals: number): number {
  const f = 10 ** decimals
  return Math.round(value * f) / f
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
}

const METRICS: Metric[] = [
  {
    label: 'client time',
    slug: 'latency',
    stats: (c) => c.clientTimeUs,
    unit: 'ms',
    toUnit: (us) => round(us / 1000, 3),
    toBencher: (us) => Math.round(us * 1000),
  },
  {
    label: 'function time',
    slug: 'function-time',
    stats: (c) => c.functionTimeUs,
    unit: 'ms',
    toUnit: (us) => round(us / 1000, 3),
    toBencher: (us) => Math.round(us * 1000),
  },
  {
    label: 'instructions',
    slug: 'instructions',
    stats: (c, counters) => counters.get(caseGroupKey(c)),
    unit: 'instructions',
    toUnit: (v) => v,
    toBencher: (v) => v,
  },
  {
    label: 'cost',
    slug: 'cost',
    stats: (c) => c.costUsd,
    unit: 'USD',
    toUnit: (v) => v,
    toBencher: (v) => v,
  },
]

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
export function formatGithubActionBenchmark(summary: RunSummary, records: InvocationRecord[] = []): GithubBenchmarkEntry[] {
  const counters = instructionStats(records)
  const withProvider = multiProvider(summary)
  const entries: GithubBenchmarkEntry[] = []
  for (const c of summary.cases) {
    if (c.n === 0) continue
    for (const metric of METRICS) {
      const stats = metric.stats(c, counters)
      if (!stats) continue
      const value = metric.toUnit(stats.median)
      const entry: GithubBenchmarkEntry = { name: `${ciCaseName(c, withProvider)} - ${metric.label}`, unit: metric.unit, value }
      const extra = [`n=${stats.n} (${c.cold} cold, ${c.warm} warm of ${c.total} invocations)`]
      if (stats.ciMedian95) {
        const lo = metric.toUnit(stats.ciMedian95[0])
        const hi = metric.toUnit(stats.ciMedian95[1])
        entry.range = `± ${round(Math.max(value - lo, hi - value), 6)}`
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
  const bencher = join(runDir, BENCHER_JSON)
  await writeFileAtomic(gab, JSON.stringify(formatGithubActionBenchmark(summary, records), null, 2) + '\n')
  await writeFileAtomic(bencher, JSON.stringify(formatBencher(summary, records), null, 2) + '\n')
  return [gab, bencher]
}
