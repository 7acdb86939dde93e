/**
 * Plain-text rendering of a run summary for the terminal (pure): one row per
 * case and phase, aligned columns, no colours. Times in ms.
 */
import { caseFailures, type PhaseSummary, type RunSummary } from './summary.ts'

/** Decimals for a time in ms: about four significant digits, never more than 3 decimals (1 µs). */
function msDecimals(ms: number): number {
  const abs = Math.abs(ms)
  if (abs < 10) return 3
  if (abs < 100) return 2
  if (abs < 1000) return 1
  return 0
}

/** Formats a time in µs as ms with {@link msDecimals} precision (or the given decimals). */
export function formatMs(us: number, decimals?: number): string {
  const ms = us / 1000
  return ms.toFixed(decimals ?? msDecimals(ms))
}

/** "[12.16, 13.28]": a CI in ms, at the precision of the median it belongs to (µs in, like the records). */
export function formatCiMs(ci: readonly [number, number], medianUs: number): string {
  const decimals = msDecimals(medianUs / 1000)
  return `[${formatMs(ci[0], decimals)}, ${formatMs(ci[1], decimals)}]`
}

const NONE = '-'

function plural(count: number, word: string, pluralWord = `${word}s`): string {
  return `${count} ${count === 1 ? word : pluralWord}`
}

/** "2 out of memory, 2 errors, 1 timeout, 1 invalid" for the non-zero failure kinds (out-of-memory ends apart from other errors). */
export function failureText(c: Pick<PhaseSummary, 'errors' | 'timeouts' | 'invalid'> & { outOfMemory?: number }): string {
  const parts: string[] = []
  const oom = c.outOfMemory ?? 0
  if (oom) parts.push(`${oom} out of memory`)
  if (c.errors - oom) parts.push(plural(c.errors - oom, 'error'))
  if (c.timeouts) parts.push(plural(c.timeouts, 'timeout'))
  if (c.invalid) parts.push(`${c.invalid} invalid`)
  return parts.join(', ')
}

/** One column of the summary table; the console and Markdown renderers draw the same columns. */
export interface SummaryColumn {
  header: string
  align: 'left' | 'right'
  cell: (c: PhaseSummary) => string
}
type Column = SummaryColumn

function renderTable(columns: Column[], rows: PhaseSummary[]): string[] {
  const cells = rows.map((row) => columns.map((col) => col.cell(row)))
  const widths = columns.map((col, i) => Math.max(col.header.length, ...cells.map((r) => r[i].length)))
  const line = (values: string[]) =>
    values
      .map((v, i) => (columns[i].align === 'right' ? v.padStart(widths[i]) : v.padEnd(widths[i])))
      .join('  ')
      .trimEnd()
  return [line(columns.map((c) => c.header)), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)]
}

/** Whether a field takes more than one value across the cases (then it gets a column). */
function varies(cases: PhaseSummary[], field: (c: PhaseSummary) => unknown): boolean {
  return new Set(cases.map(field)).size > 1
}

/** "1.5" MB: one decimal below 1000 MB, none above. */
function formatMb(mb: number): string {
  return mb.toFixed(Math.abs(mb) < 1000 ? 1 : 0)
}

/** Three significant digits without an exponent: 2.08, 0.00208, 20800. */
export function formatSignificant(value: number, digits = 3): string {
  if (value === 0) return '0'
  const magnitude = Math.floor(Math.log10(Math.abs(value)))
  const decimals = Math.max(0, digits - 1 - magnitude)
  // toFixed keeps at most 100 decimals; values that small are 0 for every purpose here.
  return value.toFixed(Math.min(decimals, 100))
}

/**
 * The columns of the summary table for these cases: benchmark, language,
 * size, phase, n, cold/warm counts, median client time with its
 * nonparametric 95% CI, p95 client time, median function time; memory,
 * trigger, experiment and provider only when they differ between cases; the
 * experiment point whenever a case has one (a sweep's points share a phase,
 * so the point is what tells their rows apart); the
 * memory the function used (provider-reported MB, peak RSS) and the cost per
 * million invocations (mean costUsd × 10⁶) only when some record has them;
 * and the failures of each case when there are any. Times in ms.
 */
