/**
 * The small context an experiment runs against: one deployed function of one
 * case (benchmark × language × size), and the operations experiments need
 * (measure one invocation, force a cold start, change memory). Free of
 * Vitest, so experiments are plain async functions testable against a real
 * provider without Vitest internals; suites/experiment-suite.ts builds it.
 *
 * Every invocation goes through `measure`, which is the engine's one
 * measurement path (engine/measure.ts) with the experiments' steps as hooks:
 * the record is appended to the run's JSONL the moment it completes, with
 * what experiments add to the plain record (counters from the wrapper, whether memory was enforced, the
 * cost under the chosen price row, warm-up discards, parameters).
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { BenchmarkInputModule } from '../core/benchmark-input.ts'
import { SebsError } from '../core/errors.ts'
import { readRecords } from '../core/records.ts'
import type { CounterValue, InvocationRecord, Language, Size, Trigger } from '../core/types.ts'
import { epochUs, measure, type InvocationContext, type Measured, type ProbeStop } from '../engine/measure.ts'
import type { CodeUpdateResult, DeployedFunction, InvokeResult, ObjectStorage } from '../providers/types.ts'
import { estimateCost, resolvePriceTable, type PriceRow } from '../analysis/cost.ts'
import { existsSync } from 'node:fs'

// Re-exported: experiments import them from their context.
export { epochUs, type Measured, type ProbeStop }

export interface MeasureMeta {
  phase: string
  repetition: number
  /** What kind of start the phase expects; a sample of the other kind is kept on disk but discarded. */
  expect?: 'cold' | 'warm'
  params?: Record<string, unknown>
  /** Discard this sample (warm-up, priming) with this reason; it stays on disk. */
  discard?: string
  /** The event to send instead of the case's own. */
  payload?: Record<string, unknown>
  /** Counters measured around the invocation by the harness (perf, callgrind, procfs sampling). */
  counters?: Record<string, CounterValue>
  /**
   * Harness-side measurement around the invocation: started just before the
   * request is sent, stopped right after the answer; what it returns goes
   * into the record's counters and params.
   */
  probe?: () => Promise<ProbeStop>
  /** Extra parameters computed from the outcome, added before the record is written. */
  annotate?: (outcome: { result: InvokeResult; sendUs: number; recvUs: number }) => Record<string, unknown> | undefined
}

/** Tracks money spent in the run against `--max-cost`. */
export class CostBudget {
  spentUsd: number
  readonly maxUsd: number | undefined
  constructor(maxUsd: number | undefined, spentUsd = 0) {
    this.maxUsd = maxUsd
    this.spentUsd = spentUsd
  }
  /** Whether `nextUsd` more fits under the ceiling. */
  allows(nextUsd: number): boolean {
    return this.maxUsd === undefined || this.spentUsd + nextUsd <= this.maxUsd
  }
  add(usd: number | undefined): void {
    if (usd !== undefined && Number.isFinite(usd)) this.spentUsd += usd
  }
  /** A budget that counts what the run's records already spent (other benchmark files run in other workers). */
  static fromRecords(maxUsd: number | undefined, recordsFile: string): CostBudget {
    let spent = 0
    if (maxUsd !== undefined && existsSync(recordsFile)) {
      for (const r of readRecords(recordsFile).records) spent += r.costUsd ?? 0
    }
    return new CostBudget(maxUsd, spent)
  }
}

export interface ExperimentContextInit {
  fn: DeployedFunction
  payload: Record<string, unknown>
  runId: string
  recordsFile: string
  experiment: string
  benchmark: string
  language: Language
  size: Size
  provider: string
  trigger: Trigger
  /** The memory the function is deployed with now, MB. */
  memory: number
  dataDir: string
  validator?: BenchmarkInputModule['validateOutput']
  storage?: ObjectStorage
  /** Price row for `costUsd` (e.g. 'aws-x86_64'), and user overrides of the table. */
  costModel: string
  priceOverrides?: Record<string, Partial<PriceRow>>
  budget: CostBudget
  /** Progress lines (the experiment suite prints them). */
  log?: (line: string) => void
  /** Injected in tests; real sleep otherwise. */
  sleep?: (ms: number) => Promise<void>
  /** True once the run is interrupted (Ctrl-C / SIGTERM): `measure` then starts no invocation. */
  interrupted?: () => boolean
}

/** Thrown by `measure` once the run is interrupted: the point stops between invocations. */
export class RunInterruptedError extends SebsError {
  constructor() {
    super('INTERRUPTED', 'the run was interrupted (Ctrl-C / SIGTERM); no further invocation is started')
    this.name = 'RunInterruptedError'
  }
}

