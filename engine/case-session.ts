/**
 * What a bench worker needs to measure the cases of one benchmark, shared by
 * the generated benchmark suite and the experiment suite (both run in bench
 * workers): the benchmark and its cases as the global setup prepared them,
 * the connection to each deployed function, the storage client, the input
 * module's validator and the InvocationContext the measurement path takes.
 * Everything is connected lazily, on the first invocation, and once. Free of
 * Vitest: the suites hand it what they `inject`ed.
 */
import type { BenchmarkInputModule } from '../core/benchmark-input.ts'
import { SebsError } from '../core/errors.ts'
import { createLogger } from '../core/logger.ts'
import { LANGUAGES, SIZES, type Language, type Size } from '../core/types.ts'
import { connectFunction, connectStorage } from '../providers/registry.ts'
import type { DeployedFunction, ObjectStorage } from '../providers/types.ts'
import { loadInputModule } from './inputs.ts'
import type { InvocationContext } from './measure.ts'
import type { ProvidedBenchmark, ProvidedCase, SebsProvided } from './run-state.ts'
import { caseName } from './selection.ts'

/** One benchmark's cases in one worker, with their connections. */
export class BenchmarkSession {
  readonly provided: SebsProvided
  readonly benchmark: ProvidedBenchmark
  readonly #functions = new Map<ProvidedCase, Promise<DeployedFunction>>()
  #storage: Promise<ObjectStorage> | undefined
  #inputModule: Promise<Partial<BenchmarkInputModule>> | undefined

  /** Throws BENCHMARK_NOT_FOUND when the global setup did not discover `benchmarkId`. */
  constructor(provided: SebsProvided, benchmarkId: string) {
    const benchmark = provided.benchmarks.find((b) => b.id === benchmarkId)
    if (!benchmark) {
      throw new SebsError('BENCHMARK_NOT_FOUND', `benchmark ${benchmarkId} was not discovered by the global setup; is the sebs plugin configured?`)
    }
    this.provided = provided
    this.benchmark = benchmark
  }

  /** The language × size cases of the run, in the order the suites define them. */
  cases(): { language: Language; size: Size }[] {
    const { provided, benchmark } = this
    const languages = LANGUAGES.filter((l) => benchmark.languages.includes(l) && (!provided.languages || provided.languages.includes(l)))
    return languages.flatMap((language) => SIZES.filter((s) => provided.sizes.includes(s)).map((size) => ({ language, size })))
  }

  /** The case as the global setup prepared it; undefined when its filters left it out. */
  prepared(language: Language, size: Size): ProvidedCase | undefined {
    return this.provided.cases.find((c) => c.benchmark === this.benchmark.id && c.language === language && c.size === size)
  }

  /** The prepared case, or NOTHING_SELECTED saying how to get it prepared. */
  requirePrepared(language: Language, size: Size): ProvidedCase {
    const prepared = this.prepared(language, size)
    if (!prepared) {
      throw new SebsError(
        'NOTHING_SELECTED',
        `${this.benchmark.id} ${caseName(language, size)} was not prepared by the global setup (its filters differ from this run's); run it through 'npx sebs bench' or widen -t.`,
      )
    }
    return prepared
  }

  /** The deployed function of a case, connected once. */
  connect(prepared: ProvidedCase): Promise<DeployedFunction> {
    let fn = this.#functions.get(prepared)
    if (!fn) {
      const { provided } = this
      fn = connectFunction(
        provided.provider,
        { runId: provided.runId, cacheDir: provided.cacheDir, logger: createLogger('sebs').child(`provider:${provided.provider}`), options: provided.providerOptions },
        prepared.handle,
      )
      // A failed connect is retried by the next caller rather than cached.
      fn.catch(() => this.#functions.delete(prepared))
      this.#functions.set(prepared, fn)
    }
    return fn
  }

  /** The run's storage client, when the run has storage. */
  async storage(): Promise<ObjectStorage | undefined> {
    if (!this.provided.storage) return undefined
    this.#storage ??= connectStorage(this.provided.provider, this.provided.storage)
    return this.#storage
  }

  /** The benchmark's `validateOutput`, when its input module has one. */
  async validator(): Promise<BenchmarkInputModule['validateOutput'] | undefined> {
    const { benchmark } = this
    this.#inputModule ??= loadInputModule(
      { id: benchmark.id, dir: benchmark.dir, input: { kind: benchmark.inputKind, path: benchmark.inputPath } },
      // The environment the main process made for input.py (found in the cache, not created here).
      { python: this.provided.python, cacheDir: this.provided.cacheDir },
    )
    return (await this.#inputModule).validateOutput
  }

  /**
   * The measurement context of a case (engine/measure.ts). `prepared` absent:
   * the context of a harness-error record for a case that never connected.
   */
  async invocationContext(language: Language, size: Size, prepared?: ProvidedCase): Promise<InvocationContext> {
    const { provided, benchmark } = this
    const base: InvocationContext = {
      runId: provided.runId,
      recordsFile: provided.recordsFile,
      benchmark: benchmark.id,
      language,
      size,
      provider: provided.provider,
      memory: prepared?.memory ?? 0,
      trigger: provided.trigger,
      dataDir: benchmark.dataDir,
    }
    if (!prepared) return base
    const [validator, storage] = await Promise.all([this.validator(), this.storage()])
    return { ...base, ...(validator ? { validator } : {}), ...(storage ? { storage } : {}), costModel: provided.costModel }
  }

  /** Closes what this session connected (functions that can close, the storage client). */
  async close(): Promise<void> {
    const fns = await Promise.allSettled([...this.#functions.values()])
    await Promise.allSettled(fns.flatMap((r) => (r.status === 'fulfilled' && r.value.close ? [r.value.close()] : [])))
    if (this.#storage) await (await this.#storage).close()
  }
}
