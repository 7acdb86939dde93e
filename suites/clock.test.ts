import { describe, expect, it } from 'vitest'
import { estimateClockOffset, exchangeOffset, fromFunctionSide, type Exchange } from './clock.ts'
import { estimateEviction } from './eviction-model.ts'

describe('NTP / Cristian clock-offset estimator', () => {
  it('offset and delay of one exchange', () => {
    // Server 1000 µs ahead; 100 µs each way; the server takes 50 µs.
    expect(exchangeOffset([0, 1100, 1150, 250])).toEqual({ offsetUs: 1000, delayUs: 200 })
  })
  it('takes the minimum-delay exchange and bounds the error by half its delay', () => {
    const exchanges: Exchange[] = [
      [0, 5300, 5310, 900], // asymmetric and slow: offset estimate 4855
      [1000, 6050, 6060, 1110], // 50 µs each way: 5000
      [2000, 7400, 7410, 2500], // 400 then 90 µs: 5155
    ]
    const e = estimateClockOffset(exchanges)
    expect(e.offsetUs).toBe(5000)
    expect(e.delayUs).toBe(100)
    expect(e.errorUs).toBe(50)
    expect(e.exchanges).toBe(3)
    expect(e.meanOffsetUs).toBeCloseTo((4855 + 5000 + 5155) / 3, 9)
  })
  it('the function-side (UDP) estimate flips sign', () => {
    const e = fromFunctionSide(estimateClockOffset([[0, 1100, 1150, 250]]))
    expect(e.offsetUs).toBe(-1000)
  })
  it('rejects no exchanges', () => {
    expect(() => estimateClockOffset([])).toThrow(/no exchanges/)
  })
})

describe('eviction estimate', () => {
  it('brackets the keep-alive between the last all-warm and the first all-cold idle time', () => {
    const e = estimateEviction([
      { idleMs: 500, cold: false },
      { idleMs: 1000, cold: false },
      { idleMs: 1500, cold: true },
      { idleMs: 2000, cold: true },
    ])
    expect(e).toMatchObject({ lastWarmMs: 1000, firstColdMs: 1500, mixedMs: [] })
    expect(e.text).toBe('keep-alive in (1 s, 1.5 s]')
  })
  it('reports mixed answers and no eviction', () => {
    expect(estimateEviction([{ idleMs: 1000, cold: false }, { idleMs: 1000, cold: true }, { idleMs: 2000, cold: true }]).mixedMs).toEqual([1000])
    const never = estimateEviction([{ idleMs: 1000, cold: false }])
    expect(never.firstColdMs).toBeUndefined()
    expect(never.text).toMatch(/no eviction within 1 s/)
  })
})
