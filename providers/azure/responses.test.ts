/**
 * Pure pieces of the invocation and metrics paths: how HTTP answers become
 * InvokeResults, the Application Insights query text and table parsing.
 */
import { describe, expect, it } from 'vitest'
import { requestsQuery, tableRows } from './app-insights.ts'
import { interpretResponse } from './function-app.ts'

const envelope = { begin: 1, end: 2, computeTimeUs: 1, isCold: true, containerId: 'c', requestId: 'r', result: { ok: 1 } }

describe('interpretResponse', () => {
  it('200 with an envelope is ok; with an error in it, an error carrying the envelope', () => {
    expect(interpretResponse(200, JSON.stringify(envelope), 1000, 2)).toEqual({ state: 'ok', envelope, clientTimeUs: 1000 })
    const failed = { ...envelope, result: null, error: { type: 'Exception', message: 'boom' } }
    expect(interpretResponse(200, JSON.stringify(failed), 1000, 2)).toEqual({ state: 'error', error: 'Exception: boom', envelope: failed, clientTimeUs: 1000 })
  })

  it('200 without an envelope is an error quoting the body', () => {
    expect(interpretResponse(200, 'not json', 10, 2)).toMatchObject({ state: 'error', error: expect.stringContaining('not JSON: not json') })
    expect(interpretResponse(200, '{"x":1}', 10, 2)).toMatchObject({ state: 'error', error: expect.stringContaining('without a wrapper envelope') })
  })

  it('a 500/502/503/504 at the configured limit is a timeout; earlier, an error', () => {
    expect(interpretResponse(500, '', 1_950_000, 2)).toMatchObject({ state: 'timeout', error: expect.stringMatching(/timeout.*2 s limit \(HTTP 500\)/) })
    expect(interpretResponse(504, '', 2_500_000, 2)).toMatchObject({ state: 'timeout' })
    expect(interpretResponse(500, '', 500_000, 2)).toMatchObject({ state: 'error', error: 'HTTP 500 from the function: (empty body)' })
    expect(interpretResponse(404, 'Not Found', 3_000_000, 2)).toMatchObject({ state: 'error', error: 'HTTP 404 from the function: Not Found' })
  })
})

describe('Application Insights query', () => {
  it('selects request rows by invocation id since a time', () => {
    const q = requestsQuery(['a-1', 'b-2'], new Date('2026-11-28T10:00:00Z'))
    expect(q).toBe(
      [
        'requests',
        '| where timestamp >= datetime(2026-11-28T10:00:00.000Z)',
        '| where tostring(customDimensions.InvocationId) in ("a-1", "b-2")',
        '| project invocationId = tostring(customDimensions.InvocationId), duration, timestamp, success, resultCode',
      ].join('\n'),
    )
  })

  it('turns the API table into rows by column name', () => {
    expect(
      tableRows({
        tables: [{ name: 'PrimaryResult', columns: [{ name: 'invocationId' }, { name: 'duration' }], rows: [['a', 12.5], ['b', 3]] }],
      }),
    ).toEqual([
      { invocationId: 'a', duration: 12.5 },
      { invocationId: 'b', duration: 3 },
    ])
    expect(tableRows({})).toEqual([])
  })
})
