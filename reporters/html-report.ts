/**
 * `report.html`: one self-contained page per run, plots drawn by Chart.js
 * whose source is inlined (the file opens offline, from an artifact or an
 * e-mail, with no CDN).
 *
 * Cases are the summary's, so an experiment's points (`payload 1024B warm`)
 * are cases of their own: labels and legends name the point when it is what
 * tells cases apart.
 *
 * Plots (each only when the run has the data for it):
 * - distribution per benchmark and phase (cold and warm apart): a box plot of
 *   client time per case, whiskers min–max, box p25–p75, the median's 95% CI
 *   as a narrow bar and the median as a tick;
 * - scaling per benchmark across input sizes (test → small → large): median
 *   client time, one line per language × memory × trigger × phase;
 * - memory-sweep frontier per benchmark × language × size × phase (not cold)
 *   when several memory sizes ran: median client time against cost per
 *   million invocations (costUsd), or GB-seconds per invocation when the
 *   records carry no cost, with the Pareto frontier drawn through the
 *   configurations nothing beats on both;
 * - power-tuning chart per memory sweep (the same groups): memory on x,
 *   median client time and cost on two y axes, with callouts for the best
 *   cost, best time and balanced sizes and the rule that picked them;
 * - time series across runs per benchmark and phase, when a history is
 *   given: median client time of each case of this run in every earlier run
 *   that has it (runs with none of the chart's cases are left out), labelled
 *   by start time with the run id in the tooltip.
 *
 * Chart configurations are built here as plain JSON (testable without a
 * browser); a short inline script adds the behaviour JSON cannot carry
 * (tooltips, point labels) and exposes `window.__sebsReport` for the
 * rendering test.
 */
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { SebsError } from '../core/errors.ts'
import { SIZES, type InvocationRecord } from '../core/types.ts'
import { writeFileAtomic } from './atomic-write.ts'
import { caseLabel, formatFailures, formatMs, summaryColumns, summaryHeadline } from './console-table.ts'
import { readRunIndex } from './run-index.ts'
import { percentile } from '../analysis/statistics.ts'
import { SUMMARY_JSON } from './summary-writers.ts'
import { KNOWN_SUMMARY_SCHEMA_VERSIONS, caseGroupKey, usableForStatistics, type PhaseSummary, type RunSummary } from './summary.ts'

export const REPORT_HTML = 'report.html'

export type ChartKind = 'distribution' | 'scaling' | 'sweep' | 'frontier' | 'history'

/** One pick of a memory sweep shown as a callout next to its chart (see {@link recommendMemory}). */
export interface SweepCallout {
  /** 'best cost', 'best time' or 'balanced'. */
  name: string
  memory: number
  /** The pick's median time and cost, formatted. */
  text: string
}

/** One plot of the report: where it goes, what it shows, and its Chart.js configuration. */
export interface ChartSpec {
  /** DOM id of the chart's canvas; unique in the page. */
  id: string
  kind: ChartKind
  title: string
  caption: string
  /**
   * How many data points the chart shows, one per case (distribution,
   * scaling, frontier) or per case and run (history): the points of its
   * datasets marked `sebsCases: true`.
   */
  points: number
  /** Chart.js configuration, JSON only. */
  config: ChartConfig
  /** Memory sweeps: the recommended sizes, drawn as callouts beside the chart with the rule that picked them. */
  callouts?: { picks: SweepCallout[]; rule: string }
}

/** The subset of Chart.js's configuration this report builds (kept loose: it is JSON handed to the page). */
export interface ChartConfig {
  type: 'bar' | 'line' | 'scatter'
  data: { labels?: string[]; datasets: ChartDataset[] }
  options: Record<string, unknown>
}

export interface ChartDataset {
  label: string
  data: unknown[]
  /** True for the datasets whose points are the chart's cases (the rest decorate them). */
  sebsCases: boolean
  /** Tooltip text per point. */
  sebsNotes?: string[]
  /** Text drawn next to each point (frontier: the memory size). */
  sebsPointLabels?: string[]
  [option: string]: unknown
}

export interface HtmlReportInput {
  summary: RunSummary
  /** The run's invocation records (for percentiles and cost that the summary does not keep). */
  records: InvocationRecord[]
  /** Earlier runs, oldest first, ending with this run (see {@link loadHistory}); omit for no time series. */
  history?: RunSummary[]
  /** Lines shown under the heading (history notes, skipped runs). */
  notes?: string[]
}

// ---------------------------------------------------------------------------
// Helpers

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22']

