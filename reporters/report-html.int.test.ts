/**
 * Renders report.html in headless Chromium (Debian's /usr/bin/chromium,
 * driven by playwright-core) and checks that every plot drew: non-blank
 * canvas pixels, the Chart.js data read back with `Chart.getChart(canvas)`
 * holding one point per case the chart shows, and each of those points
 * placed inside the plot area on a painted pixel. A screenshot is kept in
 * test-artifacts/ (git-ignored).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { chromium, type BrowserContext } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fixtureRecords } from '../test/support/report-fixture.ts'
import { runIndexEntryFromSummary, updateRunIndex } from './run-index.ts'
import { writeRunReports } from './run-reports.ts'
import { writeSummaryFiles } from './summary-writers.ts'
import { summarizeRecords } from './summary.ts'

const CHROMIUM = '/usr/bin/chromium'
const ARTIFACTS = fileURLToPath(new URL('../test-artifacts/', import.meta.url))

/**
 * What each chart must show, from the fixture's construction (report-fixture.ts):
 * 110.dynamic-html has 2 languages × 3 sizes per phase, 210.thumbnailer 4 memory
 * sizes per phase; the history is r1 (110 nodejs only: 3 cases per phase),
 * r2 (everything) and this run.
 */
const EXPECTED_POINTS: Record<string, number> = {
  'chart-dist-110-dynamic-html-cold': 6,
  'chart-dist-110-dynamic-html-warm': 6,
  'chart-dist-210-thumbnailer-cold': 4,
  'chart-dist-210-thumbnailer-warm': 4,
  'chart-scaling-110-dynamic-html': 12,
  'chart-sweep-210-thumbnailer-python-small-http-warm': 4,
  'chart-frontier-210-thumbnailer-python-small-http-warm': 4,
  'chart-history-110-dynamic-html-cold': 3 + 6 + 6,
  'chart-history-110-dynamic-html-warm': 3 + 6 + 6,
  'chart-history-210-thumbnailer-cold': 4 + 4,
  'chart-history-210-thumbnailer-warm': 4 + 4,
}

interface CanvasCheck {
  id: string
  hasChart: boolean
  type?: string
  labels: number
  datasetLengths: number[]
  /** Non-null points of the datasets marked sebsCases. */
  casePoints: number
  /** Those points whose element lies inside the chart area on a painted, non-white pixel. */
  drawnCasePoints: number
  paintedPixels: number
  width: number
  height: number
}

