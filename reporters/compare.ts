/**
 * Output of the run comparison (main process / CLI): the console table and
 * the Markdown summary of analysis/compare.ts's result, the `sebs compare`
 * command, and the baseline gate the reporter runs after a run.
 */
import { existsSync, statSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { ConfigError, SebsError, errorMessage } from '../core/errors.ts'
import { readRecords } from '../core/records.ts'
import type { InvocationRecord } from '../core/types.ts'
import { writeFileAtomic } from './atomic-write.ts'
import { formatMs } from './console-table.ts'
import { appendToStepSummary, escapeMarkdownCell, markdownTable } from './markdown-summary.ts'
import { readRunIndex } from './run-index.ts'
import {
  METRICS,
  VERDICTS,
  compareRuns,
  resolveCompareOptions,
  type CaseComparison,
  type CompareMetric,
  type CompareOptions,
  type CompareSide,
  type ComparisonResult,
} from '../analysis/compare.ts'

export const COMPARE_MD = 'compare.md'

function formatPct(pct: number): string {
  return `${pct.toFixed(Math.abs(pct) < 10 ? 1 : 0)}%`
}

// ---------------------------------------------------------------------------
// Rendering

const NONE = '-'

function formatValue(v: number, isTime: boolean): string {
  return isTime ? formatMs(v) : Math.round(v).toLocaleString('en-US')
}

function formatSide(s: CompareSide | undefined, isTime: boolean): string {
  if (!s || s.median === undefined) return NONE
  const value = formatValue(s.median, isTime)
  if (!s.ci95) return value
  if (isTime) {
    // The CI at the median's precision, like the summary table.
    const digits = formatMs(s.median).split('.')[1]?.length ?? 0
    return `${value} [${formatMs(s.ci95[0], digits)}, ${formatMs(s.ci95[1], digits)}]`
  }
  return `${value} [${formatValue(s.ci95[0], false)}, ${formatValue(s.ci95[1], false)}]`
}

function formatP(p: number | undefined): string {
  if (p === undefined) return NONE
  if (p < 0.0001) return '<0.0001'
  return p.toPrecision(2)
}

function formatChange(c: CaseComparison, isTime: boolean): string {
  if (c.change === undefined) return NONE
  const sign = c.change > 0 ? '+' : c.change < 0 ? '−' : '±'
  const abs = Math.abs(c.change)
  return `${sign}${isTime ? `${formatMs(abs)} ms` : formatValue(abs, false)}`
}

function formatChangePct(c: CaseComparison): string {
  if (c.changePct === undefined) return NONE
  if (!Number.isFinite(c.changePct)) return 'new > 0'
  const sign = c.changePct > 0 ? '+' : c.changePct < 0 ? '−' : '±'
  return `${sign}${formatPct(Math.abs(c.changePct))}`
}

interface CompareColumn {
  header: string
  align: 'left' | 'right'
  cell: (c: CaseComparison) => string
}

function compareColumns(result: ComparisonResult): CompareColumn[] {
  const isTime = METRICS[result.options.metric].isTime
  const unit = isTime ? ' (ms)' : ''
  const varies = (f: (c: CaseComparison) => unknown) => new Set(result.cases.map(f)).size > 1
  const columns: CompareColumn[] = [
    { header: 'verdict', align: 'left', cell: (c) => c.verdict },
    { header: 'benchmark', align: 'left', cell: (c) => c.benchmark },
    { header: 'language', align: 'left', cell: (c) => c.language },
    { header: 'size', align: 'left', cell: (c) => c.size },
  ]
  if (varies((c) => c.memory)) columns.push({ header: 'memory', align: 'right', cell: (c) => `${c.memory} MB` })
  if (varies((c) => c.trigger)) columns.push({ header: 'trigger', align: 'left', cell: (c) => c.trigger })
  if (varies((c) => c.experiment)) columns.push({ header: 'experiment', align: 'left', cell: (c) => c.experiment ?? NONE })
  if (result.cases.some((c) => c.point !== undefined)) columns.push({ header: 'point', align: 'left', cell: (c) => c.point ?? NONE })
  columns.push(
    { header: 'phase', align: 'left', cell: (c) => c.phase },
    { header: `base median [95% CI]${unit}`, align: 'right', cell: (c) => formatSide(c.base, isTime) },
    { header: `new median [95% CI]${unit}`, align: 'right', cell: (c) => formatSide(c.next, isTime) },
    { header: 'change', align: 'right', cell: (c) => formatChange(c, isTime) },
    { header: 'change %', align: 'right', cell: (c) => formatChangePct(c) },
    { header: 'p', align: 'right', cell: (c) => formatP(c.pValue) },
    { header: 'n base/new', align: 'right', cell: (c) => `${c.base?.n ?? NONE}/${c.next?.n ?? NONE}` },
    {
      header: 'note',
      align: 'left',
      cell: (c) => {
        const failures = [
          c.base?.failures ? `base ${c.base.failures} failed` : '',
          c.next?.failures ? `new ${c.next.failures} failed` : '',
        ].filter(Boolean)
        return [c.reason, ...failures].join('; ')
      },
    },
  )
  return columns
}

function countsText(result: ComparisonResult): string {
  const { counts } = result
  return VERDICTS.filter((v) => counts[v] > 0 || v === 'slower')
    .map((v) => `${counts[v]} ${v}${v === 'slower' ? ` (regression${counts[v] === 1 ? '' : 's'})` : ''}`)
    .join(', ')
}

function settingsText(result: ComparisonResult): string {
  const o = result.options
  const isTime = METRICS[o.metric].isTime
  return `two-sided Mann-Whitney U at α = ${o.alpha}; a change must exceed ${o.threshold}%${isTime ? ` and ${o.minChangeMs} ms` : ''}; at least ${o.minSamples} samples per side`
}

export interface CompareLabels {
  /** How to name the base and the new run (run ids or paths). */
  base: string
  next: string
}

/** The comparison as an aligned console table with a headline and a verdict line. */
export function formatComparisonTable(result: ComparisonResult, labels: CompareLabels): string {
  const lines = [
    `Comparing ${labels.next} with baseline ${labels.base} on ${result.metricLabel}: ${countsText(result)}`,
    `(${settingsText(result)})`,
  ]
  for (const note of result.notes) lines.push(`Note: ${note}`)
  if (result.cases.length === 0) {
    lines.push('No cases in either run.')
  } else {
    const columns = compareColumns(result)
    const cells = result.cases.map((c) => columns.map((col) => col.cell(c)))
    const widths = columns.map((col, i) => Math.max(col.header.length, ...cells.map((r) => r[i].length)))
    const line = (values: string[]) =>
      values
        .map((v, i) => (columns[i].align === 'right' ? v.padStart(widths[i]) : v.padEnd(widths[i])))
        .join('  ')
        .trimEnd()
    lines.push(line(columns.map((c) => c.header)), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line))
  }
  lines.push(
    result.regression
      ? `REGRESSION: ${result.counts.slower} case${result.counts.slower === 1 ? ' is' : 's are'} slower than the baseline.`
      : 'No regression.',
  )
  return lines.join('\n')
}

