import { describe, expect, it } from 'vitest'
import { AZURE_CONSUMPTION_PRICES_2026_11_28 as PRICES, azureConsumptionCost } from './cost.ts'

describe('azureConsumptionCost (Consumption plan rules, prices of 2026-11-28)', () => {
  it('carries the dated price table: $0.20 per 1M executions, $0.000016 per GB-s', () => {
    expect(PRICES.date).toBe('2026-11-28')
    expect(PRICES.perExecutionUsd).toBe(0.0000002)
    expect(PRICES.perGbSecondUsd).toBe(0.000016)
    expect(Object.isFrozen(PRICES)).toBe(true)
  })

  it('bills at least 100 ms and 128 MB', () => {
    const c = azureConsumptionCost({ durationMs: 50, memoryMb: 100 })
    expect(c).toMatchObject({ billedDurationMs: 100, billedMemoryMb: 128, priceTableDate: '2026-11-28' })
    expect(c.gbSeconds).toBe(0.0125)
    // 0.2e-6 per execution + 0.0125 GB-s × 16e-6
    expect(c.costUsd).toBeCloseTo(0.0000004, 15)
    expect(azureConsumptionCost({ durationMs: 0, memoryMb: 0 }).costUsd).toBeCloseTo(0.0000004, 15)
  })

  it('rounds memory up to the next 128 MB and time up to the next ms', () => {
    const c = azureConsumptionCost({ durationMs: 1234.2, memoryMb: 129 })
    expect(c).toMatchObject({ billedDurationMs: 1235, billedMemoryMb: 256 })
    expect(c.gbSeconds).toBeCloseTo(0.30875, 12)
    expect(c.costUsd).toBeCloseTo(0.0000002 + 0.30875 * 0.000016, 15)
    expect(azureConsumptionCost({ durationMs: 200, memoryMb: 128 }).billedMemoryMb).toBe(128)
    expect(azureConsumptionCost({ durationMs: 200, memoryMb: 256 }).billedMemoryMb).toBe(256)
    expect(azureConsumptionCost({ durationMs: 200, memoryMb: 256.001 }).billedMemoryMb).toBe(384)
  })

  it('caps memory at 1,536 MB', () => {
    const c = azureConsumptionCost({ durationMs: 2000, memoryMb: 5000 })
    expect(c).toMatchObject({ billedMemoryMb: 1536, billedDurationMs: 2000, gbSeconds: 3 })
    expect(c.costUsd).toBeCloseTo(0.0000482, 15)
  })

  it('takes another price table (a user override)', () => {
    const c = azureConsumptionCost({ durationMs: 1000, memoryMb: 1024 }, { ...PRICES, date: '2030-01-01', perGbSecondUsd: 0.00002, perExecutionUsd: 0 })
    expect(c).toMatchObject({ gbSeconds: 1, priceTableDate: '2030-01-01' })
    expect(c.costUsd).toBeCloseTo(0.00002, 15)
  })

  it('refuses inputs that would make a silently wrong cost', () => {
    expect(() => azureConsumptionCost({ durationMs: -1, memoryMb: 128 })).toThrow(RangeError)
    expect(() => azureConsumptionCost({ durationMs: Number.NaN, memoryMb: 128 })).toThrow(RangeError)
    expect(() => azureConsumptionCost({ durationMs: 1, memoryMb: Number.POSITIVE_INFINITY })).toThrow(RangeError)
  })
})
