import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { formatSummaryCsv, summaryCsvHeader, writeSummaryFiles } from './summary-writers.ts'
import { summarizeRecords } from './summary.ts'
import { makeRecord } from '../test/support/test-records.ts'

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sebs-writers-'))
})
afterEach(() => {
  rmSync(dir, { recursive: true, force: true })
})

function summary() {
  return summarizeRecords(
    [
      makeRecord({ phase: 'cold', isCold: true, clientTimeUs: 812_345, functionTimeUs: 210_401, startedAt: 1_714_564_800_000 }),
      // Client 10 000 … 19 000 µs; rss 50 000 … 59 000 KB.
      ...Array.from({ length: 10 }, (_, i) =>
        makeRecord({ clientTimeUs: 10_000 + i * 1000, functionTimeUs: 5_000, rssPeakKb: 50_000 + i * 1000, startedAt: 1_714_564_800_001 + i }),
      ),
      makeRecord({ state: 'error', error: 'Error: boom, "bad" input' }),
    ],
    { runId: 'run-1', provider: 'local' },
  )
}

/** Splits a CSV line written by csv-stringify: quoted fields may hold commas and doubled quotes. */
function parseCsvLine(line: string): string[] {
  const out: string[] = []
  let field = ''
  let quoted = false
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        field += '"'
        i++
      } else if (ch === '"') quoted = false
      else field += ch
    } else if (ch === '"') quoted = true
    else if (ch === ',') {
      out.push(field)
      field = ''
    } else field += ch
  }
  out.push(field)
  return out
}

describe('summary.csv', () => {
  it('has one row per case with flattened, unit-suffixed columns', () => {
    const lines = formatSummaryCsv(summary()).trimEnd().split('\n')
    expect(lines).toHaveLength(3)
    const header = parseCsvLine(lines[0])
    expect(header).toEqual(summaryCsvHeader())
    expect(header.slice(0, 18)).toEqual([
      'benchmark', 'language', 'size', 'provider', 'memory', 'trigger', 'phase', 'experiment', 'point',
      'n', 'total', 'ok', 'errors', 'timeouts', 'invalid', 'discarded', 'cold', 'warm',
    ])
    // 7 metrics × 18 statistic columns, then first_error.
    expect(header).toHaveLength(18 + 7 * 18 + 1)
    expect(header.slice(18, 36)).toEqual([
      'client_n', 'client_median_ms', 'client_ci95_low_ms', 'client_ci95_high_ms', 'client_ci99_low_ms', 'client_ci99_high_ms',
      'client_mean_ms', 'client_mean_ci95_low_ms', 'client_mean_ci95_high_ms', 'client_mean_ci99_low_ms', 'client_mean_ci99_high_ms',
      'client_std_ms', 'client_cv_pct', 'client_min_ms', 'client_max_ms', 'client_p90_ms', 'client_p95_ms', 'client_p99_ms',
    ])
    expect(header).toContain('rss_peak_median_kb')
    expect(header).toContain('memory_used_ci95_low_mb')
    expect(header).toContain('cost_p99_usd')
    expect(header.at(-1)).toBe('first_error')

    const rows = lines.slice(1).map((l) => Object.fromEntries(parseCsvLine(l).map((v, i) => [header[i], v])))
    const [cold, warm] = rows
    expect(cold).toMatchObject({ benchmark: '110.dynamic-html', phase: 'cold', experiment: '', point: '', n: '1', total: '1', cold: '1', warm: '0' })
    expect(cold.client_median_ms).toBe('812.345')
    expect(cold.function_median_ms).toBe('210.401')
    // No CI from one sample: empty cells, not zeros.
    expect(cold.client_ci95_low_ms).toBe('')
    expect(cold.client_mean_ci95_low_ms).toBe('')
    expect(cold.client_std_ms).toBe('0')
    expect(cold.rss_peak_n).toBe('')

    expect(warm).toMatchObject({
      phase: 'warm', n: '10', total: '11', ok: '10', errors: '1',
      client_n: '10', client_median_ms: '14.5', client_ci95_low_ms: '11', client_ci95_high_ms: '18',
      client_ci99_low_ms: '10', client_ci99_high_ms: '19', client_mean_ms: '14.5', client_min_ms: '10', client_max_ms: '19',
      client_p90_ms: '18.1', client_p95_ms: '18.55', client_p99_ms: '18.91',
      rss_peak_n: '10', rss_peak_median_kb: '54500', rss_peak_ci95_low_kb: '51000',
      first_error: 'Error: boom, "bad" input',
    })
    // std 3027.65… µs → ms rounded to the nanosecond; t-CI 14.5 ± 2.16585 ms.
    expect(warm.client_std_ms).toBe('3.02765')
    expect(Number(warm.client_mean_ci95_low_ms)).toBeCloseTo(12.334149, 6)
    expect(Number(warm.client_cv_pct)).toBeCloseTo(20.88034727, 6)
    // The quoted cell survives commas and quotes.
    expect(lines[2]).toContain('"Error: boom, ""bad"" input"')
  })

  it('has a row per experiment point, each with its own median', () => {
    const records = [
      ...[10_000, 20_000, 30_000].map((clientTimeUs) => makeRecord({ experiment: 'invocation-overhead', point: 'payload 1024B warm', clientTimeUs })),
      ...[70_000, 80_000, 90_000].map((clientTimeUs) => makeRecord({ experiment: 'invocation-overhead', point: 'payload 65536B warm', clientTimeUs })),
    ]
    const lines = formatSummaryCsv(summarizeRecords(records, { runId: 'r' })).trimEnd().split('\n')
    const header = parseCsvLine(lines[0])
    const rows = lines.slice(1).map((l) => Object.fromEntries(parseCsvLine(l).map((v, i) => [header[i], v])))
    expect(rows.map((r) => [r.experiment, r.phase, r.point, r.n, r.client_median_ms])).toEqual([
      ['invocation-overhead', 'warm', 'payload 1024B warm', '3', '20'],
      ['invocation-overhead', 'warm', 'payload 65536B warm', '3', '80'],
    ])
  })
})

