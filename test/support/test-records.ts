/**
 * Hand-built invocation records for the reporters' tests (not used at run time).
 */
import type { InvocationRecord } from '../../core/types.ts'

type Overrides = Partial<Omit<InvocationRecord, 'state' | 'error'>> &
  ({ state?: 'ok'; validationError?: string } | { state: 'error' | 'timeout'; error: string; errorKind?: 'oom' })

let counter = 0

/** A warm, valid 'ok' record of 110.dynamic-html/nodejs/test on local, 256 MB, http; fields overridable. */
export function makeRecord(overrides: Overrides = { state: 'ok' }): InvocationRecord {
  counter++
  const base = {
    runId: 'run-1',
    benchmark: '110.dynamic-html',
    language: 'nodejs' as const,
    size: 'test' as const,
    provider: 'local',
    memory: 256,
    trigger: 'http' as const,
    phase: 'warm',
    repetition: 0,
    requestId: `req-${counter}`,
    containerId: 'container-1',
    isCold: false,
    outputValid: true,
    clientTimeUs: 10_000,
    functionTimeUs: 5_000,
    startedAt: 1_700_000_000_000 + counter,
  }
  return { ...base, state: 'ok', ...overrides } as InvocationRecord
}

/** mulberry32: a small seeded PRNG, uniform in [0, 1); the same seed gives the same sequence. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** n samples of N(mean, sd) from a seeded PRNG (Box-Muller), rounded to whole units like the records' µs. */
export function normalSamples(seed: number, n: number, mean: number, sd: number): number[] {
  const random = seededRandom(seed)
  const out: number[] = []
  while (out.length < n) {
    const u = 1 - random() // (0, 1]: log(0) is -Infinity
    const v = random()
    const r = Math.sqrt(-2 * Math.log(u))
    out.push(Math.round(mean + sd * r * Math.cos(2 * Math.PI * v)))
    if (out.length < n) out.push(Math.round(mean + sd * r * Math.sin(2 * Math.PI * v)))
  }
  return out
}
