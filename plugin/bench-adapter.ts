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

/**
 * The tasks API for the given Vitest major. Vitest 5 has no top-level
 * `bench`; its support is not built yet, so it is refused with the reason.
 */
export function benchTasks(major: VitestMajor): BenchTasks {
  if (major === 4) return vitest4Tasks()
  throw new Error(`serverless-benchmarks: Vitest ${major} is not supported by this version of the plugin; use Vitest 4.1.`)
}
