import { appendFileSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { SebsError } from './errors.ts'
import { appendRecord, readRecords } from './records.ts'
import type { InvocationRecord } from './types.ts'

const rec = (i: number): InvocationRecord => ({
  runId: 'r', benchmark: 'b', language: 'python', size: 'test', provider: 'local', memory: 128, trigger: 'http', phase: 'warm', repetition: i,
  requestId: `q${i}`, containerId: 'c', isCold: false, outputValid: true, clientTimeUs: i, functionTimeUs: i, startedAt: 0, state: 'ok',
})

describe('records', () => {
  it('appends whole lines and reads them back from a run directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sebs-rec-'))
    appendRecord(join(dir, 'invocations.jsonl'), rec(0))
    appendRecord(join(dir, 'invocations.jsonl'), rec(1))
    expect(readRecords(dir).records.map((r) => r.repetition)).toEqual([0, 1])
  })

  it('skips a torn last line left by a crash', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sebs-rec-'))
    const file = join(dir, 'invocations.jsonl')
    appendRecord(file, rec(0))
    appendFileSync(file, '{"runId":"r","bench')
    const { records, skippedLines } = readRecords(file)
    expect(records).toHaveLength(1)
    expect(skippedLines).toBe(1)
  })

  it('says how to find runs when the file is missing', () => {
    expect(() => readRecords('/nonexistent/run')).toThrow(SebsError)
    expect(() => readRecords('/nonexistent/run')).toThrow(/sebs history/)
  })
})
