/**
 * The invocation-record log: `results/<run-id>/invocations.jsonl`.
 *
 * Each record is appended with a single `write(2)` on a file opened with
 * O_APPEND, so a crash (even `kill -9`) leaves every completed record on disk
 * as a whole line; a torn last line can only come from a write in progress,
 * and readers skip it.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { SebsError } from './errors.ts'
import type { InvocationRecord } from './types.ts'

export const RECORDS_FILE = 'invocations.jsonl'

export function appendRecord(file: string, record: InvocationRecord): void {
  mkdirSync(dirname(file), { recursive: true })
  appendFileSync(file, JSON.stringify(record) + '\n', { flag: 'a' })
}

/** Accepts a run directory or a path to its `invocations.jsonl`. */
export function resolveRecordsFile(pathOrDir: string): string {
  if (existsSync(pathOrDir) && statSync(pathOrDir).isDirectory()) return join(pathOrDir, RECORDS_FILE)
  return pathOrDir
}

export interface ReadRecordsResult {
  records: InvocationRecord[]
  /** Lines that were not whole JSON objects (a torn last line after a crash). */
  skippedLines: number
}

export function readRecords(pathOrDir: string): ReadRecordsResult {
  const file = resolveRecordsFile(pathOrDir)
  if (!existsSync(file)) {
    throw new SebsError(
      'RESULTS_NOT_FOUND',
      `No invocation records at ${file}. Pass a run directory under results/ or its ${RECORDS_FILE}; 'npx sebs history' lists runs.`,
    )
  }
  const records: InvocationRecord[] = []
  let skippedLines = 0
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue
    try {
      const value = JSON.parse(line) as InvocationRecord
      if (value && typeof value === 'object' && 'runId' in value) records.push(value)
      else skippedLines++
    } catch {
      skippedLines++
    }
  }
  return { records, skippedLines }
}
