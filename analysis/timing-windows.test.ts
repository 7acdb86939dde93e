import { describe, expect, it } from 'vitest'
import { makeRecord } from '../test/support/test-records.ts'
import { timingWindowProblems, timingWindowReport } from './timing-windows.ts'

describe('timing windows of a record', () => {
  const ok = makeRecord({ state: 'ok', clientTimeUs: 1000, functionTimeUs: 400, computeTimeUs: 350, initTimeUs: 600 })

  it('accepts a record whose windows nest', () => {
    expect(timingWindowProblems(ok)).toEqual([])
    expect(timingWindowProblems({ ...ok, params: { invocationOverheadUs: 500, clockErrorUs: 0 } })).toEqual([])
  })

  it('names each broken invariant with its values', () => {
    expect(timingWindowProblems({ ...ok, functionTimeUs: 1200, computeTimeUs: 100 })).toEqual(['functionTimeUs 1200 > clientTimeUs 1000'])
    expect(timingWindowProblems({ ...ok, computeTimeUs: 450 })).toEqual(['computeTimeUs 450 > functionTimeUs 400'])
    expect(timingWindowProblems({ ...ok, initTimeUs: 1500 })).toEqual(['initTimeUs 1500 > clientTimeUs 1000'])
  })

  it("holds overhead + function within the client window, up to the clock estimate's error", () => {
    // The 4 MB case: send → first instruction longer than the whole round trip.
    expect(timingWindowProblems({ ...ok, clientTimeUs: 152_016, functionTimeUs: 40, computeTimeUs: 30, initTimeUs: undefined, params: { invocationOverheadUs: 170_291, clockErrorUs: 50 } })).toEqual([
      'invocationOverheadUs 170291 > clientTimeUs 152016 (± clock error 50)',
      'invocationOverheadUs 170291 + functionTimeUs 40 > clientTimeUs 152016 (± clock error 50)',
    ])
    expect(timingWindowProblems({ ...ok, params: { invocationOverheadUs: 700, clockErrorUs: 0 } })).toEqual(['invocationOverheadUs 700 + functionTimeUs 400 > clientTimeUs 1000 (± clock error 0)'])
    expect(timingWindowProblems({ ...ok, params: { invocationOverheadUs: 700, clockErrorUs: 150 } })).toEqual([])
    expect(timingWindowProblems({ ...ok, params: { invocationOverheadUs: -200, clockErrorUs: 150 } })).toEqual(['invocationOverheadUs -200 < 0 beyond the clock error ±150'])
  })

  it('checks only the client time of failed invocations', () => {
    expect(timingWindowProblems(makeRecord({ state: 'timeout', error: 'x', clientTimeUs: 2_000_000, functionTimeUs: 0 }))).toEqual([])
    expect(timingWindowProblems(makeRecord({ state: 'error', error: 'x', clientTimeUs: Number.NaN }))).toEqual(['clientTimeUs NaN is not a time'])
  })

  it('reports which record broke what', () => {
    const report = timingWindowReport([ok, { ...ok, experiment: 'invocation-overhead', point: 'payload 4194304B warm', repetition: 3, functionTimeUs: 2000, computeTimeUs: 10 }])
    expect(report).toEqual([`invocation-overhead ${ok.benchmark} ${ok.language} payload 4194304B warm #3: functionTimeUs 2000 > clientTimeUs 1000`])
  })
})
