/**
 * Worker side of an experiment run (`--experiment NAME`): for each benchmark,
 * `describe('<NNN.name>')` with one bench per language × size × point of
 * the experiment's plan (`python test cold 128MB`), each running that point
 * exactly once (exact bench options). The experiment logic lives in
 * suites/ as plain async functions over an ExperimentContext; this file is
 * only the Vitest glue. After the last point of a case, the case's summary
 * is printed and written to `<run dir>/experiments/`.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { afterAll, bench, describe, inject } from 'vitest'
import type { BenchmarkInputModule } from '../core/benchmark-input.ts'
import { ConfigError, SebsError, listChoices } from '../core/errors.ts'
import { createLogger } from '../core/logger.ts'
import { LANGUAGES, SIZES, type Language, type Size } from '../core/types.ts'
import { connectFunction, connectStorage } from '../providers/registry.ts'
import type { DeployedFunction, ObjectStorage } from '../providers/types.ts'
import type { PriceRow } from '../analysis/cost.ts'
import { CostBudget, ExperimentContext } from './context.ts'
import { commonOptionsSchema, parseOptions, runPoint, type ExperimentPoint, type ExperimentSettings, type PointOutcome } from './experiment.ts'
import { EXPERIMENT_IMPLEMENTATIONS } from './registry.ts'
import { EXPERIMENTS } from './index.ts'
import { loadInputModule } from '../engine/inputs.ts'
import { interruptionCheck } from '../engine/interrupt.ts'
import { failedInSetup } from '../engine/setup-failures.ts'
import { caseName } from '../engine/selection.ts'
import type { SebsProvided } from '../engine/run-state.ts'
import { exactBenchOptions } from './benchmark-suite.ts'
import '../engine/run-state.ts'

/** The experiment's settings from what the main process provided (CLI flags and the config file's section). */
export function experimentSettings(provided: SebsProvided, name: string, deployedMemory: number): ExperimentSettings {
  const options = provided.experiment?.name === name ? provided.experiment.options : {}
  const common = parseOptions(name, commonOptionsSchema.passthrough(), options)
  const ciTarget = common.ciTarget ?? provided.ciTarget
  return {
    repetitions: common.repetitions ?? provided.repetitions,
    ...(common.adaptive !== undefined ? { adaptive: common.adaptive } : {}),
    ...(ciTarget !== undefined ? { ciTarget } : {}),
    ...(common.minRepetitions !== undefined ? { minRepetitions: common.minRepetitions } : {}),
    ...(common.maxRepetitions !== undefined ? { maxRepetitions: common.maxRepetitions } : {}),
    ...(common.maxWallSeconds !== undefined ? { maxWallSeconds: common.maxWallSeconds } : {}),
    memory: provided.memory && provided.memory.length > 0 ? provided.memory : [deployedMemory],
    ...(provided.maxCost !== undefined ? { maxCost: provided.maxCost } : {}),
    ...(common.costModel !== undefined ? { costModel: common.costModel } : {}),
    ...(common.costModels !== undefined ? { costModels: common.costModels as Record<string, Partial<PriceRow>> } : {}),
    options,
  }
}

