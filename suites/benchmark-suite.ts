/**
 * Worker side of a generated benchmark suite: a group `<NNN.name>` with two
 * tasks per language and size, `python test · cold` (one sample: the forced
 * cold start) and `python test · warm` (`repetitions` samples). Each sample
 * is one invocation through the engine's measurement path, its record on
 * disk before the next one starts; the time a sample reports is the
 * invocation's client time, nothing around it. The tasks reach Vitest
 * through the adapter of its major (plugin/bench-adapter.ts).
 */
import { inject } from 'vitest'
import { caseTaskNames, type BenchTasks } from '../engine/bench-tasks.ts'
import { BenchmarkSession } from '../engine/case-session.ts'
import { caseProgress } from '../engine/case-progress.ts'
import { createLogger } from '../core/logger.ts'
import { measureInvocation, recordHarnessError, type InvocationContext, type InvocationMeta } from '../engine/measure.ts'
import { caseName } from '../engine/selection.ts'
import type { Language, Size } from '../core/types.ts'
import type { DeployedFunction } from '../providers/types.ts'
import { interruptionCheck } from '../engine/interrupt.ts'
import { failedInSetup } from '../engine/setup-failures.ts'
import { dirname } from 'node:path'
import { SebsError } from '../core/errors.ts'
import { recordsUnwritable } from '../core/records.ts'
import '../engine/run-state.ts'
import { markTiming } from '../core/timing.ts'

export function defineBenchmarkSuite(benchmarkId: string, tasks: BenchTasks): void {
  markTiming('worker', `${benchmarkId} suite module loaded`)
  const session = new BenchmarkSession(inject('sebs'), benchmarkId)
  // After Ctrl-C / SIGTERM (plugin/interrupt.ts) no invocation starts; the one in flight finishes.
  const interrupted = interruptionCheck(dirname(session.provided.recordsFile))

  tasks.group(benchmarkId, () => {
    // No afterAll here: Vitest 4's bench runner does not run suite hooks. Local
    // instances and bridges end with the worker process (their exit handlers).
    for (const { language, size } of session.cases()) defineCase(session, tasks, language, size, interrupted)
  })
}

function defineCase(session: BenchmarkSession, tasks: BenchTasks, language: Language, size: Size, interrupted: () => boolean): void {
  const repetitions = session.provided.repetitions
  const names = caseTaskNames(caseName(language, size))
  // After a failure the case is over: nothing runs more often than configured, and nothing after a failure.
  let failed = false
  let fn: DeployedFunction | undefined
  let ctx: InvocationContext | undefined
  let warmRepetition = 0
  // A long case says where it is (Vitest shows its results only when the file ends).
  const progress = caseProgress(createLogger('sebs'), `${session.benchmark.id} ${language} ${size}`)
  const lastSample = (meta: InvocationMeta): boolean => meta.phase === 'cold' ? repetitions === 0 : meta.repetition === repetitions - 1

  const invoke = async (meta: InvocationMeta, before?: (fn: DeployedFunction) => Promise<void>): Promise<number | undefined> => {
    // The results folder became unwritable (reported once, below): nothing more is invoked.
    if (failed || interrupted() || recordsUnwritable()) {
      progress.finish(failed ? 'stopped after a failure' : interrupted() ? 'interrupted' : 'results folder not writable')
      return undefined
    }
    // Its build, inputs or deploy failed in the setup, which recorded why.
    if (failedInSetup(session.provided.setupFailures, session.benchmark.id, language)) return undefined
    progress.sampleStarted(meta.phase, meta.phase === 'cold' ? 1 : meta.repetition + 1, meta.phase === 'cold' ? 1 : repetitions)
    try {
      const prepared = session.requirePrepared(language, size)
      fn ??= await session.connect(prepared)
      ctx ??= await session.invocationContext(language, size, prepared)
      await before?.(fn)
      if (meta.phase === 'cold') markTiming('worker', 'connected; first invocation starts')
      const record = await measureInvocation(fn, prepared.event, ctx, meta)
      if (meta.phase === 'cold') markTiming('worker', 'first record written')
      if (record.state !== 'ok' || !record.outputValid) failed = true
      return record.clientTimeUs / 1000
    } catch (err) {
      failed = true
      try {
        // A harness problem, not a function failure: still a record, so the run reports it and fails.
        if (!isResultsUnwritable(err)) recordHarnessError(await session.invocationContext(language, size), meta, err)
        else reportResultsUnwritable(err)
      } catch (recordErr) {
        // No record can be written: one clear message; the main process's reporter fails the run.
        if (isResultsUnwritable(recordErr)) reportResultsUnwritable(recordErr)
        else throw recordErr
      }
      return undefined
    } finally {
      progress.sampleEnded()
      if (failed) progress.finish('stopped after a failure')
      else if (lastSample(meta)) progress.finish()
    }
  }

  tasks.task({
    kind: 'sampled',
    name: names.cold,
    samples: 1,
    sample: () => invoke({ phase: 'cold', repetition: 0, expect: 'cold' }, (target) => target.forceColdStart()),
  })
  // `--repetitions 0` measures the cold start only: a task without samples would show nothing but NaN.
  if (repetitions > 0) {
    tasks.task({
      kind: 'sampled',
      name: names.warm,
      samples: repetitions,
      sample: () => invoke({ phase: 'warm', repetition: warmRepetition++, expect: 'warm' }),
    })
  }
}

/** An append to the run's records failed (core/records.ts). */
export function isResultsUnwritable(err: unknown): err is SebsError {
  return err instanceof SebsError && err.code === 'RESULTS_UNWRITABLE'
}

let unwritableReported = false
/** Prints the unwritable-results error once per bench worker (every later case stops silently). */
export function reportResultsUnwritable(err: SebsError): void {
  if (unwritableReported) return
  unwritableReported = true
  console.error(`[sebs] error [${err.code}]: ${err.message}`)
}
