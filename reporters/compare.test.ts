import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { SebsError } from '../core/errors.ts'
import type { InvocationRecord } from '../core/types.ts'
import {
  compareCommand,
  compareWithBaseline,
  formatComparisonMarkdown,
  formatComparisonTable,
} from './compare.ts'
import { compareRuns, type CaseComparison } from '../analysis/compare.ts'
import { makeRecord, normalSamples } from '../test/support/test-records.ts'

type Overrides = Parameters<typeof makeRecord>[0]

/** Warm records of one case with the given client times (µs); function time is half of it. */
function samples(clientUs: number[], overrides: Overrides = {}): InvocationRecord[] {
  return clientUs.map((v, i) => makeRecord({ clientTimeUs: v, functionTimeUs: Math.round(v / 2), repetition: i, ...overrides }))
}

const ms = (mean: number, sd: number, seed: number, n = 30) => normalSamples(seed, n, mean * 1000, sd * 1000)

function only(cases: CaseComparison[]): CaseComparison {
  expect(cases).toHaveLength(1)
  return cases[0]
}

describe('compareRuns', () => {
  it('flags a synthetic slowdown: N(100 ms, 2 ms) → N(130 ms, 2 ms), n = 30 each', () => {
    const result = compareRuns(samples(ms(100, 2, 1)), samples(ms(130, 2, 2)))
    const c = only(result.cases)
    expect(c.verdict).toBe('slower')
    expect(result.regression).toBe(true)
    expect(result.counts.slower).toBe(1)
    expect(c.pValue).toBeLessThan(1e-6)
    expect(c.changePct).toBeGreaterThan(25)
    expect(c.changePct).toBeLessThan(35)
    expect(c.change).toBeGreaterThan(25_000) // µs
    expect(c.base!.ci95![1]).toBeLessThan(c.next!.ci95![0])
    expect(c.base).toMatchObject({ n: 30, total: 30, failures: 0 })
  })

  it('does not flag an identical rerun (same distribution, another seed)', () => {
    for (const seed of [3, 5, 7, 11]) {
      const result = compareRuns(samples(ms(100, 2, 1)), samples(ms(100, 2, seed)))
      const c = only(result.cases)
      expect(c.verdict).toBe('unchanged')
      expect(result.regression).toBe(false)
      expect(Math.abs(c.changePct!)).toBeLessThan(3)
    }
  })

  it('calls a speed-up faster, never a regression', () => {
    const result = compareRuns(samples(ms(130, 2, 1)), samples(ms(100, 2, 2)))
    expect(only(result.cases).verdict).toBe('faster')
    expect(result.regression).toBe(false)
  })

  it('calls a small change under high variance inconclusive, not a regression', () => {
    // σ = 30 ms around 100 ms: a 5 ms shift cannot be told from noise with 30 samples.
    const result = compareRuns(samples(ms(100, 30, 21).map((v) => Math.max(v, 1000))), samples(ms(105, 30, 22).map((v) => Math.max(v, 1000))))
    const c = only(result.cases)
    expect(c.verdict).toBe('inconclusive')
    expect(c.pValue).toBeGreaterThanOrEqual(0.01)
    expect(c.reason).toMatch(/too wide/)
    expect(result.regression).toBe(false)
  })

  it('keeps significant changes below a threshold unchanged (relative and absolute)', () => {
    // 5% slower, clearly significant with σ = 0.5 ms: below the 10% threshold.
    const relative = only(compareRuns(samples(ms(100, 0.5, 1)), samples(ms(105, 0.5, 2))).cases)
    expect(relative.pValue).toBeLessThan(0.01)
    expect(relative.verdict).toBe('unchanged')
    expect(relative.reason).toMatch(/significant but within/)
    // The same change with a 3% threshold is a regression.
    expect(only(compareRuns(samples(ms(100, 0.5, 1)), samples(ms(105, 0.5, 2)), { threshold: 3 }).cases).verdict).toBe('slower')
    // 1.0 ms → 1.3 ms: +30%, significant, but 0.3 ms is under the 0.5 ms absolute threshold.
    const tiny = only(compareRuns(samples(ms(1, 0.01, 1)), samples(ms(1.3, 0.01, 2))).cases)
    expect(tiny.changePct).toBeGreaterThan(25)
    expect(tiny.verdict).toBe('unchanged')
    expect(only(compareRuns(samples(ms(1, 0.01, 1)), samples(ms(1.3, 0.01, 2)), { minChangeMs: 0.1 }).cases).verdict).toBe('slower')
  })

  it('reports added and removed cases, neither a regression', () => {
    const python = { language: 'python' as const }
    const large = { size: 'large' as const }
    const result = compareRuns(
      [...samples(ms(100, 2, 1)), ...samples(ms(100, 2, 2), python)],
      [...samples(ms(100, 2, 3)), ...samples(ms(300, 2, 4), large)],
    )
    const byVerdict = Object.fromEntries(result.cases.map((c) => [c.verdict, c]))
    expect(result.cases.map((c) => c.verdict).sort()).toEqual(['added', 'removed', 'unchanged'])
    expect(byVerdict.added).toMatchObject({ language: 'nodejs', size: 'large', next: { n: 30 } })
    expect(byVerdict.added.base).toBeUndefined()
    expect(byVerdict.removed).toMatchObject({ language: 'python', size: 'test', base: { n: 30 } })
    expect(result.regression).toBe(false)
  })

  it('calls too few samples inconclusive, even for a large change', () => {
    const result = compareRuns(samples(ms(100, 2, 1, 4)), samples(ms(200, 2, 2, 4)))
    const c = only(result.cases)
    expect(c.verdict).toBe('inconclusive')
    expect(c.reason).toMatch(/too few samples \(base 4, new 4; the test needs 5 per side\)/)
    expect(c.pValue).toBeUndefined()
    expect(c.changePct).toBeGreaterThan(90)
    expect(result.regression).toBe(false)
    // One side short is enough.
    expect(only(compareRuns(samples(ms(100, 2, 1, 30)), samples(ms(200, 2, 2, 3))).cases).verdict).toBe('inconclusive')
  })

  it('compares cold and warm as separate phases', () => {
    const cold = { phase: 'cold', isCold: true }
    const result = compareRuns(
      [...samples(ms(500, 5, 1), cold), ...samples(ms(100, 2, 2))],
      [...samples(ms(800, 5, 3), cold), ...samples(ms(100, 2, 4))],
    )
    expect(result.cases.map((c) => [c.phase, c.verdict])).toEqual([
      ['cold', 'slower'],
      ['warm', 'unchanged'],
    ])
  })

  it('compares each experiment point with the same point of the base run', () => {
    const point = (name: string) => ({ experiment: 'invocation-overhead', phase: 'warm', point: name })
    // The 1 MB payload got slower; the 1 KB payload did not. Mixed in one case, the two would blur.
    const result = compareRuns(
      [...samples(ms(100, 2, 1), point('payload 1024B warm')), ...samples(ms(300, 2, 2), point('payload 1048576B warm'))],
      [...samples(ms(100, 2, 3), point('payload 1024B warm')), ...samples(ms(400, 2, 4), point('payload 1048576B warm'))],
    )
    expect(result.cases.map((c) => [c.point, c.verdict])).toEqual([
      ['payload 1048576B warm', 'slower'],
      ['payload 1024B warm', 'unchanged'],
    ])
    expect(result.notes).toEqual([])
    const slower = result.cases[0]!
    expect(slower.base!.median).toBeGreaterThan(290_000)
    expect(slower.base!.median).toBeLessThan(310_000)
    expect(slower.next!.median).toBeGreaterThan(390_000)
    // The point is a column of the table.
    const lines = formatComparisonTable(result, { base: 'b', next: 'n' }).split('\n')
    expect(lines[2]).toMatch(/^verdict\s+benchmark\s+language\s+size\s+point\s+phase\s/)
    expect(lines.find((l) => l.startsWith('slower'))).toMatch(/payload 1048576B warm\s+warm/)
  })

  it('matches records without a point with records without one; a point-less baseline of an experiment gets a note', () => {
    // Plain bench records: no point on either side, one case as always.
    expect(only(compareRuns(samples(ms(100, 2, 1)), samples(ms(100, 2, 2))).cases)).not.toHaveProperty('point')
    // An experiment run recorded before points existed, against one with points: no match, and a note says why.
    const old = samples(ms(100, 2, 1), { experiment: 'eviction-model', phase: 'eviction' })
    const next = samples(ms(100, 2, 2), { experiment: 'eviction-model', phase: 'eviction', point: 'idle 1s' })
    const result = compareRuns(old, next)
    expect(result.cases.map((c) => [c.verdict, c.point ?? null])).toEqual([
      ['added', 'idle 1s'],
      ['removed', null],
    ])
    expect(result.notes).toEqual([expect.stringMatching(/^The base run's experiment records carry no point/)])
    expect(result.regression).toBe(false)
  })

  it('counts only ok, valid, kept records', () => {
    const slow = ms(900, 5, 9, 10)
    const next = [
      ...samples(ms(100, 2, 2)),
      ...samples(slow, { discarded: true, discardReason: 'warm-up' }),
      ...samples(slow, { outputValid: false, validationError: 'empty' }),
      ...slow.map(() => makeRecord({ state: 'error', error: 'boom' })),
    ]
    const c = only(compareRuns(samples(ms(100, 2, 1)), next).cases)
    expect(c.verdict).toBe('unchanged')
    expect(c.next).toMatchObject({ n: 30, total: 60, failures: 20 })
  })

  it('gates on function time or instruction counts when asked', () => {
    // Client time unchanged, function time 40% slower.
    const base = ms(100, 2, 1).map((v, i) => makeRecord({ clientTimeUs: v, functionTimeUs: 50_000 + (i % 5) * 100, repetition: i }))
    const next = ms(100, 2, 2).map((v, i) => makeRecord({ clientTimeUs: v, functionTimeUs: 70_000 + (i % 5) * 100, repetition: i }))
    expect(only(compareRuns(base, next).cases).verdict).toBe('unchanged')
    const fn = compareRuns(base, next, { metric: 'function' })
    expect(fn.metricLabel).toBe('function time')
    expect(only(fn.cases).verdict).toBe('slower')

    const counted = (count: number) => (r: InvocationRecord) => ({ ...r, counters: { instructions: { value: count, source: 'callgrind' } } })
    const ins = compareRuns(base.map(counted(1_000_000)), next.map(counted(1_150_000)), { metric: 'instructions' })
    expect(only(ins.cases)).toMatchObject({ verdict: 'slower', change: 150_000 })
    // Deterministic counts that did not move: unchanged, with a zero-width CI.
    expect(only(compareRuns(base.map(counted(1_000_000)), next.map(counted(1_000_000)), { metric: 'instructions' }).cases).verdict).toBe('unchanged')
  })

  it('explains a missing instruction count instead of comparing nothing', () => {
    const run = samples(ms(100, 2, 1))
    const withCounts = run.map((r) => ({ ...r, counters: { instructions: { value: 1, source: 'perf' } } }))
    let error: unknown
    try {
      compareRuns(run, withCounts, { metric: 'instructions' })
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(SebsError)
    expect((error as SebsError).code).toBe('NOT_SUPPORTED')
    expect((error as SebsError).message).toMatch(/no successful invocation in the base run has an instruction count.*--metric client/)
  })

  it('rejects bad options with what is allowed', () => {
    expect(() => compareRuns([], [], { metric: 'cycles' as never })).toThrow(/Choose one of 'client', 'function', 'instructions'/)
    expect(() => compareRuns([], [], { alpha: 1.5 })).toThrow(/alpha must be between 0 and 1/)
    expect(() => compareRuns([], [], { threshold: -1 })).toThrow(/threshold/)
  })
})

describe('formatComparisonTable / formatComparisonMarkdown', () => {
  const result = () =>
    compareRuns(
      [...samples(ms(100, 2, 1)), ...samples(ms(50, 1, 5), { language: 'python' })],
      [...samples(ms(130, 2, 2)), ...samples(ms(50, 1, 6), { language: 'python' })],
    )

  it('prints the evidence: medians with CIs, change in ms and %, p, n, verdict line', () => {
    const text = formatComparisonTable(result(), { base: 'base-run', next: 'new-run' })
    const lines = text.split('\n')
    expect(lines[0]).toBe('Comparing new-run with baseline base-run on client time: 1 slower (regression), 1 unchanged')
    expect(lines[1]).toMatch(/two-sided Mann-Whitney U at α = 0\.01; a change must exceed 10% and 0\.5 ms/)
    expect(lines[2]).toMatch(/^verdict\s+benchmark\s+language\s+size\s+phase\s+base median \[95% CI\] \(ms\)\s+new median \[95% CI\] \(ms\)\s+change\s+change %\s+p\s+n base\/new\s+note$/)
    const slower = lines.find((l) => l.startsWith('slower'))!
    expect(slower).toMatch(/110\.dynamic-html\s+nodejs\s+test\s+warm\s+\d+\.\d \[\d+\.\d, \d+\.\d\]\s+1\d\d\.\d \[.*\]\s+\+\d\d\.\d+ ms\s+\+\d\d%\s+<0\.0001\s+30\/30/)
    expect(lines.at(-1)).toBe('REGRESSION: 1 case is slower than the baseline.')
  })

  it('renders Markdown with the changes first and the unchanged cases folded', () => {
    const md = formatComparisonMarkdown(result(), { base: 'base-run', next: 'new-run' })
    expect(md).toContain('**Regression:** 1 case slower than the baseline.')
    expect(md).toMatch(/\| verdict \| benchmark \| language \| size \| phase \|/)
    expect(md).toMatch(/\| slower \| 110\.dynamic-html \| nodejs \|/)
    expect(md).toMatch(/<details><summary>1 unchanged case<\/summary>\n\n\| verdict[^\n]*\n[^\n]*\n\| unchanged \| 110\.dynamic-html \| python \|/)
  })
})

describe('compareCommand (end to end on run directories)', () => {
  let dir: string
  let stepSummary: string
  const out: string[] = []
  const io = () => ({ write: (s: string) => void out.push(s), env: { GITHUB_STEP_SUMMARY: stepSummary } })

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sebs-compare-'))
    stepSummary = join(dir, 'step-summary.md')
    out.length = 0
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  function writeRun(runId: string, records: InvocationRecord[]): string {
    const runDir = join(dir, 'results', runId)
    mkdirSync(runDir, { recursive: true })
    writeFileSync(join(runDir, 'invocations.jsonl'), records.map((r) => JSON.stringify({ ...r, runId })).join('\n') + '\n')
    return runDir
  }

  it('exits 1 on a regression and 0 on a rerun, writing compare.md and the job summary', async () => {
    const base = writeRun('base', samples(ms(100, 2, 1)))
    const slow = writeRun('slow', samples(ms(130, 2, 2)))
    const same = writeRun('same', samples(ms(100, 2, 3)))

    expect(await compareCommand([base, slow], io())).toBe(1)
    expect(out.join('')).toMatch(/REGRESSION: 1 case is slower than the baseline\./)
    expect(out.join('')).toContain(`comparison written to ${join(slow, 'compare.md')}`)
    expect(readFileSync(join(slow, 'compare.md'), 'utf8')).toContain('**Regression:**')

    out.length = 0
    // The invocations.jsonl form of NEW works too; compare.md lands beside it.
    expect(await compareCommand([base, join(same, 'invocations.jsonl'), '--alpha', '0.05'], io())).toBe(0)
    expect(out.join('')).toMatch(/No regression\./)
    expect(out.join('')).toMatch(/α = 0\.05/)
    expect(readFileSync(join(same, 'compare.md'), 'utf8')).toContain('**No regression.**')

    // Both comparisons were appended to the job summary, in order.
    const summary = readFileSync(stepSummary, 'utf8')
    expect(summary.indexOf('**Regression:**')).toBeGreaterThanOrEqual(0)
    expect(summary.indexOf('**No regression.**')).toBeGreaterThan(summary.indexOf('**Regression:**'))
  })

  it('honours --metric, --threshold, --min-change-ms and --markdown FILE', async () => {
    const base = writeRun('base', samples(ms(100, 0.5, 1)))
    const next = writeRun('next', samples(ms(105, 0.5, 2)))
    expect(await compareCommand([base, next], io())).toBe(0)
    const md = join(dir, 'out', 'cmp.md')
    expect(await compareCommand([base, next, '--threshold', '3', '--min-change-ms', '1', '--metric', 'function', '--markdown', md], io())).toBe(1)
    expect(readFileSync(md, 'utf8')).toContain('on function time')
    expect(existsSync(join(next, 'compare.md'))).toBe(true) // from the first call only
  })

  it('rejects unknown flags listing the known ones, and wrong arguments', async () => {
    const base = writeRun('base', samples(ms(100, 2, 1)))
    await expect(compareCommand([base, base, '--treshold', '5'], io())).rejects.toMatchObject({
      code: 'UNKNOWN_FLAG',
      message: expect.stringMatching(/--treshold.*Known options: --metric VALUE, --alpha VALUE, --threshold VALUE, --min-change-ms VALUE, --min-samples VALUE, --markdown VALUE, --help/),
    })
    await expect(compareCommand([base], io())).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringMatching(/exactly two runs/) })
    await expect(compareCommand([base, base, '--metric', 'cycles'], io())).rejects.toMatchObject({ code: 'CONFIG_INVALID' })
    await expect(compareCommand([base, base, '--alpha', 'x'], io())).rejects.toMatchObject({ message: expect.stringMatching(/--alpha must be a number/) })
    await expect(compareCommand([join(dir, 'nope'), base], io())).rejects.toMatchObject({ code: 'BASELINE_INVALID' })
    await expect(compareCommand([base, join(dir, 'nope')], io())).rejects.toMatchObject({ code: 'RESULTS_NOT_FOUND' })
    expect(await compareCommand(['--help'], io())).toBe(0)
    expect(out.join('')).toMatch(/^Usage: sebs compare BASE NEW/)
  })
})

describe('compareWithBaseline', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sebs-baseline-'))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it('finds the baseline by run id, path or "latest" and writes compare.md into the run', async () => {
    const resultsDir = join(dir, 'results')
    const baseDir = join(resultsDir, 'run-base')
    mkdirSync(baseDir, { recursive: true })
    writeFileSync(join(baseDir, 'invocations.jsonl'), samples(ms(100, 2, 1)).map((r) => JSON.stringify({ ...r, runId: 'run-base' })).join('\n'))
    const runDir = join(resultsDir, 'run-new')
    const records = samples(ms(130, 2, 2)).map((r) => ({ ...r, runId: 'run-new' }))
    mkdirSync(runDir, { recursive: true })
    writeFileSync(join(runDir, 'invocations.jsonl'), records.map((r) => JSON.stringify(r)).join('\n'))
    const env = { GITHUB_STEP_SUMMARY: join(dir, 'summary.md') }

    const byId = await compareWithBaseline('run-base', runDir, records, { resultsDir, env })
    expect(byId.regression).toBe(true)
    expect(byId.text).toMatch(/^Comparing run-new with baseline run-base on client time: 1 slower/)
    expect(readFileSync(join(runDir, 'compare.md'), 'utf8')).toContain('**Regression:**')
    expect(readFileSync(env.GITHUB_STEP_SUMMARY, 'utf8')).toContain('**Regression:**')

    expect((await compareWithBaseline(baseDir, runDir, records, { resultsDir, env, threshold: 50 })).regression).toBe(false)
    // No index.json: it is rebuilt from the run directories; the current run is skipped.
    expect((await compareWithBaseline('latest', runDir, records, { resultsDir, env })).text).toMatch(/baseline run-base/)

    await expect(compareWithBaseline('run-missing', runDir, records, { resultsDir, env })).rejects.toMatchObject({
      code: 'BASELINE_INVALID',
      message: expect.stringMatching(/sebs history/),
    })
    await expect(compareWithBaseline('run-new', runDir, records, { resultsDir, env })).rejects.toMatchObject({ code: 'BASELINE_INVALID' })
  })
})
