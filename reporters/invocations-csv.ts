/**
 * `invocations.csv`: every invocation record as one CSV row, for
 * spreadsheets, pandas and R. Values keep the records' units (the column
 * names say them: `clientTimeUs` is µs, `billedTimeMs` ms, `startedAt` epoch
 * ms); nothing is filtered, so failed, timed-out and discarded invocations
 * are rows too.
 *
 * Columns: the record fields in a fixed order, then any other top-level
 * field a record carries (sorted, so fields added later still appear), then
 * the nested maps flattened: `counter.<name>` and `counter.<name>.source`,
 * `param.<key>`, `measurement.<key>`. Objects and arrays in a cell are JSON.
 */
import { join } from 'node:path'
import { stringify } from 'csv-stringify/sync'
import type { InvocationRecord } from '../core/types.ts'
import { writeFileAtomic } from './atomic-write.ts'

export const INVOCATIONS_CSV = 'invocations.csv'

/** The fixed leading columns, in order. */
export const INVOCATION_COLUMNS = [
  'runId',
  'benchmark',
  'language',
  'size',
  'provider',
  'memory',
  'trigger',
  'phase',
  'experiment',
  'point',
  'repetition',
  'state',
  'outputValid',
  'discarded',
  'discardReason',
  'error',
  'validationError',
  'isCold',
  'requestId',
  'containerId',
  'startedAt',
  'clientTimeUs',
  'connectTimeUs',
  'functionTimeUs',
  'computeTimeUs',
  'providerTimeUs',
  'initTimeUs',
  'billedTimeMs',
  'memoryUsedMb',
  'rssPeakKb',
  'cpuUserUs',
  'cpuSystemUs',
  'memoryEnforced',
  'costUsd',
] as const

/** Fields flattened into their own columns rather than written as one JSON cell. */
const NESTED = new Set(['counters', 'params', 'measurement'])

type Cell = string | number | boolean | undefined

function cell(value: unknown): Cell {
  if (value === undefined || value === null) return undefined
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value
  return JSON.stringify(value)
}

interface Column {
  key: string
  get: (r: InvocationRecord) => unknown
}

function objectField(r: InvocationRecord, field: string): Record<string, unknown> | undefined {
  const v = (r as unknown as Record<string, unknown>)[field]
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined
}

function columnsFor(records: InvocationRecord[]): Column[] {
  const fixed = new Set<string>(INVOCATION_COLUMNS)
  const extra = new Set<string>()
  const counters = new Set<string>()
  const params = new Set<string>()
  const measurements = new Set<string>()
  for (const r of records) {
    for (const key of Object.keys(r)) if (!fixed.has(key) && !NESTED.has(key)) extra.add(key)
    for (const key of Object.keys(r.counters ?? {})) counters.add(key)
    for (const key of Object.keys(objectField(r, 'params') ?? {})) params.add(key)
    for (const key of Object.keys(objectField(r, 'measurement') ?? {})) measurements.add(key)
  }
  const sorted = (set: Set<string>) => [...set].sort()
  const columns: Column[] = INVOCATION_COLUMNS.map((key) => ({ key, get: (r) => (r as unknown as Record<string, unknown>)[key] }))
  for (const key of sorted(extra)) columns.push({ key, get: (r) => (r as unknown as Record<string, unknown>)[key] })
  for (const name of sorted(counters)) {
    columns.push({ key: `counter.${name}`, get: (r) => r.counters?.[name]?.value })
    columns.push({ key: `counter.${name}.source`, get: (r) => r.counters?.[name]?.source })
  }
  for (const key of sorted(params)) columns.push({ key: `param.${key}`, get: (r) => objectField(r, 'params')?.[key] })
  for (const key of sorted(measurements)) {
    columns.push({ key: `measurement.${key}`, get: (r) => objectField(r, 'measurement')?.[key] })
  }
  return columns
}

/** invocations.csv as a string: a header and one row per record, in file order; absent values are empty cells. */
export function formatInvocationsCsv(records: InvocationRecord[]): string {
  const columns = columnsFor(records)
  const rows = records.map((r) => columns.map((c) => cell(c.get(r))))
  return stringify(rows, { header: true, columns: columns.map((c) => c.key), cast: { boolean: (v) => String(v) } })
}

/** Writes `invocations.csv` into the run directory atomically; returns its path. */
export async function writeInvocationsCsv(runDir: string, records: InvocationRecord[]): Promise<string> {
  const path = join(runDir, INVOCATIONS_CSV)
  await writeFileAtomic(path, formatInvocationsCsv(records))
  return path
}
