/**
 * One measured invocation: invoke, validate the output, build the record and
 * append it to the run's JSONL the moment it completes. Free of Vitest, so
 * experiments and tests can call it directly.
 */
import { performance } from 'node:perf_hooks'
import type { BenchmarkInputModule } from '../core/benchmark-input.ts'
import { errorMessage } from '../core/errors.ts'
import { appendRecord } from '../core/records.ts'
import type { InvocationRecord, Language, Size, Trigger } from '../core/types.ts'
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
    isCold: env?.isCold ?? false,
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
  return { ...base, state: result.state, error: result.error }
}

/**
 * Invokes once, validates, appends the record. Never throws for a failed
 * invocation: callers decide (bench cases end the case; see suites/benchmark-suite.ts).
 */
export async function measureInvocation(
  fn: DeployedFunction,
  payload: Record<string, unknown>,
  ctx: InvocationContext,
  meta: InvocationMeta,
): Promise<InvocationRecord> {
  const startedAt = Date.now()
  const t0 = performance.now()
  let result: InvokeResult
  try {
    result = await fn.invoke(payload, { trigger: ctx.trigger })
  } catch (err) {
    // A provider that throws instead of returning an error result still gets a record.
    result = { state: 'error', error: errorMessage(err), clientTimeUs: Math.round((performance.now() - t0) * 1000) }
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
  const record = buildRecord(ctx, meta, result, startedAt, validation)
  if (ctx.costModel) {
    const cost = estimateCost(record, ctx.costModel)
    if (cost) {
      record.costUsd = cost.usd
      record.costModel = cost.label
    }
  }
  appendRecord(ctx.recordsFile, record)
  return record
}