/**
 * The comparison as Markdown for a PR comment: the verdict, the cases that
 * changed or could not be decided with their evidence, and the unchanged
 * cases folded away in a <details> block.
 */
export function formatComparisonMarkdown(result: ComparisonResult, labels: CompareLabels): string {
  const headline = result.regression
    ? `**Regression:** ${result.counts.slower} case${result.counts.slower === 1 ? '' : 's'} slower than the baseline.`
    : '**No regression.**'
  const lines = [
    `### SeBS comparison on ${result.metricLabel}: \`${escapeMarkdownCell(labels.next)}\` vs. baseline \`${escapeMarkdownCell(labels.base)}\``,
    '',
    headline,
    '',
    `${escapeMarkdownCell(countsText(result))}. Rules: ${escapeMarkdownCell(settingsText(result))}.`,
  ]
  for (const note of result.notes) lines.push('', `> ${escapeMarkdownCell(note)}`)
  const columns = compareColumns(result)
  const table = (cases: CaseComparison[]) =>
    markdownTable(
      columns.map((c) => c.header),
      columns.map((c) => c.align),
      cases.map((row) => columns.map((c) => c.cell(row))),
    )
  const changed = result.cases.filter((c) => c.verdict !== 'unchanged')
  const unchanged = result.cases.filter((c) => c.verdict === 'unchanged')
  lines.push('')
  if (changed.length > 0) lines.push(table(changed))
  else if (result.cases.length > 0) lines.push('No case changed beyond the thresholds.')
  else lines.push('No cases in either run.')
  if (unchanged.length > 0) {
    lines.push('', `<details><summary>${unchanged.length} unchanged case${unchanged.length === 1 ? '' : 's'}</summary>`, '', table(unchanged), '', '</details>')
  }
  lines.push('', 'Medians with their nonparametric 95% CIs (Le Boudec); p from a two-sided Mann-Whitney U test.')
  return lines.join('\n') + '\n'
}