function color(i: number, alpha = 1): string {
  const hex = PALETTE[i % PALETTE.length]
  if (alpha === 1) return hex
  const n = parseInt(hex.slice(1), 16)
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`
}

function usToMs(us: number): number {
  return Math.round(us) / 1000
}

function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '')
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

function sizeOrder(size: string): number {
  const i = (SIZES as readonly string[]).indexOf(size)
  return i === -1 ? SIZES.length : i
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>()
  for (const item of items) {
    const k = key(item)
    const list = groups.get(k)
    if (list) list.push(item)
    else groups.set(k, [item])
  }
  return groups
}

/** Label parts that differ within a set of cases, so a legend says only what tells them apart. */
function distinguishingLabel(cases: PhaseSummary[], fields: Array<keyof PhaseSummary>): (c: PhaseSummary) => string {
  const varying = fields.filter((f) => new Set(cases.map((c) => c[f])).size > 1)
  return (c) => {
    const parts = varying.map((f) => (f === 'memory' ? `${c.memory} MB` : String(c[f] ?? '-')))
    return parts.length ? parts.join(' ') : `${c.language} ${c.size}`
  }
}

/**
 * A case's experiment point without its memory size: the points of a memory
 * sweep name their memory (`warm 128MB`, `cold-start 256MB code 0B`, see
 * `mb` in suites/experiment.ts), so this is what the cases of one sweep share.
 */
function pointWithoutMemory(c: PhaseSummary): string {
  if (c.point === undefined) return ''
  return c.point.replace(`${c.memory}MB`, '').replace(/\s+/g, ' ').trim()
}

/** A logarithmic axis when the values span more than this factor; else linear. */
const LOG_SPAN = 10

function valueAxis(values: number[], title: string): Record<string, unknown> {
  const positive = values.filter((v) => v > 0)
  const min = Math.min(...positive)
  const max = Math.max(...positive)
  const log = positive.length === values.length && positive.length > 0 && max / min > LOG_SPAN
  return { type: log ? 'logarithmic' : 'linear', beginAtZero: !log, title: { display: true, text: log ? `${title} (log scale)` : title } }
}

function caseNote(c: PhaseSummary): string {
  const s = c.clientTimeUs!
  const ci = s.ciMedian95 ? `, 95% CI [${formatMs(s.ciMedian95[0])}, ${formatMs(s.ciMedian95[1])}]` : ''
  return `median ${formatMs(s.median)} ms${ci}; p95 ${formatMs(s.p95)} ms; n=${c.n} (${c.cold} cold, ${c.warm} warm)`
}

// ---------------------------------------------------------------------------
// Charts

class Ids {
  private used = new Set<string>()
  take(base: string): string {
    let id = `chart-${slug(base)}`
    for (let i = 2; this.used.has(id); i++) id = `chart-${slug(base)}-${i}`
    this.used.add(id)
    return id
  }
}

/** Client-time samples (µs) of each case, by {@link caseGroupKey}. */
function samplesByCase(records: InvocationRecord[]): Map<string, number[]> {
  const out = new Map<string, number[]>()
  for (const r of records) {
    if (!usableForStatistics(r) || !Number.isFinite(r.clientTimeUs)) continue
    const key = caseGroupKey(r)
    const list = out.get(key)
    if (list) list.push(r.clientTimeUs)
    else out.set(key, [r.clientTimeUs])
  }
  for (const list of out.values()) list.sort((a, b) => a - b)
  return out
}

function distributionCharts(summary: RunSummary, records: InvocationRecord[], ids: Ids): ChartSpec[] {
  const samples = samplesByCase(records)
  const plotted = summary.cases.filter((c) => c.clientTimeUs)
  const charts: ChartSpec[] = []
  for (const [key, cases] of groupBy(plotted, (c) => JSON.stringify([c.experiment ?? '', c.benchmark, c.phase]))) {
    const [experiment, benchmark, phase] = JSON.parse(key) as string[]
    const label = distinguishingLabel(cases, ['language', 'size', 'memory', 'trigger', 'point', 'provider'])
    const quartiles = cases.map((c) => {
      const sorted = samples.get(caseGroupKey(c)) ?? [c.clientTimeUs!.median]
      return [percentile(sorted, 25), percentile(sorted, 75)]
    })
    const ms = (v: number) => usToMs(v)
    const all = cases.flatMap((c) => [c.clientTimeUs!.min, c.clientTimeUs!.max].map(ms))
    const title = `${experiment ? `${experiment}: ` : ''}${benchmark}, ${phase}: client time per case`
    charts.push({
      id: ids.take(`dist ${experiment} ${benchmark} ${phase}`),
      kind: 'distribution',
      title,
      caption: `Whiskers min–max, box p25–p75, dark bar the 95% CI of the median, tick the median. ${phase === 'cold' ? 'Cold starts only.' : `Phase '${phase}' only; cold starts are plotted apart.`}`,
      points: cases.length,
      config: {
        type: 'bar',
        data: {
          labels: cases.map(label),
          datasets: [
            {
              label: 'min–max',
              data: cases.map((c) => [ms(c.clientTimeUs!.min), ms(c.clientTimeUs!.max)]),
              sebsCases: false,
              backgroundColor: 'rgba(90, 90, 90, 0.55)',
              barPercentage: 0.06,
              // A whisker is a line: with few cases 6% of a wide category was a thick grey bar.
              maxBarThickness: 2,
              grouped: false,
              order: 3,
            },
            {
              label: 'p25–p75',
              data: quartiles.map(([lo, hi]) => [ms(lo), ms(hi)]),
              sebsCases: false,
              backgroundColor: color(0, 0.35),
              borderColor: color(0),
              borderWidth: 1,
              borderSkipped: false,
              barPercentage: 0.5,
              grouped: false,
              order: 2,
            },
            {
              label: '95% CI of the median',
              data: cases.map((c) => (c.clientTimeUs!.ciMedian95 ? c.clientTimeUs!.ciMedian95.map(ms) : null)),
              sebsCases: false,
              backgroundColor: color(0, 0.9),
              barPercentage: 0.18,
              grouped: false,
              order: 1,
            },
            {
              type: 'line',
              label: 'median',
              data: cases.map((c) => ms(c.clientTimeUs!.median)),
              sebsCases: true,
              sebsNotes: cases.map((c) => `${caseLabel(c)}: ${caseNote(c)}`),
              showLine: false,
              pointStyle: 'line',
              pointRadius: 16,
              pointHoverRadius: 18,
              borderWidth: 3,
              pointBorderWidth: 3,
              borderColor: '#111',
              backgroundColor: '#111',
              order: 0,
            },
          ],
        },
        options: { scales: { y: valueAxis(all, 'client time (ms)') } },
      },
    })
  }
  return charts
}

function scalingCharts(summary: RunSummary, ids: Ids): ChartSpec[] {
  const plotted = summary.cases.filter((c) => c.clientTimeUs)
  const charts: ChartSpec[] = []
  for (const [key, cases] of groupBy(plotted, (c) => JSON.stringify([c.experiment ?? '', c.benchmark]))) {
    const [experiment, benchmark] = JSON.parse(key) as string[]
    const sizes = [...new Set(cases.map((c) => c.size as string))].sort((a, b) => sizeOrder(a) - sizeOrder(b) || (a < b ? -1 : 1))
    if (sizes.length < 2) continue
    const series = groupBy(cases, (c) => JSON.stringify([c.language, c.memory, c.trigger, c.phase, c.point ?? null, c.provider]))
    const seriesLabel = distinguishingLabel(
      [...series.values()].map((s) => s[0]),
      ['language', 'memory', 'trigger', 'phase', 'point', 'provider'],
    )
    // One colour per language × memory × trigger, so a case's cold (dashed) and warm lines pair up.
    const colours = new Map<string, number>()
    const datasets: ChartDataset[] = [...series.values()].map((list) => {
      const bySize = new Map(list.map((c) => [c.size as string, c]))
      const cold = list[0].phase === 'cold'
      // The point without its phase word, so an overhead sweep's `payload 1024B cold` and `… warm` pair up too.
      const pointKey = (list[0].point ?? '').replace(/\b(cold|warm)\b/, '').trim()
      const colourKey = JSON.stringify([list[0].language, list[0].memory, list[0].trigger, pointKey, list[0].provider])
      if (!colours.has(colourKey)) colours.set(colourKey, colours.size)
      const i = colours.get(colourKey)!
      return {
        label: seriesLabel(list[0]),
        data: sizes.map((s) => (bySize.has(s) ? usToMs(bySize.get(s)!.clientTimeUs!.median) : null)),
        sebsCases: true,
        sebsNotes: sizes.map((s) => (bySize.has(s) ? `${caseLabel(bySize.get(s)!)}: ${caseNote(bySize.get(s)!)}` : '')),
        borderColor: color(i),
        backgroundColor: color(i),
        borderDash: cold ? [6, 4] : [],
        pointRadius: 4,
        spanGaps: true,
      }
    })
    charts.push({
      id: ids.take(`scaling ${experiment} ${benchmark}`),
      kind: 'scaling',
      title: `${experiment ? `${experiment}: ` : ''}${benchmark}: median client time across input sizes`,
      caption: 'One line per language, memory, trigger, phase and experiment point; cold-start lines are dashed.',
      points: cases.length,
      config: {
        type: 'line',
        data: { labels: sizes, datasets },
        options: {
          scales: {
            x: { title: { display: true, text: 'input size' } },
            y: valueAxis(cases.map((c) => usToMs(c.clientTimeUs!.median)), 'median client time (ms)'),
          },
        },
      },
    })
  }
  return charts
}

/** Mean of a per-record value over the case's usable records, or undefined when none has it. */
function meanOver(records: InvocationRecord[] | undefined, value: (r: InvocationRecord) => number | undefined): number | undefined {
  let sum = 0
  let n = 0
  for (const r of records ?? []) {
    const v = value(r)
    if (typeof v === 'number' && Number.isFinite(v)) {
      sum += v
      n++
    }
  }
  return n ? sum / n : undefined
}

/** GB-seconds of one invocation: configured GB × billed seconds (function time when nothing was billed). */
function gbSeconds(r: InvocationRecord): number {
  const seconds = r.billedTimeMs !== undefined ? r.billedTimeMs / 1000 : r.functionTimeUs / 1e6
  return (r.memory / 1024) * seconds
}

/** Indices of the points no other point beats on both x and y (smaller is better on both). */
export function paretoFrontier(points: Array<{ x: number; y: number }>): number[] {
  const order = points.map((_, i) => i).sort((a, b) => points[a].x - points[b].x || points[a].y - points[b].y)
  const frontier: number[] = []
  let best = Infinity
  for (const i of order) {
    if (points[i].y < best) {
      frontier.push(i)
      best = points[i].y
    }
  }
  return frontier
}

function frontierCharts(summary: RunSummary, records: InvocationRecord[], ids: Ids): ChartSpec[] {
  const usable = groupBy(records.filter(usableForStatistics), (r) => caseGroupKey(r))
  const charts: ChartSpec[] = []
  const candidates = summary.cases.filter((c) => c.clientTimeUs && c.phase !== 'cold')
  // Grouped by the point without its memory: a memory sweep's points are one frontier, other points (payload sizes) apart.
  const groups = groupBy(candidates, (c) =>
    JSON.stringify([c.experiment ?? '', c.benchmark, c.language, c.size, c.trigger, c.phase, pointWithoutMemory(c), c.provider]),
  )
  for (const cases of groups.values()) {
    if (new Set(cases.map((c) => c.memory)).size < 2) continue
    const sorted = [...cases].sort((a, b) => a.memory - b.memory)
    const costs = sorted.map((c) => meanOver(usable.get(caseGroupKey(c)), (r) => r.costUsd))
    const withCost = costs.every((v) => v !== undefined)
    const y = withCost
      ? costs.map((v) => v! * 1e6)
      : sorted.map((c) => meanOver(usable.get(caseGroupKey(c)), gbSeconds) ?? 0)
    const points = sorted.map((c, i) => ({ x: usToMs(c.clientTimeUs!.median), y: y[i] }))
    const front = paretoFrontier(points).sort((a, b) => points[a].x - points[b].x)
    const yTitle = withCost ? 'cost per 1M invocations (USD)' : 'GB-seconds per invocation (no costUsd in the records)'
    const first = sorted[0]
    const point = pointWithoutMemory(first)
    // perf-cost's points are `<phase> <memory>`: without the memory they only repeat the phase.
    const pointText = point && point !== first.phase ? ` '${point}'` : ''
    const costText = withCost ? (v: number) => `$${v.toPrecision(3)} per 1M` : (v: number) => `${v.toPrecision(3)} GB-s`
    const recommendation = recommendMemory(sorted.map((c, i) => ({ memory: c.memory, timeMs: points[i].x, cost: y[i] })))
    charts.push(sweepChart(sorted, points, y, withCost, costText, recommendation, pointText, ids))
    charts.push({
      id: ids.take(`frontier ${first.experiment ?? ''} ${first.benchmark} ${first.language} ${first.size} ${first.trigger} ${first.phase}${pointText}`),
      kind: 'frontier',
      title: `${first.experiment ? `${first.experiment}: ` : ''}${first.benchmark} ${first.language} ${first.size}, ${first.phase}${pointText}: memory sweep, cost vs. latency`,
      caption:
        `Each point is one memory size; the line joins the configurations that no other beats on both latency and ${withCost ? 'cost' : 'GB-seconds'} (the Pareto frontier). ` +
        recommendationText(recommendation, costText),
      points: points.length,
      config: {
        type: 'scatter',
        data: {
          datasets: [
            {
              label: 'memory sizes',
              data: points,
              sebsCases: true,
              sebsNotes: sorted.map((c, i) => `${c.memory} MB: ${caseNote(c)}; ${withCost ? `$${y[i].toPrecision(3)} per 1M` : `${y[i].toPrecision(3)} GB-s`}`),
              sebsPointLabels: sorted.map((c) => `${c.memory} MB`),
              backgroundColor: color(0),
              borderColor: color(0),
              pointRadius: 5,
              order: 0,
            },
            {
              label: 'Pareto frontier',
              data: front.map((i) => points[i]),
              sebsCases: false,
              showLine: true,
              borderColor: color(1),
              backgroundColor: color(1, 0.2),
              pointRadius: 0,
              borderWidth: 2,
              order: 1,
            },
          ],
        },
        options: {
          scales: {
            x: { type: 'linear', title: { display: true, text: 'median client time (ms)' } },
            // Fitted to the data: costs of 0.202 / 0.204 / 0.208 must not look equal.
            y: { type: 'linear', beginAtZero: false, grace: '5%', title: { display: true, text: yTitle } },
          },
        },
      },
    })
  }
  return charts
}

/** The rule {@link recommendMemory} applies, in words, shown next to its picks. */
export const RECOMMENDATION_RULE =
  'Best cost has the lowest cost, best time the lowest median client time, balanced the lowest mean of time ÷ fastest time and cost ÷ cheapest cost.'

/**
 * The power-tuning view of one memory sweep: memory on x, median client time
 * (left axis) and cost or GB-seconds (right axis) as two lines, the picks of
 * {@link recommendMemory} labelled on the time line and listed as callouts.
 */
function sweepChart(
  sorted: PhaseSummary[],
  points: Array<{ x: number; y: number }>,
  y: number[],
  withCost: boolean,
  costText: (v: number) => string,
  recommendation: MemoryRecommendation | undefined,
  pointText: string,
  ids: Ids,
): ChartSpec {
  const first = sorted[0]
  const picks: SweepCallout[] = recommendation
    ? ([
        ['best cost', recommendation.bestCost],
        ['best time', recommendation.bestTime],
        ['balanced', recommendation.balanced],
      ] as const).map(([name, p]) => ({ name, memory: p.memory, text: `${p.timeMs.toPrecision(3)} ms, ${costText(p.cost)}` }))
    : []
  const costTitle = withCost ? 'cost per 1M invocations (USD)' : 'GB-seconds per invocation (no costUsd in the records)'
  return {
    id: ids.take(`sweep ${first.experiment ?? ''} ${first.benchmark} ${first.language} ${first.size} ${first.trigger} ${first.phase}${pointText}`),
    kind: 'sweep',
    title: `${first.experiment ? `${first.experiment}: ` : ''}${first.benchmark} ${first.language} ${first.size}, ${first.phase}${pointText}: time and ${withCost ? 'cost' : 'GB-seconds'} per memory size`,
    caption: `Solid line: median client time (left axis); dashed line: ${withCost ? 'cost per million invocations' : 'GB-seconds per invocation'} (right axis). Labels on the time line mark the recommended sizes.`,
    points: sorted.length,
    callouts: picks.length ? { picks, rule: RECOMMENDATION_RULE } : undefined,
    config: {
      type: 'line',
      data: {
        labels: sorted.map((c) => `${c.memory} MB`),
        datasets: [
          {
            label: 'median client time (ms)',
            data: points.map((p) => p.x),
            sebsCases: true,
            sebsNotes: sorted.map((c) => `${c.memory} MB: ${caseNote(c)}`),
            sebsPointLabels: sorted.map((c) => picks.filter((p) => p.memory === c.memory).map((p) => p.name).join(', ')),
            yAxisID: 'time',
            borderColor: color(0),
            backgroundColor: color(0),
            pointRadius: 5,
          },
          {
            label: withCost ? 'cost per 1M invocations (USD)' : 'GB-seconds per invocation',
            data: y,
            sebsCases: false,
            sebsNotes: sorted.map((c, i) => `${c.memory} MB: ${costText(y[i])}`),
            yAxisID: 'cost',
            borderColor: color(1),
            backgroundColor: color(1),
            borderDash: [6, 4],
            pointRadius: 4,
            pointStyle: 'rectRot',
          },
        ],
      },
      options: {
        scales: {
          x: { title: { display: true, text: 'memory (MB)' } },
          time: { ...valueAxis(points.map((p) => p.x), 'median client time (ms)'), position: 'left' },
          // Fitted to the data like the frontier's cost axis; its grid lines would cross the time axis's.
          cost: { type: 'linear', position: 'right', beginAtZero: false, grace: '5%', grid: { drawOnChartArea: false }, title: { display: true, text: costTitle } },
        },
      },
    },
  }
}

/**
 * A short x label for a run: its date and time (`04-01 00:00`, with the year
 * when the history spans years); the run id is in every point's tooltip.
 */
function runLabels(runs: RunSummary[]): string[] {
  const times = runs.map((r) => Date.parse(r.createdAt))
  const years = new Set(times.filter((t) => !Number.isNaN(t)).map((t) => new Date(t).getUTCFullYear()))
  return runs.map((run, i) => {
    const t = times[i]
    if (Number.isNaN(t)) return `#${i + 1}`
    const iso = new Date(t).toISOString()
    return (years.size > 1 ? iso.slice(2, 16) : iso.slice(5, 16)).replace('T', ' ')
  })
}

