/**
 * Lambda's REPORT log line: the platform's own account of one invocation.
 *
 * `InvokeCommand` with `LogType: 'Tail'` returns the last 4 KB of the
 * invocation's log, base64-encoded, ending with a line such as
 *
 *   REPORT RequestId: 8f5…  Duration: 102.25 ms  Billed Duration: 103 ms
 *   Memory Size: 128 MB  Max Memory Used: 68 MB  Init Duration: 245.01 ms
 *
 * (tab-separated), optionally followed by `Status: timeout` or
 * `Status: error  Error Type: Runtime.OutOfMemory`, and by an `XRAY` line when
 * tracing is on. CloudWatch Logs holds the same line, which is how HTTP
 * invocations get their provider metrics.
 */

export interface ReportLine {
  requestId: string
  /** `Duration`, ms (two decimals). */
  durationMs: number
  billedDurationMs: number
  memorySizeMb: number
  maxMemoryUsedMb: number
  /** Only on the first invocation of a new execution environment. */
  initDurationMs?: number
  /** SnapStart functions report a restore instead of an init. */
  restoreDurationMs?: number
  /** `timeout`, `error` … when the platform ended the invocation. */
  status?: string
  /** E.g. `Runtime.OutOfMemory`, with `status: 'error'`. */
  errorType?: string
}

// Longest names first, so that "Billed Duration" is not read as "Duration".
const NAMES = [
  'Billed Restore Duration',
  'Restore Duration',
  'Billed Duration',
  'Init Duration',
  'Max Memory Used',
  'Memory Size',
  'Duration',
  'Error Type',
  'Status',
]
// Fields are tab-separated in the log, but copies (console, Insights) may
// turn tabs into spaces: split on the field names themselves.
const NAME_RE = new RegExp(`(?:^|\\s)(${NAMES.join('|')}):`, 'g')

function number(value: string): number {
  const n = Number.parseFloat(value)
  return Number.isFinite(n) ? n : Number.NaN
}

/** Parses one REPORT line; undefined when the text is not one. */
export function parseReportLine(line: string): ReportLine | undefined {
  const text = line.trim()
  const head = /^REPORT\s+RequestId:\s*([0-9A-Za-z-]+)/.exec(text)
  if (!head) return undefined
  const rest = text.slice(head[0].length)
  const fields = new Map<string, string>()
  const matches = [...rest.matchAll(NAME_RE)]
  matches.forEach((match, i) => {
    const start = (match.index ?? 0) + match[0].length
    const end = i + 1 < matches.length ? (matches[i + 1].index ?? rest.length) : rest.length
    if (!fields.has(match[1])) fields.set(match[1], rest.slice(start, end).trim())
  })
  const duration = fields.get('Duration')
  const billed = fields.get('Billed Duration')
  const size = fields.get('Memory Size')
  const used = fields.get('Max Memory Used')
  if (duration === undefined || billed === undefined || size === undefined || used === undefined) return undefined
  const report: ReportLine = {
    requestId: head[1],
    durationMs: number(duration),
    billedDurationMs: number(billed),
    memorySizeMb: number(size),
    maxMemoryUsedMb: number(used),
  }
  const init = fields.get('Init Duration')
  if (init !== undefined) report.initDurationMs = number(init)
  const restore = fields.get('Restore Duration')
  if (restore !== undefined) report.restoreDurationMs = number(restore)
  const status = fields.get('Status')
  if (status !== undefined) report.status = status
  const errorType = fields.get('Error Type')
  if (errorType !== undefined) report.errorType = errorType
  return report
}

/** Finds the REPORT line in a (decoded) log tail; the last one wins. */
export function findReportLine(log: string): ReportLine | undefined {
  let found: ReportLine | undefined
  for (const line of log.split(/\r?\n/)) {
    const parsed = parseReportLine(line)
    if (parsed) found = parsed
  }
  return found
}

/** Decodes the base64 `LogResult` of an InvokeCommand response. */
export function decodeLogResult(logResult: string | undefined): string {
  if (!logResult) return ''
  return Buffer.from(logResult, 'base64').toString('utf8')
}

/** The provider-side fields of an InvocationRecord/InvokeResult, from a REPORT line. */
export function reportToProviderTimes(report: ReportLine): {
  providerTimeUs: number
  initTimeUs?: number
  billedTimeMs: number
  memoryUsedMb: number
} {
  const times: { providerTimeUs: number; initTimeUs?: number; billedTimeMs: number; memoryUsedMb: number } = {
    providerTimeUs: Math.round(report.durationMs * 1000),
    billedTimeMs: Math.round(report.billedDurationMs),
    memoryUsedMb: Math.round(report.maxMemoryUsedMb),
  }
  const init = report.initDurationMs ?? report.restoreDurationMs
  if (init !== undefined) times.initTimeUs = Math.round(init * 1000)
  return times
}