export class ExperimentContext {
  readonly fn: DeployedFunction
  readonly payload: Record<string, unknown>
  readonly experiment: string
  readonly benchmark: string
  readonly language: Language
  readonly size: Size
  readonly provider: string
  readonly budget: CostBudget
  readonly costModel: string
  readonly priceTable: Record<string, PriceRow>
  readonly recordsFile: string
  /**
   * The point being measured (its bench name, e.g. `payload 1024B warm`):
   * every record `measure` writes carries it, so reporters summarise the
   * points of one phase apart. Set around each point by `runPoint`
   * (suites/experiment.ts); undefined outside a point.
   */
  point: string | undefined
  #memory: number
  #memoryApplied = false
  /** What `setCodePadding` deployed last (undefined: the package as deployed, never touched). */
  #code: CodeUpdateResult | undefined
  readonly #init: ExperimentContextInit

  constructor(init: ExperimentContextInit) {
    this.#init = init
    this.fn = init.fn
    this.payload = init.payload
    this.experiment = init.experiment
    this.benchmark = init.benchmark
    this.language = init.language
    this.size = init.size
    this.provider = init.provider
    this.budget = init.budget
    this.costModel = init.costModel
    this.priceTable = resolvePriceTable(init.priceOverrides)
    this.recordsFile = init.recordsFile
    this.point = undefined
    this.#memory = init.memory
    // Fail now, not at the first record, on an unknown model.
    if (!this.priceTable[init.costModel]) {
      throw new RangeError(`unknown cost model '${init.costModel}'; choose one of ${Object.keys(this.priceTable).join(', ')}`)
    }
  }

  /** Configured memory of the function now, MB (what records say). */
  get memory(): number {
    return this.#memory
  }

  log(line: string): void {
    this.#init.log?.(line)
  }

  sleep(ms: number): Promise<void> {
    return this.#init.sleep ? this.#init.sleep(ms) : sleep(ms)
  }

  /** Makes the next invocation start a new instance (locally a new process; in the cloud an environment change). */
  forceColdStart(): Promise<void> {
    return this.fn.forceColdStart()
  }