function historyCharts(summary: RunSummary, history: RunSummary[], ids: Ids): ChartSpec[] {
  if (history.length < 2) return []
  const charts: ChartSpec[] = []
  const byRun = history.map((run) => new Map(run.cases.filter((c) => c.clientTimeUs).map((c) => [caseGroupKey(c), c])))
  const current = summary.cases.filter((c) => c.clientTimeUs)
  for (const [key, cases] of groupBy(current, (c) => JSON.stringify([c.experiment ?? '', c.benchmark, c.phase]))) {
    const [experiment, benchmark, phase] = JSON.parse(key) as string[]
    const label = distinguishingLabel(cases, ['language', 'size', 'memory', 'trigger', 'point', 'provider'])
    const keys = cases.map(caseGroupKey)
    // Only the runs that have one of these cases: an experiment run rarely, and its chart must not be mostly empty columns.
    const runs = history.map((run, r) => ({ run, cases: byRun[r] })).filter(({ cases: m }) => keys.some((k) => m.has(k)))
    if (runs.length < 2) continue
    let points = 0
    const datasets: ChartDataset[] = cases.map((c, i) => {
      const k = keys[i]
      const data = runs.map(({ cases: m }) => (m.has(k) ? usToMs(m.get(k)!.clientTimeUs!.median) : null))
      points += data.filter((v) => v !== null).length
      return {
        label: label(c),
        data,
        sebsCases: true,
        sebsNotes: runs.map(({ run, cases: m }) => (m.has(k) ? `run ${run.runId} (${run.createdAt}): ${caseNote(m.get(k)!)}` : '')),
        borderColor: color(i),
        backgroundColor: color(i),
        pointRadius: 4,
        spanGaps: true,
      }
    })
    const values = datasets.flatMap((d) => d.data.filter((v): v is number => typeof v === 'number'))
    charts.push({
      id: ids.take(`history ${experiment} ${benchmark} ${phase}`),
      kind: 'history',
      title: `${experiment ? `${experiment}: ` : ''}${benchmark}, ${phase}: median client time across runs`,
      caption:
        `The ${phase} cases of this run in the ${runs.length} runs of this provider (of the last ${history.length}) that ran them, oldest left, labelled by start time (UTC); ` +
        'hover a point for its run id; gaps are runs without the case.',
      points,
      config: {
        type: 'line',
        data: { labels: runLabels(runs.map((r) => r.run)), datasets },
        options: {
          scales: {
            // Horizontal labels, thinned by Chart.js when they do not fit, instead of squeezed rotated ones.
            x: { title: { display: true, text: 'run start (UTC)' }, ticks: { maxRotation: 0, autoSkip: true, autoSkipPadding: 12 } },
            y: valueAxis(values, 'median client time (ms)'),
          },
        },
      },
    })
  }
  return charts
}

