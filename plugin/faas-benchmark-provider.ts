/**
 * Our Vitest 5 benchmark provider (runs in bench workers; Vitest imports it
 * through `test.benchmark.provider`, which the Vite plugin sets on Vitest 5).
 *
 * Vitest 5 hands a provider the registrations of one test and takes back
 * one result per registration. Registrations made by our generated suites
 * (plugin/bench-adapter.ts) carry their engine/bench-tasks.ts task: this
 * provider runs it as invocations of the deployed function (each one through
 * the engine's measurement path, its record on disk at once) and builds the
 * result from the measured invocation times, so Vitest 5's tables,
 * `bench.compare`, `bench.from()` baselines and `expect(result…)` see
 * function latencies. Any other registration (a user's own bench next to
 * ours) runs on tinybench as Vitest's built-in provider would.
 *
 * Statistics come from tinybench 6 (the engine Vitest 5 itself uses), fed
 * the measured times through `overriddenDuration`: the numbers are the
 * invocations', the result shape is exactly Vitest's.
 */
import { Bench } from 'tinybench'
import type { BenchTask } from '../engine/bench-tasks.ts'
import { SEBS_TASK } from './bench-adapter.ts'

/** Structural view of what Vitest 5 passes (its types live in the user's vitest, not ours). */
interface Registration {
  name: string
  fn?: (() => unknown) & { [SEBS_TASK]?: BenchTask }
  fnOpts?: Record<string, unknown>
}
interface Group {
  test?: { context?: { signal?: AbortSignal } }
  config?: { retainSamples?: boolean }
  registrations: Registration[]
  options?: Record<string, unknown>
}

/** Runs a task's invocations; the measured time of each sample, ms. */
export async function measureTask(task: BenchTask): Promise<number[]> {
  if (task.kind === 'collected') return task.collect()
  const samples: number[] = []
  for (let i = 0; i < task.samples; i++) {
    const ms = await task.sample()
    // A case that failed takes no more measurements (its records say why).
    if (ms === undefined) break
    samples.push(ms)
  }
  return samples
}

/**
 * The Vitest-shaped result (tinybench 6 task statistics plus `name`) of
 * measured samples. Throws when there is none: a task that measured nothing
 * has no statistics to show.
 */
export async function resultOf(name: string, samplesMs: number[], retainSamples = false): Promise<Record<string, unknown> & { name: string }> {
  if (samplesMs.length === 0) throw new Error(`${name}: no invocation was measured (the case failed before its first sample; see the run's records).`)
  let next = 0
  const bench = new Bench({ iterations: samplesMs.length, time: 0, warmup: false, retainSamples })
  // An async function: tinybench tells async from sync by calling a plain function once, which would consume a sample.
  bench.add(name, async () => ({ overriddenDuration: samplesMs[next++]! }))
  await bench.run()
  const task = bench.tasks[0]!
  const result = task.result
  if (result.state !== 'completed') throw new Error(`${name}: statistics of the measured invocations did not complete (${result.state}).`)
  return { ...result, name }
}

const provider = {
  async run({ test, config, registrations, options }: Group) {
    const results: (Record<string, unknown> & { name: string })[] = []
    const foreign: Registration[] = []
    for (const reg of registrations) {
      const task = reg.fn?.[SEBS_TASK]
      if (!task) {
        foreign.push(reg)
        continue
      }
      results.push(await resultOf(reg.name, await measureTask(task), config?.retainSamples === true))
    }
    if (foreign.length > 0) {
      const bench = new Bench({ ...(test?.context?.signal ? { signal: test.context.signal } : {}), retainSamples: config?.retainSamples === true, ...options })
      for (const reg of foreign) bench.add(reg.name, reg.fn as () => unknown, reg.fnOpts)
      await bench.run()
      for (const task of bench.tasks) {
        const result = task.result
        if (result.state === 'errored') throw result.error
        if (result.state !== 'completed') throw new Error(`task "${task.name}" did not complete: received "${result.state}"`)
        results.push({ ...result, name: task.name })
      }
    }
    return results
  },
}

export default provider
