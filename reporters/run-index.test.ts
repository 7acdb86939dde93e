import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { appendRecord } from '../core/records.ts'
import { formatHistory, readRunIndex, runIndexEntryFromSummary, updateRunIndex, type RunIndexEntry } from './run-index.ts'
import { writeSummaryFiles } from './summary-writers.ts'
import { summarizeRecords } from './summary.ts'
import { makeRecord } from '../test/support/test-records.ts'

let results: string
beforeEach(() => {
  results = join(mkdtempSync(join(tmpdir(), 'sebs-index-')), 'results')
})
afterEach(() => {
  rmSync(join(results, '..'), { recursive: true, force: true })
})

const entryA: RunIndexEntry = {
  runId: '2024-05-01T12-00-00-aaaa',
  createdAt: '2024-05-01T12:00:00.000Z',
  provider: 'local',
  gitCommit: '0123456789abcdef',
  benchmarks: ['110.dynamic-html'],
  invocations: 11,
  failures: 0,
  config: { sizes: ['test'], repetitions: 10 },
}
const entryB: RunIndexEntry = {
  runId: '2024-05-02T08-30-00-bbbb',
  createdAt: '2024-05-02T08:30:00.000Z',
  provider: 'aws',
  benchmarks: ['110.dynamic-html', '210.thumbnailer'],
  invocations: 22,
  failures: 3,
}

function indexFile(): unknown {
  return JSON.parse(readFileSync(join(results, 'index.json'), 'utf8'))
}

describe('updateRunIndex / readRunIndex', () => {
  it('creates the index, appends, replaces by run id, and keeps runs oldest first', async () => {
    expect(await readRunIndex(results)).toEqual([])

    await updateRunIndex(results, entryB)
    await updateRunIndex(results, entryA)
    expect(indexFile()).toEqual({ schemaVersion: 1, runs: [entryA, entryB] })

    const replaced = { ...entryB, invocations: 23, failures: 4 }
    expect(await updateRunIndex(results, replaced)).toEqual([entryA, replaced])
    expect(await readRunIndex(results)).toEqual([entryA, replaced])
    expect(readdirSync(results)).toEqual(['index.json'])
  })

  it('rebuilds a corrupt index from summary.json, or invocations.jsonl when a run has no summary', async () => {
    // Run 1 finished: summary.json exists.
    const run1 = summarizeRecords(
      [
        makeRecord({ runId: 'run-1', benchmark: '210.thumbnailer', startedAt: Date.UTC(2024, 4, 1) }),
        makeRecord({ runId: 'run-1', state: 'error', error: 'boom', startedAt: Date.UTC(2024, 4, 1) + 5 }),
      ],
      { runId: 'run-1', provider: 'local' },
    )
    await writeSummaryFiles(join(results, 'run-1'), run1)
    // Run 2 crashed before its summary: only records.
    for (const startedAt of [Date.UTC(2024, 4, 3), Date.UTC(2024, 4, 3) + 1]) {
      appendRecord(join(results, 'run-2', 'invocations.jsonl'), makeRecord({ runId: 'run-2', provider: 'aws', startedAt }))
    }
    // Not runs: an empty directory and a stray file.
    mkdirSync(join(results, 'empty'))
    writeFileSync(join(results, 'notes.txt'), 'hello')
    writeFileSync(join(results, 'index.json'), '{"schemaVersion": 1, "runs": [')

    const expected: RunIndexEntry[] = [
      { runId: 'run-1', createdAt: '2024-05-01T00:00:00.000Z', provider: 'local', benchmarks: ['110.dynamic-html', '210.thumbnailer'], invocations: 2, failures: 1 },
      { runId: 'run-2', createdAt: '2024-05-03T00:00:00.000Z', provider: 'aws', benchmarks: ['110.dynamic-html'], invocations: 2, failures: 0 },
    ]
    // Reading rebuilds in memory without touching the file.
    expect(await readRunIndex(results)).toEqual(expected)
    expect(readFileSync(join(results, 'index.json'), 'utf8')).toBe('{"schemaVersion": 1, "runs": [')

    // Updating writes the rebuilt entries plus the new one.
    await updateRunIndex(results, entryB)
    expect(indexFile()).toEqual({ schemaVersion: 1, runs: [expected[0], entryB, expected[1]] })
  })

  it('rebuilds from a schemaVersion 1 summary.json as from a current one', async () => {
    const v1 = summarizeRecords([makeRecord({ runId: 'old', startedAt: Date.UTC(2024, 0, 1) })], { runId: 'old', provider: 'local' })
    mkdirSync(join(results, 'old'), { recursive: true })
    // No invocations.jsonl beside it: the entry can only come from the summary.
    writeFileSync(join(results, 'old', 'summary.json'), JSON.stringify({ ...v1, schemaVersion: 1 }))
    expect(await readRunIndex(results)).toEqual([
      { runId: 'old', createdAt: '2024-01-01T00:00:00.000Z', provider: 'local', benchmarks: ['110.dynamic-html'], invocations: 1, failures: 0 },
    ])
  })

  it('keeps the surviving entries of a damaged index (they hold commit and config)', async () => {
    await writeSummaryFiles(join(results, entryA.runId), summarizeRecords([makeRecord({ runId: entryA.runId })], { runId: entryA.runId }))
    writeFileSync(join(results, 'index.json'), JSON.stringify({ schemaVersion: 1, runs: [entryA, { runId: 42 }] }))
    const entries = await readRunIndex(results)
    expect(entries).toEqual([entryA])
  })

  it('treats a missing results folder as no runs and refuses a malformed entry', async () => {
    expect(await readRunIndex(join(results, 'nope'))).toEqual([])
    await expect(updateRunIndex(results, { ...entryA, benchmarks: 'x' } as unknown as RunIndexEntry)).rejects.toThrow(/not a valid run index entry/)
    expect(existsSync(join(results, 'index.json'))).toBe(false)
  })
})