/** Every chart of the report, in page order: distributions, scaling, memory sweeps (power-tuning chart, then frontier), history. */
export function buildReportCharts(input: HtmlReportInput): ChartSpec[] {
  const ids = new Ids()
  return [
    ...distributionCharts(input.summary, input.records, ids),
    ...scalingCharts(input.summary, ids),
    ...frontierCharts(input.summary, input.records, ids),
    ...historyCharts(input.summary, input.history ?? [], ids),
  ]
}

// ---------------------------------------------------------------------------
// History

/** A summary.json of a version this code reads (a version 1 summary's cases have no `point`, as today's plain cases). */
function isSummary(v: unknown): v is RunSummary {
  const o = v as Record<string, unknown> | null
  return (
    typeof o === 'object' &&
    o !== null &&
    typeof o.schemaVersion === 'number' &&
    KNOWN_SUMMARY_SCHEMA_VERSIONS.includes(o.schemaVersion) &&
    typeof o.runId === 'string' &&
    typeof o.createdAt === 'string' &&
    Array.isArray(o.cases)
  )
}

/**
 * The runs of `resultsDir` (from its index) with their summary.json, oldest
 * first, ending with `current`: at most `limit` runs, only those of the same
 * provider. Runs without a readable summary.json are skipped with a note.
 */
