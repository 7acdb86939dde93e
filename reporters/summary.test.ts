import { describe, expect, it } from 'vitest'
import { caseGroupKey, comparePointNames, summarizeRecords } from './summary.ts'
import { makeRecord } from '../test/support/test-records.ts'

const T0 = Date.UTC(2024, 4, 1, 12, 0, 0) // 2024-05-01T12:00:00.000Z

describe('summarizeRecords', () => {
  it('keeps cold and warm apart, orders cold first, and computes statistics per phase', () => {
    const warm = Array.from({ length: 10 }, (_, i) =>
      makeRecord({ phase: 'warm', repetition: i, clientTimeUs: 10_000 + i * 1000, functionTimeUs: 5_000 + i * 100, startedAt: T0 + 1000 + i }),
    )
    const cold = makeRecord({ phase: 'cold', isCold: true, clientTimeUs: 500_000, functionTimeUs: 300_000, startedAt: T0 })
    // Warm records first in the file: the order of cases must not depend on it.
    const summary = summarizeRecords([...warm, cold], { runId: 'run-1' })

    expect(summary.cases.map((c) => c.phase)).toEqual(['cold', 'warm'])
    expect(summary.cases[0]).toEqual({
      benchmark: '110.dynamic-html',
      language: 'nodejs',
      size: 'test',
      provider: 'local',
      memory: 256,
      trigger: 'http',
      phase: 'cold',
      n: 1,
      total: 1,
      ok: 1,
      errors: 0,
      outOfMemory: 0,
      timeouts: 0,
      invalid: 0,
      discarded: 0,
      cold: 1,
      warm: 0,
      clientTimeUs: { n: 1, mean: 500_000, median: 500_000, std: 0, cv: 0, min: 500_000, max: 500_000, p50: 500_000, p90: 500_000, p95: 500_000, p99: 500_000 },
      functionTimeUs: { n: 1, mean: 300_000, median: 300_000, std: 0, cv: 0, min: 300_000, max: 300_000, p50: 300_000, p90: 300_000, p95: 300_000, p99: 300_000 },
    })

    const w = summary.cases[1]
    expect(w).toMatchObject({ n: 10, total: 10, ok: 10, cold: 0, warm: 10 })
    // Client times 10 000 … 19 000 µs: the cold 500 000 µs must not leak in.
    expect(w.clientTimeUs).toMatchObject({ n: 10, mean: 14_500, median: 14_500, min: 10_000, max: 19_000, ciMedian95: [11_000, 18_000], ciMedian99: [10_000, 19_000] })
    // h = 9·0.9 = 8.1 → 18 000 + 0.1·1000
    expect(w.clientTimeUs!.p90).toBeCloseTo(18_100, 9)
    // 1000·std(1..10) = 3027.65…
    expect(w.clientTimeUs!.std).toBeCloseTo(3027.6503540974917, 9)
    expect(w.functionTimeUs).toMatchObject({ n: 10, median: 5_450, min: 5_000, max: 5_900 })
    expect(w).not.toHaveProperty('computeTimeUs')
    expect(w).not.toHaveProperty('firstError')

    expect(summary).toMatchObject({
      schemaVersion: 2,
      runId: 'run-1',
      provider: 'local',
      createdAt: '2024-05-01T12:00:00.000Z',
      totals: { invocations: 11, ok: 11, errors: 0, outOfMemory: 0, timeouts: 0, invalid: 0, discarded: 0 },
    })
  })

  it('counts every record and uses only ok, valid, kept ones in statistics', () => {
    const records = [
      makeRecord({ clientTimeUs: 1_000, startedAt: T0 + 10 }),
      makeRecord({ state: 'error', error: 'Error: later failure', clientTimeUs: 99_000, startedAt: T0 + 30 }),
      makeRecord({ clientTimeUs: 2_000, startedAt: T0 + 11 }),
      makeRecord({ state: 'timeout', error: 'no answer within 30 s', clientTimeUs: 30_000_000, startedAt: T0 + 20 }),
      makeRecord({ outputValid: false, validationError: 'expected 5 rows', clientTimeUs: 88_000, startedAt: T0 + 12 }),
      makeRecord({ discarded: true, discardReason: 'warm-up', isCold: true, clientTimeUs: 77_000, startedAt: T0 + 1 }),
      // A failed warm-up: discarded, and still an error.
      makeRecord({ state: 'error', error: 'Error: first failure\n    at handler (function.js:3:9)', discarded: true, startedAt: T0 + 2 }),
      makeRecord({ clientTimeUs: 4_000, startedAt: T0 + 13 }),
    ]
    const { cases, totals } = summarizeRecords(records, { runId: 'run-1', provider: 'aws' })
    expect(cases).toHaveLength(1)
    const c = cases[0]
    expect(c).toMatchObject({
      total: 8,
      ok: 4, // three kept + the discarded warm-up
      errors: 2,
      timeouts: 1,
      invalid: 1,
      discarded: 2,
      n: 3,
      cold: 1, // the warm-up instance reported a cold start
      warm: 4,
      // By start time, not by file order.
      firstError: 'Error: first failure\n    at handler (function.js:3:9)',
    })
    expect(c.clientTimeUs).toMatchObject({ n: 3, min: 1_000, median: 2_000, max: 4_000 })
    expect(c.clientTimeUs!.mean).toBeCloseTo(7_000 / 3, 9)
    expect(totals).toEqual({ invocations: 8, ok: 4, errors: 2, outOfMemory: 0, timeouts: 1, invalid: 1, discarded: 2 })
  })

  it('reports timeouts and then invalid outputs as the first error when there are no errors', () => {
    const timeoutCase = summarizeRecords(
      [makeRecord({ state: 'timeout', error: 'no answer within 30 s', startedAt: T0 + 5 }), makeRecord({ outputValid: false, startedAt: T0 })],
      { runId: 'r' },
    )
    expect(timeoutCase.cases[0].firstError).toBe('timeout: no answer within 30 s')

    const invalidCase = summarizeRecords(
      [makeRecord({ startedAt: T0 }), makeRecord({ outputValid: false, validationError: 'expected 5 rows', startedAt: T0 + 1 }), makeRecord({ outputValid: false, startedAt: T0 + 2 })],
      { runId: 'r' },
    )
    expect(invalidCase.cases[0]).toMatchObject({ n: 1, ok: 1, invalid: 2, firstError: 'invalid output: expected 5 rows' })
  })

  it('a case where nothing succeeded has counts and no statistics', () => {
    const { cases } = summarizeRecords([makeRecord({ state: 'error', error: 'boom' })], { runId: 'r' })
    expect(cases[0]).toMatchObject({ n: 0, total: 1, ok: 0, errors: 1, cold: 0, warm: 0, firstError: 'boom' })
    expect(cases[0]).not.toHaveProperty('clientTimeUs')
    expect(cases[0]).not.toHaveProperty('functionTimeUs')
  })

  it('sorts by benchmark, language, size (test < small < large), memory, phase (cold < warm < others)', () => {
    const keys: Array<[string, 'nodejs' | 'python', 'test' | 'small' | 'large', number, string]> = [
      ['210.thumbnailer', 'python', 'test', 256, 'warm'],
      ['110.dynamic-html', 'python', 'large', 256, 'warm'],
      ['110.dynamic-html', 'python', 'small', 256, 'warm'],
      ['110.dynamic-html', 'python', 'test', 256, 'warm'],
      ['110.dynamic-html', 'nodejs', 'test', 512, 'warm'],
      ['110.dynamic-html', 'nodejs', 'test', 128, 'sequential'],
      ['110.dynamic-html', 'nodejs', 'test', 128, 'burst'],
      ['110.dynamic-html', 'nodejs', 'test', 128, 'warm'],
      ['110.dynamic-html', 'nodejs', 'test', 128, 'cold'],
    ]
    const records = keys.map(([benchmark, language, size, memory, phase]) => makeRecord({ benchmark, language, size, memory, phase }))
    const order = summarizeRecords(records, { runId: 'r' }).cases.map((c) => `${c.benchmark} ${c.language} ${c.size} ${c.memory} ${c.phase}`)
    expect(order).toEqual([
      '110.dynamic-html nodejs test 128 cold',
      '110.dynamic-html nodejs test 128 warm',
      '110.dynamic-html nodejs test 128 burst',
      '110.dynamic-html nodejs test 128 sequential',
      '110.dynamic-html nodejs test 512 warm',
      '110.dynamic-html python test 256 warm',
      '110.dynamic-html python small 256 warm',
      '110.dynamic-html python large 256 warm',
      '210.thumbnailer python test 256 warm',
    ])
  })

  it('separates triggers, experiments and providers', () => {
    const records = [
      makeRecord({ trigger: 'library' }),
      makeRecord({ trigger: 'http' }),
      makeRecord({ experiment: 'perf-cost', phase: 'warm' }),
      makeRecord({ provider: 'aws' }),
    ]
    const summary = summarizeRecords(records, { runId: 'r' })
    expect(summary.cases.map((c) => [c.trigger, c.experiment ?? null, c.provider])).toEqual([
      ['http', null, 'aws'],
      ['http', null, 'local'],
      ['http', 'perf-cost', 'local'],
      ['library', null, 'local'],
    ])
    expect(summary.cases.every((c) => c.n === 1)).toBe(true)
    // Without meta.provider, the run's provider lists what the records name.
    expect(summary.provider).toBe('aws,local')
  })

  it('summarises optional metrics over the records that carry them', () => {
    const records = [
      makeRecord({ computeTimeUs: 100, rssPeakKb: 50_000, costUsd: 2e-7 }),
      makeRecord({ computeTimeUs: 300, rssPeakKb: 70_000 }),
      makeRecord({}),
    ]
    const c = summarizeRecords(records, { runId: 'r' }).cases[0]
    expect(c.n).toBe(3)
    expect(c.computeTimeUs).toMatchObject({ n: 2, mean: 200, median: 200 })
    expect(c.rssPeakKb).toMatchObject({ n: 2, min: 50_000, max: 70_000 })
    expect(c.costUsd).toMatchObject({ n: 1, median: 2e-7 })
    expect(c).not.toHaveProperty('providerTimeUs')
    expect(c).not.toHaveProperty('memoryUsedMb')
  })

  it('handles a run without records', () => {
    const summary = summarizeRecords([], { runId: 'empty', provider: 'local', createdAt: '2024-01-01T00:00:00.000Z' })
    expect(summary).toEqual({
      schemaVersion: 2,
      runId: 'empty',
      provider: 'local',
      createdAt: '2024-01-01T00:00:00.000Z',
      cases: [],
      totals: { invocations: 0, ok: 0, errors: 0, outOfMemory: 0, timeouts: 0, invalid: 0, discarded: 0 },
    })
  })

  it('keeps the points of one phase apart: each point its own case with its own median', () => {
    const overhead = (point: string, payloadBytes: number, clientTimes: number[]) =>
      clientTimes.map((clientTimeUs, i) =>
        makeRecord({ experiment: 'invocation-overhead', phase: 'warm', point, repetition: i, clientTimeUs, params: { payloadBytes } }),
      )
    const records = [
      // The big payload first in the file: the order of cases must not depend on it.
      ...overhead('payload 1048576B warm', 1_048_576, [50_000, 70_000, 60_000]),
      ...overhead('payload 1024B warm', 1024, [10_000, 30_000, 20_000, 40_000]),
      ...overhead('payload 65536B warm', 65_536, [15_000]),
    ]
    const { cases, totals } = summarizeRecords(records, { runId: 'r' })
    // Natural order: 1024 < 65536 < 1048576, although '1048576' < '65536' as text.
    expect(cases.map((c) => [c.point, c.phase, c.n, c.clientTimeUs?.median])).toEqual([
      ['payload 1024B warm', 'warm', 4, 25_000],
      ['payload 65536B warm', 'warm', 1, 15_000],
      ['payload 1048576B warm', 'warm', 3, 60_000],
    ])
    expect(cases.every((c) => c.experiment === 'invocation-overhead')).toBe(true)
    expect(totals.invocations).toBe(8)
  })

  it('records without a point summarise as before: no point field, the same key as always', () => {
    const old = makeRecord({ experiment: 'perf-cost' })
    const { cases } = summarizeRecords([old, makeRecord({ experiment: 'perf-cost' })], { runId: 'r' })
    expect(cases).toHaveLength(1)
    expect(cases[0]).not.toHaveProperty('point')
    expect(caseGroupKey(old)).toBe(JSON.stringify(['110.dynamic-html', 'nodejs', 'test', 256, 'http', 'warm', 'perf-cost', 'local']))
    expect(caseGroupKey(cases[0]!)).toBe(caseGroupKey(old))
    // With a point, another case.
    expect(caseGroupKey({ ...old, point: 'warm 256MB' })).not.toBe(caseGroupKey(old))
  })

  it('orders points naturally within a phase: numbers by value, cases without a point first', () => {
    const names = ['idle 2s', 'idle 0.5s', 'idle 10s', 'idle 0.75s', 'code 0B warm', 'payload 1024B warm', 'payload 65536B cold']
    // Objects: Array#sort would put bare undefined last without asking the comparator.
    const sorted = [...names, undefined].map((point) => ({ point })).sort((a, b) => comparePointNames(a.point, b.point))
    expect(sorted.map((x) => x.point)).toEqual([
      undefined,
      'code 0B warm',
      'idle 0.5s',
      'idle 0.75s',
      'idle 2s',
      'idle 10s',
      'payload 1024B warm',
      'payload 65536B cold',
    ])
  })
})
