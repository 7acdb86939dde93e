/**
 * End to end: `sebs bench --experiment perf-cost --memory 128,256` on the
 * 910.sleep fixture, asserting on the records it wrote. A cache dir of its
 * own: the other e2e file runs `sebs cleanup` on its cache, which would stop
 * this run's instances if the two files ran at the same time.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import type { InvocationRecord } from '../../core/types.ts'
import { ensureFreshDist } from '../support/fresh-dist.ts'

const ROOT = resolve(import.meta.dirname, '..', '..')
const BIN = join(ROOT, 'bin', 'sebs.mjs')
const FIXTURES = join(ROOT, 'test', 'fixtures', 'experiments')
const CACHE = join(ROOT, '.sebs-cache', 'test-e2e-experiments')

// The bin runs the built code: build what changed first.
beforeAll(ensureFreshDist, 300_000)

describe('sebs bench --experiment perf-cost (local provider)', () => {
  it('records every phase × memory size, cold only cold, warm-up batches discarded with a reason, cost per record', () => {
    const results = mkdtempSync(join(tmpdir(), 'sebs-e2e-exp-'))
    const res = spawnSync(
      process.execPath,
      [BIN, 'bench', '--experiment', 'perf-cost', '--memory', '128,256', '-t', '910.sleep', '--repetitions', '3', '--benchmarks', FIXTURES, '--results-dir', results, '--cache-dir', CACHE],
      { cwd: ROOT, encoding: 'utf8', env: { ...process.env, SEBS_CLI_OVERRIDES: '', SEBS_RUN_ID: '', FORCE_COLOR: '0', NO_COLOR: '1' }, timeout: 600_000 },
    )
    const all = res.stdout + res.stderr
    expect(res.status, all).toBe(0)
    const [runDir] = readdirSync(results, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => join(results, d.name))
    const recs = readFileSync(join(runDir!, 'invocations.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as InvocationRecord)

    for (const language of ['python', 'nodejs'] as const) {
      for (const memory of [128, 256]) {
        for (const phase of ['cold', 'warm', 'burst', 'sequential']) {
          const rs = recs.filter((r) => r.language === language && r.memory === memory && r.phase === phase)
          const used = rs.filter((r) => r.state === 'ok' && r.outputValid && !r.discarded)
          expect(used.length, `${language} ${memory} ${phase}`).toBeGreaterThanOrEqual(3)
          expect(rs.every((r) => r.experiment === 'perf-cost' && typeof r.costUsd === 'number')).toBe(true)
          if (phase === 'cold') expect(used.every((r) => r.isCold)).toBe(true)
          if (phase === 'warm') expect(used.every((r) => !r.isCold)).toBe(true)
        }
        // The first burst batch is discarded, and says why.
        const firstBurst = recs.filter((r) => r.language === language && r.memory === memory && r.phase === 'burst' && r.params?.batch === 0)
        expect(firstBurst.length).toBeGreaterThan(0)
        expect(firstBurst.every((r) => r.discarded && /warm-up batch/.test(r.discardReason ?? ''))).toBe(true)
      }
    }
    // The memory sweep is enforced, not only a label, where this machine allows a cgroup (root) or an rlimit (Python).
    expect(recs.filter((r) => r.language === 'python' && r.state === 'ok').every((r) => r.memoryEnforced === true)).toBe(true)
    // A summary per phase with medians, CIs and cost, and the experiment's own summaries.
    const summary = JSON.parse(readFileSync(join(runDir!, 'summary.json'), 'utf8')) as { cases: Array<{ phase: string; memory: number; clientTimeUs?: { median: number }; costUsd?: unknown }> }
    for (const phase of ['cold', 'warm', 'burst', 'sequential']) {
      for (const memory of [128, 256]) {
        const c = summary.cases.find((x) => x.phase === phase && x.memory === memory)
        expect(c?.clientTimeUs?.median, `${phase} ${memory}`).toBeGreaterThan(0)
        expect(c?.costUsd).toBeDefined()
      }
    }
    expect(existsSync(join(runDir!, 'experiments', 'perf-cost.910.sleep.python.test.json'))).toBe(true)
    expect(all).toMatch(/median client .* per 1M \(aws-x86_64 \d{4}-\d{2}-\d{2} \(estimate\)\)/)
  })

  it("-t picks one experiment point by its task name ('910.sleep nodejs test warm 128MB'): only that point runs", () => {
    const results = mkdtempSync(join(tmpdir(), 'sebs-e2e-exp-point-'))
    const res = spawnSync(
      process.execPath,
      [BIN, 'bench', '--experiment', 'perf-cost', '--memory', '128', '-t', '910.sleep nodejs test warm 128MB', '--repetitions', '2', '--benchmarks', FIXTURES, '--results-dir', results, '--cache-dir', CACHE],
      { cwd: ROOT, encoding: 'utf8', env: { ...process.env, SEBS_CLI_OVERRIDES: '', SEBS_RUN_ID: '', FORCE_COLOR: '0', NO_COLOR: '1' }, timeout: 300_000 },
    )
    const all = res.stdout + res.stderr
    expect(res.status, all).toBe(0)
    expect(all).not.toContain('No benchmark case matches')
    const [runDir] = readdirSync(results, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => join(results, d.name))
    const recs = readFileSync(join(runDir!, 'invocations.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as InvocationRecord)
    expect(new Set(recs.map((r) => `${r.benchmark} ${r.language} ${r.point}`))).toEqual(new Set(['910.sleep nodejs warm 128MB']))
    expect(recs.filter((r) => r.state === 'ok' && !r.discarded)).toHaveLength(2)
  })

})

describe('out of memory (930.allocate asks for 400 MB at 128 MB)', () => {
  const OOM_FIXTURES = join(ROOT, 'test', 'fixtures', 'oom')
  const run = (args: string[]) => {
    const results = mkdtempSync(join(tmpdir(), 'sebs-e2e-oom-'))
    const res = spawnSync(process.execPath, [BIN, 'bench', ...args, '--memory', '128', '--repetitions', '1', '--benchmarks', OOM_FIXTURES, '--results-dir', results, '--cache-dir', CACHE], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, SEBS_CLI_OVERRIDES: '', SEBS_RUN_ID: '', FORCE_COLOR: '0', NO_COLOR: '1' },
      timeout: 300_000,
    })
    const [runDir] = readdirSync(results, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => join(results, d.name))
    const recs = readFileSync(join(runDir!, 'invocations.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as InvocationRecord)
    const summary = JSON.parse(readFileSync(join(runDir!, 'summary.json'), 'utf8')) as { totals: { errors: number; outOfMemory: number } }
    return { all: res.stdout + res.stderr, status: res.status, recs, summary }
  }

  it('an experiment point: records say oom, the memory limit and cold for the forced cold starts; no Unhandled Error; exit 1', () => {
    const { all, status, recs, summary } = run(['--experiment', 'perf-cost', '-t', '930.allocate python test cold 128MB'])
    expect(status, all).toBe(1)
    expect(all).not.toMatch(/Unhandled|false positive|NaNx|Infinityx/)
    expect(recs.length).toBeGreaterThan(0)
    for (const r of recs) {
      expect(r).toMatchObject({ state: 'error', errorKind: 'oom', point: 'cold 128MB', isCold: true })
      expect(['cgroup', 'rlimit-as']).toContain(r.params?.memoryLimit)
    }
    expect(summary.totals.outOfMemory).toBe(recs.length)
    expect(all).toContain(`${recs.length} out of memory`)
  })

  it('a plain run: errorKind oom and its own count in summary.json and the failure list; exit 1', () => {
    const { all, status, recs, summary } = run(['-t', '930.allocate python'])
    expect(status, all).toBe(1)
    expect(all).not.toMatch(/Unhandled|NaNx|Infinityx/)
    expect(recs.length).toBeGreaterThan(0)
    expect(recs.every((r) => r.state === 'error' && r.errorKind === 'oom')).toBe(true)
    // The cold task's invocation started the instance.
    expect(recs.find((r) => r.phase === 'cold')?.isCold).toBe(true)
    expect(summary.totals).toMatchObject({ errors: recs.length, outOfMemory: recs.length })
    expect(all).toMatch(/Failures in \d+ cases?:[\s\S]*out of memory of/)
  })
})
