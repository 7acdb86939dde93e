/**
 * Statistics over invocation samples: the only statistics code of the suite.
 *
 * Pure functions, no I/O, no dependencies. The special functions (log-gamma,
 * regularized incomplete beta and gamma) are implemented here so that the
 * Student-t and normal quantiles are accurate to well below 1e-6 without a
 * numerics library.
 *
 * Conventions:
 * - `std` is the sample standard deviation (divisor n − 1), unlike SeBS's
 *   `np.std` (population, divisor n): we estimate the spread of the
 *   population the samples came from.
 * - Percentiles interpolate linearly between the closest ranks: numpy's
 *   default (`method='linear'`), R's type 7, Excel's PERCENTILE.INC.
 * - The CI of the median is Le Boudec's nonparametric interval (order
 *   statistics, exact binomial for n ≤ 70 as in the book's Table A.1, normal
 *   approximation above); the CI of the mean is Student's t interval.
 *
 * Functions that get a list of samples throw a RangeError on an empty list or
 * a non-finite value: either is a bug in the caller, not a measurement.
 */

export interface Statistics {
  n: number
  mean: number
  median: number
  /** Sample standard deviation (divisor n − 1); 0 when n = 1 (no spread can be estimated). */
  std: number
  /** Coefficient of variation, std / mean · 100 (%); 0 when std is 0. */
  cv: number
  min: number
  max: number
  p50: number
  p90: number
  p95: number
  p99: number
  /** Student-t 95% CI of the mean; undefined for n < 2. */
  ciT95?: [number, number]
  /** Student-t 99% CI of the mean; undefined for n < 2. */
  ciT99?: [number, number]
  /** Le Boudec nonparametric 95% CI of the median; undefined for n < 6. */
  ciMedian95?: [number, number]
  /** Le Boudec nonparametric 99% CI of the median; undefined for n < 8. */
  ciMedian99?: [number, number]
}

// ---------------------------------------------------------------------------
// Argument checks

function assertSamples(samples: readonly number[], fn: string): void {
  if (samples.length === 0) throw new RangeError(`${fn}: needs at least one sample, got an empty list`)
  for (let i = 0; i < samples.length; i++) {
    if (!Number.isFinite(samples[i])) {
      throw new RangeError(`${fn}: sample ${i} is ${samples[i]}; only finite numbers can be summarised`)
    }
  }
}

function assertSorted(sorted: readonly number[], fn: string): void {
  assertSamples(sorted, fn)
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i] < sorted[i - 1]) {
      throw new RangeError(`${fn}: samples must be sorted ascending (index ${i}: ${sorted[i]} < ${sorted[i - 1]})`)
    }
  }
}

function assertConfidence(confidence: number, fn: string): void {
  if (!(confidence > 0 && confidence < 1)) {
    throw new RangeError(`${fn}: confidence must be in (0, 1), e.g. 0.95; got ${confidence}`)
  }
}

function sortedCopy(samples: readonly number[]): number[] {
  return [...samples].sort((a, b) => a - b)
}

// ---------------------------------------------------------------------------
// Descriptive statistics

/** Arithmetic mean (Neumaier-compensated sum, so long runs of samples do not drift). */
export function mean(samples: readonly number[]): number {
  assertSamples(samples, 'mean')
  let sum = 0
  let compensation = 0
  for (const x of samples) {
    const t = sum + x
    compensation += Math.abs(sum) >= Math.abs(x) ? sum - t + x : x - t + sum
    sum = t
  }
  return (sum + compensation) / samples.length
}

/** Median: the 50th percentile (the mean of the two middle values for even n). Samples need not be sorted. */
export function median(samples: readonly number[]): number {
  assertSamples(samples, 'median')
  return percentile(sortedCopy(samples), 50)
}

/**
 * Sample standard deviation, divisor n − 1 (numpy `std(ddof=1)`, R `sd`).
 * Returns 0 for a single sample: no spread can be estimated from one value,
 * and 0 keeps summaries JSON-clean (the CI fields, undefined for n < 2, say
 * that no spread was estimated).
 */
export function sampleStd(samples: readonly number[]): number {
  assertSamples(samples, 'sampleStd')
  if (samples.length < 2) return 0
  const m = mean(samples)
  let ss = 0
  for (const x of samples) ss += (x - m) * (x - m)
  return Math.sqrt(ss / (samples.length - 1))
}

