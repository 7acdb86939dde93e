import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { appendToStepSummary, escapeMarkdownCell, formatSummaryMarkdown } from './markdown-summary.ts'
import { summarizeRecords } from './summary.ts'
import { makeRecord } from '../test/support/test-records.ts'

const T0 = Date.UTC(2024, 4, 1, 12, 0, 0)

describe('formatSummaryMarkdown', () => {
  it('renders the console columns as a GitHub table, with failures listed', () => {
    const summary = summarizeRecords(
      [
        makeRecord({ phase: 'cold', isCold: true, clientTimeUs: 812_345, functionTimeUs: 210_400, startedAt: T0 }),
        ...Array.from({ length: 10 }, (_, i) => makeRecord({ clientTimeUs: 12_000 + i * 160, functionTimeUs: 1_234 + 2 * i, startedAt: T0 + 1 + i })),
        makeRecord({ state: 'error', error: 'TypeError: a | b <c>\n  at handler', startedAt: T0 + 20 }),
      ],
      { runId: 'run-1', provider: 'local' },
    )
    expect(formatSummaryMarkdown(summary)).toBe(
      [
        '### SeBS run `run-1` (local)',
        '',
        'Run run-1 (local): 12 invocations, 11 ok, 1 error.',
        '',
        '| benchmark | language | size | phase | n | cold/warm | client median | 95% CI | client p95 | function median | notes |',
        '| --- | --- | --- | --- | ---: | ---: | ---: | --- | ---: | ---: | --- |',
        '| 110.dynamic-html | nodejs | test | cold | 1 | 1/0 | 812.3 | - | 812.3 | 210.4 |  |',
        '| 110.dynamic-html | nodejs | test | warm | 10 | 0/10 | 12.72 | [12.16, 13.28] | 13.37 | 1.243 | 1 error |',
        '',
        'Times in ms; the 95% CI is the nonparametric CI of the client-time median (Le Boudec). Cold and warm phases are summarised apart.',
        '',
        '**Failures in 1 case:**',
        '',
        '- 110.dynamic-html nodejs test 256 MB http warm: 1 error of 11; first: TypeError: a \\| b &lt;c&gt;',
        '',
      ].join('\n'),
    )
  })

  it('has a point column and a row per experiment point', () => {
    const records = [
      ...[1_000, 2_000, 3_000].map((clientTimeUs) => makeRecord({ experiment: 'eviction-model', phase: 'eviction', point: 'idle 2s', clientTimeUs })),
      ...[5_000, 6_000, 7_000].map((clientTimeUs) => makeRecord({ experiment: 'eviction-model', phase: 'eviction', point: 'idle 1s', clientTimeUs })),
    ]
    const md = formatSummaryMarkdown(summarizeRecords(records, { runId: 'r', provider: 'local' }))
    expect(md).toContain('| benchmark | language | size | point | phase | n |')
    expect(md).toContain('| 110.dynamic-html | nodejs | test | idle 1s | eviction | 3 | 0/3 | 6.000 |')
    expect(md).toContain('| 110.dynamic-html | nodejs | test | idle 2s | eviction | 3 | 0/3 | 2.000 |')
    expect(md.indexOf('idle 1s')).toBeLessThan(md.indexOf('idle 2s'))
  })

  it('shows memory and cost columns only when the records carry them', () => {
    const summary = summarizeRecords(
      [makeRecord({ memoryUsedMb: 71.4, costUsd: 2.08e-6 }), makeRecord({ memoryUsedMb: 73.6, costUsd: 2.12e-6 })],
      { runId: 'r', provider: 'aws' },
    )
    const md = formatSummaryMarkdown(summary)
    expect(md).toContain('| mem used MB | $/1M inv |')
    // Median memory 72.5 MB; mean cost 2.1e-6 USD = 2.10 per million invocations.
    expect(md).toMatch(/\| 72\.5 \| 2\.10 \|\n/)
    expect(md).not.toContain('rss peak')
  })

  it('says so when nothing ran', () => {
    expect(formatSummaryMarkdown(summarizeRecords([], { runId: 'r0', provider: 'local' }))).toContain('No invocations recorded.')
  })
})

describe('escapeMarkdownCell', () => {
  it('keeps cells in their column and HTML inert', () => {
    expect(escapeMarkdownCell('a|b\n<script>&')).toBe('a\\|b &lt;script&gt;&amp;')
  })
})

describe('appendToStepSummary', () => {
  it('appends to GITHUB_STEP_SUMMARY when set, and does nothing otherwise', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sebs-step-'))
    try {
      const file = join(dir, 'summary.md')
      writeFileSync(file, 'earlier step\n')
      expect(await appendToStepSummary('# one', { GITHUB_STEP_SUMMARY: file })).toBe(file)
      expect(await appendToStepSummary('# two\n', { GITHUB_STEP_SUMMARY: file })).toBe(file)
      expect(readFileSync(file, 'utf8')).toBe('earlier step\n# one\n\n# two\n\n')
      expect(await appendToStepSummary('# three', {})).toBeUndefined()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
