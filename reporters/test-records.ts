/**
 * Hand-built invocation records for the reporters' tests (not used at run time).
 */
import type { InvocationRecord } from '../core/types.ts'

type Overrides = Partial<Omit<InvocationRecord, 'state' | 'error'>> &
  ({ state?: 'ok'; validationError?: string } | { state: 'error' | 'timeout'; error: string })

let counter = 0

/** A warm, valid 'ok' record of 110.dynamic-html/nodejs/test on local, 256 MB, http; fields overridable. */
export function makeRecord(overrides: Overrides = { state: 'ok' }): InvocationRecord {
  counter++
  const base = {
    runId: 'run-1',
    benchmark: '110.dynamic-html',
    language: 'nodejs' as const,
    size: 'test' as const,
    provider: 'local',
    memory: 256,
    trigger: 'http' as const,
    phase: 'warm',
    repetition: 0,
    requestId: `req-${counter}`,
    containerId: 'container-1',
    isCold: false,
    outputValid: true,
    clientTimeUs: 10_000,
    functionTimeUs: 5_000,
    startedAt: 1_700_000_000_000 + counter,
  }
  return { ...base, state: 'ok', ...overrides } as InvocationRecord
}
