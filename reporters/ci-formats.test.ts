import { describe, expect, it } from 'vitest'
import type { InvocationRecord } from '../core/types.ts'
import { ciCaseName, formatBencher, formatGithubActionBenchmark, significant } from './ci-formats.ts'
import { summarizeRecords } from './summary.ts'
import { makeRecord } from '../test/support/test-records.ts'

// Warm client 10 000 … 19 000 µs (median 14 500, CI [x(2), x(9)] = [11 000, 18 000], p95 18 550);
// function 5 000 … 5 900 µs (median 5 450, CI [5 100, 5 800]).
function run(extra: Partial<InvocationRecord> = {}) {
  const records = [
    makeRecord({ phase: 'cold', isCold: true, clientTimeUs: 812_345, functionTimeUs: 210_401 }),
    ...Array.from({ length: 10 }, (_, i) =>
      makeRecord({ clientTimeUs: 10_000 + i * 1000, functionTimeUs: 5_000 + i * 100, ...(extra as object) }),
    ),
    makeRecord({ state: 'error', error: 'boom' }),
    makeRecord({ size: 'large', state: 'error', error: 'all failed' }),
  ]
  return { records, summary: summarizeRecords(records, { runId: 'run-1', provider: 'local' }) }
}

describe('formatGithubActionBenchmark', () => {
  it('writes customSmallerIsBetter entries: median in ms, CI half-width as range, evidence as extra', () => {
    const { summary, records } = run()
    const entries = formatGithubActionBenchmark(summary, records)
    expect(entries).toEqual([
      { name: '110.dynamic-html/nodejs/test/256MB/http/cold - client time', unit: 'ms', value: 812.3, extra: 'n=1 (1 cold, 0 warm of 1 invocations)\np95: 812.3 ms' },
      { name: '110.dynamic-html/nodejs/test/256MB/http/cold - function time', unit: 'ms', value: 210.4, extra: 'n=1 (1 cold, 0 warm of 1 invocations)\np95: 210.4 ms' },
      {
        name: '110.dynamic-html/nodejs/test/256MB/http/warm - client time',
        unit: 'ms',
        value: 14.5,
        range: '± 3.5',
        extra: 'n=10 (0 cold, 10 warm of 11 invocations)\n95% CI of the median: [11, 18] ms\np95: 18.55 ms\nfailures: 1',
      },
      {
        name: '110.dynamic-html/nodejs/test/256MB/http/warm - function time',
        unit: 'ms',
        value: 5.45,
        range: '± 0.35',
        extra: 'n=10 (0 cold, 10 warm of 11 invocations)\n95% CI of the median: [5.1, 5.8] ms\np95: 5.855 ms\nfailures: 1',
      },
    ])
    // The all-failed large case has no usable samples: left out, not written as 0.
    expect(entries.some((e) => e.name.includes('/large/'))).toBe(false)
  })

  it('adds instruction counts and cost when the records carry them', () => {
    const { summary, records } = run({ counters: { instructions: { value: 1_000_000, source: 'callgrind' } }, costUsd: 2e-6 })
    const names = formatGithubActionBenchmark(summary, records).map((e) => `${e.name} [${e.unit}] ${e.value}`)
    expect(names).toContain('110.dynamic-html/nodejs/test/256MB/http/warm - instructions [instructions] 1000000')
    expect(names).toContain('110.dynamic-html/nodejs/test/256MB/http/warm - cost [USD per 1M invocations] 2')
    expect(names.some((n) => n.includes('/cold - instructions'))).toBe(false)
  })

  it('rounds to 4 significant digits: no binary-fraction noise in what readers see', () => {
    expect(significant(3.8750037500000003e-7)).toBe(3.875e-7)
    expect(significant(812.345)).toBe(812.3)
    expect(significant(0.080625)).toBe(0.08063)
    expect(significant(123_456)).toBe(123_500)
    expect(significant(0)).toBe(0)
    const { summary, records } = run({ costUsd: 3.8750037500000003e-7 })
    const text = JSON.stringify(formatGithubActionBenchmark(summary, records))
    expect(text).not.toMatch(/\d{6,}e-|\.\d{7,}/)
    expect(formatGithubActionBenchmark(summary, records).find((e) => e.name.endsWith('warm - cost'))).toMatchObject({ unit: 'USD per 1M invocations', value: 0.3875 })
  })

  it('splits the one-sample cold series from the warm ones, for their own alert thresholds', () => {
    const { summary, records } = run()
    const all = formatGithubActionBenchmark(summary, records)
    const cold = formatGithubActionBenchmark(summary, records, 'cold')
    const warm = formatGithubActionBenchmark(summary, records, 'warm')
    expect(cold.map((e) => e.name)).toEqual(['110.dynamic-html/nodejs/test/256MB/http/cold - client time', '110.dynamic-html/nodejs/test/256MB/http/cold - function time'])
    expect(warm.every((e) => e.name.includes('/warm - '))).toBe(true)
    expect([...cold, ...warm].map((e) => e.name).sort()).toEqual(all.map((e) => e.name).sort())
  })
})

