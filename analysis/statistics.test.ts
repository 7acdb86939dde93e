import { describe, expect, it } from 'vitest'
import {
  computeStatistics,
  leBoudecMedianIndices,
  leBoudecMedianInterval,
  mannWhitneyU,
  mean,
  median,
  normalCdf,
  normalQuantile,
  percentile,
  sampleStd,
  studentTCdf,
  studentTInterval,
  studentTQuantile,
} from './statistics.ts'

const ONE_TO_TEN = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]

describe('descriptive statistics', () => {
  it('mean, median and sample std of 1..10', () => {
    expect(mean(ONE_TO_TEN)).toBe(5.5)
    expect(median(ONE_TO_TEN)).toBe(5.5)
    // Σ(x − 5.5)² = 82.5; 82.5 / 9 = 9.1666…; √ = 3.0276503540974917
    expect(sampleStd(ONE_TO_TEN)).toBeCloseTo(3.0276503540974917, 14)
  })

  it('median of an odd, unsorted list is its middle value', () => {
    expect(median([9, 1, 5, 3, 7])).toBe(5)
    expect(median([4])).toBe(4)
  })

  it('mean does not drift on many small values next to a large one', () => {
    const samples = [1e16, ...Array.from({ length: 1000 }, () => 1), -1e16]
    expect(mean(samples)).toBeCloseTo(1000 / 1002, 12)
  })

  it('sample std of a single value is 0, of two values |a − b|/√2', () => {
    expect(sampleStd([42])).toBe(0)
    expect(sampleStd([1, 3])).toBeCloseTo(Math.SQRT2, 14)
  })

  it('percentiles interpolate linearly between closest ranks (numpy default / R type 7)', () => {
    // h = (n − 1)·p/100 = 9·0.9 = 8.1 → x[8] + 0.1·(x[9] − x[8]) = 9 + 0.1 = 9.1
    expect(percentile(ONE_TO_TEN, 90)).toBeCloseTo(9.1, 12)
    expect(percentile(ONE_TO_TEN, 95)).toBeCloseTo(9.55, 12)
    expect(percentile(ONE_TO_TEN, 99)).toBeCloseTo(9.91, 12)
    expect(percentile(ONE_TO_TEN, 25)).toBeCloseTo(3.25, 12)
    expect(percentile(ONE_TO_TEN, 0)).toBe(1)
    expect(percentile(ONE_TO_TEN, 100)).toBe(10)
    // Uneven spacing: [10, 20, 40, 80], p = 50 → h = 1.5 → 20 + 0.5·20 = 30
    expect(percentile([10, 20, 40, 80], 50)).toBe(30)
    // p = 75 → h = 2.25 → 40 + 0.25·40 = 50
    expect(percentile([10, 20, 40, 80], 75)).toBe(50)
    expect(percentile([7], 99)).toBe(7)
  })

  it('rejects empty, unsorted and non-finite input and bad p', () => {
    expect(() => mean([])).toThrow(RangeError)
    expect(() => median([])).toThrow(/at least one sample/)
    expect(() => computeStatistics([])).toThrow(RangeError)
    expect(() => percentile([3, 1, 2], 50)).toThrow(/sorted ascending/)
    expect(() => percentile(ONE_TO_TEN, 101)).toThrow(/\[0, 100\]/)
    expect(() => mean([1, Number.NaN])).toThrow(/sample 1 is NaN/)
    expect(() => computeStatistics([1, Infinity])).toThrow(RangeError)
  })
})