export async function loadHistory(
  resultsDir: string,
  current: RunSummary,
  options: { limit?: number } = {},
): Promise<{ runs: RunSummary[]; notes: string[] }> {
  const limit = options.limit ?? 20
  const notes: string[] = []
  const runs: RunSummary[] = []
  let otherProvider = 0
  for (const entry of await readRunIndex(resultsDir)) {
    if (entry.runId === current.runId) continue
    if (entry.provider !== current.provider) {
      otherProvider++
      continue
    }
    const file = join(resultsDir, entry.runId, SUMMARY_JSON)
    try {
      const parsed: unknown = JSON.parse(await readFile(file, 'utf8'))
      if (isSummary(parsed)) runs.push(parsed)
      else notes.push(`run ${entry.runId}: ${file} is not a summary of schemaVersion ${KNOWN_SUMMARY_SCHEMA_VERSIONS.join(' or ')}; left out of the history.`)
    } catch {
      notes.push(`run ${entry.runId}: no readable ${file}; left out of the history.`)
    }
  }
  if (otherProvider) notes.push(`${otherProvider} run(s) on other providers left out of the history.`)
  runs.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0))
  const kept = [...runs.slice(Math.max(0, runs.length - (limit - 1))), current]
  return { runs: kept, notes }
}

// ---------------------------------------------------------------------------
// Page

