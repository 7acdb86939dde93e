/**
 * Regression tracking: compares two runs' invocation records case by case
 * and decides whether the new run is slower.
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
import { existsSync, statSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { ConfigError, SebsError, errorMessage, listChoices } from '../core/errors.ts'
import { readRecords } from '../core/records.ts'
import type { InvocationRecord, Language, Size, Trigger } from '../core/types.ts'
import { writeFileAtomic } from './atomic-write.ts'
import { formatMs } from './console-table.ts'
import { appendToStepSummary, escapeMarkdownCell, markdownTable } from './markdown-summary.ts'
import { readRunIndex } from './run-index.ts'
import { leBoudecMedianInterval, mannWhitneyU, median } from '../analysis/statistics.ts'
import { compareCases, usableForStatistics } from './summary.ts'

export const COMPARE_METRICS = ['client', 'function', 'instructions'] as const
export type CompareMetric = (typeof COMPARE_METRICS)[number]

export type Verdict = 'faster' | 'slower' | 'unchanged' | 'inconclusive' | 'added' | 'removed'

export const COMPARE_MD = 'compare.md'

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

const VERDICTS: Verdict[] = ['slower', 'faster', 'inconclusive', 'added', 'removed', 'unchanged']

interface MetricDef {
  label: string
  isTime: boolean
  value: (r: InvocationRecord) => number | undefined
}

const METRICS: Record<CompareMetric, MetricDef> = {
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

function formatPct(pct: number): string {
  return `${pct.toFixed(Math.abs(pct) < 10 ? 1 : 0)}%`
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