/**
 * The p-th percentile (p in 0..100) of samples sorted ascending, by linear
 * interpolation between the closest ranks: with h = (n − 1)·p/100, the result
 * is x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋]) (0-based x). This is numpy's
 * default (`method='linear'`) and R's `quantile(type = 7)`.
 */
export function percentile(sorted: readonly number[], p: number): number {
  assertSorted(sorted, 'percentile')
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile: p must be in [0, 100]; got ${p}`)
  const h = ((sorted.length - 1) * p) / 100
  const lo = Math.floor(h)
  if (lo >= sorted.length - 1) return sorted[sorted.length - 1]
  const frac = h - lo
  return sorted[lo] + frac * (sorted[lo + 1] - sorted[lo])
}

// ---------------------------------------------------------------------------
// Special functions

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
]

/** ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9; relative error about 1e-15). */
function lnGamma(x: number): number {
  if (x < 0.5) {
    // Reflection keeps the Lanczos series in its accurate range.
    return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lnGamma(1 - x)
  }
  const z = x - 1
  let a = LANCZOS[0]
  const t = z + 7.5
  for (let i = 1; i < 9; i++) a += LANCZOS[i] / (z + i)
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a)
}

const EPS = 1e-16
const TINY = 1e-300
const MAX_ITERATIONS = 100_000

/**
 * Continued fraction of the incomplete beta function (modified Lentz, as in
 * Numerical Recipes `betacf`). Converges quickly for x < (a+1)/(a+b+2).
 */
function betaContinuedFraction(x: number, a: number, b: number): number {
  const qab = a + b
  const qap = a + 1
  const qam = a - 1
  let c = 1
  let d = 1 - (qab * x) / qap
  if (Math.abs(d) < TINY) d = TINY
  d = 1 / d
  let h = d
  for (let m = 1; m <= MAX_ITERATIONS; m++) {
    const m2 = 2 * m
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2))
    d = 1 + aa * d
    if (Math.abs(d) < TINY) d = TINY
    c = 1 + aa / c
    if (Math.abs(c) < TINY) c = TINY
    d = 1 / d
    h *= d * c
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2))
    d = 1 + aa * d
    if (Math.abs(d) < TINY) d = TINY
    c = 1 + aa / c
    if (Math.abs(c) < TINY) c = TINY
    d = 1 / d
    const delta = d * c
    h *= delta
    if (Math.abs(delta - 1) < EPS) return h
  }
  throw new RangeError(`incomplete beta did not converge for x=${x}, a=${a}, b=${b}`)
}

/**
 * Regularized incomplete beta I_x(a, b). Takes y = 1 − x separately so that
 * callers who know 1 − x exactly (the t distribution near 0) lose no digits.
 */
function regularizedBeta(x: number, y: number, a: number, b: number): number {
  if (x <= 0) return 0
  if (y <= 0) return 1
  const lnFront = a * Math.log(x) + b * Math.log(y) - (lnGamma(a) + lnGamma(b) - lnGamma(a + b))
  const front = Math.exp(lnFront)
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(x, a, b)) / a
  return 1 - (front * betaContinuedFraction(y, b, a)) / b
}

/** Upper regularized incomplete gamma Q(a, x) = Γ(a, x)/Γ(a) (series or continued fraction, as in Numerical Recipes). */
function upperRegularizedGamma(a: number, x: number): number {
  if (x <= 0) return 1
  const lnFront = -x + a * Math.log(x) - lnGamma(a)
  if (x < a + 1) {
    // Series for the lower function P, then Q = 1 − P.
    let ap = a
    let sum = 1 / a
    let del = sum
    for (let n = 1; n <= MAX_ITERATIONS; n++) {
      ap += 1
      del *= x / ap
      sum += del
      if (Math.abs(del) < Math.abs(sum) * EPS) return 1 - sum * Math.exp(lnFront)
    }
    throw new RangeError(`incomplete gamma series did not converge for a=${a}, x=${x}`)
  }
  let b = x + 1 - a
  let c = 1 / TINY
  let d = 1 / b
  let h = d
  for (let i = 1; i <= MAX_ITERATIONS; i++) {
    const an = -i * (i - a)
    b += 2
    d = an * d + b
    if (Math.abs(d) < TINY) d = TINY
    c = b + an / c
    if (Math.abs(c) < TINY) c = TINY
    d = 1 / d
    const delta = d * c
    h *= delta
    if (Math.abs(delta - 1) < EPS) return Math.exp(lnFront) * h
  }
  throw new RangeError(`incomplete gamma continued fraction did not converge for a=${a}, x=${x}`)
}

/** Upper tail of the standard normal, P(Z > z), accurate far into the tail. */
function normalUpperTail(z: number): number {
  // erfc(u) = Q(1/2, u²) for u ≥ 0, and P(Z > z) = erfc(z/√2)/2.
  if (z >= 0) return 0.5 * upperRegularizedGamma(0.5, (z * z) / 2)
  return 1 - 0.5 * upperRegularizedGamma(0.5, (z * z) / 2)
}

/** Standard normal CDF Φ(z); keeps its relative precision in the lower tail (Φ(−8) ≈ 6.2e-16). */
export function normalCdf(z: number): number {
  return normalUpperTail(-z)
}

/** Inverse of the standard normal CDF: z with Φ(z) = p, p in (0, 1). Accurate to about 1e-12. */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile: p must be in (0, 1); got ${p}`)
  if (p === 0.5) return 0
  // Bisection on the tail probability keeps full relative precision for p near 0 or 1.
  const tail = p < 0.5 ? p : 1 - p
  let lo = 0
  let hi = 40
  for (let i = 0; i < 200 && hi - lo > 1e-15 * hi; i++) {
    const mid = (lo + hi) / 2
    if (normalUpperTail(mid) > tail) lo = mid
    else hi = mid
  }
  const z = (lo + hi) / 2
  return p < 0.5 ? -z : z
}