describe('Student t distribution', () => {
  it.each([
    // Table values of t_{p, df}
    [0.975, 1, 12.7062],
    [0.975, 2, 4.3027],
    [0.975, 9, 2.2622],
    [0.975, 29, 2.0452],
    [0.995, 9, 3.2498],
    [0.995, 1, 63.6567],
    [0.95, 5, 2.015],
    [0.975, 120, 1.9799],
  ])('t(%s, %s) = %s (table, 4 decimals)', (p, df, expected) => {
    expect(Math.abs(studentTQuantile(p, df) - expected)).toBeLessThan(5e-5)
  })

  it.each([
    // Reference values to 1e-9 (scipy.stats.t.ppf)
    [0.975, 1, 12.706204736174694],
    [0.975, 2, 4.302652729749462],
    [0.975, 9, 2.262157162798205],
    [0.975, 29, 2.045229642132703],
    [0.995, 9, 3.249835541592126],
    [0.9995, 1, 636.6192487687897],
    [0.6, 3, 0.2766706623326898],
    [0.975, 1000, 1.9623390808264083],
    [0.975, 1e5 + 1, 1.9599877072973786],
    [0.975, 1e7, 1.959964221767205],
    [0.995, 1e9, 2.5758293084654484],
  ])('t(%s, %s) = %s to 1e-6', (p, df, expected) => {
    expect(Math.abs(studentTQuantile(p, df) - expected)).toBeLessThan(1e-6 * Math.max(1, expected))
  })

  it('is antisymmetric and tends to the normal quantile for large df', () => {
    expect(studentTQuantile(0.025, 5)).toBeCloseTo(-studentTQuantile(0.975, 5), 10)
    expect(studentTQuantile(0.5, 7)).toBe(0)
    expect(Math.abs(studentTQuantile(0.975, 1e12) - 1.959964)).toBeLessThan(1e-6)
    expect(studentTQuantile(0.975, Infinity)).toBeCloseTo(1.959963984540054, 9)
  })

  it('the CDF inverts the quantile', () => {
    for (const df of [1, 2.5, 9, 40]) {
      for (const p of [0.01, 0.3, 0.9, 0.999]) {
        expect(studentTCdf(studentTQuantile(p, df), df)).toBeCloseTo(p, 10)
      }
    }
    // df = 1 is the Cauchy distribution: F(t) = 1/2 + atan(t)/π
    expect(studentTCdf(3, 1)).toBeCloseTo(0.5 + Math.atan(3) / Math.PI, 12)
  })

  it('rejects p outside (0, 1) and df ≤ 0', () => {
    expect(() => studentTQuantile(1, 5)).toThrow(RangeError)
    expect(() => studentTQuantile(0.975, 0)).toThrow(/df must be > 0/)
  })
})

describe('normal distribution', () => {
  it('quantiles and CDF', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 10)
    expect(normalQuantile(0.995)).toBeCloseTo(2.5758293035489004, 10)
    expect(normalQuantile(0.5)).toBe(0)
    expect(normalQuantile(1e-10)).toBeCloseTo(-6.361340902404056, 8)
    expect(normalCdf(1.96)).toBeCloseTo(0.9750021048517795, 12)
    // Lower tail keeps relative precision: Φ(−8) = 6.22096057427174e-16
    expect(normalCdf(-8) / 6.22096057427174e-16).toBeCloseTo(1, 10)
  })
})

describe('Student-t interval of the mean', () => {
  it('1..10: 5.5 ± t(0.975, 9)·s/√10', () => {
    // scipy.stats.t.interval(0.95, 9, 5.5, sem) = (3.334149410331831, 7.665850589668169)
    const [lo, hi] = studentTInterval(ONE_TO_TEN, 0.95)!
    expect(lo).toBeCloseTo(3.334149410331831, 9)
    expect(hi).toBeCloseTo(7.665850589668169, 9)
    const [lo99, hi99] = studentTInterval(ONE_TO_TEN, 0.99)!
    expect(lo99).toBeCloseTo(2.3885193567296983, 9)
    expect(hi99).toBeCloseTo(8.611480643270301, 9)
  })

  it('is undefined for one sample and degenerate for constant samples', () => {
    expect(studentTInterval([3], 0.95)).toBeUndefined()
    expect(studentTInterval([2, 2, 2], 0.95)).toEqual([2, 2])
    expect(() => studentTInterval([1, 2], 95)).toThrow(/confidence must be in \(0, 1\)/)
  })
})

