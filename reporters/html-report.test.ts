import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { buildReportCharts, loadHistory, paretoFrontier, renderReportHtml, type ChartSpec, recommendMemory } from './html-report.ts'
import { fixtureRecords } from '../test/support/report-fixture.ts'
import { runIndexEntryFromSummary, updateRunIndex } from './run-index.ts'
import { writeSummaryFiles } from './summary-writers.ts'
import { summarizeRecords } from './summary.ts'
import { makeRecord } from '../test/support/test-records.ts'

const records = fixtureRecords('r3')
const summary = summarizeRecords(records, { runId: 'r3', provider: 'local' })

function caseDatasets(chart: ChartSpec) {
  return chart.config.data.datasets.filter((d) => d.sebsCases)
}
function pointCount(chart: ChartSpec): number {
  return caseDatasets(chart).reduce((n, d) => n + d.data.filter((v) => v !== null && v !== undefined).length, 0)
}

describe('buildReportCharts', () => {
  it('plots distributions per benchmark and phase, scaling across sizes and the memory frontier', () => {
    const charts = buildReportCharts({ summary, records })
    expect(charts.map((c) => [c.id, c.kind, c.points])).toEqual([
      ['chart-dist-110-dynamic-html-cold', 'distribution', 6],
      ['chart-dist-110-dynamic-html-warm', 'distribution', 6],
      ['chart-dist-210-thumbnailer-cold', 'distribution', 4],
      ['chart-dist-210-thumbnailer-warm', 'distribution', 4],
      // 110 ran 3 sizes (2 languages × 2 phases × 3 sizes); 210 one size only: no scaling chart.
      ['chart-scaling-110-dynamic-html', 'scaling', 12],
      // 210's warm phase ran 4 memory sizes; its cold phase is never a sweep; 110 ran one memory size.
      ['chart-sweep-210-thumbnailer-python-small-http-warm', 'sweep', 4],
      ['chart-frontier-210-thumbnailer-python-small-http-warm', 'frontier', 4],
    ])
    for (const chart of charts) expect(pointCount(chart)).toBe(chart.points)
  })

  it('draws each distribution case as whiskers, box, CI and median from the samples', () => {
    const warm = buildReportCharts({ summary, records }).find((c) => c.id === 'chart-dist-110-dynamic-html-warm')!
    expect(warm.config.data.labels).toEqual(['nodejs test', 'nodejs small', 'nodejs large', 'python test', 'python small', 'python large'])
    const [whiskers, box, ci, median] = warm.config.data.datasets
    for (const d of [whiskers, box, ci, median]) expect(d.data).toHaveLength(6)
    const c = summary.cases.find((x) => x.phase === 'warm' && x.language === 'nodejs' && x.size === 'test')!
    const s = c.clientTimeUs!
    expect(whiskers.data[0]).toEqual([s.min / 1000, s.max / 1000])
    // A whisker is drawn as a thin line, not a bar.
    expect((whiskers as { maxBarThickness?: number }).maxBarThickness).toBeLessThanOrEqual(2)
    expect(ci.data[0]).toEqual([s.ciMedian95![0] / 1000, s.ciMedian95![1] / 1000])
    expect(median.data[0]).toBe(s.median / 1000)
    const [p25, p75] = box.data[0] as [number, number]
    expect(p25).toBeGreaterThanOrEqual(s.min / 1000)
    expect(p25).toBeLessThanOrEqual(s.median / 1000)
    expect(p75).toBeGreaterThanOrEqual(s.median / 1000)
    expect(p75).toBeLessThanOrEqual(s.max / 1000)
    // 10 ms … 230 ms medians: a log axis keeps the small cases readable.
    expect((warm.config.options.scales as { y: { type: string } }).y.type).toBe('logarithmic')
    expect(median.sebsNotes![0]).toMatch(/^110\.dynamic-html nodejs test 256 MB http warm: median \d+\.\d+ ms, 95% CI \[/)
  })

  it('puts cost per million invocations against latency, frontier through the undominated sizes', () => {
    const frontier = buildReportCharts({ summary, records }).find((c) => c.kind === 'frontier')!
    const [points, line] = frontier.config.data.datasets
    expect(points.sebsPointLabels).toEqual(['128 MB', '256 MB', '512 MB', '1024 MB'])
    const pts = points.data as Array<{ x: number; y: number }>
    // 1024 MB is no faster than 512 MB and costs twice as much: off the frontier.
    expect(line.data).toEqual([pts[2], pts[1], pts[0]])
    expect(pts[3].y).toBeGreaterThan(1.8 * pts[2].y)
    expect(JSON.stringify(frontier.config.options)).toContain('cost per 1M invocations (USD)')
    // The caption recommends, with its rule.
    expect(frontier.caption).toMatch(/Recommended: best cost \d+ MB \(.*\); best time \d+ MB \(.*\); balanced \d+ MB \(.*\)\. Rule: /)
    // The cost axis is fitted to the data, so close costs stay apart.
    expect((frontier.config.options.scales as { y: { beginAtZero: boolean } }).y.beginAtZero).toBe(false)

    // Without costUsd the y axis is GB-seconds from the billed time.
    const noCost = records.map((r) => ({ ...r, costUsd: undefined }))
    const gb = buildReportCharts({ summary: summarizeRecords(noCost, { runId: 'r3' }), records: noCost }).find((c) => c.kind === 'frontier')!
    expect(JSON.stringify(gb.config.options)).toContain('GB-seconds per invocation')
    const y128 = (gb.config.data.datasets[0].data[0] as { y: number }).y
    const billed128 = records.filter((r) => r.memory === 128 && r.phase === 'warm' && r.state === 'ok').map((r) => r.billedTimeMs!)
    expect(y128).toBeCloseTo((128 / 1024) * (billed128.reduce((a, b) => a + b, 0) / billed128.length / 1000), 12)
  })

  it('adds time series per benchmark and phase when a history of two or more runs is given', () => {
    const r1 = summarizeRecords(fixtureRecords('r1', { only110nodejs: true, t0: Date.UTC(2024, 3, 1) }), { runId: 'r1', provider: 'local' })
    const r2 = summarizeRecords(fixtureRecords('r2', { slowdown: 1.1, t0: Date.UTC(2024, 3, 2) }), { runId: 'r2', provider: 'local' })
    expect(buildReportCharts({ summary, records, history: [summary] }).some((c) => c.kind === 'history')).toBe(false)
    const history = buildReportCharts({ summary, records, history: [r1, r2, summary] }).filter((c) => c.kind === 'history')
    // 110 per phase: r1 has the 3 nodejs cases, r2 and r3 all 6 → 15; 210 per phase: r2 and r3 have 4 → 8.
    expect(history.map((c) => [c.id, c.points])).toEqual([
      ['chart-history-110-dynamic-html-cold', 15],
      ['chart-history-110-dynamic-html-warm', 15],
      ['chart-history-210-thumbnailer-cold', 8],
      ['chart-history-210-thumbnailer-warm', 8],
    ])
    const warm110 = history[1]
    // Short horizontal labels (start time); the run id is in the tooltip.
    expect(warm110.config.data.labels).toEqual(['04-01 00:00', '04-02 00:00', '05-01 12:00'])
    expect((warm110.config.options.scales as { x: { ticks: { maxRotation: number } } }).x.ticks.maxRotation).toBe(0)
    const pythonTest = warm110.config.data.datasets.find((d) => d.label === 'python test')!
    expect(pythonTest.data[0]).toBeNull()
    expect(pythonTest.sebsNotes![1]).toMatch(/^run r2 \(2024-04-02T00:00:00\.000Z\): median /)
    // r1 ran no 210: its column is left out rather than drawn empty.
    const warm210 = history[3]
    expect(warm210.config.data.labels).toEqual(['04-02 00:00', '05-01 12:00'])
    for (const d of warm210.config.data.datasets) expect(d.data.every((v) => v !== null)).toBe(true)
    for (const chart of history) expect(pointCount(chart)).toBe(chart.points)
  })
})

describe('memory sweep chart (power-tuning view)', () => {
  it('puts memory on x and median time and cost on two y axes, with the recommended sizes as callouts', () => {
    const charts = buildReportCharts({ summary, records })
    const sweep = charts.find((c) => c.kind === 'sweep')!
    const frontier = charts.find((c) => c.kind === 'frontier')!
    expect(sweep.config.type).toBe('line')
    expect(sweep.config.data.labels).toEqual(['128 MB', '256 MB', '512 MB', '1024 MB'])
    const [time, cost] = sweep.config.data.datasets
    expect([time.yAxisID, cost.yAxisID]).toEqual(['time', 'cost'])
    const scales = sweep.config.options.scales as Record<string, { position?: string; title: { text: string } }>
    expect([scales.time.position, scales.cost.position]).toEqual(['left', 'right'])
    expect(scales.cost.title.text).toBe('cost per 1M invocations (USD)')
    // The same numbers as the frontier: time is its x, cost its y.
    const pts = frontier.config.data.datasets[0].data as Array<{ x: number; y: number }>
    expect(time.data).toEqual(pts.map((p) => p.x))
    expect(cost.data).toEqual(pts.map((p) => p.y))
    // Picks computed by recommendMemory from those numbers, named on the chart and in the callouts.
    const r = recommendMemory(pts.map((p, i) => ({ memory: [128, 256, 512, 1024][i], timeMs: p.x, cost: p.y })))!
    expect(sweep.callouts!.picks.map((p) => [p.name, p.memory])).toEqual([
      ['best cost', r.bestCost.memory],
      ['best time', r.bestTime.memory],
      ['balanced', r.balanced.memory],
    ])
    expect(sweep.callouts!.picks[0].text).toMatch(/^\d+(\.\d+)? ms, \$\d\.\d+(e-?\d+)? per 1M$/)
    expect(sweep.callouts!.rule).toMatch(/^Best cost has the lowest cost, best time the lowest median client time, balanced /)
    const labelled = time.sebsPointLabels!
    expect(labelled[[128, 256, 512, 1024].indexOf(r.bestTime.memory)]).toContain('best time')
    expect(labelled[[128, 256, 512, 1024].indexOf(r.bestCost.memory)]).toContain('best cost')
    // The fixture's 1024 MB is no faster than 512 MB at twice the cost: never picked.
    expect(labelled[3]).toBe('')
  })

  it('renders the callouts and the rule as text next to the chart, and the table inside a scroll box', async () => {
    const html = await renderReportHtml({ summary, records })
    const sweep = buildReportCharts({ summary, records }).find((c) => c.kind === 'sweep')!
    for (const p of sweep.callouts!.picks) {
      expect(html).toContain(`<div class="callout" data-pick="${p.name}"><span class="pick">${p.name[0].toUpperCase() + p.name.slice(1)}</span> <b>${p.memory} MB</b>`)
    }
    expect(html).toContain('<p class="rule">Rule: Best cost has the lowest cost')
    expect(html).toContain('<div class="table-wrap"><table>')
    expect(html.indexOf(`id="${sweep.id}"`)).toBeLessThan(html.indexOf('id="chart-frontier-'))
  })
})

describe('experiment points in the report', () => {
  const point = (experiment: string, name: string, clientTimes: number[], extra: Parameters<typeof makeRecord>[0] = {}) =>
    clientTimes.map((clientTimeUs, i) => makeRecord({ experiment, phase: 'warm', point: name, repetition: i, clientTimeUs, ...extra }))
  const pointRecords = [
    ...point('invocation-overhead', 'payload 1048576B warm', [70_000, 80_000, 90_000]),
    ...point('invocation-overhead', 'payload 1024B warm', [10_000, 20_000, 30_000]),
    ...point('perf-cost', 'warm 128MB', [40_000, 40_000, 40_000], { memory: 128, costUsd: 1e-6 }),
    ...point('perf-cost', 'warm 256MB', [20_000, 20_000, 20_000], { memory: 256, costUsd: 2e-6 }),
  ]
  const pointSummary = summarizeRecords(pointRecords, { runId: 'rp', provider: 'local' })

  it('plots each point as its own case, labelled by the point, with its own median', () => {
    const charts = buildReportCharts({ summary: pointSummary, records: pointRecords })
    const overhead = charts.find((c) => c.id === 'chart-dist-invocation-overhead-110-dynamic-html-warm')!
    expect(overhead.config.data.labels).toEqual(['payload 1024B warm', 'payload 1048576B warm'])
    const median = overhead.config.data.datasets.find((d) => d.label === 'median')!
    expect(median.data).toEqual([20, 80])
    expect(median.sebsNotes![1]).toMatch(/^invocation-overhead 110\.dynamic-html nodejs test 256 MB http warm 'payload 1048576B warm': median 80\.00 ms/)
  })

  it('still draws a memory sweep whose points name their memory as one frontier', () => {
    const frontier = buildReportCharts({ summary: pointSummary, records: pointRecords }).filter((c) => c.kind === 'frontier')
    expect(frontier.map((c) => [c.id, c.points])).toEqual([['chart-frontier-perf-cost-110-dynamic-html-nodejs-test-http-warm', 2]])
    expect(frontier[0]!.config.data.datasets[0]!.sebsPointLabels).toEqual(['128 MB', '256 MB'])
  })

  it('shows the point in the summary table', async () => {
    const html = await renderReportHtml({ summary: pointSummary, records: pointRecords })
    expect(html).toContain('<th>point</th>')
    expect(html).toContain('<td>payload 1024B warm</td>')
  })
})

describe('paretoFrontier', () => {
  it('keeps the points nothing beats on both axes', () => {
    const pts = [
      { x: 10, y: 5 },
      { x: 5, y: 9 },
      { x: 20, y: 5 }, // dominated by (10, 5)
      { x: 30, y: 1 },
      { x: 12, y: 6 }, // dominated by (10, 5)
    ]
    expect(paretoFrontier(pts)).toEqual([1, 0, 3])
    expect(paretoFrontier([])).toEqual([])
  })
})

describe('renderReportHtml', () => {
  it('is one self-contained page: Chart.js inlined, no external resources, data escaped', async () => {
    const hostile = records.map((r) => (r.benchmark === '210.thumbnailer' ? { ...r, experiment: '</script><script>alert(1)</script>' } : r))
    const html = await renderReportHtml({ summary: summarizeRecords(hostile, { runId: 'r<3>' }), records: hostile })
    expect(html).toMatch(/^<!doctype html>/)
    expect(html).toContain('Chart.js v4')
    expect(html).not.toMatch(/<script[^>]+src=/i)
    expect(html).not.toMatch(/<link[^>]+href=/i)
    expect(html).not.toMatch(/<img[^>]+src=["']?https?:/i)
    // Only the three scripts of the page: the user's strings cannot open another.
    expect(html.match(/<script/gi)).toHaveLength(3)
    expect(html).toContain('SeBS run r&lt;3&gt;')
    expect(html).toContain('MemoryError: &lt;out of memory&gt; &amp; &quot;quotes&quot;')
    const data = html.match(/<script type="application\/json" id="sebs-report-data">(.*?)<\/script>/s)![1]
    const specs = JSON.parse(data) as ChartSpec[]
    expect(specs.map((s) => s.id)).toEqual(buildReportCharts({ summary: summarizeRecords(hostile, { runId: 'r<3>' }), records: hostile }).map((s) => s.id))
    for (const s of specs) expect(html).toContain(`<canvas id="${s.id}"`)
  })

  it('says what is missing when a plot has no data', async () => {
    const single = records.filter((r) => r.benchmark === '110.dynamic-html' && r.size === 'test')
    const html = await renderReportHtml({ summary: summarizeRecords(single, { runId: 'r' }), records: single })
    expect(html).toContain('Only one input size ran per benchmark.')
    expect(html).toContain('Only one memory size ran per case.')
    expect(html).toContain('No history')
  })
})

describe('loadHistory', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sebs-history-'))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  async function addRun(runId: string, day: number, provider = 'local') {
    const s = summarizeRecords(fixtureRecords(runId, { t0: Date.UTC(2024, 3, day), only110nodejs: true }), { runId, provider })
    await writeSummaryFiles(join(dir, runId), s)
    await updateRunIndex(dir, runIndexEntryFromSummary(s))
  }

  it('reads a schemaVersion 1 summary as one without points', async () => {
    const old = summarizeRecords(fixtureRecords('v1', { t0: Date.UTC(2024, 3, 1), only110nodejs: true }), { runId: 'v1', provider: 'local' })
    mkdirSync(join(dir, 'v1'))
    writeFileSync(join(dir, 'v1', 'summary.json'), JSON.stringify({ ...old, schemaVersion: 1 }))
    await updateRunIndex(dir, runIndexEntryFromSummary(old))
    const { runs, notes } = await loadHistory(dir, summary)
    expect(notes).toEqual([])
    expect(runs.map((r) => [r.runId, r.schemaVersion])).toEqual([
      ['v1', 1],
      ['r3', 2],
    ])
    // Its cases line up with this run's (no points on either side).
    const history = buildReportCharts({ summary, records, history: runs }).filter((c) => c.kind === 'history')
    expect(history.find((c) => c.id === 'chart-history-110-dynamic-html-warm')!.points).toBe(3 + 6)
  })

  it('reads the runs of the same provider, oldest first, ending with the current one, up to the limit', async () => {
    await addRun('a', 3)
    await addRun('b', 1)
    await addRun('c', 2, 'aws')
    await addRun('d', 4)
    // In the index but its summary.json is gone.
    await addRun('e', 5)
    rmSync(join(dir, 'e', 'summary.json'))
    mkdirSync(join(dir, 'f'))
    writeFileSync(join(dir, 'f', 'summary.json'), '{"schemaVersion": 99}')
    await updateRunIndex(dir, { runId: 'f', createdAt: '2024-04-06T00:00:00.000Z', provider: 'local', benchmarks: [], invocations: 0, failures: 0 })

    const { runs, notes } = await loadHistory(dir, summary)
    expect(runs.map((r) => r.runId)).toEqual(['b', 'a', 'd', 'r3'])
    expect(notes).toEqual([
      expect.stringMatching(/^run e: no readable .*summary\.json; left out/),
      expect.stringMatching(/^run f: .* is not a summary of schemaVersion 1 or 2;/),
      '1 run(s) on other providers left out of the history.',
    ])
    expect((await loadHistory(dir, summary, { limit: 2 })).runs.map((r) => r.runId)).toEqual(['d', 'r3'])
    expect(runs[0]!.schemaVersion).toBe(2)
    expect((await loadHistory(join(dir, 'none'), summary)).runs.map((r) => r.runId)).toEqual(['r3'])
  })
})

describe('recommendMemory', () => {
  it('picks best cost, best time and the balanced size by the stated rule', () => {
    const points = [
      { memory: 128, timeMs: 400, cost: 0.84 },
      { memory: 256, timeMs: 190, cost: 0.8 },
      { memory: 512, timeMs: 100, cost: 0.84 },
      { memory: 1024, timeMs: 95, cost: 1.6 },
    ]
    const r = recommendMemory(points)!
    expect(r.bestCost.memory).toBe(256)
    expect(r.bestTime.memory).toBe(1024)
    // Scores: 128 → (4.21 + 1.05)/2, 256 → (2 + 1)/2 = 1.5, 512 → (1.053 + 1.05)/2 = 1.05, 1024 → (1 + 2)/2 = 1.5.
    expect(r.balanced.memory).toBe(512)
    expect(recommendMemory([])).toBeUndefined()
    // Ties go to the smaller memory size.
    expect(recommendMemory([{ memory: 512, timeMs: 10, cost: 1 }, { memory: 256, timeMs: 10, cost: 1 }])!.balanced.memory).toBe(256)
  })
})
