import { appendFileSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { SebsError } from './errors.ts'
import { appendRecord, closeRecordsFile, readRecords } from './records.ts'
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

  it('keeps appending to the right file when the run directory is removed and made again between records', () => {
    // appendRecord keeps its file open between records; a removed file must not swallow the next ones.
    const dir = mkdtempSync(join(tmpdir(), 'sebs-rec-'))
    const file = join(dir, 'invocations.jsonl')
    appendRecord(file, rec(0))
    rmSync(dir, { recursive: true })
    appendRecord(file, rec(1))
    appendRecord(file, rec(2))
    expect(readRecords(file).records.map((r) => r.repetition)).toEqual([1, 2])
  })

  it('alternates between two files and writes every record whole, each line as one write', () => {
    const a = join(mkdtempSync(join(tmpdir(), 'sebs-rec-')), 'invocations.jsonl')
    const b = join(mkdtempSync(join(tmpdir(), 'sebs-rec-')), 'invocations.jsonl')
    for (let i = 0; i < 4; i++) appendRecord(i % 2 === 0 ? a : b, rec(i))
    closeRecordsFile()
    appendRecord(a, rec(4))
    expect(readRecords(a).records.map((r) => r.repetition)).toEqual([0, 2, 4])
    expect(readRecords(b).records.map((r) => r.repetition)).toEqual([1, 3])
    expect(readFileSync(a, 'utf8').endsWith('\n')).toBe(true)
  })

  it('follows the path, not a renamed file, after the records file is moved away and closed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sebs-rec-'))
    const file = join(dir, 'invocations.jsonl')
    appendRecord(file, rec(0))
    closeRecordsFile()
    renameSync(file, join(dir, 'old.jsonl'))
    appendRecord(file, rec(1))
    expect(readRecords(file).records.map((r) => r.repetition)).toEqual([1])
  })

  it('says how to find runs when the file is missing', () => {
    expect(() => readRecords('/nonexistent/run')).toThrow(SebsError)
    expect(() => readRecords('/nonexistent/run')).toThrow(/sebs history/)
  })
})
