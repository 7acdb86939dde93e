/**
 * End to end: the `sebs` bin runs fixture benchmarks on the local provider,
 * and we assert on the records it wrote. Each run is a real Vitest bench run
 * in a child process, with real function instances and storage.
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import type { InvocationRecord } from '../../core/types.ts'
import { ensureFreshDist } from '../support/fresh-dist.ts'

const ROOT = resolve(import.meta.dirname, '..', '..')
const BIN = join(ROOT, 'bin', 'sebs.mjs')
const FIXTURES = join(ROOT, 'test', 'fixtures', 'benchmarks')
// Shared with the other integration tests so dependency installs are cached between runs.
const CACHE = join(ROOT, '.sebs-cache', 'test-e2e')

function sebs(args: string[], resultsDir: string) {
  const res = spawnSync(process.execPath, [BIN, ...args, '--benchmarks', FIXTURES, '--results-dir', resultsDir, '--cache-dir', CACHE], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, SEBS_CLI_OVERRIDES: '', SEBS_RUN_ID: '', FORCE_COLOR: '0', NO_COLOR: '1' },
    timeout: 600_000,
  })
  return { code: res.status, out: res.stdout, err: res.stderr, all: res.stdout + res.stderr }
}

/** Pids whose environment carries SEBS_RUN_ID=<runId> (function instances of that run). */
function liveProcessesOfRun(runId: string): number[] {
  const pids: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0').includes(`SEBS_RUN_ID=${runId}`)) pids.push(Number(entry))
    } catch {
      // the process ended while we looked
    }
  }
  return pids
}

function runDirs(resultsDir: string): string[] {
  return readdirSync(resultsDir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => join(resultsDir, d.name))
}

