/**
 * The invocation-record log: `results/<run-id>/invocations.jsonl`.
 *
 * Each record is appended with a single `write(2)` on a file opened with
 * O_APPEND, so a crash (even `kill -9`) leaves every completed record on disk
 * as a whole line; a torn last line can only come from a write in progress,
 * and readers skip it.
 */
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, statSync, writeSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { SebsError } from './errors.ts'
import type { InvocationRecord } from './types.ts'

export const RECORDS_FILE = 'invocations.jsonl'

/**
 * The records file this thread appends to, kept open between records: a
 * warm no-op invocation takes a few hundred µs, and creating the directory,
 * opening and closing the file for every record cost ~50 µs of that between
 * two samples (scripts/perf.ts). One file per thread (a run appends to one
 * file), so at most one descriptor stays open per bench worker.
 */
let open: { file: string; fd: number } | undefined

function recordsFd(file: string): number {
  if (open && open.file === file) {
    // Removed since (a test or a user deleted the run directory): appending to the unlinked inode would lose records.
    if (fstatSync(open.fd).nlink > 0) return open.fd
  }
  closeRecordsFile()
  mkdirSync(dirname(file), { recursive: true })
  open = { file, fd: openSync(file, 'a') }
  return open.fd
}

/** Closes the records file kept open by `appendRecord` (the next append opens it again). */
export function closeRecordsFile(): void {
  if (!open) return
  const { fd } = open
  open = undefined
  try {
    closeSync(fd)
  } catch {
    // Already closed: nothing to release.
  }
}

/**
 * Appends one record as one line. On disk (in the kernel's page cache, as
 * before: a crash of this process loses nothing) before it returns, so the
 * next invocation starts only after its predecessor's record is written.
 */
export function appendRecord(file: string, record: InvocationRecord): void {
  if (unwritable) throw unwritable
  const line = Buffer.from(JSON.stringify(record) + '\n', 'utf8')
  try {
    const fd = recordsFd(file)
    // One write(2) with O_APPEND for a line of any usual size; a short write (full disk) continues where it stopped.
    let written = 0
    while (written < line.length) written += writeSync(fd, line, written, line.length - written)
  } catch (err) {
    unwritable = recordsUnwritableError(file, err)
    throw unwritable
  }
}

/** Set once appending failed: every later append fails the same way at once (no invocation is made for nothing). */
let unwritable: SebsError | undefined

/** The error of a records file that could not be appended to in this thread, if one could not. */
export function recordsUnwritable(): SebsError | undefined {
  return unwritable
}

/** RESULTS_UNWRITABLE: names the run folder, the system's reason and the fix; the lines already written stay. */
export function recordsUnwritableError(file: string, cause: unknown): SebsError {
  const reason = (cause as { code?: string })?.code ?? (cause instanceof Error ? cause.message : String(cause))
  return new SebsError(
    'RESULTS_UNWRITABLE',
    `Cannot write invocation records to ${file} (${reason}): the results folder ${dirname(file)} is not writable. ` +
      `The run stops invoking; the records written so far stay in the file. ` +
      `Make the folder writable again (permissions, read-only mount, free disk space) or run with --results-dir <a writable folder>.`,
    { cause },
  )
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
