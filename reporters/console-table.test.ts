import { describe, expect, it } from 'vitest'
import { formatFailures, formatMs, formatSignificant, formatSummaryTable, summaryHeadline } from './console-table.ts'
import { formatSummaryMarkdown } from './markdown-summary.ts'
import { summarizeRecords } from './summary.ts'
import { makeRecord } from '../test/support/test-records.ts'

const T0 = Date.UTC(2024, 4, 1, 12, 0, 0)
const thumb = { benchmark: '210.thumbnailer', language: 'python', size: 'small' } as const

function runSummary() {
  return summarizeRecords(
    [
      makeRecord({ phase: 'cold', isCold: true, clientTimeUs: 812_345, functionTimeUs: 210_400, startedAt: T0 }),
      // Client 12 000, 12 160, …, 13 440 µs; function 1234, 1236, …, 1252 µs.
      ...Array.from({ length: 10 }, (_, i) =>
        makeRecord({ clientTimeUs: 12_000 + i * 160, functionTimeUs: 1_234 + 2 * i, startedAt: T0 + 1 + i }),
      ),
      makeRecord({ ...thumb, phase: 'cold', isCold: true, clientTimeUs: 1_807_900, functionTimeUs: 950_000, startedAt: T0 + 20 }),
      makeRecord({ ...thumb, state: 'error', error: 'ModuleNotFoundError: No module named PIL\nTraceback (most recent call last): …', startedAt: T0 + 21 }),
      makeRecord({ ...thumb, state: 'timeout', error: 'no answer within 30 s', startedAt: T0 + 22 }),
      makeRecord({ ...thumb, clientTimeUs: 450, functionTimeUs: 120, startedAt: T0 + 23 }),
    ],
    { runId: 'run-1', provider: 'local' },
  )
}

describe('formatSummaryTable', () => {
  it('renders one aligned row per case and phase, times in ms', () => {
    // Warm 110: median (12 640 + 12 800)/2 = 12 720 µs; CI [x(2), x(9)] = [12 160, 13 280];
    // p95: h = 8.55 → 13 280 + 0.55·160 = 13 368; function median (1242 + 1244)/2 = 1243.
    expect(formatSummaryTable(runSummary())).toBe(
      [
        'Run run-1 (local): 15 invocations, 13 ok, 1 error, 1 timeout; times in ms, median CI nonparametric (Le Boudec)',
        'benchmark         language  size   phase   n  cold/warm  client median  95% CI          client p95  function median  notes',
        '----------------  --------  -----  -----  --  ---------  -------------  --------------  ----------  ---------------  ------------------',
        '110.dynamic-html  nodejs    test   cold    1        1/0          812.3  -                    812.3            210.4',
        '110.dynamic-html  nodejs    test   warm   10       0/10          12.72  [12.16, 13.28]       13.37            1.243',
        '210.thumbnailer   python    small  cold    1        1/0           1808  -                     1808            950.0',
        '210.thumbnailer   python    small  warm    1        0/1          0.450  -                    0.450            0.120  1 error, 1 timeout',
      ].join('\n'),
    )
  })

  it('adds memory and notes columns only when they say something', () => {
    const summary = summarizeRecords(
      [
        makeRecord({ memory: 128, clientTimeUs: 20_000, functionTimeUs: 15_000 }),
        makeRecord({ memory: 1024, clientTimeUs: 9_000, functionTimeUs: 4_000 }),
        makeRecord({ memory: 1024, discarded: true, discardReason: 'warm-up', clientTimeUs: 60_000 }),
        makeRecord({ memory: 1024, outputValid: false, validationError: 'empty page' }),
      ],
      { runId: 'r2', provider: 'local' },
    )
    expect(formatSummaryTable(summary)).toBe(
      [
        'Run r2 (local): 4 invocations, 3 ok, 1 invalid, 1 discarded; times in ms, median CI nonparametric (Le Boudec)',
        'benchmark         language  size   memory  phase  n  cold/warm  client median  95% CI  client p95  function median  notes',
        '----------------  --------  ----  -------  -----  -  ---------  -------------  ------  ----------  ---------------  ----------------------',
        '110.dynamic-html  nodejs    test   128 MB  warm   1        0/1          20.00  -            20.00            15.00',
        '110.dynamic-html  nodejs    test  1024 MB  warm   1        0/3          9.000  -            9.000            4.000  1 invalid; 1 discarded',
      ].join('\n'),
    )
  })

  it('has a point column when cases come from experiment points, one row per point with its own median', () => {
    const records = [
      ...[10_000, 20_000, 30_000].map((clientTimeUs) => makeRecord({ experiment: 'invocation-overhead', point: 'payload 1048576B warm', clientTimeUs: clientTimeUs * 4 })),
      ...[10_000, 20_000, 30_000].map((clientTimeUs) => makeRecord({ experiment: 'invocation-overhead', point: 'payload 1024B warm', clientTimeUs })),
    ]
    expect(formatSummaryTable(summarizeRecords(records, { runId: 'r4', provider: 'local' }))).toBe(
      [
        'Run r4 (local): 6 invocations, 6 ok; times in ms, median CI nonparametric (Le Boudec)',
        'benchmark         language  size  point                  phase  n  cold/warm  client median  95% CI  client p95  function median',
        '----------------  --------  ----  ---------------------  -----  -  ---------  -------------  ------  ----------  ---------------',
        '110.dynamic-html  nodejs    test  payload 1024B warm     warm   3        0/3          20.00  -            29.00            5.000',
        '110.dynamic-html  nodejs    test  payload 1048576B warm  warm   3        0/3          80.00  -            116.0            5.000',
      ].join('\n'),
    )
  })

  it('says so when nothing was recorded', () => {
    expect(formatSummaryTable(summarizeRecords([], { runId: 'r0', provider: 'aws', createdAt: '2024-01-01T00:00:00.000Z' }))).toBe(
      'Run r0 (aws): 0 invocations, 0 ok\nNo invocations recorded.',
    )
  })
})

