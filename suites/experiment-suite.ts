/**
 * Worker side of an experiment run (`--experiment NAME`): for each benchmark,
 * a group `<NNN.name>` with one task per language × size × point of the
 * experiment's plan (`python test cold 128MB`). A task runs its point once;
 * its samples are the point's measured invocations (see pointSamplesMs), so
 * Vitest compares points on invocation times. The experiment logic lives in
 * suites/ as plain async functions over an ExperimentContext; this file
 * wires them to the tasks (plugin/bench-adapter.ts hands those to Vitest). After the last point of a case, the case's summary
 * is printed and written to `<run dir>/experiments/`.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { inject } from 'vitest'
import { ConfigError, SebsError, listChoices } from '../core/errors.ts'
import type { Language, Size } from '../core/types.ts'
import type { BenchTasks } from '../engine/bench-tasks.ts'
import { BenchmarkSession } from '../engine/case-session.ts'
import { CostBudget, ExperimentContext, RunInterruptedError, usable } from './context.ts'
import { experimentSettings, PointFailedError, runPoint, type ExperimentPoint, type PointOutcome } from './experiment.ts'
import { EXPERIMENT_IMPLEMENTATIONS } from './registry.ts'
import { EXPERIMENTS } from './index.ts'
import { interruptionCheck } from '../engine/interrupt.ts'
import { failedInSetup } from '../engine/setup-failures.ts'
import { caseName } from '../engine/selection.ts'
import { recordsUnwritable } from '../core/records.ts'
import { isResultsUnwritable, reportResultsUnwritable } from './benchmark-suite.ts'
import '../engine/run-state.ts'

export function defineExperimentSuite(name: string, benchmarkId: string, tasks: BenchTasks): void {
  const provided = inject('sebs')
  const experiment = EXPERIMENT_IMPLEMENTATIONS[name]
  if (!experiment) {
    throw new ConfigError('UNKNOWN_EXPERIMENT', `Unknown experiment '${name}'. Choose one of ${listChoices(Object.keys(EXPERIMENTS))}.`)
  }
  const session = new BenchmarkSession(provided, benchmarkId)
  const contexts: ExperimentContext[] = []
  const runDir = dirname(provided.recordsFile)
  // After Ctrl-C / SIGTERM (plugin/interrupt.ts) no further point starts.
  const interrupted = interruptionCheck(runDir)

  tasks.group(benchmarkId, () => {
    tasks.afterAll(async () => {
      // A backstop for cases whose last point did not run (filtered by -t): the functions leave with their own code.
      await Promise.allSettled(contexts.map((c) => c.restoreCode()))
      await session.close()
    })
    for (const { language, size } of session.cases()) defineCase(language, size)
  })

  function defineCase(language: Language, size: Size): void {
    const prepared = session.prepared(language, size)
    // Unprepared cases (filtered out by -t) still get their tasks, which Vitest then skips.
    const deployedMemory = prepared?.memory ?? provided.memory?.[0] ?? 128
    const settings = experimentSettings(provided, experiment!, deployedMemory)
    const points: ExperimentPoint[] = experiment!.plan(settings, { provider: provided.provider, functionsOnThisMachine: provided.functionsOnThisMachine, language, deployedMemory })
    const state = new Map<string, unknown>()
    const outcomes: PointOutcome[] = []
    let ctx: ExperimentContext | undefined
    const label = `${benchmarkId} ${caseName(language, size)}`

    const context = async (): Promise<ExperimentContext> => {
      if (ctx) return ctx
      const target = session.requirePrepared(language, size)
      const fn = await session.connect(target)
      const { validator, storage } = await session.invocationContext(language, size, target)
      ctx = new ExperimentContext({
        fn,
        payload: target.event,
        runId: provided.runId,
        recordsFile: provided.recordsFile,
        experiment: name,
        benchmark: benchmarkId,
        language,
        size,
        provider: provided.provider,
        trigger: provided.trigger,
        memory: target.memory,
        dataDir: session.benchmark.dataDir,
        ...(validator ? { validator } : {}),
        ...(storage ? { storage } : {}),
        // The run's model (the user's, else the provider's default for its arch), as the plain cases use.
        costModel: settings.costModel ?? provided.costModel,
        ...(settings.costModels ? { priceOverrides: settings.costModels } : {}),
        budget: CostBudget.fromRecords(settings.maxCost, provided.recordsFile),
        log: (line) => console.log(`[sebs] ${name} ${label}: ${line}`),
        interrupted,
      })
      contexts.push(ctx)
      return ctx
    }

    // Vitest 4's bench runner does not run afterAll hooks, so the case's
    // summary file is (re)written after every point: it always holds what ran.
    const writeSummary = (final: boolean): void => {
      const conclusion = experiment!.summarize?.(outcomes, settings)
      if (final) for (const line of conclusion?.lines ?? []) console.log(`[sebs] ${name} ${label} ${line}`)
      const file = join(runDir, 'experiments', `${name}.${benchmarkId}.${language}.${size}.json`)
      mkdirSync(dirname(file), { recursive: true })
      writeFileSync(
        file,
        JSON.stringify(
          {
            experiment: name,
            benchmark: benchmarkId,
            language,
            size,
            provider: provided.provider,
            costModel: ctx?.costModel,
            settings,
            points: outcomes.map((o) => ({ point: o.point, records: o.records.length, repetitions: o.repetitions, data: o.data })),
            ...(conclusion ? { conclusion: conclusion.data } : {}),
          },
          null,
          2,
        ) + '\n',
      )
    }

    points.forEach((point, index) => {
      tasks.task({
        kind: 'collected',
        name: `${caseName(language, size)} ${point.name}`,
        collect: async () => {
          const last = index === points.length - 1
          // Interrupted, or the setup could not prepare the case (and recorded why).
          // Or the results folder became unwritable (reported once): nothing more is invoked.
          if (interrupted() || failedInSetup(provided.setupFailures, benchmarkId, language) || recordsUnwritable()) {
            if (last && ctx) await ctx.restoreCode().catch(() => {})
            return []
          }
          const c = await context()
          let outcome: PointOutcome
          let samples: number[]
          try {
            // Through runPoint: every record of the point carries its name, so reporters keep points apart.
            outcome = await runPoint(experiment!, c, point, settings, state)
            samples = pointSamplesMs(outcome, `${label} ${point.name}`)
          } catch (err) {
            if (isResultsUnwritable(err)) {
              reportResultsUnwritable(err)
              return []
            }
            if (err instanceof RunInterruptedError) {
              // Ctrl-C inside a long point: it stopped between invocations; what it recorded stays.
              outcomes.push({ point: point.name, records: [], lines: [`${point.name}: interrupted`] })
              writeSummary(last)
              if (last) await c.restoreCode().catch(() => {})
              console.log(`[sebs] ${name} ${label} ${point.name}: interrupted; stopped between invocations`)
              return []
            }
            const line = `${point.name}: FAILED: ${(err as Error).message}`
            outcomes.push({ point: point.name, records: [], lines: [line] })
            writeSummary(last)
            if (last) await c.restoreCode().catch((restoreErr: unknown) => console.warn(`[sebs] ${name} ${label}: could not restore the function's own code: ${(restoreErr as Error).message}`))
            // Failed invocations are records: the run's summary lists them and the run exits 1; the
            // next point runs. Anything else (a harness or provider fault) fails the task.
            if (!(err instanceof PointFailedError)) throw err
            console.log(`[sebs] ${name} ${label} ${line}`)
            return []
          }
          outcomes.push(outcome)
          for (const line of outcome.lines) console.log(`[sebs] ${name} ${label} ${line}`)
          writeSummary(last)
          // The case ends with the function running its own code package again (code-size sweeps pad it).
          if (last) await c.restoreCode()
          return samples
        },
      })
    })
  }
}

/**
 * The samples of a point's task, ms: the statistic the point's repetitions
 * were judged on (e.g. the cold client times of a cold-start point, never
 * mixed with its warm calls), else the client times of its usable records.
 * A point without one usable invocation has nothing to show; it fails, and
 * its records on disk say why.
 */
export function pointSamplesMs(outcome: PointOutcome, label: string): number[] {
  const us = outcome.repetitions?.samples.length ? outcome.repetitions.samples : outcome.records.filter(usable).map((r) => r.clientTimeUs)
  if (us.length === 0) {
    const message = `${label}: no usable invocation (all failed, invalid or discarded); see the run's invocations.jsonl for the reasons.`
    // With failed records the run's summary says so and the run exits 1; all discarded, only this error does.
    if (outcome.records.some((r) => r.state !== 'ok' || !r.outputValid)) throw new PointFailedError(message)
    throw new SebsError('INVOCATION_FAILED', message)
  }
  return us.map((u) => u / 1000)
}