export function summaryColumns(cases: PhaseSummary[]): SummaryColumn[] {
  const columns: Column[] = [
    { header: 'benchmark', align: 'left', cell: (c) => c.benchmark },
    { header: 'language', align: 'left', cell: (c) => c.language },
    { header: 'size', align: 'left', cell: (c) => c.size },
  ]
  if (varies(cases, (c) => c.provider)) columns.push({ header: 'provider', align: 'left', cell: (c) => c.provider })
  if (varies(cases, (c) => c.memory)) columns.push({ header: 'memory', align: 'right', cell: (c) => `${c.memory} MB` })
  if (varies(cases, (c) => c.trigger)) columns.push({ header: 'trigger', align: 'left', cell: (c) => c.trigger })
  if (varies(cases, (c) => c.experiment)) {
    columns.push({ header: 'experiment', align: 'left', cell: (c) => c.experiment ?? NONE })
  }
  if (cases.some((c) => c.point !== undefined)) columns.push({ header: 'point', align: 'left', cell: (c) => c.point ?? NONE })
  columns.push(
    { header: 'phase', align: 'left', cell: (c) => c.phase },
    { header: 'n', align: 'right', cell: (c) => String(c.n) },
    { header: 'cold/warm', align: 'right', cell: (c) => `${c.cold}/${c.warm}` },
    {
      header: 'client median',
      align: 'right',
      cell: (c) => (c.clientTimeUs ? formatMs(c.clientTimeUs.median) : NONE),
    },
    {
      header: '95% CI',
      align: 'left',
      cell: (c) => {
        const stats = c.clientTimeUs
        return stats?.ciMedian95 ? formatCiMs(stats.ciMedian95, stats.median) : NONE
      },
    },
    { header: 'client p95', align: 'right', cell: (c) => (c.clientTimeUs ? formatMs(c.clientTimeUs.p95) : NONE) },
    {
      header: 'function median',
      align: 'right',
      cell: (c) => (c.functionTimeUs ? formatMs(c.functionTimeUs.median) : NONE),
    },
  )
  if (cases.some((c) => c.memoryUsedMb)) {
    columns.push({ header: 'mem used MB', align: 'right', cell: (c) => (c.memoryUsedMb ? formatMb(c.memoryUsedMb.median) : NONE) })
  }
  if (cases.some((c) => c.rssPeakKb)) {
    columns.push({ header: 'rss peak MB', align: 'right', cell: (c) => (c.rssPeakKb ? formatMb(c.rssPeakKb.median / 1024) : NONE) })
  }
  if (cases.some((c) => c.costUsd)) {
    columns.push({ header: '$/1M inv', align: 'right', cell: (c) => (c.costUsd ? formatSignificant(c.costUsd.mean * 1e6) : NONE) })
  }
  if (cases.some((c) => caseFailures(c) > 0 || c.discarded > 0)) {
    columns.push({
      header: 'notes',
      align: 'left',
      cell: (c) => [failureText(c), c.discarded ? `${c.discarded} discarded` : ''].filter(Boolean).join('; '),
    })
  }
  return columns
}

/** "Run r1 (local): 15 invocations, 13 ok, 1 error, 1 timeout, 2 discarded". */
export function summaryHeadline(summary: RunSummary): string {
  const { totals } = summary
  const failures = totals.errors + totals.timeouts + totals.invalid
  return (
    `Run ${summary.runId} (${summary.provider}): ${plural(totals.invocations, 'invocation')}, ${totals.ok} ok` +
    (failures ? `, ${failureText(totals)}` : '') +
    (totals.discarded ? `, ${totals.discarded} discarded` : '')
  )
}

/**
 * The summary table ({@link summaryColumns}), one row per case and phase,
 * under a headline with the run's totals. Times in ms; the CI uses the
 * median's precision.
 */
export function formatSummaryTable(summary: RunSummary): string {
  const { cases } = summary
  const headline = summaryHeadline(summary)
  if (cases.length === 0) return `${headline}\nNo invocations recorded.`
  return [`${headline}; times in ms, median CI nonparametric (Le Boudec)`, ...renderTable(summaryColumns(cases), cases)].join('\n')
}

/**
 * One line naming a case: "[experiment] benchmark language size memory MB
 * trigger phase ['point']", e.g. `invocation-overhead 110.dynamic-html nodejs
 * test 128 MB http warm 'payload 1024B warm'` (the point quoted: its name has spaces).
 */
export function caseLabel(c: PhaseSummary): string {
  return [c.experiment, c.benchmark, c.language, c.size, `${c.memory} MB`, c.trigger, c.phase, c.point !== undefined ? `'${c.point}'` : undefined]
    .filter(Boolean)
    .join(' ')
}

const MAX_ERROR_LENGTH = 300

/** First line of an error message, shortened for a terminal line. */
function shortError(message: string): string {
  const firstLine = message.split('\n').find((l) => l.trim()) ?? message
  const trimmed = firstLine.trim()
  return trimmed.length > MAX_ERROR_LENGTH ? `${trimmed.slice(0, MAX_ERROR_LENGTH - 3)}...` : trimmed
}

/**
 * The failing cases (errors, timeouts, invalid outputs) with the first error
 * of each; an empty string when nothing failed.
 */
export function formatFailures(summary: RunSummary): string {
  const failing = summary.cases.filter((c) => caseFailures(c) > 0)
  if (failing.length === 0) return ''
  const lines = [`Failures in ${plural(failing.length, 'case')}:`]
  for (const c of failing) {
    lines.push(`  ${caseLabel(c)}: ${failureText(c)} of ${plural(c.total, 'invocation')}`)
    if (c.firstError) lines.push(`    first: ${shortError(c.firstError)}`)
  }
  return lines.join('\n')
}