describe('formatMs', () => {
  it('keeps about four significant digits, at most 1 µs resolution', () => {
    expect(formatMs(45)).toBe('0.045')
    expect(formatMs(1_234)).toBe('1.234')
    expect(formatMs(12_345)).toBe('12.35')
    expect(formatMs(123_456)).toBe('123.5')
    expect(formatMs(1_234_567)).toBe('1235')
    expect(formatMs(1_234_567, 2)).toBe('1234.57')
  })
})

describe('formatFailures', () => {
  it('lists the first error of each failing case', () => {
    expect(formatFailures(runSummary())).toBe(
      [
        'Failures in 1 case:',
        '  210.thumbnailer python small 256 MB http warm: 1 error, 1 timeout of 3 invocations',
        '    first: ModuleNotFoundError: No module named PIL',
      ].join('\n'),
    )
  })

  it('names invalid outputs, experiments, and shortens long messages', () => {
    const summary = summarizeRecords(
      [
        makeRecord({ outputValid: false, validationError: 'expected 10 rows' }),
        makeRecord({ experiment: 'perf-cost', phase: 'burst', state: 'error', error: 'x'.repeat(400) }),
        makeRecord({ experiment: 'perf-cost', phase: 'burst', state: 'error', error: 'second' }),
      ],
      { runId: 'r3' },
    )
    expect(formatFailures(summary)).toBe(
      [
        'Failures in 2 cases:',
        '  110.dynamic-html nodejs test 256 MB http warm: 1 invalid of 1 invocation',
        '    first: invalid output: expected 10 rows',
        '  perf-cost 110.dynamic-html nodejs test 256 MB http burst: 2 errors of 2 invocations',
        `    first: ${'x'.repeat(297)}...`,
      ].join('\n'),
    )
  })

  it('counts out-of-memory ends apart from other errors (summary, headline, failure list, Markdown)', async () => {
    const oom = 'instance was killed by SIGKILL: memory limit exceeded: the instance needed more than its 128 MB and was killed by the OOM killer (cgroup memory limit)'
    const summary = summarizeRecords(
      [
        makeRecord({ state: 'error', error: oom, errorKind: 'oom', startedAt: T0 }),
        makeRecord({ state: 'error', error: oom, errorKind: 'oom', startedAt: T0 + 1 }),
        makeRecord({ state: 'error', error: 'Exception: boom', startedAt: T0 + 2 }),
        makeRecord({ startedAt: T0 + 3 }),
      ],
      { runId: 'r6', provider: 'local' },
    )
    // `errors` keeps every error (exit status, comparisons); `outOfMemory` says how many of them ran out of memory.
    expect(summary.cases[0]).toMatchObject({ errors: 3, outOfMemory: 2, ok: 1, total: 4 })
    expect(summary.totals).toMatchObject({ errors: 3, outOfMemory: 2 })
    expect(formatFailures(summary).split('\n')[1]).toBe('  110.dynamic-html nodejs test 256 MB http warm: 2 out of memory, 1 error of 4 invocations')
    expect(summaryHeadline(summary)).toBe('Run r6 (local): 4 invocations, 1 ok, 2 out of memory, 1 error')
    expect(formatSummaryMarkdown(summary)).toContain('2 out of memory, 1 error of 4')
  })

  it('names the point of a failing experiment case', () => {
    const summary = summarizeRecords([makeRecord({ experiment: 'eviction-model', phase: 'eviction', point: 'idle 2s', state: 'error', error: 'boom' })], { runId: 'r5' })
    expect(formatFailures(summary)).toContain("  eviction-model 110.dynamic-html nodejs test 256 MB http eviction 'idle 2s': 1 error of 1 invocation")
  })

  it('is empty when nothing failed', () => {
    expect(formatFailures(summarizeRecords([makeRecord({}), makeRecord({ discarded: true })], { runId: 'r' }))).toBe('')
  })
})

describe('summary columns for memory and cost', () => {
  it('adds memory used, peak RSS and cost per million invocations only when present', () => {
    const summary = summarizeRecords(
      [
        makeRecord({ clientTimeUs: 20_000, functionTimeUs: 15_000, rssPeakKb: 51_200, costUsd: 3e-6 }),
        makeRecord({ clientTimeUs: 22_000, functionTimeUs: 15_000, rssPeakKb: 53_248, costUsd: 5e-6 }),
        makeRecord({ language: 'python', clientTimeUs: 30_000, functionTimeUs: 25_000, memoryUsedMb: 88 }),
      ],
      { runId: 'r3', provider: 'aws' },
    )
    const lines = formatSummaryTable(summary).split('\n')
    expect(lines[1]).toMatch(/function median {2}mem used MB {2}rss peak MB {2}\$\/1M inv$/)
    // RSS median 52 224 KB = 51.0 MB; mean cost 4e-6 USD = 4.00 per million.
    expect(lines[3]).toMatch(/\s-\s+51\.0\s+4\.00$/)
    expect(lines[4]).toMatch(/\s88\.0\s+-\s+-$/)
  })

  it('formats small costs without an exponent', () => {
    expect(formatSignificant(2.08)).toBe('2.08')
    expect(formatSignificant(0.002081)).toBe('0.00208')
    expect(formatSignificant(20_812)).toBe('20812')
    expect(formatSignificant(0)).toBe('0')
  })
})
