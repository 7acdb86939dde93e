/**
 * End to end: SIGINT / SIGTERM on a real `sebs bench` (issue 15, item 2).
 * The run stops starting invocations, writes its summary and every output
 * for what completed, adds itself to results/index.json marked interrupted,
 * says where the results are and exits 130 / 143; a second signal exits at
 * once with the records kept; no function instance of the run outlives it.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { describe, expect, it, beforeAll } from 'vitest'
import { ensureFreshDist } from '../support/fresh-dist.ts'
import { findTaggedProcesses } from '../../providers/local/process-tree.ts'

// These tests spawn the built bin (bin/sebs.mjs runs dist/): build what changed first.
beforeAll(ensureFreshDist, 300_000)

const ROOT = resolve(import.meta.dirname, '..', '..')
const BIN = join(ROOT, 'bin', 'sebs.mjs')
const FIXTURES = join(ROOT, 'test', 'fixtures', 'benchmarks')
const CACHE = join(ROOT, '.sebs-cache', 'test-e2e')

interface Interrupted {
  code: number | null
  out: string
  results: string
  runDir: string
  linesAtSignal: number
}

/** Starts `sebs bench` with many repetitions, sends `signals` once more than 10 records are on disk. */
async function interruptRun(signals: NodeJS.Signals[]): Promise<Interrupted> {
  const results = mkdtempSync(join(tmpdir(), 'sebs-e2e-int-'))
  const child = spawn(
    process.execPath,
    [BIN, 'bench', '-t', '901.echo nodejs test', '--repetitions', '5000', '--benchmarks', FIXTURES, '--results-dir', results, '--cache-dir', CACHE],
    { cwd: ROOT, env: { ...process.env, SEBS_CLI_OVERRIDES: '', SEBS_RUN_ID: '', NO_COLOR: '1', FORCE_COLOR: '0' }, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let out = ''
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()))
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()))
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
  const recordsFile = (): string | undefined => {
    const dir = existsSync(results) ? readdirSync(results, { withFileTypes: true }).find((d) => d.isDirectory()) : undefined
    return dir ? join(results, dir.name, 'invocations.jsonl') : undefined
  }
  const lines = (): number => {
    const file = recordsFile()
    return file && existsSync(file) ? readFileSync(file, 'utf8').split('\n').length - 1 : 0
  }
  await expect.poll(lines, { timeout: 120_000, interval: 50 }).toBeGreaterThan(10)
  const linesAtSignal = lines()
  for (const [i, signal] of signals.entries()) {
    // Standard signals do not queue: the next one goes once the first has been handled.
    if (i > 0) await expect.poll(() => out.includes('Press Ctrl-C again'), { timeout: 10_000, interval: 20 }).toBe(true)
    child.kill(signal)
  }
  const code = await exited
  return { code, out, results, runDir: resolve(recordsFile()!, '..'), linesAtSignal }
}