let chartSource: string | undefined

/** Chart.js's UMD build, read once from the installed package. */
async function chartJsSource(): Promise<string> {
  if (chartSource) return chartSource
  let file: string
  try {
    // The package exports only its ESM/CJS entries; the UMD build sits beside them in dist/.
    file = join(dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.js')
  } catch (cause) {
    throw new SebsError('TOOL_MISSING', "report.html needs the 'chart.js' package; reinstall with 'npm ci'.", { cause })
  }
  if (!existsSync(file)) throw new SebsError('TOOL_MISSING', `report.html: Chart.js's UMD build is missing at ${file}; reinstall with 'npm ci'.`)
  // A literal "</script" would end the inline script early; "<\/script" means the same inside JS strings and regexes.
  chartSource = (await readFile(file, 'utf8')).replace(/<\/script/gi, '<\\/script')
  return chartSource
}

/** JSON safe inside <script>: no "<" that could open "</script" or "<!--". */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029')
}

const CLIENT_SCRIPT = `
(function () {
  var specs = JSON.parse(document.getElementById('sebs-report-data').textContent);
  var errors = [];
  var pointLabels = {
    id: 'sebsPointLabels',
    afterDatasetsDraw: function (chart) {
      var ctx = chart.ctx;
      chart.data.datasets.forEach(function (ds, i) {
        if (!ds.sebsPointLabels || !chart.isDatasetVisible(i)) return;
        chart.getDatasetMeta(i).data.forEach(function (el, j) {
          var text = ds.sebsPointLabels[j];
          if (!text) return;
          ctx.save();
          ctx.font = '11px system-ui, sans-serif';
          ctx.fillStyle = '#333';
          ctx.fillText(text, el.x + 7, el.y - 7);
          ctx.restore();
        });
      });
    }
  };
  specs.forEach(function (spec) {
    var canvas = document.getElementById(spec.id);
    try {
      var cfg = spec.config;
      cfg.options = cfg.options || {};
      cfg.options.animation = false;
      cfg.options.responsive = true;
      cfg.options.maintainAspectRatio = false;
      cfg.options.plugins = cfg.options.plugins || {};
      cfg.options.plugins.tooltip = {
        callbacks: {
          label: function (ctx) {
            var notes = ctx.dataset.sebsNotes;
            if (notes && notes[ctx.dataIndex]) return notes[ctx.dataIndex];
            var v = ctx.raw;
            return ctx.dataset.label + ': ' + (Array.isArray(v) ? v.join(' – ') : (v && typeof v === 'object' ? v.x + ', ' + v.y : v));
          }
        }
      };
      cfg.plugins = [pointLabels];
      new Chart(canvas, cfg);
    } catch (e) {
      errors.push(spec.id + ': ' + (e && e.message ? e.message : String(e)));
      var p = document.createElement('p');
      p.className = 'chart-error';
      p.textContent = 'This chart could not be drawn: ' + (e && e.message ? e.message : String(e));
      canvas.parentNode.appendChild(p);
    }
  });
  window.__sebsReport = { ready: true, errors: errors, charts: specs.map(function (s) { return { id: s.id, kind: s.kind, points: s.points }; }) };
})();
`