/** Two-sided tail of Student's t: P(|T| > t) for t ≥ 0 and df > 0 degrees of freedom. */
function studentTTwoSidedTail(t: number, df: number): number {
  if (t <= 0) return 1
  const t2 = t * t
  // P(|T| > t) = I_{df/(df+t²)}(df/2, 1/2); 1 − x = t²/(df+t²) is passed exactly.
  return regularizedBeta(df / (df + t2), t2 / (df + t2), df / 2, 0.5)
}

/** Student's t CDF P(T ≤ t) with df degrees of freedom (df = Infinity gives the normal). */
export function studentTCdf(t: number, df: number): number {
  if (!(df > 0)) throw new RangeError(`studentTCdf: df must be > 0; got ${df}`)
  if (df === Infinity) return normalCdf(t)
  const half = studentTTwoSidedTail(Math.abs(t), df) / 2
  return t >= 0 ? 1 - half : half
}

const tQuantileCache = new Map<string, number>()

/**
 * Above this many degrees of freedom ln Γ(df/2) − ln Γ(df/2 + ½) cancels
 * badly in doubles (the CDF route drifts by 1e-9 at df = 1e7 and 3e-7 at
 * 1e9), while the Cornish-Fisher expansion below is exact to far below 1e-12.
 */
const T_EXPANSION_MIN_DF = 1e5

/** Cornish-Fisher expansion of the t quantile around the normal quantile z (Abramowitz & Stegun 26.7.5). */
function cornishFisherT(z: number, df: number): number {
  const z2 = z * z
  const g1 = (z * (z2 + 1)) / 4
  const g2 = (z * ((5 * z2 + 16) * z2 + 3)) / 96
  const g3 = (z * (((3 * z2 + 19) * z2 + 17) * z2 - 15)) / 384
  const g4 = (z * ((((79 * z2 + 776) * z2 + 1482) * z2 - 1920) * z2 - 945)) / 92160
  return z + g1 / df + g2 / df ** 2 + g3 / df ** 3 + g4 / df ** 4
}