describe('runIndexEntryFromSummary', () => {
  it('takes counts from the totals and adds what the caller knows', () => {
    const summary = summarizeRecords(
      [
        makeRecord({ benchmark: '311.compression', startedAt: Date.UTC(2024, 0, 2) }),
        makeRecord({ state: 'timeout', error: 't', startedAt: Date.UTC(2024, 0, 2) + 1 }),
        makeRecord({ outputValid: false, startedAt: Date.UTC(2024, 0, 2) + 2 }),
        makeRecord({ startedAt: Date.UTC(2024, 0, 2) + 3 }),
      ],
      { runId: 'r', provider: 'local' },
    )
    expect(runIndexEntryFromSummary(summary, { gitCommit: 'abc1234', config: { repetitions: 3 } })).toEqual({
      runId: 'r',
      createdAt: '2024-01-02T00:00:00.000Z',
      provider: 'local',
      gitCommit: 'abc1234',
      benchmarks: ['110.dynamic-html', '311.compression'],
      invocations: 4,
      failures: 2,
      config: { repetitions: 3 },
    })
  })
})

describe('formatHistory', () => {
  it('lists runs newest first in aligned columns', () => {
    const many: RunIndexEntry = {
      ...entryA,
      runId: 'r-many',
      createdAt: '2024-05-03T00:00:00.000Z',
      gitCommit: undefined,
      benchmarks: ['110.dynamic-html', '120.uploader', '210.thumbnailer', '220.video-processing', '311.compression'],
    }
    expect(formatHistory([entryA, entryB, many])).toBe(
      [
        'run                       created (UTC)        provider  commit   invocations  failures  benchmarks',
        '------------------------  -------------------  --------  -------  -----------  --------  -------------------------------------------------------',
        'r-many                    2024-05-03 00:00:00  local     -                 11         0  110.dynamic-html, 120.uploader, 210.thumbnailer +2 more',
        '2024-05-02T08-30-00-bbbb  2024-05-02 08:30:00  aws       -                 22         3  110.dynamic-html, 210.thumbnailer',
        '2024-05-01T12-00-00-aaaa  2024-05-01 12:00:00  local     0123456           11         0  110.dynamic-html',
      ].join('\n'),
    )
    expect(formatHistory([])).toBe('No runs recorded.')
  })
})

describe('concurrent runs in one results folder', () => {
  it('several real processes updating the index at once lose no run', async () => {
    const { spawn } = await import('node:child_process')
    const { dirname } = await import('node:path')
    const { fileURLToPath } = await import('node:url')
    const script = join(dirname(fileURLToPath(import.meta.url)), '__fixtures__', 'index-writer.ts')
    const go = join(results, '..', 'go')
    const writers = 5
    const perWriter = 6
    const exits = Array.from({ length: writers }, (_, w) => {
      const child = spawn(process.execPath, ['--import', 'tsx', script, results, String(w), String(perWriter), go], { stdio: ['ignore', 'ignore', 'pipe'] })
      let stderr = ''
      child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()))
      return new Promise<string>((resolve) => child.once('exit', (code) => resolve(`${code}${code === 0 ? '' : `: ${stderr}`}`)))
    })
    // All writers are loaded and polling for the go file before it appears (they start within a few ms of each other).
    await new Promise((r) => setTimeout(r, 3000))
    writeFileSync(go, '')
    expect(await Promise.all(exits)).toEqual(Array(writers).fill('0'))
    const runIds = (await readRunIndex(results)).map((e) => e.runId).sort()
    const expected = Array.from({ length: writers }, (_, w) => Array.from({ length: perWriter }, (_, i) => `run-${w}-${i}`)).flat().sort()
    expect(runIds).toEqual(expected)
    expect(existsSync(join(results, 'index.json.lock'))).toBe(false)
  }, 60_000)

  it('a lock left by a dead process is taken over; a live holder past the timeout is a RESULTS_LOCKED error naming the file', async () => {
    const { withFileLock } = await import('./file-lock.ts')
    mkdirSync(results, { recursive: true })
    const lock = join(results, 'index.json.lock')
    // A pid that is not running: a crashed run's lock.
    writeFileSync(lock, JSON.stringify({ pid: 2 ** 22 + 17, host: (await import('node:os')).hostname(), at: new Date().toISOString() }))
    await updateRunIndex(results, entryA)
    expect((await readRunIndex(results)).map((e) => e.runId)).toEqual([entryA.runId])
    // A live holder (this process) that does not let go.
    writeFileSync(lock, JSON.stringify({ pid: process.pid, host: (await import('node:os')).hostname(), at: new Date().toISOString() }))
    await expect(withFileLock(lock, async () => 1, { timeoutMs: 300 })).rejects.toMatchObject({
      code: 'RESULTS_LOCKED',
      message: expect.stringContaining(lock),
    })
    // …unless it is older than staleMs.
    await expect(withFileLock(lock, async () => 1, { timeoutMs: 300, staleMs: 0 })).resolves.toBe(1)
  })
})