const STYLE = `
body { font: 14px/1.45 system-ui, -apple-system, 'Segoe UI', sans-serif; color: #222; margin: 0 auto; padding: 1.5rem; max-width: 1200px; }
h1 { font-size: 1.5rem; margin-bottom: 0.2rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; }
.meta { color: #555; } .notes { color: #8a5300; }
table { border-collapse: collapse; font-size: 12.5px; margin: 0.8rem 0; }
.table-wrap { max-width: 100%; overflow-x: auto; }
th, td { border: 1px solid #ddd; padding: 3px 7px; white-space: nowrap; } th { background: #f4f4f4; } td.r { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1.2rem 0; } figcaption { color: #555; font-size: 12.5px; }
figure h3 { font-size: 1rem; margin: 0 0 0.3rem; }
.chart { position: relative; height: 340px; }
.chart-error, pre.failures { color: #b00020; white-space: pre-wrap; overflow-wrap: anywhere; }
.callouts { display: flex; flex-wrap: wrap; gap: 0.6rem; margin: 0.6rem 0 0.3rem; }
.callout { border: 1px solid #c8d6e5; border-left: 4px solid #1f77b4; background: #f5f9fd; padding: 0.35rem 0.7rem; border-radius: 3px; min-width: 10rem; }
.callout .pick { color: #444; } .callout .pick-data { color: #555; font-size: 12.5px; }
.rule { color: #555; font-size: 12.5px; margin: 0.2rem 0 0.4rem; }
h1, .meta, .notes, figure h3 { overflow-wrap: anywhere; }
/* Narrow windows (800 px and below): the table wraps its cells instead of pushing the page sideways. */
@media (max-width: 900px) {
  body { padding: 0.8rem; }
  table { font-size: 11.5px; }
  th, td { white-space: normal; overflow-wrap: break-word; padding: 2px 4px; }
  th { overflow-wrap: anywhere; }
  /* A number split over two lines ("1" / "0") reads as two numbers: the text columns wrap instead. */
  td.r { white-space: nowrap; overflow-wrap: normal; }
  .chart { height: 300px; }
}
`

function summaryTableHtml(summary: RunSummary): string {
  if (summary.cases.length === 0) return '<p>No invocations recorded.</p>'
  const columns = summaryColumns(summary.cases)
  const head = columns.map((c) => `<th>${escapeHtml(c.header)}</th>`).join('')
  const rows = summary.cases
    .map((row) => `<tr>${columns.map((c) => `<td${c.align === 'right' ? ' class="r"' : ''}>${escapeHtml(c.cell(row))}</td>`).join('')}</tr>`)
    .join('\n')
  return `<div class="table-wrap"><table><thead><tr>${head}</tr></thead><tbody>\n${rows}\n</tbody></table></div>`
}

const SECTIONS: Array<{ id: string; kinds: ChartKind[]; title: string; empty: string }> = [
  { id: 'distribution', kinds: ['distribution'], title: 'Distributions', empty: 'No successful invocations to plot.' },
  { id: 'scaling', kinds: ['scaling'], title: 'Scaling across input sizes', empty: 'Only one input size ran per benchmark.' },
  // Each sweep's power-tuning chart and then its frontier, one pair per sweep.
  { id: 'frontier', kinds: ['sweep', 'frontier'], title: 'Memory sweep: time, cost and the recommended sizes', empty: 'Only one memory size ran per case.' },
  { id: 'history', kinds: ['history'], title: 'Across runs', empty: 'No history: pass the results folder, with earlier runs of the same provider, to see time series.' },
]

