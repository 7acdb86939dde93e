/**
 * The one place that knows how a Vitest major runs benchmarks (runs in bench
 * workers, imported by the generated suite modules, see vite-plugin.ts).
 * The suites describe their cases as engine/bench-tasks.ts tasks; this file
 * turns them into Vitest tasks.
 *
 * Vitest 4 (tinybench 2.9 underneath): a task is a top-level `bench()` inside
 * `describe()`. tinybench times each call of the bench function with the
 * bench's `now` clock; we give every task its own clock that moves only by
 * the measured invocation time a sample reports, so Vitest's sample is the
 * invocation and nothing around it (connect, forced cold start, validation,
 * record writing). A collected task (an experiment point) runs its point in
 * tinybench's `setup` hook, which Vitest 4 awaits before the sampling loop
 * and whose task carries the bench's `iterations` (read after the hook),
 * then hands tinybench one sample per call.
 */
import * as vitest from 'vitest'
import type { BenchTask, BenchTasks } from '../engine/bench-tasks.ts'

/** The Vitest majors the adapter knows. */
export type VitestMajor = 4 | 5

type Bench4 = (name: string, fn: () => Promise<void>, options: Record<string, unknown>) => void
interface TinybenchTask2 {
  bench: { iterations: number }
}

/**
 * Bench options that give exact iteration control: Vitest's defaults (time
 * 500 ms, warm-up) would call the function many more times than configured.
 *
 * Bench functions made here never throw for a failed invocation. In Vitest
 * 4.1's bench runner a task that throws with `throws: true` leaves the runner
 * waiting forever (the rejection escapes a setTimeout callback), and with
 * `throws: false` it is reported as an unhandled rejection. A failed
 * invocation is therefore recorded and ends its case (no further
 * invocations); the reporter, which reads the records, lists the failed
 * cases and makes the run exit non-zero.
 */
export function exactBenchOptions(iterations: number) {
  return { time: 0, warmupTime: 0, iterations, warmupIterations: 0, throws: false }
}

/** Vitest 4: `describe` + top-level `bench`, one tinybench clock per task. */
function vitest4Tasks(): BenchTasks {
  const bench = (vitest as unknown as { bench: Bench4 }).bench
  return {
    group: (name, body) => vitest.describe(name, body),
    afterAll: (fn) => vitest.afterAll(fn),
    task: (task) => registerVitest4(bench, task),
  }
}

function registerVitest4(bench: Bench4, task: BenchTask): void {
  // The task's clock: tinybench's sample is `now()` after the call minus before it.
  let clockMs = 0
  const now = () => clockMs
  if (task.kind === 'sampled') {
    bench(
      task.name,
      async () => {
        // A case that failed earlier takes no more measurements; tinybench still
        // counts the call, as a zero-length sample (the records say the case failed).
        clockMs += (await task.sample()) ?? 0
      },
      { ...exactBenchOptions(task.samples), now },
    )
    return
  }
  let samples: number[] = []
  let failure: unknown
  let next = 0
  bench(
    task.name,
    async () => {
      if (failure !== undefined) {
        const err = failure
        failure = undefined
        throw err
      }
      clockMs += samples[next++] ?? 0
    },
    {
      ...exactBenchOptions(1),
      now,
      setup: async (t: TinybenchTask2, mode: 'warmup' | 'run') => {
        if (mode !== 'run') return
        // A rejection here would escape Vitest 4's runner (it does not await hooks in a try);
        // the failure is thrown from the first sample instead, where tinybench reports it.
        try {
          samples = await task.collect()
        } catch (err) {
          failure = err
        }
        t.bench.iterations = Math.max(1, samples.length)
      },
    },
  )
}

/** Where a registration's function carries its task (set by the adapter). */
export const SEBS_TASK = Symbol.for('serverless-benchmarks.task')

/** A registration function that is one of our tasks. */
export type TaskFunction = (() => Promise<void>) & { [SEBS_TASK]: BenchTask }

/** The function to register with Vitest 5's `bench` for a task. */
export function taskFunction(task: BenchTask): TaskFunction {
  const fn = async () => {
    throw new Error(`${task.name}: a serverless-benchmarks task runs only under its benchmark provider (benchmark.provider is set by the sebs plugin).`)
  }
  return Object.assign(fn, { [SEBS_TASK]: task })
}

type Test5 = (name: string, fn: (context: { bench: (name: string, fn: () => Promise<void>) => { run: () => Promise<unknown> } }) => Promise<void>) => void

/**
 * Vitest 5: `bench` is a fixture of `test()`. Each task is one test that
 * registers one benchmark carrying the task; our benchmark provider
 * (plugin/faas-benchmark-provider.ts, set as `benchmark.provider`) runs it
 * as invocations and returns the result Vitest reports.
 */
function vitest5Tasks(): BenchTasks {
  const test = (vitest as unknown as { test: Test5 }).test
  return {
    group: (name, body) => vitest.describe(name, body),
    afterAll: (fn) => vitest.afterAll(fn),
    task: (task) =>
      test(task.name, async ({ bench }) => {
        await bench(task.name, taskFunction(task)).run()
      }),
  }
}

/** The tasks API for the given Vitest major. */
export function benchTasks(major: VitestMajor): BenchTasks {
  if (major === 4) return vitest4Tasks()
  if (major === 5) return vitest5Tasks()
  throw new Error(`serverless-benchmarks supports Vitest 4.1 and 5; this project runs Vitest ${major as number}.`)
}