// ---------------------------------------------------------------------------
// Commands

/** Records of a run directory or an invocations.jsonl; `role` names it in errors. */
function loadRun(path: string, role: 'BASE' | 'NEW'): { records: InvocationRecord[]; label: string; dir: string } {
  const abs = resolve(path)
  let records: InvocationRecord[]
  try {
    records = readRecords(abs).records
  } catch (err) {
    if (err instanceof SebsError && role === 'BASE') throw new SebsError('BASELINE_INVALID', `Baseline: ${err.message}`, { cause: err })
    throw err
  }
  if (records.length === 0) {
    throw new SebsError(
      role === 'BASE' ? 'BASELINE_INVALID' : 'RESULTS_NOT_FOUND',
      `${role} ${path} holds no invocation records; was the run interrupted before its first invocation? 'npx sebs history' lists runs.`,
    )
  }
  const dir = existsSync(abs) && statSync(abs).isDirectory() ? abs : dirname(abs)
  return { records, label: records[0].runId || basename(dir), dir }
}

const COMPARE_USAGE = `Usage: sebs compare BASE NEW [--metric client|function|instructions] [--alpha 0.01] [--threshold 10] [--min-change-ms 0.5] [--min-samples 5] [--markdown FILE]

BASE and NEW are run directories (results/<run-id>) or their invocations.jsonl.
Exit code 1 when a case of NEW is slower than in BASE (a regression), else 0.
`

const COMPARE_FLAGS = {
  metric: { type: 'string' },
  alpha: { type: 'string' },
  threshold: { type: 'string' },
  'min-change-ms': { type: 'string' },
  'min-samples': { type: 'string' },
  markdown: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const

function numberFlag(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (value.trim() === '' || !Number.isFinite(n)) throw new ConfigError('CONFIG_INVALID', `--${name} must be a number, got '${value}'.`)
  return n
}

export interface CompareIo {
  /** Where the table goes; defaults to stdout. */
  write?: (text: string) => void
  env?: NodeJS.ProcessEnv
}

/**
 * `sebs compare BASE NEW [--metric client|function|instructions] [--alpha 0.01]
 * [--threshold 10] [--min-change-ms 0.5] [--min-samples 5] [--markdown FILE]`:
 * prints the comparison table, writes compare.md next to NEW (or to
 * --markdown FILE), appends it to the GitHub job summary when
 * GITHUB_STEP_SUMMARY is set, and returns the exit code: 1 on a regression,
 * 0 otherwise. Bad arguments throw ConfigError/SebsError.
 */
export async function compareCommand(argv: string[], io: CompareIo = {}): Promise<number> {
  const write = io.write ?? ((text: string) => process.stdout.write(text))
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] }
  try {
    parsed = parseArgs({ args: argv, options: COMPARE_FLAGS, allowPositionals: true, strict: true })
  } catch (cause) {
    const known = Object.entries(COMPARE_FLAGS).map(([name, o]) => `--${name}${o.type === 'string' ? ' VALUE' : ''}`)
    throw new ConfigError('UNKNOWN_FLAG', `sebs compare: ${errorMessage(cause)}. Known options: ${known.join(', ')}.`, { cause })
  }
  const { values, positionals } = parsed
  if (values.help) {
    write(COMPARE_USAGE)
    return 0
  }
  if (positionals.length !== 2) {
    throw new ConfigError('CONFIG_INVALID', `sebs compare needs exactly two runs, BASE and NEW; got ${positionals.length}.\n${COMPARE_USAGE}`)
  }
  const options = resolveCompareOptions({
    metric: values.metric as CompareMetric | undefined,
    alpha: numberFlag(values.alpha as string | undefined, 'alpha'),
    threshold: numberFlag(values.threshold as string | undefined, 'threshold'),
    minChangeMs: numberFlag(values['min-change-ms'] as string | undefined, 'min-change-ms'),
    minSamples: numberFlag(values['min-samples'] as string | undefined, 'min-samples'),
  })
  const base = loadRun(positionals[0], 'BASE')
  const next = loadRun(positionals[1], 'NEW')
  const result = compareRuns(base.records, next.records, options)
  const labels = { base: base.label, next: next.label }
  const markdown = formatComparisonMarkdown(result, labels)
  const mdFile = values.markdown ? resolve(values.markdown as string) : join(next.dir, COMPARE_MD)
  await writeFileAtomic(mdFile, markdown)
  await appendToStepSummary(markdown, io.env ?? process.env)
  write(`${formatComparisonTable(result, labels)}\n[sebs] comparison written to ${mdFile}\n`)
  return result.regression ? 1 : 0
}

