/**
 * Provider metrics for invocations that did not get a REPORT line inline
 * (HTTP invocations through the Function URL): a CloudWatch Logs Insights
 * query over `/aws/lambda/<fn>` for REPORT lines, matched to records by
 * request id, as SeBS's `download_metrics` does.
 *
 * Lambda delivers logs to CloudWatch with a delay of seconds (sometimes
 * minutes), so the query is repeated until every request id was found or the
 * deadline passes; what is still missing then is left empty and reported.
 */
import {
  type CloudWatchLogsClient,
  GetQueryResultsCommand,
  StartQueryCommand,
  type ResultField,
} from '@aws-sdk/client-cloudwatch-logs'
import { ProviderError, errorMessage } from '../../core/errors.ts'
import type { Logger } from '../../core/logger.ts'
import type { InvocationRecord } from '../../core/types.ts'
import { logGroupName } from './naming.ts'
import { type ReportLine, parseReportLine, reportToProviderTimes } from './report-line.ts'
import { errorName, isNotFound, isThrottle, sleep } from './retry.ts'

export const REPORT_QUERY = 'fields @timestamp, @requestId, @message | filter @message like /^REPORT/ | limit 10000'

export interface MetricsOptions {
  /** Overall deadline, ms. */
  timeoutMs: number
  /** Between GetQueryResults polls, ms. */
  pollMs: number
  /** Between whole queries while request ids are still missing, ms. */
  requeryMs: number
  logger: Logger
}

/** Runs one Insights query and returns its REPORT lines by request id. */
export async function queryReports(
  logs: CloudWatchLogsClient,
  functionName: string,
  range: { startMs: number; endMs: number },
  options: { deadline: number; pollMs: number },
): Promise<Map<string, ReportLine>> {
  const started = await logs.send(
    new StartQueryCommand({
      logGroupName: logGroupName(functionName),
      // Insights takes epoch seconds; widen by a minute for clock skew.
      startTime: Math.floor(range.startMs / 1000) - 60,
      endTime: Math.ceil(range.endMs / 1000) + 60,
      queryString: REPORT_QUERY,
      limit: 10000,
    }),
  )
  const queryId = started.queryId
  if (!queryId) throw new Error('StartQuery returned no queryId')
  for (;;) {
    const out = await logs.send(new GetQueryResultsCommand({ queryId }))
    const status = out.status ?? 'Unknown'
    if (status === 'Complete') return reportsFromRows(out.results ?? [])
    if (status === 'Failed' || status === 'Cancelled' || status === 'Timeout' || status === 'Unknown') {
      throw new Error(`Logs Insights query ${queryId} ended with status ${status}`)
    }
    if (Date.now() + options.pollMs > options.deadline) {
      throw new Error(`Logs Insights query ${queryId} still ${status} at the deadline`)
    }
    await sleep(options.pollMs)
  }
}

export function reportsFromRows(rows: ResultField[][]): Map<string, ReportLine> {
  const found = new Map<string, ReportLine>()
  for (const row of rows) {
    const message = row.find((f) => f.field === '@message')?.value
    if (!message) continue
    const report = parseReportLine(message)
    if (report) found.set(report.requestId, report)
  }
  return found
}

function needsMetrics(r: InvocationRecord): boolean {
  return Boolean(r.requestId) && r.providerTimeUs === undefined
}

/**
 * Fills providerTimeUs, initTimeUs, billedTimeMs and memoryUsedMb of the
 * records that lack them, from the function's REPORT lines in CloudWatch
 * Logs. Records are returned in the same order; those not found stay as
 * they were.
 */
export async function fillFromLogs(
  logs: CloudWatchLogsClient,
  functionName: string,
  records: InvocationRecord[],
  options: MetricsOptions,
): Promise<InvocationRecord[]> {
  const wanted = new Set(records.filter(needsMetrics).map((r) => r.requestId))
  if (wanted.size === 0) return records
  const startMs = Math.min(...records.map((r) => r.startedAt))
  const deadline = Date.now() + options.timeoutMs
  const found = new Map<string, ReportLine>()
  let lastError: unknown
  for (;;) {
    try {
      const reports = await queryReports(logs, functionName, { startMs, endMs: Date.now() }, { deadline, pollMs: options.pollMs })
      for (const [id, report] of reports) if (wanted.has(id)) found.set(id, report)
      lastError = undefined
    } catch (err) {
      // The log group appears with the first delivered line; throttles pass.
      if (!isNotFound(err) && !isThrottle(err) && !/still .* at the deadline/.test(errorMessage(err))) {
        throw new ProviderError(
          'aws',
          'INVOCATION_FAILED',
          `Could not read REPORT lines of ${functionName} from CloudWatch Logs (${errorName(err)}: ${errorMessage(err)}). ` +
            'The credentials need logs:StartQuery and logs:GetQueryResults.',
          { cause: err },
        )
      }
      lastError = err
    }
    if (found.size === wanted.size) break
    if (Date.now() + options.requeryMs > deadline) break
    options.logger.debug(`${functionName}: ${found.size}/${wanted.size} REPORT lines in CloudWatch Logs; querying again`)
    await sleep(options.requeryMs)
  }
  if (found.size < wanted.size) {
    options.logger.warn(
      `${functionName}: no REPORT line in CloudWatch Logs for ${wanted.size - found.size} of ${wanted.size} invocations ` +
        `after ${Math.round(options.timeoutMs / 1000)} s${lastError ? ` (${errorMessage(lastError)})` : ''}; ` +
        'their provider times stay empty (raise aws.metricsTimeout to wait longer).',
    )
  }
  return records.map((r) => {
    const report = needsMetrics(r) ? found.get(r.requestId) : undefined
    return report ? { ...r, ...reportToProviderTimes(report) } : r
  })
}