let dir: string
let userDataDir: string
let context: BrowserContext | undefined

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is missing at ${CHROMIUM}; the report rendering test needs it: apt-get install chromium`)
  }
  dir = mkdtempSync(join(tmpdir(), 'sebs-report-html-'))
  // A fresh profile for every run: no state carried between runs or from a user's browser.
  userDataDir = mkdtempSync(join(tmpdir(), 'sebs-chromium-profile-'))
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    timeout: 60_000,
  })
}, 90_000)

afterAll(async () => {
  await context?.close()
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true })
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('report.html in headless Chromium', () => {
  it('draws every plot offline, one data point per case', async () => {
    const resultsDir = join(dir, 'results')
    for (const [runId, slowdown, day, only110nodejs] of [
      ['r1', 1.2, 1, true],
      ['r2', 1.1, 2, false],
    ] as const) {
      const s = summarizeRecords(fixtureRecords(runId, { slowdown, t0: Date.UTC(2024, 3, day), only110nodejs }), { runId, provider: 'local' })
      await writeSummaryFiles(join(resultsDir, runId), s)
      await updateRunIndex(resultsDir, runIndexEntryFromSummary(s))
    }
    const runDir = join(resultsDir, 'r3')
    const { files, errors } = await writeRunReports(runDir, fixtureRecords('r3'), { resultsDir, runId: 'r3', provider: 'local', history: true, env: {} })
    expect(errors).toEqual([])
    const report = join(runDir, 'report.html')
    expect(files).toContain(report)

    const page = await context!.newPage()
    const problems: string[] = []
    const requests: string[] = []
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`))
    page.on('console', (msg) => {
      if (msg.type() === 'error' || msg.type() === 'warning') problems.push(`console ${msg.type()}: ${msg.text()}`)
    })
    page.on('request', (req) => requests.push(req.url()))

    const url = pathToFileURL(report).href
    await page.goto(url, { waitUntil: 'load', timeout: 30_000 })
    await page.waitForFunction(() => (window as unknown as { __sebsReport?: { ready: boolean } }).__sebsReport?.ready === true, null, { timeout: 30_000 })
    // One more frame, so anything Chart.js deferred has been painted.
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => resolve(null))))

    const state = await page.evaluate(() => {
      type Chartish = {
        config: { type: string }
        data: { labels?: unknown[]; datasets: Array<{ data: unknown[]; sebsCases?: boolean }> }
        chartArea: { left: number; right: number; top: number; bottom: number }
        getDatasetMeta(i: number): { data: Array<{ x: number; y: number }> }
      }
      const ChartGlobal = (window as unknown as { Chart: { getChart(c: HTMLCanvasElement): Chartish | undefined } }).Chart
      const checks = Array.from(document.querySelectorAll('canvas')).map((canvas) => {
        const chart = ChartGlobal.getChart(canvas)
        const ctx = canvas.getContext('2d')!
        // One readback per canvas (more would make Chromium warn about slow readbacks).
        const pixels = ctx.getImageData(0, 0, canvas.width, canvas.height).data
        let painted = 0
        for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted++
        const scale = canvas.width / canvas.clientWidth
        const isPainted = (x: number, y: number) => {
          // The mark's centre, or a pixel next to it (a 3 px line may straddle the centre).
          for (const [dx, dy] of [[0, 0], [0, 1], [0, -1], [1, 0], [-1, 0]]) {
            const px = Math.round(x * scale) + dx
            const py = Math.round(y * scale) + dy
            if (px < 0 || py < 0 || px >= canvas.width || py >= canvas.height) continue
            const o = (py * canvas.width + px) * 4
            const [r, g, b, a] = [pixels[o], pixels[o + 1], pixels[o + 2], pixels[o + 3]]
            if (a > 200 && !(r > 235 && g > 235 && b > 235)) return true
          }
          return false
        }
        let casePoints = 0
        let drawnCasePoints = 0
        if (chart) {
          const area = chart.chartArea
          chart.data.datasets.forEach((ds, i) => {
            if (!ds.sebsCases) return
            const elements = chart.getDatasetMeta(i).data
            ds.data.forEach((v, j) => {
              if (v === null || v === undefined) return
              casePoints++
              const el = elements[j]
              if (!el || !Number.isFinite(el.x) || !Number.isFinite(el.y)) return
              const inside = el.x >= area.left - 1 && el.x <= area.right + 1 && el.y >= area.top - 1 && el.y <= area.bottom + 1
              if (inside && isPainted(el.x, el.y)) drawnCasePoints++
            })
          })
        }
        return {
          id: canvas.id,
          hasChart: Boolean(chart),
          type: chart?.config.type,
          labels: chart?.data.labels?.length ?? 0,
          datasetLengths: chart ? chart.data.datasets.map((d) => d.data.length) : [],
          casePoints,
          drawnCasePoints,
          paintedPixels: painted,
          width: canvas.width,
          height: canvas.height,
        }
      })
      const report = (window as unknown as { __sebsReport: { errors: string[]; charts: Array<{ id: string; points: number }> } }).__sebsReport
      return { checks, errors: report.errors, declared: report.charts }
    })

    mkdirSync(ARTIFACTS, { recursive: true })
    await page.screenshot({ path: join(ARTIFACTS, 'report-html.png'), fullPage: true })

    expect(problems).toEqual([])
    expect(state.errors).toEqual([])
    // Offline: the page loaded nothing but itself.
    expect(requests.filter((r) => r !== url && !r.startsWith('data:'))).toEqual([])

    const checks = state.checks as CanvasCheck[]
    expect(checks.map((c) => c.id).sort()).toEqual(Object.keys(EXPECTED_POINTS).sort())
    for (const c of checks) {
      const expected = EXPECTED_POINTS[c.id]
      expect.soft(c.hasChart, `${c.id} has a Chart.js chart`).toBe(true)
      expect.soft(c.width * c.height, `${c.id} has a size`).toBeGreaterThan(0)
      // Axes, labels and marks: a blank canvas has no painted pixel; an axis alone has a few hundred.
      expect.soft(c.paintedPixels, `${c.id} painted pixels`).toBeGreaterThan(2000)
      expect.soft(c.casePoints, `${c.id} data points (Chart.getChart(canvas).data)`).toBe(expected)
      expect.soft(c.drawnCasePoints, `${c.id} points drawn inside the plot area`).toBe(expected)
      if (c.id.startsWith('chart-dist-')) {
        // Box plots: every layer has one entry per case, labelled on the x axis.
        expect.soft(c.labels, `${c.id} labels`).toBe(expected)
        expect.soft(c.datasetLengths, `${c.id} dataset lengths`).toEqual([expected, expected, expected, expected])
      }
    }
    expect(state.declared.map((d) => [d.id, d.points])).toEqual(checks.map((c) => [c.id, EXPECTED_POINTS[c.id]]))

    // The memory sweep's power-tuning chart: memory on x, time and cost on two y axes, one left and one right.
    const sweep = await page.evaluate(() => {
      type Scale = { axis: string; position: string; ticks: unknown[]; min: number; max: number }
      const canvas = document.getElementById('chart-sweep-210-thumbnailer-python-small-http-warm') as HTMLCanvasElement
      const chart = (window as unknown as { Chart: { getChart(c: HTMLCanvasElement): { scales: Record<string, Scale>; data: { labels: string[] } } } }).Chart.getChart(canvas)!
      const yAxes = Object.entries(chart.scales)
        .filter(([, s]) => s.axis === 'y')
        .map(([id, s]) => ({ id, position: s.position, ticks: s.ticks.length }))
      const figure = canvas.closest('figure')!
      const callouts = Array.from(figure.querySelectorAll('.callout')).map((el) => ({
        text: (el as HTMLElement).innerText.replace(/\s+/g, ' ').trim(),
        visible: (el as HTMLElement).getBoundingClientRect().height > 0 && getComputedStyle(el).visibility !== 'hidden',
      }))
      return { labels: chart.data.labels, yAxes, callouts, rule: (figure.querySelector('.rule') as HTMLElement | null)?.innerText ?? '' }
    })
    expect(sweep.labels).toEqual(['128 MB', '256 MB', '512 MB', '1024 MB'])
    expect(sweep.yAxes.map((a) => [a.id, a.position])).toEqual([
      ['time', 'left'],
      ['cost', 'right'],
    ])
    for (const a of sweep.yAxes) expect(a.ticks, `${a.id} axis ticks`).toBeGreaterThan(1)
    expect(sweep.callouts.map((c) => c.visible)).toEqual([true, true, true])
    for (const [i, name] of ['Best cost', 'Best time', 'Balanced'].entries()) {
      expect(sweep.callouts[i].text).toMatch(new RegExp(`^${name} \\d+ MB \\d+(\\.\\d+)? ms, \\$\\S+ per 1M$`))
    }
    expect(sweep.rule).toMatch(/^Rule: Best cost has the lowest cost, best time the lowest median client time, balanced the lowest mean of /)

    // History: horizontal short labels, and no column without a point (r1 ran no 210).
    const history = await page.evaluate(() => {
      type C = { data: { labels: string[]; datasets: Array<{ data: unknown[] }> }; scales: { x: { labelRotation: number } } }
      const get = (id: string) => (window as unknown as { Chart: { getChart(c: HTMLCanvasElement): C } }).Chart.getChart(document.getElementById(id) as HTMLCanvasElement)!
      return ['chart-history-110-dynamic-html-warm', 'chart-history-210-thumbnailer-warm'].map((id) => {
        const c = get(id)
        const emptyColumns = c.data.labels.filter((_, j) => c.data.datasets.every((d) => d.data[j] === null)).length
        return { id, labels: c.data.labels, rotation: c.scales.x.labelRotation, emptyColumns }
      })
    })
    expect(history.map((h) => [h.id, h.labels, h.rotation, h.emptyColumns])).toEqual([
      ['chart-history-110-dynamic-html-warm', ['04-01 00:00', '04-02 00:00', '05-01 12:00'], 0, 0],
      ['chart-history-210-thumbnailer-warm', ['04-02 00:00', '05-01 12:00'], 0, 0],
    ])

    // Readable at 800 px: no sideways scrolling, charts resized to fit.
    await page.setViewportSize({ width: 800, height: 900 })
    await page.waitForFunction(
      () => Array.from(document.querySelectorAll('canvas')).every((c) => c.getBoundingClientRect().right <= document.documentElement.clientWidth),
      null,
      { timeout: 10_000 },
    )
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => resolve(null))))
    const narrow = await page.evaluate(() => {
      const el = document.scrollingElement!
      const tooWide = Array.from(document.querySelectorAll('body *'))
        .filter((e) => e.getBoundingClientRect().right > el.clientWidth + 0.5 && !e.closest('.table-wrap'))
        .map((e) => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}.${(e as HTMLElement).className}`)
      const wrap = document.querySelector('.table-wrap')!
      return { scrollWidth: el.scrollWidth, clientWidth: el.clientWidth, tooWide, tableOverflow: wrap.scrollWidth - wrap.clientWidth }
    })
    await page.screenshot({ path: join(ARTIFACTS, 'report-html-800.png'), fullPage: true })
    expect(narrow.tooWide).toEqual([])
    expect(narrow.scrollWidth).toBeLessThanOrEqual(narrow.clientWidth)
    // The summary table wraps its cells to fit rather than scrolling inside its box.
    expect(narrow.tableOverflow).toBeLessThanOrEqual(0)
    expect(problems).toEqual([])
    await page.close()
  }, 120_000)
})
