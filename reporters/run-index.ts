/**
 * `results/index.json`: the list of runs, for `sebs history` and for picking
 * baselines. It is a convenience index, not a source of truth: the run
 * directories (`results/<run-id>/summary.json`, else `invocations.jsonl`)
 * are, so a missing or corrupt index is rebuilt from them.
 *
 * Format: `{ "schemaVersion": 1, "runs": [RunIndexEntry, …] }`, oldest first.
 */
import { existsSync } from 'node:fs'
import { mkdir, readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { readRecords, RECORDS_FILE } from '../core/records.ts'
import { writeFileAtomic } from './atomic-write.ts'
import { withFileLock } from './file-lock.ts'
import { SUMMARY_JSON } from './summary-writers.ts'
import { KNOWN_SUMMARY_SCHEMA_VERSIONS, summarizeRecords, type RunSummary } from './summary.ts'

export interface RunIndexEntry {
  runId: string
  /** ISO time. */
  createdAt: string
  provider: string
  gitCommit?: string
  benchmarks: string[]
  invocations: number
  /** Errors + timeouts + invalid outputs. */
  failures: number
  /** The run's resolved settings, redacted (sizes, languages, repetitions, …). */
  config?: Record<string, unknown>
  /** Set when SIGINT/SIGTERM stopped the run early: its records are what completed. */
  interrupted?: true
}

export const RUN_INDEX_FILE = 'index.json'

interface RunIndexFile {
  schemaVersion: 1
  runs: RunIndexEntry[]
}

/** The index entry of a summarised run; `extra` adds what only the caller knows. */
export function runIndexEntryFromSummary(
  summary: RunSummary,
  extra: { gitCommit?: string; config?: Record<string, unknown>; interrupted?: boolean } = {},
): RunIndexEntry {
  const { totals } = summary
  return {
    runId: summary.runId,
    createdAt: summary.createdAt,
    provider: summary.provider,
    ...(extra.gitCommit !== undefined ? { gitCommit: extra.gitCommit } : {}),
    benchmarks: [...new Set(summary.cases.map((c) => c.benchmark))].sort(),
    invocations: totals.invocations,
    failures: totals.errors + totals.timeouts + totals.invalid,
    ...(extra.config !== undefined ? { config: extra.config } : {}),
    ...(extra.interrupted ? { interrupted: true as const } : {}),
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function isEntry(v: unknown): v is RunIndexEntry {
  return (
    isRecord(v) &&
    typeof v.runId === 'string' &&
    v.runId.length > 0 &&
    typeof v.createdAt === 'string' &&
    typeof v.provider === 'string' &&
    Array.isArray(v.benchmarks) &&
    v.benchmarks.every((b) => typeof b === 'string') &&
    typeof v.invocations === 'number' &&
    typeof v.failures === 'number' &&
    (v.gitCommit === undefined || typeof v.gitCommit === 'string') &&
    (v.config === undefined || isRecord(v.config)) &&
    (v.interrupted === undefined || v.interrupted === true)
  )
}

interface ParsedIndex {
  entries: RunIndexEntry[]
  /** False when the file was unreadable or had entries that had to be dropped. */
  intact: boolean
}

function parseIndex(text: string): ParsedIndex {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return { entries: [], intact: false }
  }
  if (!isRecord(value) || value.schemaVersion !== 1 || !Array.isArray(value.runs)) return { entries: [], intact: false }
  const entries = value.runs.filter(isEntry)
  return { entries, intact: entries.length === value.runs.length }
}

/** A summary.json of a version this code reads (the index needs only its totals and names, the same in 1 and 2). */
function isSummary(v: unknown): v is RunSummary {
  return (
    isRecord(v) &&
    typeof v.schemaVersion === 'number' &&
    KNOWN_SUMMARY_SCHEMA_VERSIONS.includes(v.schemaVersion) &&
    typeof v.runId === 'string' &&
    typeof v.createdAt === 'string' &&
    typeof v.provider === 'string' &&
    Array.isArray(v.cases) &&
    isRecord(v.totals)
  )
}

/** The entry of one run directory, from its summary.json or else its records; undefined if it has neither. */
async function entryFromRunDir(dir: string, name: string): Promise<RunIndexEntry | undefined> {
  const summaryPath = join(dir, SUMMARY_JSON)
  if (existsSync(summaryPath)) {
    try {
      const summary: unknown = JSON.parse(await readFile(summaryPath, 'utf8'))
      if (isSummary(summary)) return runIndexEntryFromSummary(summary)
    } catch {
      // A torn summary.json: fall back to the records below.
    }
  }
  if (!existsSync(join(dir, RECORDS_FILE))) return undefined
  const { records } = readRecords(dir)
  if (records.length === 0) return undefined
  return runIndexEntryFromSummary(summarizeRecords(records, { runId: records[0].runId || name }))
}

/** Index entries rebuilt from the run directories under `resultsDir`. */
async function rebuildEntries(resultsDir: string): Promise<RunIndexEntry[]> {
  if (!existsSync(resultsDir)) return []
  const entries: RunIndexEntry[] = []
  for (const dirent of await readdir(resultsDir, { withFileTypes: true })) {
    if (!dirent.isDirectory() || dirent.name.startsWith('.')) continue
    const entry = await entryFromRunDir(join(resultsDir, dirent.name), dirent.name)
    if (entry) entries.push(entry)
  }
  return entries
}

function sortEntries(entries: RunIndexEntry[]): RunIndexEntry[] {
  return entries.sort((a, b) =>
    a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0,
  )
}

/** Entries by run id; later lists win. */
function mergeEntries(...lists: RunIndexEntry[][]): RunIndexEntry[] {
  const byId = new Map<string, RunIndexEntry>()
  for (const list of lists) for (const e of list) byId.set(e.runId, e)
  return sortEntries([...byId.values()])
}

/** Reads the index; when it is missing or damaged, merges what survives with entries rebuilt from the run directories. */
async function loadEntries(resultsDir: string): Promise<{ entries: RunIndexEntry[]; rebuilt: boolean }> {
  const file = join(resultsDir, RUN_INDEX_FILE)
  let parsed: ParsedIndex = { entries: [], intact: false }
  if (existsSync(file)) parsed = parseIndex(await readFile(file, 'utf8'))
  if (parsed.intact) return { entries: sortEntries(parsed.entries), rebuilt: false }
  // Surviving entries win over rebuilt ones: they carry gitCommit and config.
  return { entries: mergeEntries(await rebuildEntries(resultsDir), parsed.entries), rebuilt: true }
}

/**
 * The runs in `resultsDir`, oldest first. A missing or corrupt index is
 * rebuilt in memory from the run directories (and not written: reading never
 * changes the results folder).
 */
export async function readRunIndex(resultsDir: string): Promise<RunIndexEntry[]> {
  return (await loadEntries(resultsDir)).entries
}

/**
 * Adds or replaces (by runId) one run in `resultsDir/index.json`:
 * read-modify-write, replaced atomically. A missing or corrupt index is
 * rebuilt from the run directories first. Returns the entries written.
 *
 * Runs finishing at the same time in the same results folder take turns
 * (`index.json.lock`, file-lock.ts), so none is lost.
 */
export async function updateRunIndex(resultsDir: string, entry: RunIndexEntry): Promise<RunIndexEntry[]> {
  if (!isEntry(entry)) {
    throw new TypeError(`updateRunIndex: not a valid run index entry: ${JSON.stringify(entry)}`)
  }
  await mkdir(resultsDir, { recursive: true })
  return withFileLock(join(resultsDir, `${RUN_INDEX_FILE}.lock`), async () => {
    const { entries } = await loadEntries(resultsDir)
    const updated = mergeEntries(entries, [entry])
    const file: RunIndexFile = { schemaVersion: 1, runs: updated }
    await writeFileAtomic(join(resultsDir, RUN_INDEX_FILE), JSON.stringify(file, null, 2) + '\n')
    return updated
  })
}

/** "2024-05-01 12:34:56" (UTC) from an ISO time; other strings unchanged. */
function formatTime(iso: string): string {
  const t = Date.parse(iso)
  if (Number.isNaN(t)) return iso
  return new Date(t).toISOString().slice(0, 19).replace('T', ' ')
}

const MAX_BENCHMARKS_WIDTH = 60

function formatBenchmarks(benchmarks: string[]): string {
  if (benchmarks.length === 0) return '-'
  let text = benchmarks[0]
  for (let i = 1; i < benchmarks.length; i++) {
    const next = `${text}, ${benchmarks[i]}`
    if (next.length > MAX_BENCHMARKS_WIDTH) return `${text} +${benchmarks.length - i} more`
    text = next
  }
  return text
}

/**
 * The run history for `sebs history`: one row per run, newest first, with
 * the UTC start time, provider, commit, invocations, failures and benchmarks.
 */
export function formatHistory(entries: RunIndexEntry[]): string {
  if (entries.length === 0) return 'No runs recorded.'
  const newestFirst = sortEntries([...entries]).reverse()
  const header = ['run', 'created (UTC)', 'provider', 'commit', 'invocations', 'failures', 'benchmarks']
  const rightAligned = new Set([4, 5])
  const rows = newestFirst.map((e) => [
    e.interrupted ? `${e.runId} (interrupted)` : e.runId,
    formatTime(e.createdAt),
    e.provider,
    e.gitCommit ? e.gitCommit.slice(0, 7) : '-',
    String(e.invocations),
    String(e.failures),
    formatBenchmarks(e.benchmarks),
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (rightAligned.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd()
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}
