/**
 * End to end: one bad benchmark fails itself, not the run (issue 15, item 5).
 * Next to the 901.echo fixture, a benchmark whose requirements.txt names a
 * package that does not exist and one whose input.py raises: both are
 * recorded as failed with their short reason (pip's error lines; the
 * exception as it is, not a data-missing guess), 901.echo runs, the summary
 * lists what failed and why, and the run exits 1 without a Vitest
 * "Unhandled Error" or a stack.
 */
import { spawnSync } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { describe, expect, it, beforeAll } from 'vitest'
import { ensureFreshDist } from '../support/fresh-dist.ts'
import type { InvocationRecord } from '../../core/types.ts'

// These tests spawn the built bin (bin/sebs.mjs runs dist/): build what changed first.
beforeAll(ensureFreshDist, 300_000)

const ROOT = resolve(import.meta.dirname, '..', '..')
const BIN = join(ROOT, 'bin', 'sebs.mjs')
const FIXTURES = join(ROOT, 'test', 'fixtures', 'benchmarks')
const ECHO = join(FIXTURES, '900.fixtures', '901.echo')
const CACHE = join(ROOT, '.sebs-cache', 'test-e2e')

/** Two broken benchmarks in a fresh folder: 905.broken-deps (pip fails) and 906.broken-input (input.py raises). */
function brokenBenchmarks(): string {
  const root = mkdtempSync(join(tmpdir(), 'sebs-e2e-broken-'))
  const group = join(root, '905.broken')
  const deps = join(group, '905.broken-deps')
  mkdirSync(deps, { recursive: true })
  cpSync(ECHO, deps, { recursive: true })
  writeFileSync(join(deps, 'python', 'requirements.txt'), 'sebs-no-such-package-4711==1.0\n')
  const input = join(group, '906.broken-input')
  mkdirSync(join(input, 'python'), { recursive: true })
  cpSync(join(ECHO, 'python', 'function.py'), join(input, 'python', 'function.py'))
  writeFileSync(join(input, 'config.json'), JSON.stringify({ timeout: 5, memory: 128, languages: ['python'] }))
  writeFileSync(
    join(input, 'input.py'),
    [
      'def buckets_count():',
      '    return (0, 0)',
      'def generate_input(data_dir, size, benchmarks_bucket, input_paths, output_paths, upload_func, nosql_func):',
      '    raise RuntimeError("this generator is broken on purpose")',
      '',
    ].join('\n'),
  )
  return root
}

describe('one bad benchmark fails itself, not the run', () => {
  it('a failing pip install and a raising input.py are recorded as their cases\' failures; 901.echo still runs; exit 1', () => {
    const extra = brokenBenchmarks()
    const results = mkdtempSync(join(tmpdir(), 'sebs-e2e-iso-'))
    const res = spawnSync(
      process.execPath,
      [BIN, 'bench', '-t', '(901\\.echo|905\\.broken-deps|906\\.broken-input) python test', '--repetitions', '2', '--benchmarks', FIXTURES, '--benchmarks', extra, '--results-dir', results, '--cache-dir', CACHE, '--force'],
      {
        cwd: ROOT,
        encoding: 'utf8',
        // SEBS_INPUT_REQUIREMENTS: 906's input.py runs with plain python3 (no managed environment to install).
        env: { ...process.env, SEBS_CLI_OVERRIDES: '', SEBS_RUN_ID: '', NO_COLOR: '1', FORCE_COLOR: '0', PIP_RETRIES: '0', DEBUG: '', SEBS_INPUT_REQUIREMENTS: '/dev/null' },
        timeout: 600_000,
      },
    )
    const all = res.stdout + res.stderr
    expect(res.status, all).toBe(1)
    const [runDir] = readdirSync(results, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => join(results, d.name))
    const records = readFileSync(join(runDir!, 'invocations.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as InvocationRecord & { error?: string })
    const of = (benchmark: string) => records.filter((r) => r.benchmark === benchmark && r.language === 'python')

    // The good benchmark ran in full.
    expect(of('901.echo').map((r) => r.state)).toEqual(['ok', 'ok', 'ok'])
    // The broken ones: one error record each, with the specific reason.
    const [deps] = of('905.broken-deps')
    expect(of('905.broken-deps')).toHaveLength(1)
    expect(deps!.state).toBe('error')
    expect(deps!.error).toMatch(/^building package failed: /)
    expect(deps!.error).toMatch(/ERROR: .*sebs-no-such-package-4711/)
    expect(deps!.error!.split('\n').length).toBeLessThan(12)
    const [input] = of('906.broken-input')
    expect(of('906.broken-input')).toHaveLength(1)
    expect(input!.error).toMatch(/^generating inputs failed: /)
    expect(input!.error).toContain('RuntimeError: this generator is broken on purpose')
    expect(input!.error).not.toContain('BENCHMARK_DATA_MISSING')

    // The summary lists what failed and why; no Vitest error report, no stack.
    expect(all).toMatch(/905\.broken-deps[^\n]*python[^\n]*test[\s\S]*building package failed/)
    expect(all).toMatch(/906\.broken-input[^\n]*python[^\n]*test[\s\S]*generating inputs failed/)
    expect(all).not.toMatch(/Unhandled Error|\n\s+at [\w.<]+ \(/)
  }, 600_000)
})
