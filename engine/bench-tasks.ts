/**
 * The shape in which the suites (bench workers) hand their cases to Vitest,
 * whatever its major: groups of tasks, each task a list of samples where a
 * sample is one measured invocation's time. The Vitest glue implements it
 * (plugin/bench-adapter.ts: top-level `bench()` on Vitest 4, the `bench`
 * fixture and our benchmark provider on Vitest 5), so the suites and
 * everything below them are the same for both.
 */

/**
 * A task whose samples are taken one at a time: `sample()` runs once per
 * sample and resolves to the measured time of that sample in ms (the
 * invocation only; connecting, forcing a cold start, validation and record
 * writing are outside it). Resolves to `undefined` when there was nothing
 * to measure (the case failed earlier): the adapter takes no sample then.
 */
export interface SampledTask {
  kind: 'sampled'
  name: string
  samples: number
  sample: () => Promise<number | undefined>
}

/**
 * A task whose samples come out of one run (an experiment point: its own
 * loop, batches, adaptive repetitions): `collect()` runs once and resolves
 * to the measured time of each sample in ms. Rejects when the point failed.
 */
export interface CollectedTask {
  kind: 'collected'
  name: string
  collect: () => Promise<number[]>
}

export type BenchTask = SampledTask | CollectedTask

/** What a suite registers its groups and tasks with. */
export interface BenchTasks {
  /** A named group (a Vitest `describe`); `body` registers its tasks. */
  group(name: string, body: () => void): void
  /** Registers one task in the current group; tasks run in registration order. */
  task(task: BenchTask): void
  /** Runs after the group's last task, when the Vitest major runs suite hooks in bench mode. */
  afterAll(fn: () => Promise<void> | void): void
}

/** The separator between a case and its part in task names: `python test · cold`. */
export const TASK_PART_SEPARATOR = ' · '

/** Names of the cold and warm tasks of a plain case (`python test` → `python test · cold`, `… · warm`). */
export function caseTaskNames(caseName: string): { cold: string; warm: string } {
  return { cold: `${caseName}${TASK_PART_SEPARATOR}cold`, warm: `${caseName}${TASK_PART_SEPARATOR}warm` }
}
