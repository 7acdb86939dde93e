/**
 * The ordering of the timed windows in one invocation record (pure; runs
 * wherever records are checked: tests, reporters). Where each window starts
 * and ends is defined once, in docs/results-schema.md ("Timed windows"):
 *
 *   client    harness clock: event serialized, request about to be written → answer read and parsed
 *   overhead  client start → the wrapper's first instruction (`begin`, clock-corrected); invocation-overhead's params.invocationOverheadUs
 *   function  wrapper clock: `begin` → `end` (import, handler, result handling)
 *   compute   the handler call alone, inside `function`
 *   transfer  client − function: request and answer on the wire, the trigger and server
 *
 * so that compute ≤ function ≤ client, init/connect/provider ≤ client, and
 * overhead + function ≤ client (within the clock estimate's error).
 */
import type { InvocationRecord } from '../core/types.ts'

/** Slack for values rounded to whole µs on two clocks. */
const ROUNDING_US = 2

/** The invariants a record breaks, each as a sentence naming the fields and values; empty when it holds them all. */
export function timingWindowProblems(record: InvocationRecord): string[] {
  const problems: string[] = []
  const { clientTimeUs: client, functionTimeUs: fn } = record
  const check = (ok: boolean, text: string): void => {
    if (!ok) problems.push(text)
  }
  check(Number.isFinite(client) && client >= 0, `clientTimeUs ${client} is not a time`)
  // Failed and timed-out invocations may have no wrapper times at all.
  if (record.state !== 'ok') return problems
  check(fn >= 0, `functionTimeUs ${fn} < 0`)
  check(fn <= client + ROUNDING_US, `functionTimeUs ${fn} > clientTimeUs ${client}`)
  if (record.computeTimeUs !== undefined) check(record.computeTimeUs <= fn + ROUNDING_US, `computeTimeUs ${record.computeTimeUs} > functionTimeUs ${fn}`)
  for (const key of ['initTimeUs', 'connectTimeUs', 'providerTimeUs'] as const) {
    const v = record[key]
    if (v !== undefined) check(v <= client + ROUNDING_US, `${key} ${v} > clientTimeUs ${client}`)
  }
  const overhead = record.params?.invocationOverheadUs
  if (typeof overhead === 'number') {
    const clockErrorUs = typeof record.params?.clockErrorUs === 'number' ? record.params.clockErrorUs : 0
    const slack = clockErrorUs + ROUNDING_US
    check(overhead >= -slack, `invocationOverheadUs ${overhead} < 0 beyond the clock error ±${clockErrorUs}`)
    check(overhead <= client + slack, `invocationOverheadUs ${overhead} > clientTimeUs ${client} (± clock error ${clockErrorUs})`)
    check(overhead + fn <= client + slack, `invocationOverheadUs ${overhead} + functionTimeUs ${fn} > clientTimeUs ${client} (± clock error ${clockErrorUs})`)
  }
  return problems
}

/** `timingWindowProblems` over many records, each problem prefixed with what identifies the record. */
export function timingWindowReport(records: readonly InvocationRecord[]): string[] {
  return records.flatMap((r) =>
    timingWindowProblems(r).map((p) => `${r.experiment ?? 'bench'} ${r.benchmark} ${r.language} ${r.point ?? r.phase} #${r.repetition}: ${p}`),
  )
}
