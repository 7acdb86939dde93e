/**
 * The one measurement path (runs in bench workers): invoke, validate the
 * output, build the record and append it to the run's JSONL the moment it
 * completes. Plain bench cases and every experiment measure through here;
 * experiments add their steps as hooks. Free of Vitest, so experiments and
 * tests can call it directly.
 */
import { isOutOfMemoryError } from '../core/out-of-memory.ts'
import { performance } from 'node:perf_hooks'
import type { BenchmarkInputModule } from '../core/benchmark-input.ts'
import { errorMessage } from '../core/errors.ts'
import { appendRecord } from '../core/records.ts'
import type { CounterValue, InvocationRecord, Language, Size, Trigger } from '../core/types.ts'
import type { DeployedFunction, InvokeResult, ObjectStorage } from '../providers/types.ts'
import { estimateCost } from '../analysis/cost.ts'

export interface InvocationContext {
  runId: string
  recordsFile: string
  benchmark: string
  language: Language
  size: Size
  provider: string
  memory: number
  trigger: Trigger
  dataDir: string
  /** Output validation; absent means every ok output counts as valid. */
  validator?: BenchmarkInputModule['validateOutput']
  storage?: ObjectStorage
  experiment?: string
  /** The experiment point being measured (see InvocationRecord.point). */
  point?: string
  /** Price row for `costUsd` (see analysis/cost.ts); no cost when absent. */
  costModel?: string
  /** Called with every record once it is on disk (experiments count their budget here). */
  onRecord?: (record: InvocationRecord) => void
}

export interface InvocationMeta {
  phase: string
  repetition: number
  /** What kind of start the phase expects; a sample of the other kind is kept but discarded. */
  expect?: 'cold' | 'warm'
  params?: Record<string, unknown>
}

/** Builds the record for one invocation result. Pure. */
export function buildRecord(
  ctx: InvocationContext,
  meta: InvocationMeta,
  result: InvokeResult,
  startedAt: number,
  validation: { valid: boolean; message?: string },
): InvocationRecord {
  const env = result.state === 'timeout' ? undefined : result.envelope
  const base = {
    runId: ctx.runId,
    benchmark: ctx.benchmark,
    language: ctx.language,
    size: ctx.size,
    provider: ctx.provider,
    memory: ctx.memory,
    trigger: ctx.trigger,
    phase: meta.phase,
    repetition: meta.repetition,
    requestId: env?.requestId ?? '',
    containerId: env?.containerId ?? '',
    // Without an envelope (the instance died), a provider that started an instance for this
    // invocation (init time measured) still knows it was a cold start.
    isCold: env?.isCold ?? result.initTimeUs !== undefined,
    outputValid: result.state === 'ok' && validation.valid,
    clientTimeUs: Math.round(result.clientTimeUs),
    functionTimeUs: env ? Math.max(0, Math.round(env.end - env.begin)) : 0,
    startedAt,
    ...(env?.computeTimeUs !== undefined ? { computeTimeUs: Math.round(env.computeTimeUs) } : {}),
    ...(result.connectTimeUs !== undefined ? { connectTimeUs: result.connectTimeUs } : {}),
    ...(result.providerTimeUs !== undefined ? { providerTimeUs: result.providerTimeUs } : {}),
    ...(result.initTimeUs !== undefined ? { initTimeUs: result.initTimeUs } : {}),
    ...(result.billedTimeMs !== undefined ? { billedTimeMs: result.billedTimeMs } : {}),
    ...(result.memoryUsedMb !== undefined ? { memoryUsedMb: result.memoryUsedMb } : {}),
    ...(result.providerMemoryMb !== undefined ? { providerMemoryMb: result.providerMemoryMb } : {}),
    ...(result.memoryEnforced !== undefined ? { memoryEnforced: result.memoryEnforced } : {}),
    ...(env?.rssPeakKb !== undefined ? { rssPeakKb: env.rssPeakKb } : {}),
    ...(env?.cpuUserUs !== undefined ? { cpuUserUs: env.cpuUserUs } : {}),
    ...(env?.cpuSystemUs !== undefined ? { cpuSystemUs: env.cpuSystemUs } : {}),
    ...(env?.measurement ? { measurement: env.measurement } : {}),
    ...(env?.importTimeUs !== undefined ? { importTimeUs: env.importTimeUs } : {}),
    ...(env?.isColdWorker !== undefined ? { isColdWorker: env.isColdWorker } : {}),
    ...(env?.counters && Object.keys(env.counters).length > 0 ? { counters: env.counters } : {}),
    // The wrapper knows whether its instance runs under a limit; a provider's own answer comes first.
    ...(result.memoryEnforced === undefined && env?.memoryEnforced !== undefined ? { memoryEnforced: env.memoryEnforced } : {}),
    ...(ctx.experiment ? { experiment: ctx.experiment } : {}),
    ...(ctx.point !== undefined ? { point: ctx.point } : {}),
    ...(meta.params ? { params: meta.params } : {}),
  }
  let discard: { discarded: true; discardReason: string } | undefined
  if (result.state === 'ok' && meta.expect && env && env.isCold !== (meta.expect === 'cold')) {
    discard = { discarded: true, discardReason: `expected a ${meta.expect} start, got a ${env.isCold ? 'cold' : 'warm'} one` }
  }
  if (result.state === 'ok') {
    return { ...base, ...discard, state: 'ok', ...(validation.message ? { validationError: validation.message } : {}) }
  }
  if (result.state === 'error' && isOutOfMemoryError(result.error)) return { ...base, state: 'error', error: result.error, errorKind: 'oom' }
  return { ...base, state: result.state, error: result.error }
}