/**
 * Inverse of Student's t CDF: t with P(T ≤ t) = p, for df > 0 degrees of
 * freedom (df = Infinity gives the normal quantile). Solved by bisection on the
 * exact CDF (regularized incomplete beta) to a relative precision of 1e-13,
 * e.g. t(0.975, 1) = 12.7062047, t(0.975, 9) = 2.2621572.
 */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`studentTQuantile: p must be in (0, 1); got ${p}`)
  if (!(df > 0)) throw new RangeError(`studentTQuantile: df must be > 0; got ${df}`)
  if (p === 0.5) return 0
  if (df === Infinity) return normalQuantile(p)
  if (df > T_EXPANSION_MIN_DF) return cornishFisherT(normalQuantile(p), df)
  const key = `${p}|${df}`
  const cached = tQuantileCache.get(key)
  if (cached !== undefined) return cached

  const twoSided = 2 * (p < 0.5 ? p : 1 - p)
  // Bracket: P(|T| > hi) must fall below the target.
  let lo = 0
  let hi = 2
  while (studentTTwoSidedTail(hi, df) > twoSided) {
    lo = hi
    hi *= 2
    if (hi > 1e300) break
  }
  for (let i = 0; i < 300 && hi - lo > 1e-13 * hi; i++) {
    const mid = (lo + hi) / 2
    if (studentTTwoSidedTail(mid, df) > twoSided) lo = mid
    else hi = mid
  }
  const t = (lo + hi) / 2
  const result = p < 0.5 ? -t : t
  // Summaries ask for the same few quantiles over and over; keep the cache bounded.
  if (tQuantileCache.size > 1000) tQuantileCache.clear()
  tQuantileCache.set(key, result)
  return result
}

// ---------------------------------------------------------------------------
// Confidence intervals

/**
 * Student-t confidence interval of the mean: mean ± t((1+γ)/2, n−1)·s/√n,
 * scipy's `t.interval(γ, n−1, mean, sem)`. Undefined for n < 2.
 */
export function studentTInterval(samples: readonly number[], confidence: number): [number, number] | undefined {
  assertSamples(samples, 'studentTInterval')
  assertConfidence(confidence, 'studentTInterval')
  const n = samples.length
  if (n < 2) return undefined
  const m = mean(samples)
  const halfWidth = (studentTQuantile((1 + confidence) / 2, n - 1) * sampleStd(samples)) / Math.sqrt(n)
  return [m - halfWidth, m + halfWidth]
}

/** Largest n for which the exact binomial indices are used, as in Le Boudec's Table A.1 (n ≤ 70). */
const LE_BOUDEC_EXACT_MAX_N = 70

/**
 * The normal quantiles Le Boudec uses in Theorem 2.1 (0.980 = 1.96/2 and
 * 1.288 = 2.576/2); other confidence levels use the exact normal quantile.
 */
function leBoudecZ(confidence: number): number {
  if (confidence === 0.95) return 1.96
  if (confidence === 0.99) return 2.576
  return normalQuantile((1 + confidence) / 2)
}

/**
 * 1-based order-statistic indices [j, k] of Le Boudec's nonparametric CI of
 * the median (Performance Evaluation of Computer and Communication Systems,
 * Theorem 2.1 and Table A.1): the median lies in [x_(j), x_(k)] with
 * probability at least γ when P(j ≤ B < k) ≥ γ for B ~ Binomial(n, ½).
 *
 * - n ≤ 70: the exact binomial, with symmetric indices k = n + 1 − j and the
 *   largest such j (the book's Table A.1). E.g. n = 6 at 95% → [1, 6],
 *   n = 10 → [2, 9], n = 20 → [6, 15].
 * - n ≥ 71: the normal approximation, j = ⌊n/2 − z·√n/2⌋ and
 *   k = ⌈n/2 + 1 + z·√n/2⌉ (z = 1.96 for 95%, 2.576 for 99%).
 *
 * SeBS (`sebs/statistics.py`, `ci_le_boudec`) computes these j and k from the
 * formula and then indexes its sorted array with them 0-based, so its interval
 * is [x_(j+1), x_(k+1)], one order statistic higher on both ends; we use the
 * book's 1-based definition.
 *
 * Undefined when no interval exists at that level (j < 1 or k > n): n < 6 at
 * 95%, n < 8 at 99%.
 */
