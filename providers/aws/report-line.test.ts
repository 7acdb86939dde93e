import { describe, expect, it } from 'vitest'
import { decodeLogResult, findReportLine, parseReportLine, reportToProviderTimes } from './report-line.ts'

// Lines in the exact shape Lambda writes them: tab-separated, a trailing tab.
const COLD =
  'REPORT RequestId: 3b7d3d7a-9b55-4a3c-8f5e-1c2d3e4f5a6b\tDuration: 102.25 ms\tBilled Duration: 348 ms\tMemory Size: 128 MB\tMax Memory Used: 68 MB\tInit Duration: 245.01 ms\t'
const WARM =
  'REPORT RequestId: 0f9a51c2-1b7e-4f4e-9d8e-2a6b7c8d9e0f\tDuration: 1.82 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 69 MB\t'
const TIMEOUT =
  'REPORT RequestId: 5e6f7a8b-0c1d-4e2f-8a3b-4c5d6e7f8a9b\tDuration: 3000.00 ms\tBilled Duration: 3181 ms\tMemory Size: 128 MB\tMax Memory Used: 52 MB\tInit Duration: 180.43 ms\tStatus: timeout'
const OOM =
  'REPORT RequestId: 9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d\tDuration: 1204.61 ms\tBilled Duration: 1205 ms\tMemory Size: 128 MB\tMax Memory Used: 128 MB\tStatus: error\tError Type: Runtime.OutOfMemory'

describe('parseReportLine', () => {
  it('reads a cold invocation with Init Duration', () => {
    expect(parseReportLine(COLD)).toEqual({
      requestId: '3b7d3d7a-9b55-4a3c-8f5e-1c2d3e4f5a6b',
      durationMs: 102.25,
      billedDurationMs: 348,
      memorySizeMb: 128,
      maxMemoryUsedMb: 68,
      initDurationMs: 245.01,
    })
  })

  it('reads a warm invocation (no Init Duration)', () => {
    const r = parseReportLine(WARM)
    expect(r).toEqual({
      requestId: '0f9a51c2-1b7e-4f4e-9d8e-2a6b7c8d9e0f',
      durationMs: 1.82,
      billedDurationMs: 2,
      memorySizeMb: 128,
      maxMemoryUsedMb: 69,
    })
  })

  it('reads a timeout (Status: timeout)', () => {
    const r = parseReportLine(TIMEOUT)
    expect(r?.status).toBe('timeout')
    expect(r?.durationMs).toBe(3000)
    expect(r?.billedDurationMs).toBe(3181)
    expect(r?.initDurationMs).toBe(180.43)
    expect(r?.errorType).toBeUndefined()
  })

  it('reads an out-of-memory kill (Status: error, Error Type)', () => {
    const r = parseReportLine(OOM)
    expect(r?.status).toBe('error')
    expect(r?.errorType).toBe('Runtime.OutOfMemory')
    expect(r?.maxMemoryUsedMb).toBe(128)
    expect(r?.billedDurationMs).toBe(1205)
  })

  it('reads a line whose tabs became spaces (console and Insights copies)', () => {
    const r = parseReportLine(COLD.replace(/\t/g, ' '))
    expect(r?.durationMs).toBe(102.25)
    expect(r?.billedDurationMs).toBe(348)
    expect(r?.initDurationMs).toBe(245.01)
  })

  it('reads SnapStart restore durations without mistaking them for Duration', () => {
    const r = parseReportLine(
      'REPORT RequestId: 1c2d3e4f-0000-4000-8000-000000000001\tDuration: 20.00 ms\tBilled Duration: 150 ms\tMemory Size: 512 MB\tMax Memory Used: 90 MB\tRestore Duration: 300.50 ms\tBilled Restore Duration: 130 ms\t',
    )
    expect(r?.durationMs).toBe(20)
    expect(r?.billedDurationMs).toBe(150)
    expect(r?.restoreDurationMs).toBe(300.5)
  })

  it('rejects lines that are not REPORT lines', () => {
    expect(parseReportLine('START RequestId: 3b7d3d7a-9b55-4a3c-8f5e-1c2d3e4f5a6b Version: $LATEST')).toBeUndefined()
    expect(parseReportLine('END RequestId: 3b7d3d7a-9b55-4a3c-8f5e-1c2d3e4f5a6b')).toBeUndefined()
    expect(parseReportLine('REPORT RequestId: x\tDuration: 1 ms')).toBeUndefined()
    expect(parseReportLine('2024-01-01T00:00:00.000Z\tabc\tINFO\tREPORT RequestId: fake')).toBeUndefined()
  })
})

describe('findReportLine / decodeLogResult', () => {
  it('finds the REPORT line in a base64 log tail with START/END and an XRAY line', () => {
    const log = [
      'INIT_START Runtime Version: python:3.11.v40\tRuntime Version ARN: arn:aws:lambda:us-east-1::runtime:abc',
      'START RequestId: 3b7d3d7a-9b55-4a3c-8f5e-1c2d3e4f5a6b Version: $LATEST',
      'some output of the function',
      'END RequestId: 3b7d3d7a-9b55-4a3c-8f5e-1c2d3e4f5a6b',
      COLD,
      'XRAY TraceId: 1-5f84c7a1-2b3c4d5e6f7a8b9c0d1e2f3a\tSegmentId: 0a1b2c3d4e5f6a7b\tSampled: true\t',
      '',
    ].join('\n')
    const b64 = Buffer.from(log).toString('base64')
    const r = findReportLine(decodeLogResult(b64))
    expect(r?.requestId).toBe('3b7d3d7a-9b55-4a3c-8f5e-1c2d3e4f5a6b')
    expect(r?.initDurationMs).toBe(245.01)
  })

  it('returns undefined for an empty or missing tail', () => {
    expect(findReportLine(decodeLogResult(undefined))).toBeUndefined()
    expect(findReportLine(decodeLogResult(''))).toBeUndefined()
  })
})

describe('reportToProviderTimes', () => {
  it('converts to the record fields (µs, ms, MB)', () => {
    expect(reportToProviderTimes(parseReportLine(COLD)!)).toEqual({
      providerTimeUs: 102_250,
      initTimeUs: 245_010,
      billedTimeMs: 348,
      memoryUsedMb: 68,
    })
    expect(reportToProviderTimes(parseReportLine(WARM)!)).toEqual({ providerTimeUs: 1820, billedTimeMs: 2, memoryUsedMb: 69 })
  })
})