/** Epoch time in µs, with sub-ms precision (performance clock anchored at its origin). */
export function epochUs(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000)
}

/** Stops a harness-side probe and says what it measured (see MeasureHooks.probe). */
export type ProbeStop = () => Promise<{ counters?: Record<string, CounterValue>; params?: Record<string, unknown> }>

/**
 * Steps a caller adds around the one measurement path. The plain bench cases
 * use none; experiments (suites/context.ts) add probes, their own record
 * decoration (counters, discards, their price table) and parameters.
 */
export interface MeasureHooks {
  /**
   * Harness-side measurement around the invocation: started just before the
   * request is sent, stopped right after the answer; what it returns goes
   * into the record's counters and params.
   */
  probe?: () => Promise<ProbeStop>
  /**
   * Turns the built record into the one written; replaces the default cost
   * step (`ctx.costModel`). Receives the counters the probe measured.
   */
  decorate?: (record: InvocationRecord, result: InvokeResult, probed: { counters?: Record<string, CounterValue> }) => InvocationRecord
  /** Extra parameters computed from the outcome, added before the record is written. */
  annotate?: (outcome: { result: InvokeResult; sendUs: number; recvUs: number }) => Record<string, unknown> | undefined
}

/** One measured invocation: its record (already on disk), the provider's result and the harness clock around it. */
export interface Measured {
  record: InvocationRecord
  result: InvokeResult
  /**
   * Epoch µs (harness clock) where the client window started and ended
   * (docs/results-schema.md, "Timed windows"); before and after invoke()
   * for providers that do not report `sentAtUs`.
   */
  sendUs: number
  recvUs: number
}

/**
 * The one measurement path: invoke → validate (with the wrapper's
 * measurement) → record → cost → append. Every invocation of a run, plain
 * case or experiment, goes through here. Never throws for a failed
 * invocation: the record says so and callers decide (bench cases end the
 * case; see suites/benchmark-suite.ts).
 */