describe('Le Boudec median interval', () => {
  // Rows of Le Boudec's Table A.1, checked by hand with Binomial(n, ½):
  // n = 6: P(1 ≤ B ≤ 5) = 1 − 2/64 = 0.969 ≥ 0.95 → [1, 6]
  // n = 10: P(2 ≤ B ≤ 8) = 1 − 22/1024 = 0.979; P(3 ≤ B ≤ 7) = 0.891 → [2, 9]
  // n = 20: 1 − 2·21700/2²⁰ = 0.959; 1 − 2·60460/2²⁰ = 0.885 → [6, 15]
  // n = 20 at 99%: 1 − 2·1351/2²⁰ = 0.9974; 1 − 2·6196/2²⁰ = 0.988 → [4, 17]
  it.each([
    [5, 0.95, undefined],
    [6, 0.95, [1, 6]],
    [7, 0.95, [1, 7]],
    [10, 0.95, [2, 9]],
    [20, 0.95, [6, 15]],
    [50, 0.95, [18, 33]],
    [70, 0.95, [27, 44]],
    [7, 0.99, undefined],
    [8, 0.99, [1, 8]],
    [10, 0.99, [1, 10]],
    [20, 0.99, [4, 17]],
    [70, 0.99, [24, 47]],
  ])('exact binomial: n = %s at %s → %j', (n, confidence, expected) => {
    expect(leBoudecMedianIndices(n, confidence)).toEqual(expected)
  })

  it.each([
    // j = ⌊n/2 − z√n/2⌋, k = ⌈n/2 + 1 + z√n/2⌉
    [71, 0.95, [27, 45]], // 35.5 − 0.98·8.426 = 27.24; 36.5 + 8.26 = 44.76
    [100, 0.95, [40, 61]], // 50 − 9.8 = 40.2; 51 + 9.8 = 60.8
    [100, 0.99, [37, 64]], // 50 − 12.88 = 37.12; 51 + 12.88 = 63.88
    [400, 0.95, [180, 221]], // 200 − 19.6 = 180.4; 201 + 19.6 = 220.6
  ])('normal approximation: n = %s at %s → %j', (n, confidence, expected) => {
    expect(leBoudecMedianIndices(n, confidence)).toEqual(expected)
  })

  it('returns 1-based order statistics of the sorted samples', () => {
    expect(leBoudecMedianInterval(ONE_TO_TEN, 0.95)).toEqual([2, 9])
    expect(leBoudecMedianInterval(ONE_TO_TEN, 0.99)).toEqual([1, 10])
    const hundred = Array.from({ length: 100 }, (_, i) => (i + 1) * 10)
    expect(leBoudecMedianInterval(hundred, 0.95)).toEqual([400, 610])
    expect(leBoudecMedianInterval([1, 2, 3, 4, 5], 0.95)).toBeUndefined()
    expect(() => leBoudecMedianInterval([2, 1, 3, 4, 5, 6], 0.95)).toThrow(/sorted/)
  })

  it('the exact intervals really cover at the requested level, and j is the largest that does', () => {
    const binomialCdf = (n: number, k: number): number => {
      let c = 1
      let sum = 0
      for (let i = 0; i <= k; i++) {
        sum += c
        c = (c * (n - i)) / (i + 1)
      }
      return sum / 2 ** n
    }
    for (let n = 6; n <= 70; n++) {
      const [j, k] = leBoudecMedianIndices(n, 0.95)!
      expect(j + k).toBe(n + 1)
      expect(binomialCdf(n, k - 1) - binomialCdf(n, j - 1)).toBeGreaterThanOrEqual(0.95)
      expect(binomialCdf(n, k - 2) - binomialCdf(n, j)).toBeLessThan(0.95)
    }
  })
})

