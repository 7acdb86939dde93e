/**
 * Cost of invocations: one dated price table per provider, plan and
 * architecture, and the billing rules that turn a record's billed time and
 * memory into GB-seconds and dollars.
 *
 * The defaults are public on-demand list prices (US East) looked up on the
 * date of each row (shared/reference/PRICES.md restates them with sources).
 * Prices change: users override any row (`costModels` in an experiment's
 * settings, or `resolvePriceTable(overrides)`), and every estimate says which
 * row and which table date it used.
 *
 *   cost = perRequest + billedDuration_s × billedMemory_GB × perGbSecond
 *
 * Where the duration comes from, in order: the provider's billed time
 * (`billedTimeMs`, AWS's REPORT line), else the provider-measured execution
 * time, else the wrapper's function time (plus the init time of a cold start
 * for platforms that bill it). Memory is the configured memory (AWS) or the
 * observed memory rounded up (Azure Consumption). Monthly free tiers and
 * volume discounts are ignored: a benchmark run cannot know how much of them
 * an account has left. Pure; no I/O.
 */
import type { InvocationRecord } from '../core/types.ts'

export type CostArch = 'x86_64' | 'arm64'

export interface PriceRow {
  /** `aws-x86_64`, `aws-arm64`, `azure-consumption`, … : what `--cost-model` names. */
  id: string
  provider: 'aws' | 'azure'
  arch: CostArch
  plan: string
  /** ISO date the prices were looked up; every estimate carries it. */
  date: string
  source: string
  /** USD per request (invocation). */
  perRequestUsd: number
  /** USD per GB-second of billed duration × billed memory. */
  perGbSecondUsd: number
  /** Billed duration is rounded up to a multiple of this, ms. */
  granularityMs: number
  /** Billed duration is at least this, ms. */
  minDurationMs: number
  /** `configured`: the function's memory setting; `observed`: what the invocation used, rounded up to `memoryStepMb`. */
  memoryBasis: 'configured' | 'observed'
  memoryStepMb: number
  minMemoryMb: number
  maxMemoryMb: number
  /** Whether the init phase of a cold start is billed as duration. */
  billsInit: boolean
}

/** Date of the built-in table (shared/reference/PRICES.md). */
export const PRICE_TABLE_DATE = '2026-11-28'

const AWS_SOURCE = 'https://aws.amazon.com/lambda/pricing/ (US East, N. Virginia)'
const AZURE_SOURCE = 'https://azure.microsoft.com/pricing/details/functions/ (East US)'

/** The built-in price table. */
export const DEFAULT_PRICE_TABLE: Readonly<Record<string, Readonly<PriceRow>>> = Object.freeze({
  'aws-x86_64': Object.freeze({
    id: 'aws-x86_64',
    provider: 'aws',
    arch: 'x86_64',
    plan: 'Lambda on-demand',
    date: PRICE_TABLE_DATE,
    source: AWS_SOURCE,
    perRequestUsd: 0.2 / 1e6,
    perGbSecondUsd: 0.0000166667,
    granularityMs: 1,
    minDurationMs: 1,
    memoryBasis: 'configured',
    memoryStepMb: 1,
    minMemoryMb: 128,
    maxMemoryMb: 10_240,
    // Since 2025-08-01 Lambda bills the INIT phase of on-demand functions as duration.
    billsInit: true,
  }),
  'aws-arm64': Object.freeze({
    id: 'aws-arm64',
    provider: 'aws',
    arch: 'arm64',
    plan: 'Lambda on-demand',
    date: PRICE_TABLE_DATE,
    source: AWS_SOURCE,
    perRequestUsd: 0.2 / 1e6,
    perGbSecondUsd: 0.0000133334,
    granularityMs: 1,
    minDurationMs: 1,
    memoryBasis: 'configured',
    memoryStepMb: 1,
    minMemoryMb: 128,
    maxMemoryMb: 10_240,
    billsInit: true,
  }),
  'azure-consumption': Object.freeze({
    id: 'azure-consumption',
    provider: 'azure',
    arch: 'x86_64',
    plan: 'Functions Consumption',
    date: PRICE_TABLE_DATE,
    source: AZURE_SOURCE,
    perRequestUsd: 0.2 / 1e6,
    perGbSecondUsd: 0.000016,
    granularityMs: 1,
    minDurationMs: 100,
    memoryBasis: 'observed',
    memoryStepMb: 128,
    minMemoryMb: 128,
    maxMemoryMb: 1536,
    billsInit: false,
  }),
  // Flex Consumption, on demand (no always-ready instances): instance memory
  // (512/2048/4096 MB, `providerMemoryMb`) × execution time, at least 1 s;
  // $0.40 per million executions. Azure applies the 1 s minimum to an
  // instance's active period, so per execution it is an upper bound when
  // executions overlap on one instance.
  'azure-flex': Object.freeze({
    id: 'azure-flex',
    provider: 'azure',
    arch: 'x86_64',
    plan: 'Functions Flex Consumption (on demand)',
    date: PRICE_TABLE_DATE,
    source: `${AZURE_SOURCE}; https://learn.microsoft.com/azure/azure-functions/flex-consumption-plan#billing`,
    perRequestUsd: 0.4 / 1e6,
    perGbSecondUsd: 0.000026,
    granularityMs: 1,
    minDurationMs: 1000,
    memoryBasis: 'configured',
    memoryStepMb: 1,
    minMemoryMb: 512,
    maxMemoryMb: 4096,
    billsInit: false,
  }),
})