describe('formatBencher', () => {
  it('names the custom measures with their units (Bencher creates them without units)', () => {
    const { summary, records } = run({ costUsd: 2e-6 })
    const warm = formatBencher(summary, records)['110.dynamic-html/nodejs/test/256MB/http/warm']!
    expect(Object.keys(warm)).toEqual(['latency', 'function-time-ns', 'cost-usd-per-1m-invocations'])
    expect(warm['cost-usd-per-1m-invocations']).toEqual({ value: 2, lower_value: 2, upper_value: 2 })
  })

  it('writes Bencher Metric Format: latency in ns with the median CI as bounds', () => {
    const { summary, records } = run({ counters: { instructions: { value: 42, source: 'perf' } } })
    expect(formatBencher(summary, records)).toEqual({
      '110.dynamic-html/nodejs/test/256MB/http/cold': {
        latency: { value: 812_345_000 },
        'function-time-ns': { value: 210_401_000 },
      },
      '110.dynamic-html/nodejs/test/256MB/http/warm': {
        latency: { value: 14_500_000, lower_value: 11_000_000, upper_value: 18_000_000 },
        'function-time-ns': { value: 5_450_000, lower_value: 5_100_000, upper_value: 5_800_000 },
        // All equal: the CI collapses onto the value.
        instructions: { value: 42, lower_value: 42, upper_value: 42 },
      },
    })
  })
})

describe('ciCaseName', () => {
  it('is stable and names experiment and, when asked, provider', () => {
    const { summary } = run()
    expect(ciCaseName({ ...summary.cases[1], experiment: 'perf-cost' }, true)).toBe('perf-cost/110.dynamic-html/nodejs/test/256MB/http/warm/local')
  })

  it('names the experiment point, so the points of a sweep are series of their own', () => {
    const records = [
      ...[10_000, 20_000, 30_000].map((clientTimeUs) => makeRecord({ experiment: 'invocation-overhead', point: 'payload 1024B warm', clientTimeUs })),
      ...[70_000, 80_000, 90_000].map((clientTimeUs) => makeRecord({ experiment: 'invocation-overhead', point: 'payload 65536B warm', clientTimeUs })),
    ]
    const summary = summarizeRecords(records, { runId: 'run-1', provider: 'local' })
    const prefix = 'invocation-overhead/110.dynamic-html/nodejs/test/256MB/http/warm'
    expect(summary.cases.map((c) => ciCaseName(c))).toEqual([`${prefix}/payload 1024B warm`, `${prefix}/payload 65536B warm`])
    expect(formatGithubActionBenchmark(summary, records).filter((e) => e.name.endsWith('client time')).map((e) => [e.name, e.value])).toEqual([
      [`${prefix}/payload 1024B warm - client time`, 20],
      [`${prefix}/payload 65536B warm - client time`, 80],
    ])
    const bencher = formatBencher(summary, records)
    expect(Object.keys(bencher)).toEqual([`${prefix}/payload 1024B warm`, `${prefix}/payload 65536B warm`])
    expect(bencher[`${prefix}/payload 65536B warm`]!.latency!.value).toBe(80_000_000)
    // Records without a point keep the names they always had.
    expect(ciCaseName(run().summary.cases[1]!)).toBe('110.dynamic-html/nodejs/test/256MB/http/warm')
  })
})
