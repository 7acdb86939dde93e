import { describe, expect, it } from 'vitest'
import { histogram, medianCiRelativeHalfWidth, tailPercentiles } from './statistics.ts'

const ONE_TO_TEN = [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]

describe('tail percentiles', () => {
  it('p50/p75/p95/p99/p99.9 of 1..10 (numpy percentile, linear)', () => {
    const t = tailPercentiles(ONE_TO_TEN)
    expect(t.p50).toBeCloseTo(5.5, 12)
    expect(t.p75).toBeCloseTo(7.75, 12)
    expect(t.p95).toBeCloseTo(9.55, 12)
    expect(t.p99).toBeCloseTo(9.91, 12)
    expect(t.p999).toBeCloseTo(9.991, 12)
  })
  it('rejects an empty list', () => {
    expect(() => tailPercentiles([])).toThrow(RangeError)
  })
})

describe('histogram', () => {
  it("equal-width bins with Sturges' rule (numpy.histogram(x, bins=5))", () => {
    const h = histogram([1, 2, 2, 3, 3, 3, 4, 4, 4, 4])
    expect(h.counts).toEqual([1, 2, 0, 3, 4])
    expect(h.edges).toHaveLength(6)
    expect(h.edges[0]).toBe(1)
    expect(h.edges[5]).toBe(4)
    expect(h.edges[1]).toBeCloseTo(1.6, 12)
  })
  it('explicit bin count; the maximum lands in the last bin; counts add up', () => {
    const h = histogram([0, 0.5, 1, 1.5, 2], 2)
    expect(h).toEqual({ edges: [0, 1, 2], counts: [2, 3] })
  })
  it('constant samples give one bin', () => {
    expect(histogram([7, 7, 7])).toEqual({ edges: [7, 7], counts: [3] })
  })
  it('rejects bad bin counts', () => {
    expect(() => histogram([1, 2], 0)).toThrow(RangeError)
    expect(() => histogram([1, 2], 1.5)).toThrow(RangeError)
  })
})

describe('relative half-width of the median CI (adaptive stopping rule)', () => {
  it('1..10: CI [x(2), x(9)] = [2, 9] around 5.5 → 3.5/5.5', () => {
    expect(medianCiRelativeHalfWidth(ONE_TO_TEN)).toBeCloseTo(3.5 / 5.5, 12)
  })
  it('is the larger side of an asymmetric interval', () => {
    // n = 6 at 95 %: [x(1), x(6)] = [90, 130], median 100 → max(10, 30)/100.
    expect(medianCiRelativeHalfWidth([100, 90, 100, 100, 130, 100])).toBeCloseTo(0.3, 12)
  })
  it('is undefined below 6 samples at 95 % (no interval) and for a zero median', () => {
    expect(medianCiRelativeHalfWidth([1, 2, 3, 4, 5])).toBeUndefined()
    expect(medianCiRelativeHalfWidth([0, 0, 0, 0, 0, 0, 0])).toBeUndefined()
  })
  it('constant samples are within 0 %', () => {
    expect(medianCiRelativeHalfWidth([5, 5, 5, 5, 5, 5])).toBe(0)
  })
})