  /**
   * Makes sure the function runs with `memoryMb`: updates it the first time
   * (also when the handle already says so: the local provider learns its
   * limit from the update) and whenever it differs.
   */
  async ensureMemory(memoryMb: number): Promise<void> {
    if (this.#memoryApplied && memoryMb === this.#memory) return
    await this.fn.update({ memory: memoryMb })
    this.#memory = memoryMb
    this.#memoryApplied = true
  }

  /** Bytes of padding in the code the function runs now (0 unless `setCodePadding` changed it). */
  get codePaddingBytes(): number {
    return this.#code?.paddingBytes ?? 0
  }

  /** Size of the code package the function runs now, bytes, once `setCodePadding` reported it. */
  get codePackageBytes(): number | undefined {
    return this.#code?.packageSizeBytes
  }

  /**
   * Makes the function run its own package plus `bytes` of random padding
   * (SeBS's code-package-size sweep; 0 = the package as built). Redeploys
   * only when the padding differs from what runs now; after a redeploy the
   * next invocation is cold. Throws NOT_SUPPORTED when the provider cannot
   * redeploy code. `restoreCode()` (run at the end of every case) goes back to 0.
   */
  async setCodePadding(bytes: number): Promise<CodeUpdateResult> {
    if (this.#code && this.#code.paddingBytes === bytes) return this.#code
    if (!this.#code && bytes === 0) {
      // Nothing changed yet: the deployed package runs; its size is still worth knowing.
      this.#code = await this.#updateCode(0)
      return this.#code
    }
    this.#code = await this.#updateCode(bytes)
    this.log(`code package: ${this.#code.packageSizeBytes} bytes (${bytes} bytes of padding)`)
    return this.#code
  }

  /** Goes back to the package as deployed when a padding was set; a no-op otherwise. */
  async restoreCode(): Promise<void> {
    if (this.#code && this.#code.paddingBytes !== 0) await this.setCodePadding(0)
  }

  #updateCode(bytes: number): Promise<CodeUpdateResult> {
    if (!this.fn.updateCode) {
      throw new SebsError(
        'NOT_SUPPORTED',
        `The ${this.provider} provider cannot redeploy a function's code, so code-package-size sweeps (codeSizes) do not run there. ` +
          `Drop the codeSizes setting of experiments['${this.experiment}'], or run it on a provider whose functions implement updateCode (see providers/types.ts).`,
      )
    }
    return this.fn.updateCode({ paddingBytes: bytes })
  }

  /** Adds environment variables to the function (new instances get them). */
  async setEnv(env: Record<string, string>): Promise<void> {
    await this.fn.update({ env })
  }


  /**
   * Invokes once through the one measurement path (engine/measure.ts), with
   * what experiments add as hooks: the probe, their record decoration
   * (counters, discards, their price table), annotations, the cost budget.
   * Never throws for a failed invocation; rejects with RunInterruptedError,
   * before invoking, once the run is interrupted (a long point stops between
   * its invocations).
   */
  measure(meta: MeasureMeta): Promise<Measured> {
    const init = this.#init
    if (init.interrupted?.()) return Promise.reject(new RunInterruptedError())
    const ctx: InvocationContext = {
      runId: init.runId,
      recordsFile: init.recordsFile,
      benchmark: init.benchmark,
      language: init.language,
      size: init.size,
      provider: init.provider,
      memory: this.#memory,
      trigger: init.trigger,
      dataDir: init.dataDir,
      experiment: init.experiment,
      ...(this.point !== undefined ? { point: this.point } : {}),
      ...(init.validator ? { validator: init.validator } : {}),
      ...(init.storage ? { storage: init.storage } : {}),
      onRecord: (record) => this.budget.add(record.costUsd),
    }
    const cost = { model: this.costModel, table: this.priceTable }
    return measure(
      this.fn,
      meta.payload ?? this.payload,
      ctx,
      { phase: meta.phase, repetition: meta.repetition, expect: meta.expect, params: meta.params },
      {
        ...(meta.probe ? { probe: meta.probe } : {}),
        decorate: (record, result, probed) =>
          decorateRecord(record, result, { ...meta, counters: { ...(meta.counters ?? {}), ...(probed.counters ?? {}) } }, cost),
        ...(meta.annotate ? { annotate: meta.annotate } : {}),
      },
    )
  }
}

const MEMORY_LIMIT_ERROR = /memory limit exceeded: .*\(cgroup memory limit/

function isCounterMap(value: unknown): value is Record<string, CounterValue> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false
  return Object.values(value).every(
    (v) => v !== null && typeof v === 'object' && typeof (v as CounterValue).value === 'number' && typeof (v as CounterValue).source === 'string',
  )
}

/**
 * What experiments add to a plain record (pure): wrapper counters and
 * harness counters, memory enforcement as the wrapper reported it, the
 * wrapper's import time, warm-up discards, cost under the price row.
 */
export function decorateRecord(
  record: InvocationRecord,
  result: InvokeResult,
  meta: Pick<MeasureMeta, 'discard' | 'counters'>,
  cost: { model: string; table?: Record<string, PriceRow> },
): InvocationRecord {
  const out: InvocationRecord = { ...record }
  const envelope = (result.state === 'timeout' ? undefined : result.envelope) as (Record<string, unknown> | undefined)
  if (envelope && typeof envelope.memoryEnforced === 'boolean') out.memoryEnforced = envelope.memoryEnforced
  else if (out.state === 'error' && MEMORY_LIMIT_ERROR.test(out.error)) out.memoryEnforced = true

  const counters = { ...(isCounterMap(envelope?.counters) ? envelope.counters : {}), ...(meta.counters ?? {}) }
  if (Object.keys(counters).length > 0) out.counters = { ...(out.counters ?? {}), ...counters }

  const params: Record<string, unknown> = { ...(out.params ?? {}) }
  if (typeof envelope?.importTimeUs === 'number') params.importTimeUs = envelope.importTimeUs
  if (typeof envelope?.memoryLimitMechanism === 'string') params.memoryLimit = envelope.memoryLimitMechanism
  else if (result.memoryLimitMechanism !== undefined) params.memoryLimit = result.memoryLimitMechanism

  if (meta.discard) {
    out.discarded = true
    out.discardReason = out.discardReason ? `${meta.discard}; also ${out.discardReason}` : meta.discard
  }
  const estimate = estimateCost(out, cost.model, cost.table ? { table: cost.table } : {})
  if (estimate) {
    out.costUsd = estimate.usd
    params.costModel = estimate.label
  }
  if (Object.keys(params).length > 0) out.params = params
  return out
}

/** Records a statistic may use: state ok, valid output, not discarded. */
export function usable(record: InvocationRecord): boolean {
  return record.state === 'ok' && record.outputValid && !record.discarded
}
