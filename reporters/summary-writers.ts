/**
 * Writes a run summary next to its records: `summary.json` (the RunSummary,
 * pretty-printed, with its schemaVersion) and `summary.csv` (one row per case
 * and phase, statistics flattened into columns). Both are replaced atomically.
 */
import { join } from 'node:path'
import { stringify } from 'csv-stringify/sync'
import { writeFileAtomic } from './atomic-write.ts'
import type { Statistics } from '../analysis/statistics.ts'
import { SUMMARY_METRICS, type PhaseSummary, type RunSummary, type SummaryMetric } from './summary.ts'

export const SUMMARY_JSON = 'summary.json'
export const SUMMARY_CSV = 'summary.csv'

/** CSV column prefix and unit of each metric; times are converted from µs to ms. */
const METRIC_COLUMNS: Record<SummaryMetric, { prefix: string; unit: string; scale: (v: number) => number }> = {
  clientTimeUs: { prefix: 'client', unit: 'ms', scale: usToMs },
  functionTimeUs: { prefix: 'function', unit: 'ms', scale: usToMs },
  computeTimeUs: { prefix: 'compute', unit: 'ms', scale: usToMs },
  providerTimeUs: { prefix: 'provider', unit: 'ms', scale: usToMs },
  rssPeakKb: { prefix: 'rss_peak', unit: 'kb', scale: (v) => v },
  memoryUsedMb: { prefix: 'memory_used', unit: 'mb', scale: (v) => v },
  costUsd: { prefix: 'cost', unit: 'usd', scale: (v) => v },
}

/** µs → ms, rounded to the nanosecond to drop binary-fraction noise (records are whole µs). */
function usToMs(us: number): number {
  return Math.round(us * 1000) / 1e6
}

/**
 * Statistic columns per metric, `<prefix>_<name>_<unit>` (cv is `<prefix>_cv_pct`,
 * the count `<prefix>_n`). `ci95`/`ci99` are the nonparametric CIs of the
 * median (Le Boudec); `mean_ci95`/`mean_ci99` the Student-t CIs of the mean.
 */
const STAT_COLUMNS: Array<{ name: string; unitless?: 'n' | 'pct'; get: (s: Statistics) => number | undefined }> = [
  { name: 'n', unitless: 'n', get: (s) => s.n },
  { name: 'median', get: (s) => s.median },
  { name: 'ci95_low', get: (s) => s.ciMedian95?.[0] },
  { name: 'ci95_high', get: (s) => s.ciMedian95?.[1] },
  { name: 'ci99_low', get: (s) => s.ciMedian99?.[0] },
  { name: 'ci99_high', get: (s) => s.ciMedian99?.[1] },
  { name: 'mean', get: (s) => s.mean },
  { name: 'mean_ci95_low', get: (s) => s.ciT95?.[0] },
  { name: 'mean_ci95_high', get: (s) => s.ciT95?.[1] },
  { name: 'mean_ci99_low', get: (s) => s.ciT99?.[0] },
  { name: 'mean_ci99_high', get: (s) => s.ciT99?.[1] },
  { name: 'std', get: (s) => s.std },
  { name: 'cv', unitless: 'pct', get: (s) => s.cv },
  { name: 'min', get: (s) => s.min },
  { name: 'max', get: (s) => s.max },
  { name: 'p90', get: (s) => s.p90 },
  { name: 'p95', get: (s) => s.p95 },
  { name: 'p99', get: (s) => s.p99 },
]

const CASE_COLUMNS = [
  'benchmark',
  'language',
  'size',
  'provider',
  'memory',
  'trigger',
  'phase',
  'experiment',
  'point',
  'n',
  'total',
  'ok',
  'errors',
  'timeouts',
  'invalid',
  'discarded',
  'cold',
  'warm',
] as const satisfies ReadonlyArray<keyof PhaseSummary>

interface CsvColumn {
  key: string
  value: (c: PhaseSummary) => string | number | undefined
}

function csvColumns(): CsvColumn[] {
  const columns: CsvColumn[] = CASE_COLUMNS.map((key) => ({ key, value: (c) => c[key] }))
  for (const metric of SUMMARY_METRICS) {
    const { prefix, unit, scale } = METRIC_COLUMNS[metric]
    for (const stat of STAT_COLUMNS) {
      const key =
        stat.unitless === 'n' ? `${prefix}_n` : stat.unitless === 'pct' ? `${prefix}_cv_pct` : `${prefix}_${stat.name}_${unit}`
      columns.push({
        key,
        value: (c) => {
          const stats = c[metric]
          const v = stats ? stat.get(stats) : undefined
          if (v === undefined) return undefined
          return stat.unitless ? v : scale(v)
        },
      })
    }
  }
  columns.push({ key: 'first_error', value: (c) => c.firstError })
  return columns
}

/** The header of summary.csv, in order. */
export function summaryCsvHeader(): string[] {
  return csvColumns().map((c) => c.key)
}

/** summary.csv as a string: a header and one row per case and phase; absent values are empty cells. */
export function formatSummaryCsv(summary: RunSummary): string {
  const columns = csvColumns()
  const rows = summary.cases.map((c) => columns.map((col) => col.value(c)))
  return stringify(rows, { header: true, columns: columns.map((c) => c.key) })
}

/**
 * Writes `summary.json` and `summary.csv` into the run directory (created if
 * missing), each atomically. Returns the paths written.
 */
export async function writeSummaryFiles(runDir: string, summary: RunSummary): Promise<string[]> {
  const jsonPath = join(runDir, SUMMARY_JSON)
  const csvPath = join(runDir, SUMMARY_CSV)
  await writeFileAtomic(jsonPath, JSON.stringify(summary, null, 2) + '\n')
  await writeFileAtomic(csvPath, formatSummaryCsv(summary))
  return [jsonPath, csvPath]
}
