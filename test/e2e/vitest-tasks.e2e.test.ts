/**
 * End to end: what Vitest's own outputs say about a run (`--outputJson`),
 * next to the records the run wrote. Runs `vitest bench` in a child process
 * on the fixture benchmarks with the local provider: the cold and the warm
 * invocations of a case are separate Vitest tasks, each sample is exactly
 * one invocation's recorded client time, and an experiment point's samples
 * are its measured invocations.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { InvocationRecord } from '../../core/types.ts'

const ROOT = resolve(import.meta.dirname, '..', '..')
const VITEST = join(ROOT, 'node_modules', 'vitest', 'vitest.mjs')
const FIXTURES = join(ROOT, 'test', 'fixtures', 'benchmarks')
// Shared with the other end-to-end tests so dependency installs are cached between runs.
const CACHE = join(ROOT, '.sebs-cache', 'test-e2e')

interface VitestBench {
  name: string
  sampleCount: number
  mean: number
  median: number
  min: number
  max: number
  samples: number[]
}

function vitestBench(args: string[], env: Record<string, string>) {
  const results = mkdtempSync(join(tmpdir(), 'sebs-tasks-'))
  const outputJson = join(results, 'vitest.json')
  const res = spawnSync(process.execPath, [VITEST, 'bench', '--run', ...args, '--outputJson', outputJson], {
    cwd: ROOT,
    encoding: 'utf8',
    env: {
      ...process.env,
      SEBS_BENCHMARKS: FIXTURES,
      SEBS_RESULTS_DIR: results,
      SEBS_CACHE_DIR: CACHE,
      SEBS_PROVIDER: 'local',
      SEBS_CLI_OVERRIDES: '',
      SEBS_RUN_ID: '',
      FORCE_COLOR: '0',
      NO_COLOR: '1',
      ...env,
    },
    timeout: 600_000,
  })
  const all = res.stdout + res.stderr
  const runDir = readdirSync(results, { withFileTypes: true }).find((d) => d.isDirectory())
  const records = runDir
    ? readFileSync(join(results, runDir.name, 'invocations.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as InvocationRecord)
    : []
  const benches = new Map<string, VitestBench>()
  const report = JSON.parse(readFileSync(outputJson, 'utf8')) as { files: { groups: { benchmarks: VitestBench[] }[] }[] }
  for (const file of report.files) for (const group of file.groups) for (const b of group.benchmarks) if (b.sampleCount) benches.set(b.name, b)
  return { code: res.status, all, records, benches }
}

const ms = (r: InvocationRecord) => r.clientTimeUs / 1000
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}

describe('Vitest tasks of a run (vitest bench --outputJson, local provider)', () => {
  it('a case is a cold task with one sample and a warm task with N, each sample one recorded invocation', () => {
    const r = vitestBench(['-t', '901.echo nodejs test'], { SEBS_REPETITIONS: '4' })
    expect(r.code, r.all).toBe(0)
    expect(r.records.map((x) => x.phase), r.all).toEqual(['cold', 'warm', 'warm', 'warm', 'warm'])
    const cold = r.benches.get('nodejs test · cold')
    const warm = r.benches.get('nodejs test · warm')
    expect([...r.benches.keys()]).toEqual(['nodejs test · cold', 'nodejs test · warm'])
    expect(cold!.sampleCount).toBe(1)
    expect(warm!.sampleCount).toBe(4)
    // The sample is the invocation: equal to the record's client time, not the connect or forced cold start around it.
    expect(cold!.mean).toBeCloseTo(ms(r.records[0]!), 6)
    const warmRecords = r.records.slice(1)
    expect(warm!.median).toBeCloseTo(median(warmRecords.map(ms)), 6)
    expect(warm!.min).toBeCloseTo(Math.min(...warmRecords.map(ms)), 6)
    expect(warm!.max).toBeCloseTo(Math.max(...warmRecords.map(ms)), 6)
    // Vitest's summary compares like with like: warm against cold of the same case, two tasks.
    expect(r.all).toMatch(/nodejs test · warm[\s\S]*faster than nodejs test · cold/)
  })

  it('-t selects one task of a case: only the cold task runs, one record', () => {
    const r = vitestBench(['-t', '901.echo nodejs test · cold'], { SEBS_REPETITIONS: '3' })
    expect(r.code, r.all).toBe(0)
    expect(r.records.map((x) => `${x.language} ${x.phase}`), r.all).toEqual(['nodejs cold'])
    expect([...r.benches.keys()]).toEqual(['nodejs test · cold'])
  })

  it('an experiment point is one task whose samples are its measured invocations', () => {
    const r = vitestBench(['-t', '901.echo nodejs test'], {
      SEBS_CLI_OVERRIDES: JSON.stringify({ experiment: 'perf-cost', memory: [128], repetitions: 3 }),
    })
    expect(r.code, r.all).toBe(0)
    const names = [...r.benches.keys()]
    expect(names.length, r.all).toBeGreaterThan(1)
    for (const name of names) {
      const point = name.replace(/^nodejs test /, '')
      const used = r.records.filter((x) => x.point === point && x.state === 'ok' && x.outputValid && !x.discarded)
      const b = r.benches.get(name)!
      expect(b.sampleCount, name).toBe(used.length)
      expect(b.median, name).toBeCloseTo(median(used.map(ms)), 6)
    }
  })
})