function calloutsHtml(callouts: ChartSpec['callouts']): string {
  if (!callouts) return ''
  const picks = callouts.picks
    .map((p) => `<div class="callout" data-pick="${escapeHtml(p.name)}"><span class="pick">${escapeHtml(p.name[0]!.toUpperCase() + p.name.slice(1))}</span> <b>${p.memory} MB</b><br><span class="pick-data">${escapeHtml(p.text)}</span></div>`)
    .join('')
  return `<div class="callouts">${picks}</div><p class="rule">Rule: ${escapeHtml(callouts.rule)}</p>`
}

/** The whole page as a string: the summary table, every chart, Chart.js inlined. */
export async function renderReportHtml(input: HtmlReportInput): Promise<string> {
  const { summary } = input
  const charts = buildReportCharts(input)
  const failures = formatFailures(summary)
  const sections = SECTIONS.map(({ id, kinds, title, empty }) => {
    const list = charts.filter((c) => kinds.includes(c.kind))
    const body = list.length
      ? list
          .map(
            (c) =>
              `<figure><h3>${escapeHtml(c.title)}</h3><div class="chart"><canvas id="${c.id}" role="img" aria-label="${escapeHtml(c.title)}"></canvas></div>` +
              `${calloutsHtml(c.callouts)}<figcaption>${escapeHtml(c.caption)}</figcaption></figure>`,
          )
          .join('\n')
      : `<p class="meta">${escapeHtml(empty)}</p>`
    return `<section id="${id}"><h2>${escapeHtml(title)}</h2>\n${body}\n</section>`
  }).join('\n')
  const notes = (input.notes ?? []).map((n) => `<p class="notes">${escapeHtml(n)}</p>`).join('\n')
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>SeBS run ${escapeHtml(summary.runId)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>SeBS run ${escapeHtml(summary.runId)}</h1>
<p class="meta">${escapeHtml(summaryHeadline(summary))}. Provider ${escapeHtml(summary.provider)}, started ${escapeHtml(summary.createdAt)}.
Times in ms; medians with their nonparametric 95% CI (Le Boudec); cold and warm phases apart.</p>
${notes}
<section id="summary"><h2>Summary</h2>
${summaryTableHtml(summary)}
${failures ? `<pre class="failures">${escapeHtml(failures)}</pre>` : ''}
</section>
${sections}
<script>${await chartJsSource()}</script>
<script type="application/json" id="sebs-report-data">${scriptJson(charts)}</script>
<script>${CLIENT_SCRIPT}</script>
</body>
</html>
`
}

/** Writes `report.html` into the run directory atomically; returns its path. */
export async function writeHtmlReport(runDir: string, input: HtmlReportInput): Promise<string> {
  const path = join(runDir, REPORT_HTML)
  await writeFileAtomic(path, await renderReportHtml(input))
  return path
}

/** One memory size of a sweep: median time and cost (or GB-seconds) per invocation. */
export interface MemoryPoint {
  memory: number
  timeMs: number
  cost: number
}

/** The three picks aws-lambda-power-tuning users look for. */
export interface MemoryRecommendation {
  bestCost: MemoryPoint
  bestTime: MemoryPoint
  balanced: MemoryPoint
}

/**
 * Best cost (lowest cost, ties to the faster), best time (lowest median time, ties
 * to the cheaper) and balanced: the smallest mean of time / fastest time and
 * cost / cheapest cost (both 1 at their best), ties to the smaller memory.
 */
export function recommendMemory(points: MemoryPoint[]): MemoryRecommendation | undefined {
  if (points.length === 0) return undefined
  const by = (f: (a: MemoryPoint, b: MemoryPoint) => number) => [...points].sort((a, b) => f(a, b) || a.memory - b.memory)[0]!
  const bestCost = by((a, b) => a.cost - b.cost || a.timeMs - b.timeMs)
  const bestTime = by((a, b) => a.timeMs - b.timeMs || a.cost - b.cost)
  const score = (p: MemoryPoint) => (p.timeMs / bestTime.timeMs + (bestCost.cost > 0 ? p.cost / bestCost.cost : 1)) / 2
  const balanced = by((a, b) => score(a) - score(b))
  return { bestCost, bestTime, balanced }
}

function recommendationText(r: MemoryRecommendation | undefined, cost: (v: number) => string): string {
  if (!r) return ''
  const pick = (p: MemoryPoint) => `${p.memory} MB (${p.timeMs.toPrecision(3)} ms, ${cost(p.cost)})`
  return (
    `Recommended: best cost ${pick(r.bestCost)}; best time ${pick(r.bestTime)}; balanced ${pick(r.balanced)}. ` +
    'Rule: best cost has the lowest cost, best time the lowest median client time, balanced the lowest mean of ' +
    'time ÷ fastest time and cost ÷ cheapest cost.'
  )
}