describe('writeSummaryFiles', () => {
  it('writes summary.json and summary.csv into the run directory and returns their paths', async () => {
    const runDir = join(dir, 'results', 'run-1')
    const s = summary()
    const paths = await writeSummaryFiles(runDir, s)
    expect(paths).toEqual([join(runDir, 'summary.json'), join(runDir, 'summary.csv')])

    const json = readFileSync(paths[0], 'utf8')
    expect(json.startsWith('{\n  "schemaVersion": 2,\n  "runId": "run-1",')).toBe(true)
    expect(JSON.parse(json)).toEqual(s)
    expect(readFileSync(paths[1], 'utf8')).toBe(formatSummaryCsv(s))
    // Nothing but the two files: the temporaries were renamed away.
    expect(readdirSync(runDir).sort()).toEqual(['summary.csv', 'summary.json'])
  })

  it('summary.json names each case\'s point (and has none for plain cases)', async () => {
    const runDir = join(dir, 'run-points')
    const s = summarizeRecords(
      [
        makeRecord({ phase: 'cold', isCold: true }),
        makeRecord({ experiment: 'eviction-model', phase: 'eviction', point: 'idle 2s', clientTimeUs: 2_000 }),
        makeRecord({ experiment: 'eviction-model', phase: 'eviction', point: 'idle 1s', clientTimeUs: 1_000 }),
      ],
      { runId: 'run-points', provider: 'local' },
    )
    const [jsonPath] = await writeSummaryFiles(runDir, s)
    const json = JSON.parse(readFileSync(jsonPath!, 'utf8')) as { schemaVersion: number; cases: Array<{ phase: string; point?: string; clientTimeUs?: { median: number } }> }
    expect(json.schemaVersion).toBe(2)
    expect(json.cases.map((c) => [c.phase, c.point ?? null, c.clientTimeUs?.median])).toEqual([
      ['cold', null, 10_000],
      ['eviction', 'idle 1s', 1_000],
      ['eviction', 'idle 2s', 2_000],
    ])
    expect(json.cases[0]).not.toHaveProperty('point')
  })

  it('replaces existing files whole', async () => {
    const runDir = join(dir, 'run-2')
    await writeSummaryFiles(runDir, summary())
    writeFileSync(join(runDir, 'summary.json'), 'x'.repeat(100_000))
    const small = summarizeRecords([], { runId: 'run-2', provider: 'local', createdAt: '2024-01-01T00:00:00.000Z' })
    await writeSummaryFiles(runDir, small)
    expect(JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8'))).toEqual(small)
    // Header only.
    expect(readFileSync(join(runDir, 'summary.csv'), 'utf8').trimEnd().split('\n')).toHaveLength(1)
    expect(readdirSync(runDir).sort()).toEqual(['summary.csv', 'summary.json'])
  })
})
