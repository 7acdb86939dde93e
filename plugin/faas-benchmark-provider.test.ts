/**
 * The Vitest 5 benchmark provider, called the way Vitest 5 calls it (a group
 * of registrations): our tasks become results built from their measured
 * times; other registrations still run on tinybench.
 */
import { describe, expect, it } from 'vitest'
import type { BenchTask } from '../engine/bench-tasks.ts'
import { taskFunction } from './bench-adapter.ts'
import provider, { measureTask } from './faas-benchmark-provider.ts'

const sampled = (name: string, times: (number | undefined)[]): BenchTask => {
  let i = 0
  return { kind: 'sampled', name, samples: times.length, sample: async () => times[i++] }
}

describe('faas benchmark provider (Vitest 5)', () => {
  it('returns one Vitest-shaped result per task, its statistics exactly the measured invocation times', async () => {
    const cold = sampled('python test · cold', [250])
    const warm = sampled('python test · warm', [5, 9, 7])
    const point: BenchTask = { kind: 'collected', name: 'python test warm 128MB', collect: async () => [4, 4, 10, 6] }
    const results = await provider.run({
      config: { retainSamples: true },
      registrations: [cold, warm, point].map((t) => ({ name: t.name, fn: taskFunction(t) })),
    })
    expect(results.map((r) => r.name)).toEqual(['python test · cold', 'python test · warm', 'python test warm 128MB'])
    const [c, w, p] = results as unknown as { state: string; latency: { mean: number; min: number; max: number; samplesCount: number; samples?: number[]; p50: number } }[]
    expect(c).toMatchObject({ state: 'completed', latency: { mean: 250, min: 250, max: 250, samplesCount: 1 } })
    expect(w!.latency).toMatchObject({ mean: 7, min: 5, max: 9, samplesCount: 3, samples: [5, 7, 9] })
    expect(p!.latency).toMatchObject({ mean: 6, min: 4, max: 10, samplesCount: 4 })
  })

  it('stops a task at a failed invocation and refuses a task with nothing measured', async () => {
    expect(await measureTask(sampled('x', [3, 4, undefined, 5]))).toEqual([3, 4])
    await expect(provider.run({ registrations: [{ name: 'x', fn: taskFunction(sampled('x', [undefined])) }] })).rejects.toThrow(/no invocation was measured/)
  })

  it("runs a user's own registration on tinybench", async () => {
    let calls = 0
    const results = await provider.run({ registrations: [{ name: 'own', fn: async () => void calls++ }], options: { iterations: 5, time: 0, warmup: false } })
    expect(calls).toBe(5)
    expect(results[0]).toMatchObject({ name: 'own', state: 'completed' })
  })
})