export function defineExperimentSuite(name: string, benchmarkId: string): void {
  const provided = inject('sebs')
  const experiment = EXPERIMENT_IMPLEMENTATIONS[name]
  if (!experiment) {
    throw new ConfigError('UNKNOWN_EXPERIMENT', `Unknown experiment '${name}'. Choose one of ${listChoices(Object.keys(EXPERIMENTS))}.`)
  }
  const benchmark = provided.benchmarks.find((b) => b.id === benchmarkId)
  if (!benchmark) {
    throw new SebsError('BENCHMARK_NOT_FOUND', `benchmark ${benchmarkId} was not discovered by the global setup; is the sebs plugin configured?`)
  }
  const logger = createLogger('sebs')
  const live: DeployedFunction[] = []
  const contexts: ExperimentContext[] = []
  let storage: Promise<ObjectStorage> | undefined
  let inputModule: Promise<Partial<BenchmarkInputModule>> | undefined
  const runDir = dirname(provided.recordsFile)
  // After Ctrl-C / SIGTERM (plugin/interrupt.ts) no further point starts.
  const interrupted = interruptionCheck(runDir)

  describe(benchmarkId, () => {
    afterAll(async () => {
      // A backstop for cases whose last point did not run (filtered by -t): the functions leave with their own code.
      await Promise.allSettled(contexts.map((c) => c.restoreCode()))
      await Promise.allSettled(live.map((fn) => fn.close?.()))
      if (storage) await (await storage).close()
    })

    const languages = LANGUAGES.filter((l) => benchmark.languages.includes(l) && (!provided.languages || provided.languages.includes(l)))
    for (const language of languages) {
      for (const size of SIZES.filter((s) => provided.sizes.includes(s))) {
        defineCase(language, size)
      }
    }
  })

  function defineCase(language: Language, size: Size): void {
    const prepared = provided.cases.find((c) => c.benchmark === benchmarkId && c.language === language && c.size === size)
    // Unprepared cases (filtered out by -t) still get their benches, which Vitest then skips.
    const deployedMemory = prepared?.memory ?? provided.memory?.[0] ?? 128
    const settings = experimentSettings(provided, name, deployedMemory)
    const points: ExperimentPoint[] = experiment!.plan(settings, { provider: provided.provider, functionsOnThisMachine: provided.functionsOnThisMachine, language, deployedMemory })
    const state = new Map<string, unknown>()
    const outcomes: PointOutcome[] = []
    let ctx: ExperimentContext | undefined
    const label = `${benchmarkId} ${caseName(language, size)}`

    const context = async (): Promise<ExperimentContext> => {
      if (ctx) return ctx
      if (!prepared) {
        throw new SebsError(
          'NOTHING_SELECTED',
          `${label} was not prepared by the global setup (its filters differ from this run's); run it through 'npx sebs bench' or widen -t.`,
        )
      }
      const fn = await connectFunction(
        provided.provider,
        { runId: provided.runId, cacheDir: provided.cacheDir, logger: logger.child(`provider:${provided.provider}`), options: provided.providerOptions },
        prepared.handle,
      )
      live.push(fn)
      if (provided.storage && !storage) storage = connectStorage(provided.provider, provided.storage)
      inputModule ??= loadInputModule(
        { id: benchmarkId, dir: benchmark!.dir, input: { kind: benchmark!.inputKind, path: benchmark!.inputPath } },
        { python: provided.python },
      )
      const validator = (await inputModule).validateOutput
      ctx = new ExperimentContext({
        fn,
        payload: prepared.event,
        runId: provided.runId,
        recordsFile: provided.recordsFile,
        experiment: name,
        benchmark: benchmarkId,
        language,
        size,
        provider: provided.provider,
        trigger: provided.trigger,
        memory: prepared.memory,
        dataDir: benchmark!.dataDir,
        ...(validator ? { validator } : {}),
        ...(storage ? { storage: await storage } : {}),
        // The run's model (the user's, else the provider's default for its arch), as the plain cases use.
        costModel: settings.costModel ?? provided.costModel,
        ...(settings.costModels ? { priceOverrides: settings.costModels } : {}),
        budget: CostBudget.fromRecords(settings.maxCost, provided.recordsFile),
        log: (line) => console.log(`[sebs] ${name} ${label}: ${line}`),
      })
      contexts.push(ctx)
      return ctx
    }

    // Vitest's bench runner does not run afterAll hooks, so the case's
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
      bench(
        `${caseName(language, size)} ${point.name}`,
        async () => {
          const last = index === points.length - 1
          // Interrupted, or the setup could not prepare the case (and recorded why).
          if (interrupted() || failedInSetup(provided.setupFailures, benchmarkId, language)) {
            if (last && ctx) await ctx.restoreCode().catch(() => {})
            return
          }
          const c = await context()
          let outcome: PointOutcome
          try {
            // Through runPoint: every record of the point carries its name, so reporters keep points apart.
            outcome = await runPoint(experiment!, c, point, settings, state)
          } catch (err) {
            outcomes.push({ point: point.name, records: [], lines: [`${point.name}: FAILED: ${(err as Error).message}`] })
            writeSummary(last)
            if (last) await c.restoreCode().catch((restoreErr: unknown) => console.warn(`[sebs] ${name} ${label}: could not restore the function's own code: ${(restoreErr as Error).message}`))
            throw err
          }
          outcomes.push(outcome)
          for (const line of outcome.lines) console.log(`[sebs] ${name} ${label} ${line}`)
          writeSummary(last)
          // The case ends with the function running its own code package again (code-size sweeps pad it).
          if (last) await c.restoreCode()
        },
        exactBenchOptions(1),
      )
    })
  }
}
