/**
 * Provider-side request durations from Application Insights (what SeBS reads
 * with `az monitor app-insights query`): the `requests` table has one row per
 * function execution, with the invocation id in
 * `customDimensions.InvocationId` and the execution time in `duration` (ms).
 *
 * Rows appear minutes after the invocation (ingestion delay), so the query is
 * repeated until every invocation id was found or the timeout passed; what
 * was found by then is returned.
 */
import { ProviderError } from '../../core/errors.ts'
import type { Logger } from '../../core/logger.ts'

export const APP_INSIGHTS_SCOPE = 'https://api.applicationinsights.io/.default'
/** Invocation ids per query: keeps the KQL text well below the API's limits. */
const BATCH = 200

type RequestFn = <T>(url: string, scope: string, init: { method: string; body?: unknown; signal?: AbortSignal }) => Promise<{ status: number; body: T }>

interface QueryResponse {
  tables?: Array<{ name?: string; columns?: Array<{ name: string; type?: string }>; rows?: unknown[][] }>
  error?: { code?: string; message?: string }
}

/** Only GUID-like ids reach the query text: nothing a record holds can inject KQL. */
const ID = /^[A-Za-z0-9-]{1,64}$/

export function requestsQuery(ids: string[], since: Date): string {
  const list = ids.map((id) => `"${id}"`).join(', ')
  return [
    'requests',
    `| where timestamp >= datetime(${since.toISOString()})`,
    `| where tostring(customDimensions.InvocationId) in (${list})`,
    '| project invocationId = tostring(customDimensions.InvocationId), duration, timestamp, success, resultCode',
  ].join('\n')
}

/** Rows of the first table as objects keyed by column name. */
export function tableRows(body: QueryResponse): Array<Record<string, unknown>> {
  const table = body.tables?.[0]
  if (!table?.columns || !table.rows) return []
  const names = table.columns.map((c) => c.name)
  return table.rows.map((row) => Object.fromEntries(names.map((n, i) => [n, row[i]])))
}

export interface DurationQuery {
  request: RequestFn
  endpoint: string
  appId: string
  invocationIds: string[]
  since: Date
  timeoutMs: number
  pollMs: number
  logger: Logger
}

/** invocation id → request duration in ms, for the ids found before the timeout. */
export async function queryRequestDurations(q: DurationQuery): Promise<Map<string, number>> {
  const wanted = new Set(q.invocationIds.filter((id) => ID.test(id)))
  const found = new Map<string, number>()
  const deadline = Date.now() + q.timeoutMs
  const url = `${q.endpoint.replace(/\/+$/, '')}/v1/apps/${encodeURIComponent(q.appId)}/query`
  for (;;) {
    const missing = [...wanted].filter((id) => !found.has(id))
    for (let i = 0; i < missing.length; i += BATCH) {
      const ids = missing.slice(i, i + BATCH)
      const res = await q.request<QueryResponse>(url, APP_INSIGHTS_SCOPE, {
        method: 'POST',
        body: { query: requestsQuery(ids, q.since) },
        signal: AbortSignal.timeout(60_000),
      })
      if (res.status !== 200) {
        const e = (res.body as QueryResponse | undefined)?.error
        throw new ProviderError(
          'azure',
          'INVOCATION_FAILED',
          `Application Insights query for app ${q.appId} answered HTTP ${res.status}${e ? `: ${e.code ?? ''} ${e.message ?? ''}` : ''}`,
        )
      }
      for (const row of tableRows(res.body)) {
        const id = String(row.invocationId ?? '')
        const duration = Number(row.duration)
        if (wanted.has(id) && Number.isFinite(duration)) found.set(id, duration)
      }
    }
    if (found.size === wanted.size) return found
    if (Date.now() + q.pollMs > deadline) {
      q.logger.debug(`Application Insights: ${found.size} of ${wanted.size} request rows ingested before the timeout`)
      return found
    }
    await new Promise((r) => setTimeout(r, q.pollMs))
  }
}
