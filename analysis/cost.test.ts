import { describe, expect, it } from 'vitest'
import type { InvocationRecord } from '../core/types.ts'
import {
  CostModelError,
  DEFAULT_PRICE_TABLE,
  PRICE_TABLE_DATE,
  estimateCost,
  formatUsd,
  perMillion,
  resolvePriceTable,
  summarizeCost,
} from './cost.ts'

function record(over: Partial<InvocationRecord> = {}): InvocationRecord {
  return {
    runId: 'r',
    benchmark: '010.sleep',
    language: 'python',
    size: 'test',
    provider: 'local',
    memory: 128,
    trigger: 'http',
    phase: 'warm',
    repetition: 0,
    requestId: 'q',
    containerId: 'c',
    isCold: false,
    outputValid: true,
    clientTimeUs: 101_000,
    functionTimeUs: 100_400,
    startedAt: 0,
    state: 'ok',
    ...over,
  } as InvocationRecord
}

describe('estimateCost', () => {
  it('AWS x86_64: function time rounded up to 1 ms × configured memory, plus the request', () => {
    const c = estimateCost(record(), 'aws-x86_64')!
    expect(c.billedDurationMs).toBe(101)
    expect(c.billedMemoryMb).toBe(128)
    expect(c.gbSeconds).toBeCloseTo(0.101 * 0.125, 15)
    expect(c.durationUsd).toBeCloseTo(0.101 * 0.125 * 0.0000166667, 18)
    expect(c.requestUsd).toBeCloseTo(2e-7, 18)
    expect(c.usd).toBeCloseTo(2e-7 + 0.101 * 0.125 * 0.0000166667, 18)
    expect(c).toMatchObject({ model: 'aws-x86_64', tableDate: PRICE_TABLE_DATE, estimate: true, durationSource: 'function' })
    expect(c.label).toBe(`aws-x86_64 ${PRICE_TABLE_DATE} (estimate)`)
  })

  it('an exact millisecond is not rounded up by float noise', () => {
    expect(estimateCost(record({ functionTimeUs: 300_000 }), 'aws-x86_64')!.billedDurationMs).toBe(300)
  })

  it('AWS bills the init phase of a cold start; arm64 is cheaper per GB-s', () => {
    const cold = record({ isCold: true, initTimeUs: 250_000, memory: 1024 })
    const x86 = estimateCost(cold, 'aws-x86_64')!
    expect(x86.billedDurationMs).toBe(351)
    expect(x86.gbSeconds).toBeCloseTo(0.351, 15)
    const arm = estimateCost(cold, 'aws-arm64')!
    expect(arm.durationUsd).toBeCloseTo(0.351 * 0.0000133334, 18)
    expect(arm.usd).toBeLessThan(x86.usd)
  })

  it("uses AWS's billed time when the record is AWS's own: not an estimate", () => {
    const c = estimateCost(record({ provider: 'aws', billedTimeMs: 348, isCold: true, initTimeUs: 200_000, memory: 256 }), 'aws-x86_64')!
    expect(c.billedDurationMs).toBe(348)
    expect(c.durationSource).toBe('billed')
    expect(c.estimate).toBe(false)
    expect(c.gbSeconds).toBeCloseTo(0.348 * 0.25, 15)
    expect(c.label).toBe(`aws-x86_64 ${PRICE_TABLE_DATE}`)
  })

  it('Azure Consumption: observed memory rounded up to 128 MB, at least 100 ms', () => {
    const c = estimateCost(record({ provider: 'azure', memoryUsedMb: 200, functionTimeUs: 20_000, memory: 1536 }), 'azure-consumption')!
    expect(c.billedMemoryMb).toBe(256)
    expect(c.billedDurationMs).toBe(100)
    expect(c.usd).toBeCloseTo(2e-7 + 0.1 * 0.25 * 0.000016, 18)
    // Observed memory is capped at 1,536 MB and floored at 128 MB.
    expect(estimateCost(record({ provider: 'azure', memoryUsedMb: 3000 }), 'azure-consumption')!.billedMemoryMb).toBe(1536)
    expect(estimateCost(record({ provider: 'azure', memoryUsedMb: 10 }), 'azure-consumption')!.billedMemoryMb).toBe(128)
  })

  it('Azure Flex Consumption: the instance memory the app runs on (providerMemoryMb) × time, at least 1 s, $0.40 per million', () => {
    // SeBS memory 1024 ran on a 2048 MB instance; 20 ms of execution is billed as 1 s.
    const c = estimateCost(record({ provider: 'azure', memory: 1024, providerMemoryMb: 2048, memoryUsedMb: 90, functionTimeUs: 20_000 }), 'azure-flex')!
    expect(c.billedMemoryMb).toBe(2048)
    expect(c.billedDurationMs).toBe(1000)
    expect(c.usd).toBeCloseTo(0.4e-6 + 1 * 2 * 0.000026, 15)
    // 2.5 s on 512 MB: time past the minimum is billed as it ran.
    const d = estimateCost(record({ provider: 'azure', memory: 128, providerMemoryMb: 512, functionTimeUs: 2_500_000 }), 'azure-flex')!
    expect(d.billedMemoryMb).toBe(512)
    expect(d.billedDurationMs).toBe(2500)
    expect(d.gbSeconds).toBeCloseTo(1.25, 12)
    // Without the platform's size (an estimate for another provider's record) the configured memory, floored at 512 MB.
    expect(estimateCost(record({ provider: 'local', memory: 128 }), 'azure-flex')!.billedMemoryMb).toBe(512)
    expect(DEFAULT_PRICE_TABLE['azure-flex']!.date).toBe(PRICE_TABLE_DATE)
  })

  it('prefers the provider-measured execution time over the wrapper time', () => {
    const c = estimateCost(record({ provider: 'aws', providerTimeUs: 150_000 }), 'aws-x86_64')!
    expect(c.billedDurationMs).toBe(150)
    expect(c.durationSource).toBe('provider')
  })

  it('is undefined for a record with nothing to bill, and rejects unknown models', () => {
    expect(estimateCost(record({ functionTimeUs: 0, state: 'error', error: 'x' } as Partial<InvocationRecord>), 'aws-x86_64')).toBeUndefined()
    expect(() => estimateCost(record(), 'gcp-x86_64')).toThrow(/unknown cost model 'gcp-x86_64'.*aws-x86_64/)
  })
})