export function leBoudecMedianIndices(n: number, confidence: number): [number, number] | undefined {
  assertConfidence(confidence, 'leBoudecMedianIndices')
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`leBoudecMedianIndices: n must be a non-negative integer; got ${n}`)
  if (n < 1) return undefined
  if (n <= LE_BOUDEC_EXACT_MAX_N) {
    // P(B ≤ i) for B ~ Binomial(n, ½), accumulated from C(n, i)/2ⁿ. For n ≤ 70
    // the doubles carry ~15 significant digits, far more than the comparison with γ needs.
    const total = 2 ** n
    let coefficient = 1 // C(n, 0)
    let cdfBelowJ = 0 // P(B ≤ j − 1)
    let j = 0
    for (let candidate = 1; candidate <= Math.floor(n / 2) + 1; candidate++) {
      cdfBelowJ += coefficient / total
      coefficient = (coefficient * (n - (candidate - 1))) / candidate
      // P(candidate ≤ B ≤ n − candidate) = 1 − 2·P(B ≤ candidate − 1) by symmetry.
      if (1 - 2 * cdfBelowJ >= confidence) j = candidate
      else break
    }
    if (j < 1) return undefined
    return [j, n + 1 - j]
  }
  const z = leBoudecZ(confidence)
  const j = Math.floor(0.5 * n - (z * Math.sqrt(n)) / 2)
  const k = Math.ceil(0.5 * n + 1 + (z * Math.sqrt(n)) / 2)
  if (j < 1 || k > n) return undefined
  return [j, k]
}

/**
 * Le Boudec's nonparametric confidence interval of the median, [x_(j), x_(k)]
 * with the 1-based indices of {@link leBoudecMedianIndices}. `sorted` must be
 * ascending. Undefined when n is too small for the confidence level.
 */
export function leBoudecMedianInterval(sorted: readonly number[], confidence: number): [number, number] | undefined {
  assertSorted(sorted, 'leBoudecMedianInterval')
  const indices = leBoudecMedianIndices(sorted.length, confidence)
  if (!indices) return undefined
  return [sorted[indices[0] - 1], sorted[indices[1] - 1]]
}

// ---------------------------------------------------------------------------
// Everything at once

/** All descriptive statistics and CIs of one set of samples (need not be sorted). Throws on an empty list. */
export function computeStatistics(samples: readonly number[]): Statistics {
  assertSamples(samples, 'computeStatistics')
  const sorted = sortedCopy(samples)
  const m = mean(sorted)
  const std = sampleStd(sorted)
  const med = percentile(sorted, 50)
  const stats: Statistics = {
    n: sorted.length,
    mean: m,
    median: med,
    std,
    cv: std === 0 ? 0 : (std / Math.abs(m)) * 100,
    min: sorted[0],
    max: sorted[sorted.length - 1],
    p50: med,
    p90: percentile(sorted, 90),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
  }
  const ciT95 = studentTInterval(sorted, 0.95)
  const ciT99 = studentTInterval(sorted, 0.99)
  const ciMedian95 = leBoudecMedianInterval(sorted, 0.95)
  const ciMedian99 = leBoudecMedianInterval(sorted, 0.99)
  // Absent keys rather than `undefined` values keep the JSON and deep-equality checks clean.
  if (ciT95) stats.ciT95 = ciT95
  if (ciT99) stats.ciT99 = ciT99
  if (ciMedian95) stats.ciMedian95 = ciMedian95
  if (ciMedian99) stats.ciMedian99 = ciMedian99
  return stats
}

// ---------------------------------------------------------------------------
// Two-sample test

export interface MannWhitneyResult {
  /** U of the first sample: the number of pairs (a_i, b_j) with a_i > b_j, ties counting ½. */
  u: number
  /** Standardised U with tie and continuity correction; > 0 when `a` tends to be larger than `b`. */
  z: number
  /** Two-sided p-value from the normal approximation. */
  pValue: number
}

/**
 * Mann-Whitney U test (Wilcoxon rank-sum), two-sided, normal approximation
 * with tie correction and continuity correction: scipy's
 * `mannwhitneyu(a, b, method='asymptotic', use_continuity=True)`, whose
 * `statistic` is our `u`.
 *
 * U₁ = R₁ − n₁(n₁+1)/2 (R₁: sum of the mid-ranks of `a`), μ = n₁n₂/2,
 * σ² = n₁n₂/12 · ((N+1) − Σ(t³−t)/(N(N−1))) over tie groups of size t,
 * z = sign(U₁−μ)·max(|U₁−μ| − ½, 0)/σ, p = 2·P(Z > |z|).
 * When every value is equal (σ = 0) there is no evidence of a shift: z = 0, p = 1.
 */