describe('sebs bench interrupted (local provider, fixture benchmark)', () => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s: stops, reports what completed, indexes the run as interrupted, exits %i', async (signal, status) => {
    const r = await interruptRun([signal])
    expect(r.code, r.out).toBe(status)
    const runId = r.runDir.split('/').at(-1)!
    const records = readFileSync(join(r.runDir, 'invocations.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { state: string })
    // Stopped early: far fewer than the 5001 asked for, and every record whole.
    expect(records.length).toBeGreaterThanOrEqual(r.linesAtSignal)
    expect(records.length).toBeLessThan(5001)
    expect(records.every((x) => x.state === 'ok')).toBe(true)
    // Every output for what completed.
    for (const file of ['summary.json', 'summary.csv', 'summary.md', 'report.html']) expect(existsSync(join(r.runDir, file)), file).toBe(true)
    const summary = JSON.parse(readFileSync(join(r.runDir, 'summary.json'), 'utf8')) as { totals: { invocations: number } }
    expect(summary.totals.invocations).toBe(records.length)
    const index = JSON.parse(readFileSync(join(r.results, 'index.json'), 'utf8')) as { runs: { runId: string; interrupted?: boolean; invocations: number }[] }
    expect(index.runs).toEqual([expect.objectContaining({ runId, interrupted: true, invocations: records.length })])
    expect(r.out).toContain(`interrupted by ${signal}`)
    expect(r.out).toContain(`[sebs] results in ${r.runDir}`)
    expect(r.out).not.toMatch(/Unhandled|\n\s+at /)
    // The teardown ran: no instance of the run is left.
    expect(findTaggedProcesses([{ runId }])).toEqual([])
  }, 180_000)

  it('a second SIGINT exits at once; the records written so far are kept whole', async () => {
    const r = await interruptRun(['SIGINT', 'SIGINT'])
    expect(r.code, r.out).toBe(130)
    expect(r.out).toContain('SIGINT again: exiting now')
    const text = readFileSync(join(r.runDir, 'invocations.jsonl'), 'utf8')
    expect(text.endsWith('\n')).toBe(true)
    for (const line of text.trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow()
    const runId = r.runDir.split('/').at(-1)!
    // The exit handler and the lifeline end the instances even so.
    await expect.poll(() => findTaggedProcesses([{ runId }]), { timeout: 10_000, interval: 100 }).toEqual([])
  }, 180_000)
})

describe('sebs bench interrupted during its setup (two benchmarks whose input generators take 4 s each)', () => {
  it('SIGINT stops between setup steps: the second generator and every deploy are skipped, nothing is left, exit 130', async () => {
    const results = mkdtempSync(join(tmpdir(), 'sebs-e2e-int-setup-'))
    // A cache of its own, fresh: the generators must run (cached inputs would skip them).
    const cache = mkdtempSync(join(tmpdir(), 'sebs-e2e-int-setup-cache-'))
    const child = spawn(
      process.execPath,
      [BIN, 'bench', '-t', '94[12].slow', '--repetitions', '1', '--benchmarks', join(ROOT, 'test', 'fixtures', 'slow-setup'), '--results-dir', results, '--cache-dir', cache],
      { cwd: ROOT, env: { ...process.env, SEBS_CLI_OVERRIDES: '', SEBS_RUN_ID: '', NO_COLOR: '1', FORCE_COLOR: '0' }, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let out = ''
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()))
    child.stderr!.on('data', (c: Buffer) => (out += c.toString()))
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
    await expect.poll(() => out.includes('[fixture] generating inputs of 941.slow-a'), { timeout: 120_000, interval: 20 }).toBe(true)
    child.kill('SIGINT')
    const code = await exited
    expect(code, out).toBe(130)
    // The step in flight finished; the next one never started, nothing was deployed or invoked.
    expect(out).toContain('SIGINT: skipping the remaining builds and deploys')
    expect(out).not.toContain('[fixture] generating inputs of 942.slow-b')
    expect(out).not.toMatch(/deployed [1-9]\d* function/)
    expect(out).toMatch(/interrupted by SIGINT/)
    expect(out).not.toMatch(/Unhandled|\n\s+at /)
    const runDir = readdirSync(results, { withFileTypes: true }).find((d) => d.isDirectory())
    expect(runDir).toBeDefined()
    expect(existsSync(join(results, runDir!.name, 'invocations.jsonl'))).toBe(false)
    // The interrupted run is still reported and indexed, with nothing invoked.
    expect(existsSync(join(results, runDir!.name, 'summary.json'))).toBe(true)
    const index = JSON.parse(readFileSync(join(results, 'index.json'), 'utf8')) as { runs: { runId: string; interrupted?: boolean; invocations: number }[] }
    expect(index.runs).toEqual([expect.objectContaining({ runId: runDir!.name, interrupted: true, invocations: 0 })])
    expect(findTaggedProcesses([{ runId: runDir!.name }])).toEqual([])
  }, 180_000)
})