function records(runDir: string): InvocationRecord[] {
  return readFileSync(join(runDir, 'invocations.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as InvocationRecord)
}

// The bin runs the built code: build what changed first.
beforeAll(ensureFreshDist, 300_000)

describe('sebs bench (local provider, fixture benchmarks)', () => {
  it('records ok, error and timeout cases, cold then warm, and exits non-zero', () => {
    const results = mkdtempSync(join(tmpdir(), 'sebs-e2e-'))
    const r = sebs(['bench', '--provider=local', '-t', '901.echo', '--size', 'test,small,large', '--repetitions', '3'], results)
    expect(r.code, r.all).toBe(1)
    const [runDir] = runDirs(results)
    const recs = records(runDir!)
    for (const language of ['python', 'nodejs'] as const) {
      const ok = recs.filter((x) => x.language === language && x.size === 'test')
      expect(ok.map((x) => x.phase), r.all).toEqual(['cold', 'warm', 'warm', 'warm'])
      expect(ok.map((x) => x.isCold)).toEqual([true, false, false, false])
      expect(ok.every((x) => x.state === 'ok' && x.outputValid)).toBe(true)
      expect(new Set(ok.map((x) => x.containerId)).size).toBe(1)
      for (const x of ok) {
        expect(x.clientTimeUs).toBeGreaterThan(0)
        expect(x.functionTimeUs).toBeGreaterThan(0)
        expect(x.clientTimeUs).toBeGreaterThanOrEqual(x.functionTimeUs)
        expect(x.rssPeakKb).toBeGreaterThan(1000)
        expect(x.requestId).not.toBe('')
        expect(x).toMatchObject({ benchmark: '901.echo', provider: 'local', memory: 128, trigger: 'http' })
      }
      // The forced-cold invocation includes starting the instance, so it is the slowest.
      expect(ok[0]!.clientTimeUs).toBeGreaterThan(Math.min(...ok.slice(1).map((x) => x.clientTimeUs)))

      const failed = recs.filter((x) => x.language === language && x.size === 'small')
      expect(failed).toHaveLength(1)
      expect(failed[0]!.state).toBe('error')
      expect(failed[0]!.state === 'error' && failed[0]!.error).toContain('deliberate failure')

      const slow = recs.filter((x) => x.language === language && x.size === 'large')
      expect(slow).toHaveLength(1)
      expect(slow[0]!.state).toBe('timeout')
      // Killed at the 2 s timeout, not after the 10 s sleep.
      expect(slow[0]!.clientTimeUs).toBeGreaterThanOrEqual(1_900_000)
      expect(slow[0]!.clientTimeUs).toBeLessThan(9_000_000)
    }
    expect(recs).toHaveLength(12)
    const summary = JSON.parse(readFileSync(join(runDir!, 'summary.json'), 'utf8'))
    expect(summary.totals).toMatchObject({ invocations: 12, errors: 2, timeouts: 2 })
    expect(existsSync(join(runDir!, 'summary.csv'))).toBe(true)
    const index = JSON.parse(readFileSync(join(results, 'index.json'), 'utf8'))
    expect(JSON.stringify(index)).toContain(runDir!.split('/').pop())
    expect(r.out).toMatch(/901\.echo/)
  })

  it('a second identical run rebuilds nothing and says so; exit 0 when all cases pass', () => {
    const results = mkdtempSync(join(tmpdir(), 'sebs-e2e-'))
    const first = sebs(['bench', '-t', '901.echo', '--repetitions', '1'], results)
    expect(first.code, first.all).toBe(0)
    const second = sebs(['bench', '-t', '901.echo', '--repetitions', '1'], results)
    expect(second.code, second.all).toBe(0)
    expect(second.err).toMatch(/901\.echo \(python, local\): package cached/)
    expect(second.err).toMatch(/901\.echo \(nodejs, local\): package cached/)
    expect(second.err).not.toMatch(/building 901\.echo/)
    expect(runDirs(results)).toHaveLength(2)
  })

  it('bad input gets a clear error that lists what exists', () => {
    const results = mkdtempSync(join(tmpdir(), 'sebs-e2e-'))
    const provider = sebs(['bench', '--provider=gcp'], results)
    expect(provider.code).toBe(1)
    expect(provider.err).toContain("Unknown provider 'gcp'. Choose one of 'local', 'aws', 'azure'")
    const size = sebs(['bench', '--size', 'huge'], results)
    expect(size.err).toContain("Unknown size 'huge'")
    const flag = sebs(['bench', '--bogus'], results)
    expect(flag.code).toBe(1)
    expect(flag.err).toMatch(/Unknown option '--bogus'.*Known options:/)
    const nothing = sebs(['bench', '-t', 'no-such-benchmark'], results)
    expect(nothing.code).toBe(1)
    expect(nothing.all).toContain('No benchmark case matches -t no-such-benchmark')
    expect(nothing.all).toContain('901.echo python test')
  })

  it('a cloud provider without credentials fails at once, before anything is built or created', () => {
    const results = mkdtempSync(join(tmpdir(), 'sebs-e2e-'))
    for (const provider of ['aws', 'azure']) {
      const started = Date.now()
      const res = spawnSync(process.execPath, [BIN, 'bench', `--provider=${provider}`, '-t', '901.echo', '--benchmarks', FIXTURES, '--results-dir', results, '--cache-dir', CACHE], {
        cwd: ROOT,
        encoding: 'utf8',
        env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(AWS_|AZURE_)/.test(k))),
        timeout: 60_000,
      })
      expect(res.status).toBe(1)
      expect(res.stderr).toContain('[CREDENTIALS_MISSING]')
      expect(res.stderr).toMatch(provider === 'aws' ? /AWS_ACCESS_KEY_ID.*AWS_PROFILE/s : /AZURE_SECRET_APPLICATION_ID.*AZURE_SUBSCRIPTION_ID/s)
      expect(Date.now() - started).toBeLessThan(20_000)
    }
    // No run directory: nothing was built, deployed or recorded.
    expect(runDirs(results)).toEqual([])
  })

  it('kill -9 in the middle of a run leaves every completed invocation as a whole line', async () => {
    const results = mkdtempSync(join(tmpdir(), 'sebs-e2e-'))
    const child = spawn(
      process.execPath,
      [BIN, 'bench', '-t', '901.echo nodejs test', '--repetitions', '400', '--benchmarks', FIXTURES, '--results-dir', results, '--cache-dir', CACHE],
      { cwd: ROOT, env: { ...process.env, SEBS_CLI_OVERRIDES: '', SEBS_RUN_ID: '' }, stdio: 'ignore', detached: true },
    )
    const deadline = Date.now() + 120_000
    let file: string | undefined
    while (Date.now() < deadline) {
      const dirs = existsSync(results) ? runDirs(results) : []
      file = dirs[0] && join(dirs[0], 'invocations.jsonl')
      // More than 20 complete lines (a line is complete once its '\n' is written).
      if (file && existsSync(file) && readFileSync(file, 'utf8').split('\n').length - 1 > 20) break
      await new Promise((r) => setTimeout(r, 100))
    }
    // Kill the whole process group (the CLI and its Vitest worker) without warning.
    process.kill(-child.pid!, 'SIGKILL')
    await new Promise((r) => child.once('exit', r))
    const text = readFileSync(file!, 'utf8')
    expect(text.endsWith('\n')).toBe(true)
    const lines = text.trim().split('\n')
    expect(lines.length).toBeGreaterThan(20)
    expect(lines.length).toBeLessThan(401)
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow()
    // What the crash left behind is swept by `sebs cleanup`.
    const cleanup = spawnSync(process.execPath, [BIN, 'cleanup', '--provider=local', '--cache-dir', CACHE], { cwd: ROOT, encoding: 'utf8' })
    expect(cleanup.status, cleanup.stdout + cleanup.stderr).toBe(0)
    expect(cleanup.stdout).toMatch(/removed (process|temp-dir)|nothing to clean up/)
    // No function instance of the killed run is left alive, and a second sweep finds nothing.
    const runId = file!.split('/').at(-2)!
    expect(liveProcessesOfRun(runId)).toEqual([])
    const again = spawnSync(process.execPath, [BIN, 'cleanup', '--provider=local', '--cache-dir', CACHE, '--run-id', runId], { cwd: ROOT, encoding: 'utf8' })
    expect(again.stdout).toContain('nothing to clean up')
  })
})