export function mannWhitneyU(a: readonly number[], b: readonly number[]): MannWhitneyResult {
  assertSamples(a, 'mannWhitneyU (first sample)')
  assertSamples(b, 'mannWhitneyU (second sample)')
  const n1 = a.length
  const n2 = b.length
  const total = n1 + n2
  const pooled = [
    ...a.map((value) => ({ value, first: true })),
    ...b.map((value) => ({ value, first: false })),
  ].sort((x, y) => x.value - y.value)

  let rankSumA = 0
  let tieTerm = 0
  for (let i = 0; i < total; ) {
    let end = i
    while (end + 1 < total && pooled[end + 1].value === pooled[i].value) end++
    const size = end - i + 1
    const midRank = (i + 1 + end + 1) / 2
    for (let r = i; r <= end; r++) if (pooled[r].first) rankSumA += midRank
    tieTerm += size * size * size - size
    i = end + 1
  }

  const u = rankSumA - (n1 * (n1 + 1)) / 2
  const mu = (n1 * n2) / 2
  const variance = ((n1 * n2) / 12) * (total + 1 - tieTerm / (total * (total - 1)))
  if (!(variance > 0)) return { u, z: 0, pValue: 1 }
  const diff = u - mu
  const z = (Math.sign(diff) * Math.max(Math.abs(diff) - 0.5, 0)) / Math.sqrt(variance)
  const pValue = Math.min(1, 2 * normalUpperTail(Math.abs(z)))
  return { u, z, pValue }
}

// ---------------------------------------------------------------------------
// Distributions (network-ping-pong, latency histograms) and adaptive stopping

/** p50/p75/p95/p99/p99.9 of a latency distribution, SeBS's ping-pong set (linear interpolation, as `percentile`). */
export interface TailPercentiles {
  p50: number
  p75: number
  p95: number
  p99: number
  p999: number
}

/** The tail percentiles of samples (need not be sorted). Throws on an empty list. */
export function tailPercentiles(samples: readonly number[]): TailPercentiles {
  assertSamples(samples, 'tailPercentiles')
  const sorted = sortedCopy(samples)
  return {
    p50: percentile(sorted, 50),
    p75: percentile(sorted, 75),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    p999: percentile(sorted, 99.9),
  }
}

export interface Histogram {
  /** Bin edges, ascending; `edges.length = counts.length + 1`. */
  edges: number[]
  /** Samples per bin: [edges[i], edges[i+1]), the last bin closed on both ends. */
  counts: number[]
}

/**
 * Equal-width histogram from min to max. `bins` defaults to Sturges' rule,
 * ⌈log2 n⌉ + 1 (numpy's `bins='sturges'`). Constant samples give one bin
 * [v, v] holding all of them.
 */
export function histogram(samples: readonly number[], bins?: number): Histogram {
  assertSamples(samples, 'histogram')
  if (bins !== undefined && !(Number.isInteger(bins) && bins >= 1)) {
    throw new RangeError(`histogram: bins must be a positive integer; got ${bins}`)
  }
  let min = Infinity
  let max = -Infinity
  for (const x of samples) {
    if (x < min) min = x
    if (x > max) max = x
  }
  if (min === max) return { edges: [min, max], counts: [samples.length] }
  const count = bins ?? Math.ceil(Math.log2(samples.length)) + 1
  const width = (max - min) / count
  const edges = Array.from({ length: count + 1 }, (_, i) => (i === count ? max : min + i * width))
  const counts = new Array<number>(count).fill(0)
  for (const x of samples) {
    // The maximum belongs to the last (closed) bin; rounding must not push a value past it.
    const i = Math.min(count - 1, Math.floor((x - min) / width))
    counts[i]++
  }
  return { edges, counts }
}

/**
 * Half-width of the nonparametric CI of the median relative to the median:
 * max(median − lo, hi − median) / |median| (0.05 = "within ±5 %"). The
 * interval is Le Boudec's at `confidence`. Undefined when n is too small for
 * an interval at that level or the median is 0. This is the stopping rule of
 * adaptive repetitions.
 */
export function medianCiRelativeHalfWidth(samples: readonly number[], confidence = 0.95): number | undefined {
  assertSamples(samples, 'medianCiRelativeHalfWidth')
  const sorted = sortedCopy(samples)
  const ci = leBoudecMedianInterval(sorted, confidence)
  const med = percentile(sorted, 50)
  if (!ci || med === 0) return undefined
  return Math.max(med - ci[0], ci[1] - med) / Math.abs(med)
}