export async function measure(
  fn: DeployedFunction,
  payload: Record<string, unknown>,
  ctx: InvocationContext,
  meta: InvocationMeta,
  hooks: MeasureHooks = {},
): Promise<Measured> {
  const stopProbe = hooks.probe ? await hooks.probe() : undefined
  const startedAt = Date.now()
  const beforeInvokeUs = epochUs()
  const t0 = performance.now()
  let result: InvokeResult
  try {
    result = await fn.invoke(payload, { trigger: ctx.trigger })
  } catch (err) {
    // A provider that throws instead of returning an error result still gets a record.
    result = { state: 'error', error: errorMessage(err), clientTimeUs: Math.round((performance.now() - t0) * 1000) }
  }
  const afterInvokeUs = epochUs()
  // Windows on the harness clock start and end with the client window when
  // the provider says where it began: taking the send time before invoke()
  // put the event's serialization (milliseconds for a 4 MB payload) inside
  // send → first instruction but outside clientTimeUs, so that "overhead"
  // came out longer than the whole round trip (docs/results-schema.md).
  const sendUs = result.sentAtUs ?? beforeInvokeUs
  const recvUs = result.sentAtUs !== undefined ? result.sentAtUs + result.clientTimeUs : afterInvokeUs
  let probed: Awaited<ReturnType<ProbeStop>> = {}
  if (stopProbe) {
    try {
      probed = await stopProbe()
    } catch (err) {
      // A counter that could not be read is reported, not invented.
      probed = { params: { probeError: errorMessage(err) } }
    }
  }
  let validation: { valid: boolean; message?: string } = { valid: result.state === 'ok' }
  if (result.state === 'ok' && ctx.validator) {
    try {
      const message = await ctx.validator({
        dataDir: ctx.dataDir,
        size: ctx.size,
        language: ctx.language,
        input: payload,
        output: result.envelope.result,
        measurement: result.envelope.measurement,
        download: ctx.storage ? (bucket, key) => ctx.storage!.download(bucket, key) : undefined,
      })
      validation = message ? { valid: false, message } : { valid: true }
    } catch (err) {
      validation = { valid: false, message: `validateOutput threw: ${errorMessage(err)}` }
    }
  }
  let record = buildRecord(ctx, meta, result, startedAt, validation)
  if (hooks.decorate) {
    record = hooks.decorate(record, result, probed.counters ? { counters: probed.counters } : {})
  } else if (ctx.costModel) {
    const cost = estimateCost(record, ctx.costModel)
    if (cost) {
      record.costUsd = cost.usd
      record.costModel = cost.label
    }
  }
  const extra = hooks.annotate || probed.params ? { ...(probed.params ?? {}), ...(hooks.annotate?.({ result, sendUs, recvUs }) ?? {}) } : undefined
  if (extra && Object.keys(extra).length > 0) record.params = { ...record.params, ...extra }
  write(ctx, record)
  return { record, result, sendUs, recvUs }
}

/** `measure` for callers that need only the record (the plain bench cases, tests). */
export async function measureInvocation(
  fn: DeployedFunction,
  payload: Record<string, unknown>,
  ctx: InvocationContext,
  meta: InvocationMeta,
): Promise<InvocationRecord> {
  return (await measure(fn, payload, ctx, meta)).record
}

/**
 * Records a harness problem (connecting, forcing a cold start, a case the
 * global setup did not prepare) as a failed invocation, so the run reports
 * it and fails; never throws.
 */
export function recordHarnessError(ctx: InvocationContext, meta: InvocationMeta, err: unknown): InvocationRecord {
  const record = buildRecord(ctx, meta, { state: 'error', error: `harness error: ${errorMessage(err)}`, clientTimeUs: 0 }, Date.now(), { valid: false })
  write(ctx, record)
  return record
}

/** The one place records are appended to a run's JSONL. */
function write(ctx: InvocationContext, record: InvocationRecord): void {
  appendRecord(ctx.recordsFile, record)
  ctx.onRecord?.(record)
}