/** The cost model the local provider's estimates use unless told otherwise. */
export const DEFAULT_LOCAL_COST_MODEL = 'aws-x86_64'

export class CostModelError extends RangeError {}

/**
 * The built-in table with the user's overrides applied: an override of an
 * existing row replaces the named fields (and should set `date`); a new id
 * must give every field. Throws CostModelError naming the row and field.
 */
export function resolvePriceTable(overrides: Record<string, Partial<PriceRow>> = {}): Record<string, PriceRow> {
  const table: Record<string, PriceRow> = {}
  for (const [id, row] of Object.entries(DEFAULT_PRICE_TABLE)) table[id] = { ...row }
  for (const [id, override] of Object.entries(overrides)) {
    const base = table[id]
    const merged = { ...(base ?? {}), ...override, id } as Partial<PriceRow>
    const missing = REQUIRED_FIELDS.filter((f) => merged[f] === undefined)
    if (missing.length > 0) {
      throw new CostModelError(
        `cost model '${id}' is not a built-in row, so it must give every field; missing: ${missing.join(', ')}. ` +
          `Built-in rows: ${Object.keys(DEFAULT_PRICE_TABLE).join(', ')}.`,
      )
    }
    for (const f of NUMERIC_FIELDS) {
      const v = merged[f] as unknown
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
        throw new CostModelError(`cost model '${id}': ${f} must be a finite number ≥ 0, got ${JSON.stringify(v)}`)
      }
    }
    if (merged.granularityMs! <= 0 || merged.memoryStepMb! <= 0) {
      throw new CostModelError(`cost model '${id}': granularityMs and memoryStepMb must be > 0`)
    }
    table[id] = merged as PriceRow
  }
  return table
}

const NUMERIC_FIELDS = [
  'perRequestUsd',
  'perGbSecondUsd',
  'granularityMs',
  'minDurationMs',
  'memoryStepMb',
  'minMemoryMb',
  'maxMemoryMb',
] as const satisfies ReadonlyArray<keyof PriceRow>
const REQUIRED_FIELDS = [
  'provider',
  'arch',
  'plan',
  'date',
  'source',
  'memoryBasis',
  'billsInit',
  ...NUMERIC_FIELDS,
] as const satisfies ReadonlyArray<keyof PriceRow>

export interface CostEstimate {
  usd: number
  requestUsd: number
  durationUsd: number
  gbSeconds: number
  billedDurationMs: number
  billedMemoryMb: number
  /** The row used, e.g. `aws-x86_64`. */
  model: string
  tableDate: string
  /** True unless the record is the model's own provider with provider-billed time. */
  estimate: boolean
  /** Where the duration came from: `billed`, `provider`, `function`. */
  durationSource: 'billed' | 'provider' | 'function'
  /** `aws-x86_64 2026-11-28 (estimate)`: how summaries label the figure. */
  label: string
}

function lookup(model: string | PriceRow, table?: Record<string, PriceRow>): PriceRow {
  if (typeof model !== 'string') return model
  const row = (table ?? DEFAULT_PRICE_TABLE)[model]
  if (!row) {
    throw new CostModelError(`unknown cost model '${model}'; choose one of ${Object.keys(table ?? DEFAULT_PRICE_TABLE).join(', ')}`)
  }
  return row as PriceRow
}

