/**
 * End to end: the results folder becomes unwritable in the middle of a
 * `sebs bench` run (910.sleep, 30 warm calls of 100 ms). Root makes the run
 * folder and its records immutable (`chattr +i`: even root's writes fail, as
 * on a read-only mount); other users take the write permission away. The run
 * must end with one clear RESULTS_UNWRITABLE error naming the folder and the
 * fix, exit 1, keep the records written so far, and print no unhandled
 * rejection and no "NaNx faster" line.
 */
import { spawn, spawnSync } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensureFreshDist } from '../support/fresh-dist.ts'

const ROOT = resolve(import.meta.dirname, '..', '..')
const BIN = join(ROOT, 'bin', 'sebs.mjs')
const FIXTURES = join(ROOT, 'test', 'fixtures', 'experiments')
const CACHE = join(ROOT, '.sebs-cache', 'test-e2e-unwritable')
const IS_ROOT = process.getuid?.() === 0

beforeAll(ensureFreshDist, 300_000)

let results: string
afterAll(() => {
  if (!results) return
  thaw(results)
  rmSync(results, { recursive: true, force: true })
})

function freeze(runDir: string): void {
  if (IS_ROOT) {
    const r = spawnSync('chattr', ['+i', join(runDir, 'invocations.jsonl'), runDir], { encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`chattr +i failed: ${r.stderr}`)
  } else {
    chmodSync(join(runDir, 'invocations.jsonl'), 0o444)
    chmodSync(runDir, 0o555)
  }
}

function thaw(dir: string): void {
  if (IS_ROOT) spawnSync('chattr', ['-R', '-i', dir])
  else for (const d of readdirSync(dir)) chmodSync(join(dir, d), 0o755)
}

function lineCount(file: string): number {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0
}

describe('a results folder that becomes unwritable mid-run', () => {
  it('one RESULTS_UNWRITABLE error naming the folder and the fix, exit 1, records kept, no unhandled rejection or NaNx', async () => {
    results = mkdtempSync(join(tmpdir(), 'sebs-e2e-unwritable-'))
    const child = spawn(
      process.execPath,
      [BIN, 'bench', '-t', '910.sleep', '--repetitions', '30', '--benchmarks', FIXTURES, '--results-dir', results, '--cache-dir', CACHE],
      { cwd: ROOT, env: { ...process.env, SEBS_CLI_OVERRIDES: '', SEBS_RUN_ID: '', FORCE_COLOR: '0', NO_COLOR: '1' } },
    )
    let output = ''
    child.stdout.on('data', (d: Buffer) => (output += d.toString()))
    child.stderr.on('data', (d: Buffer) => (output += d.toString()))
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)))

    // Wait (bounded) for a few records, then take the folder's writability away.
    let runDir: string | undefined
    let frozenAt = 0
    const deadline = Date.now() + 120_000
    while (Date.now() < deadline) {
      runDir = readdirSync(results).map((d) => join(results, d))[0]
      if (runDir && lineCount(join(runDir, 'invocations.jsonl')) >= 3) {
        freeze(runDir)
        frozenAt = lineCount(join(runDir, 'invocations.jsonl'))
        break
      }
      await new Promise((r) => setTimeout(r, 100))
    }
    expect(frozenAt, output).toBeGreaterThanOrEqual(3)
    const status = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 180_000))])
    if (status === 'hung') child.kill('SIGKILL')
    expect(status, output).toBe(1)

    expect(output).toMatch(new RegExp(`error \\[RESULTS_UNWRITABLE\\]: the results folder ${runDir!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not writable`))
    expect(output).toContain('--results-dir <a writable folder>')
    expect(output).not.toMatch(/Unhandled|PromiseRejection|NaNx|Infinityx|\n\s+at /)
    // What was written before stays, whole lines only.
    thaw(results)
    const lines = readFileSync(join(runDir!, 'invocations.jsonl'), 'utf8').split('\n').filter(Boolean)
    expect(lines.length).toBeGreaterThanOrEqual(frozenAt)
    for (const l of lines) expect(() => JSON.parse(l)).not.toThrow()
  }, 400_000)
})