describe('price table', () => {
  it('every built-in row is dated and sourced', () => {
    for (const row of Object.values(DEFAULT_PRICE_TABLE)) {
      expect(row.date).toMatch(/^\d{4}-\d{2}-\d{2}$/)
      expect(row.source).toMatch(/^https:\/\//)
    }
  })
  it('overrides replace fields of a row and new rows must be complete', () => {
    const table = resolvePriceTable({ 'aws-x86_64': { perGbSecondUsd: 0.00001, date: '2027-01-01' } })
    expect(table['aws-x86_64']!.perGbSecondUsd).toBe(0.00001)
    expect(table['aws-x86_64']!.perRequestUsd).toBeCloseTo(2e-7, 18)
    const c = estimateCost(record({ functionTimeUs: 1_000_000, memory: 1024 }), 'aws-x86_64', { table })!
    expect(c.usd).toBeCloseTo(2e-7 + 0.00001, 15)
    expect(c.tableDate).toBe('2027-01-01')
    // The built-in table is untouched.
    expect(DEFAULT_PRICE_TABLE['aws-x86_64']!.perGbSecondUsd).toBe(0.0000166667)
    expect(() => resolvePriceTable({ 'gcp-gen2': { perGbSecondUsd: 1 } })).toThrow(CostModelError)
    expect(() => resolvePriceTable({ 'aws-arm64': { perGbSecondUsd: -1 } })).toThrow(/perGbSecondUsd/)
  })
})

describe('summaries and formatting', () => {
  it('total, mean and per-million over records', () => {
    const s = summarizeCost([record({ functionTimeUs: 1_000_000, memory: 1024 }), record({ functionTimeUs: 3_000_000, memory: 1024 })], 'aws-x86_64')!
    expect(s.invocations).toBe(2)
    expect(s.gbSeconds).toBeCloseTo(4, 12)
    expect(s.totalUsd).toBeCloseTo(4e-7 + 4 * 0.0000166667, 15)
    expect(s.meanUsd).toBeCloseTo(2e-7 + 2 * 0.0000166667, 15)
    expect(s.perMillionUsd).toBeCloseTo(perMillion(2e-7 + 2 * 0.0000166667), 8)
    expect(s.label).toContain('(estimate)')
    expect(summarizeCost([], 'aws-x86_64')).toBeUndefined()
  })
  it('formats tiny and large amounts', () => {
    expect(formatUsd(0)).toBe('$0')
    expect(formatUsd(4.104e-7)).toBe('$4.10e-7')
    expect(formatUsd(12.345)).toBe('$12.35')
  })
})