function roundUp(value: number, step: number): number {
  // The epsilon keeps 300.0000000001 (float noise from µs → ms) from becoming 301.
  return Math.ceil(value / step - 1e-9) * step
}

/**
 * What one invocation costs (or would cost) under a price row. Returns
 * undefined when the record carries no duration to bill (a failed start
 * that never ran). Signature used by engine/measure.ts for every record.
 */
export function estimateCost(
  record: InvocationRecord,
  model: string | PriceRow,
  options: { table?: Record<string, PriceRow> } = {},
): CostEstimate | undefined {
  const row = lookup(model, options.table)
  let durationMs: number
  let durationSource: CostEstimate['durationSource']
  if (typeof record.billedTimeMs === 'number' && record.billedTimeMs > 0 && record.provider === row.provider) {
    durationMs = record.billedTimeMs
    durationSource = 'billed'
  } else {
    const execUs = typeof record.providerTimeUs === 'number' && record.providerTimeUs > 0 ? record.providerTimeUs : record.functionTimeUs
    durationSource = execUs === record.functionTimeUs ? 'function' : 'provider'
    const initUs = row.billsInit && record.isCold && typeof record.initTimeUs === 'number' ? record.initTimeUs : 0
    if (!(execUs > 0)) return undefined
    durationMs = (execUs + initUs) / 1000
  }
  const billedDurationMs = Math.max(row.minDurationMs, roundUp(durationMs, row.granularityMs))

  let memoryMb: number
  if (row.memoryBasis === 'observed') {
    const observed = record.memoryUsedMb ?? (record.rssPeakKb !== undefined ? record.rssPeakKb / 1024 : record.memory)
    memoryMb = roundUp(observed, row.memoryStepMb)
  } else {
    // The platform's own size when it differs from the setting (Azure Flex instances), on the model's own provider.
    memoryMb = record.providerMemoryMb !== undefined && record.provider === row.provider ? record.providerMemoryMb : record.memory
  }
  const billedMemoryMb = Math.min(row.maxMemoryMb, Math.max(row.minMemoryMb, memoryMb))

  // GB = 1024 MB, as both providers bill (a 128 MB function is 0.125 GB).
  const gbSeconds = (billedDurationMs / 1000) * (billedMemoryMb / 1024)
  const durationUsd = gbSeconds * row.perGbSecondUsd
  const requestUsd = row.perRequestUsd
  const estimate = !(durationSource === 'billed' && record.provider === row.provider)
  return {
    usd: requestUsd + durationUsd,
    requestUsd,
    durationUsd,
    gbSeconds,
    billedDurationMs,
    billedMemoryMb,
    model: row.id,
    tableDate: row.date,
    estimate,
    durationSource,
    label: `${row.id} ${row.date}${estimate ? ' (estimate)' : ''}`,
  }
}

/** USD per million invocations at a per-invocation cost. */
export function perMillion(usd: number): number {
  return usd * 1e6
}

export interface CostSummary {
  model: string
  tableDate: string
  estimate: boolean
  invocations: number
  totalUsd: number
  meanUsd: number
  perMillionUsd: number
  gbSeconds: number
  label: string
}

/** Total, mean and per-million cost of a set of records under one model (records without a billable duration are skipped). */
export function summarizeCost(
  records: readonly InvocationRecord[],
  model: string | PriceRow,
  options: { table?: Record<string, PriceRow> } = {},
): CostSummary | undefined {
  let total = 0
  let gbSeconds = 0
  let n = 0
  let estimate = false
  let row: CostEstimate | undefined
  for (const r of records) {
    const c = estimateCost(r, model, options)
    if (!c) continue
    row = c
    total += c.usd
    gbSeconds += c.gbSeconds
    estimate ||= c.estimate
    n++
  }
  if (!row || n === 0) return undefined
  const meanUsd = total / n
  return {
    model: row.model,
    tableDate: row.tableDate,
    estimate,
    invocations: n,
    totalUsd: total,
    meanUsd,
    perMillionUsd: perMillion(meanUsd),
    gbSeconds,
    label: `${row.model} ${row.tableDate}${estimate ? ' (estimate)' : ''}`,
  }
}

/** `$0.0000021` / `$2.10 per 1M`: enough significant digits for tiny per-invocation costs. */
export function formatUsd(usd: number): string {
  if (usd === 0) return '$0'
  if (Math.abs(usd) >= 0.01) return `$${usd.toFixed(2)}`
  return `$${usd.toPrecision(3)}`
}