export interface BaselineOptions extends CompareOptions {
  /** The results folder, where a baseline given as a run id is looked up. */
  resultsDir: string
  env?: NodeJS.ProcessEnv
}

/**
 * Where a `--baseline` value points: an existing run directory or
 * invocations.jsonl, a run id under `resultsDir`, or `latest` (the newest
 * run in the results index other than the current one).
 */
export async function resolveBaseline(baseline: string, resultsDir: string, currentRunId?: string): Promise<string> {
  if (baseline === 'latest') {
    const runs = (await readRunIndex(resultsDir)).filter((e) => e.runId !== currentRunId)
    const latest = runs.at(-1)
    if (!latest) {
      throw new SebsError('BASELINE_INVALID', `--baseline latest: ${resultsDir} has no earlier run to compare with. Run the suite once on the base version first.`)
    }
    return join(resultsDir, latest.runId)
  }
  if (existsSync(baseline)) return resolve(baseline)
  const underResults = join(resultsDir, baseline)
  if (existsSync(underResults)) return underResults
  throw new SebsError(
    'BASELINE_INVALID',
    `--baseline ${baseline}: not a run directory, not an invocations.jsonl and not a run id in ${resultsDir}. 'npx sebs history' lists the runs; 'latest' picks the newest.`,
  )
}

/**
 * For `sebs bench --baseline RUN`: compares this run's records with the
 * baseline's, writes compare.md into `runDir`, appends it to the GitHub job
 * summary when GITHUB_STEP_SUMMARY is set, and returns whether a case
 * regressed and the console table.
 */
export async function compareWithBaseline(
  baseline: string,
  runDir: string,
  records: InvocationRecord[],
  options: BaselineOptions,
): Promise<{ regression: boolean; text: string; result: ComparisonResult; markdownFile: string }> {
  const { resultsDir, env, ...compareOptions } = options
  const currentRunId = records[0]?.runId ?? basename(runDir)
  const basePath = await resolveBaseline(baseline, resultsDir, currentRunId)
  if (resolve(basePath) === resolve(runDir) || resolve(basePath) === resolve(runDir, 'invocations.jsonl')) {
    throw new SebsError('BASELINE_INVALID', `--baseline ${baseline} is the current run ${currentRunId}; pass an earlier run.`)
  }
  const base = loadRun(basePath, 'BASE')
  const result = compareRuns(base.records, records, compareOptions)
  const labels = { base: base.label, next: currentRunId }
  const markdown = formatComparisonMarkdown(result, labels)
  const markdownFile = join(runDir, COMPARE_MD)
  await writeFileAtomic(markdownFile, markdown)
  await appendToStepSummary(markdown, env ?? process.env)
  return { regression: result.regression, text: formatComparisonTable(result, labels), result, markdownFile }
}
