/**
 * Worker side of a generated benchmark suite: `describe('<NNN.name>')` with a
 * bench case per language and size. Each case runs exactly one forced-cold
 * invocation and then `repetitions` warm ones; every invocation becomes a
 * record on disk before the next one starts.
 */
import { bench, describe, inject } from 'vitest'
import type { BenchmarkInputModule } from '../core/benchmark-input.ts'
import { SebsError, errorMessage } from '../core/errors.ts'
import { createLogger } from '../core/logger.ts'
import { LANGUAGES, SIZES } from '../core/types.ts'
import { connectFunction, connectStorage } from '../providers/registry.ts'
import type { DeployedFunction, FunctionHandle, ObjectStorage } from '../providers/types.ts'
import { loadInputModule } from '../engine/inputs.ts'
import { buildRecord, measureInvocation } from '../engine/measure.ts'
import { appendRecord } from '../core/records.ts'
import { caseName } from '../engine/selection.ts'
import { interruptionCheck } from '../engine/interrupt.ts'
import { failedInSetup } from '../engine/setup-failures.ts'
import { dirname } from 'node:path'
import '../engine/run-state.ts'

/**
 * Bench options that give exact iteration control: Vitest's defaults (time
 * 500 ms, warm-up) would call the function many more times than configured.
 *
 * Bench functions made by this suite never throw. In Vitest 4.1's bench
 * runner a task that throws with `throws: true` leaves the runner waiting
 * forever (the rejection escapes a setTimeout callback), and with
 * `throws: false` it is reported as an unhandled rejection. A failed
 * invocation is therefore recorded and ends its case (no further
 * invocations); the reporter, which reads the records, lists the failed
 * cases and makes the run exit non-zero.
 */
export function exactBenchOptions(iterations: number) {
  return { time: 0, warmupTime: 0, iterations, warmupIterations: 0, throws: false } as Parameters<typeof bench>[2]
}

export function defineBenchmarkSuite(benchmarkId: string): void {
  const provided = inject('sebs')
  const benchmark = provided.benchmarks.find((b) => b.id === benchmarkId)
  if (!benchmark) {
    throw new SebsError('BENCHMARK_NOT_FOUND', `benchmark ${benchmarkId} was not discovered by the global setup; is the sebs plugin configured?`)
  }
  // Cases that failed: their remaining iterations do nothing.
  const failed = new Set<string>()
  // After Ctrl-C / SIGTERM (plugin/interrupt.ts) no invocation starts; the one in flight finishes.
  const interrupted = interruptionCheck(dirname(provided.recordsFile))
  let storage: Promise<ObjectStorage> | undefined
  let inputModule: Promise<Partial<BenchmarkInputModule>> | undefined

  const connect = (handle: FunctionHandle): Promise<DeployedFunction> =>
    connectFunction(
      provided.provider,
      { runId: provided.runId, cacheDir: provided.cacheDir, logger: createLogger('sebs').child(`provider:${provided.provider}`), options: provided.providerOptions },
      handle,
    )

  describe(benchmarkId, () => {
    // No afterAll here: Vitest's bench runner does not run suite hooks. Local
    // instances and bridges end with the worker process (their exit handlers).

    for (const language of LANGUAGES.filter((l) => benchmark.languages.includes(l) && (!provided.languages || provided.languages.includes(l)))) {
      for (const size of SIZES.filter((s) => provided.sizes.includes(s))) {
        let fn: DeployedFunction | undefined
        let iteration = 0
        bench(
          caseName(language, size),
          async () => {
            const name = `${benchmarkId} ${caseName(language, size)}`
            // After a failure the case is over: nothing runs more often than configured, and nothing after a failure.
            if (failed.has(name) || interrupted()) return
            // Its build, inputs or deploy failed in the setup, which recorded why.
            if (failedInSetup(provided.setupFailures, benchmarkId, language)) return
            try {
              const prepared = provided.cases.find((c) => c.benchmark === benchmarkId && c.language === language && c.size === size)
              if (!prepared) {
                throw new SebsError(
                  'NOTHING_SELECTED',
                  `${benchmarkId} ${language} ${size} was not prepared by the global setup (its filters differ from this run's); run it through 'npx sebs bench' or widen -t.`,
                )
              }
              const target: DeployedFunction = fn ?? (await connect(prepared.handle))
              fn = target
              if (provided.storage && !storage) storage = connectStorage(provided.provider, provided.storage)
              inputModule ??= loadInputModule(
                { id: benchmarkId, dir: benchmark.dir, input: { kind: benchmark.inputKind, path: benchmark.inputPath } },
                { python: provided.python },
              )
              const phase = iteration === 0 ? 'cold' : 'warm'
              const repetition = iteration === 0 ? 0 : iteration - 1
              iteration++
              if (phase === 'cold') await target.forceColdStart()
              const record = await measureInvocation(
                target,
                prepared.event,
                {
                  runId: provided.runId,
                  recordsFile: provided.recordsFile,
                  benchmark: benchmarkId,
                  language,
                  size,
                  provider: provided.provider,
                  memory: prepared.memory,
                  trigger: provided.trigger,
                  dataDir: benchmark.dataDir,
                  validator: (await inputModule).validateOutput,
                  storage: storage ? await storage : undefined,
                  costModel: provided.costModel,
                },
                { phase, repetition, expect: phase },
              )
              if (record.state !== 'ok' || !record.outputValid) failed.add(name)
            } catch (err) {
              // A harness problem, not a function failure: still a record, so the run reports it and fails.
              failed.add(name)
              appendRecord(
                provided.recordsFile,
                buildRecord(
                  { runId: provided.runId, recordsFile: provided.recordsFile, benchmark: benchmarkId, language, size, provider: provided.provider, memory: 0, trigger: provided.trigger, dataDir: benchmark.dataDir },
                  { phase: iteration <= 1 ? 'cold' : 'warm', repetition: Math.max(0, iteration - 2) },
                  { state: 'error', error: `harness error: ${errorMessage(err)}`, clientTimeUs: 0 },
                  Date.now(),
                  { valid: false },
                ),
              )
            }
          },
          exactBenchOptions(1 + provided.repetitions),
        )
      }
    }
  })
}