describe('computeStatistics', () => {
  it('1..10 with exact numbers', () => {
    const s = computeStatistics([10, 9, 8, 7, 6, 5, 4, 3, 2, 1])
    expect(s.n).toBe(10)
    expect(s.mean).toBe(5.5)
    expect(s.median).toBe(5.5)
    expect(s.p50).toBe(5.5)
    expect(s.std).toBeCloseTo(3.0276503540974917, 14)
    expect(s.cv).toBeCloseTo((3.0276503540974917 / 5.5) * 100, 12)
    expect(s.min).toBe(1)
    expect(s.max).toBe(10)
    expect(s.p90).toBeCloseTo(9.1, 12)
    expect(s.p95).toBeCloseTo(9.55, 12)
    expect(s.p99).toBeCloseTo(9.91, 12)
    expect(s.ciT95![0]).toBeCloseTo(3.334149410331831, 9)
    expect(s.ciT99![1]).toBeCloseTo(8.611480643270301, 9)
    expect(s.ciMedian95).toEqual([2, 9])
    expect(s.ciMedian99).toEqual([1, 10])
  })

  it('a single sample has no spread and no intervals', () => {
    expect(computeStatistics([250])).toEqual({
      n: 1, mean: 250, median: 250, std: 0, cv: 0, min: 250, max: 250, p50: 250, p90: 250, p95: 250, p99: 250,
    })
  })

  it('[2, 4, 4, 4, 5, 5, 7, 9]: std 2.138, median CIs [x(1), x(8)] at n = 8', () => {
    const s = computeStatistics([2, 4, 4, 4, 5, 5, 7, 9])
    expect(s.mean).toBe(5)
    expect(s.median).toBe(4.5)
    // Σ(x − 5)² = 32; 32 / 7 = 4.571…; √ = 2.138089935299395
    expect(s.std).toBeCloseTo(2.138089935299395, 14)
    // h = 7·0.9 = 6.3 → 7 + 0.3·2 = 7.6
    expect(s.p90).toBeCloseTo(7.6, 12)
    expect(s.ciMedian95).toEqual([2, 9])
    expect(s.ciMedian99).toEqual([2, 9])
  })
})

describe('Mann-Whitney U', () => {
  it('textbook example: ages at diagnosis, males vs females (U = 17, p = 0.1113)', () => {
    // The example of scipy.stats.mannwhitneyu's documentation. By hand: pooled and sorted,
    // 11 12 16 17 19 20 22 24 29; the males hold ranks 3, 5, 7, 8, 9 → R = 32,
    // U = 32 − 5·6/2 = 17; μ = 10, σ = √(5·4·10/12) = 4.0825; z = (7 − 0.5)/4.0825 = 1.592.
    const r = mannWhitneyU([19, 22, 16, 29, 24], [20, 11, 17, 12])
    expect(r.u).toBe(17)
    expect(r.z).toBeCloseTo(1.5921683328090657, 12)
    expect(r.pValue).toBeCloseTo(0.11134688653314041, 12)
  })

  it('applies the tie correction (scipy: U = 4.5, p = 0.0641466)', () => {
    // Pooled: 1 2 2 2 3 3 4 5 6 6 7; ties of 3 (2s) and 2 (3s, 6s): Σ(t³ − t) = 24 + 6 + 6 = 36.
    // a ranks: 1, 3, 3, 5.5, 7 → R = 19.5, U = 19.5 − 15 = 4.5; μ = 15;
    // σ² = 30/12·(12 − 36/110) = 29.1818…; z = −(10.5 − 0.5)/5.4020 = −1.8512
    const r = mannWhitneyU([1, 2, 2, 3, 4], [2, 3, 5, 6, 6, 7])
    expect(r.u).toBe(4.5)
    expect(r.z).toBeCloseTo(-1.8511594413390131, 12)
    expect(r.pValue).toBeCloseTo(0.06414661873440437, 12)
  })

  it('is symmetric in its arguments and caps p at 1', () => {
    const ab = mannWhitneyU([1, 2, 3], [4, 5, 6])
    const ba = mannWhitneyU([4, 5, 6], [1, 2, 3])
    expect(ab.u).toBe(0)
    expect(ba.u).toBe(9)
    expect(ab.z).toBeCloseTo(-ba.z, 14)
    expect(ab.pValue).toBeCloseTo(ba.pValue, 14)
    expect(mannWhitneyU([1, 2], [1, 2])).toEqual({ u: 2, z: 0, pValue: 1 })
    expect(mannWhitneyU([5, 5, 5], [5, 5])).toEqual({ u: 3, z: 0, pValue: 1 })
  })

  it('finds a clear shift between two large samples', () => {
    const a = Array.from({ length: 50 }, (_, i) => 100 + i)
    const b = Array.from({ length: 50 }, (_, i) => 130 + i)
    const r = mannWhitneyU(a, b)
    expect(r.z).toBeLessThan(0)
    expect(r.pValue).toBeLessThan(1e-6)
    expect(() => mannWhitneyU([], [1])).toThrow(RangeError)
  })
})
