import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import type { Size } from '../../../core/types.ts'
import { runFunction } from '../../_lib/testing/run-function.ts'
import { bucketsCount, generateInput, validateOutput } from './input.ts'

const DIR = dirname(fileURLToPath(import.meta.url))

function inputFor(size: Size): Record<string, unknown> {
  return generateInput({ dataDir: '/nonexistent', size, bucket: 'b', inputPrefixes: [], outputPrefixes: [], upload: async () => '' })
}

describe('010.sleep input', () => {
  it('sleeps 1 / 10 / 100 s, all within the 120 s timeout', () => {
    expect(bucketsCount()).toEqual([0, 0])
    expect([inputFor('test'), inputFor('small'), inputFor('large')]).toEqual([{ sleep: 1 }, { sleep: 10 }, { sleep: 100 }])
  })

  it('accepts the requested number and rejects anything else', () => {
    const ctx = { dataDir: '/x', size: 'small' as const, language: 'nodejs' as const, input: { sleep: 10 } }
    expect(validateOutput({ ...ctx, output: 10 })).toBeUndefined()
    expect(validateOutput({ ...ctx, output: '10' })).toMatch(/result is "10", expected the requested sleep 10/)
    expect(validateOutput({ ...ctx, output: undefined })).toMatch(/result is undefined/)
    expect(validateOutput({ ...ctx, output: 1 })).toMatch(/result is 1, expected/)
  })
})

// Both handlers must really wait (SeBS's Node version returned at once).
// The first run of a language may install its dependencies into the cache first.
const RUN_TIMEOUT = 180_000

describe.each(['python', 'nodejs'] as const)('010.sleep %s handler', (language) => {
  const run = (event: Record<string, unknown>) => runFunction({ benchmarkDir: DIR, language, event })
  it('sleeps for the test size (1 s) and returns the number', { timeout: RUN_TIMEOUT }, async () => {
    const event = inputFor('test')
    const { output, elapsedMs } = await run(event)
    expect(validateOutput({ dataDir: '/x', size: 'test', language, input: event, output: output.result })).toBeUndefined()
    expect(elapsedMs).toBeGreaterThanOrEqual(995)
    expect(elapsedMs).toBeLessThan(10_000)
  })

  it('sleeps fractional seconds, and a zero sleep returns at once', { timeout: RUN_TIMEOUT }, async () => {
    const short = await run({ sleep: 0.3 })
    expect(short.output.result).toBe(0.3)
    expect(short.elapsedMs).toBeGreaterThanOrEqual(295)
    const none = await run({ sleep: 0 })
    expect(none.output.result).toBe(0)
    expect(none.elapsedMs).toBeLessThan(short.elapsedMs)
  })

  it('refuses a sleep that is not a non-negative number', { timeout: RUN_TIMEOUT }, async () => {
    await expect(run({ sleep: 'ten' })).rejects.toThrow(/non-negative number of seconds/)
    await expect(run({ sleep: -1 })).rejects.toThrow(/non-negative number of seconds/)
  })
})
