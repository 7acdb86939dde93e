/**
 * End to end (issue 15, item 6): a SeBS-format benchmark whose input.py
 * starts with `from PIL import Image` runs through `sebs bench` on the local
 * provider. The first run creates input.py's managed Python environment
 * (announced, with its duration); the generator and the validator (in the
 * bench worker) both import PIL from it, while a benchmark whose input.py
 * imports what nothing provides fails alone, with a message saying where to
 * declare it. The second run reuses the environment: no install line, its
 * files untouched.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { InvocationRecord } from '../../core/types.ts'
import { ensureFreshDist } from '../support/fresh-dist.ts'

beforeAll(ensureFreshDist, 300_000)

const ROOT = resolve(import.meta.dirname, '..', '..')
const BIN = join(ROOT, 'bin', 'sebs.mjs')
const FIXTURES = join(ROOT, 'test', 'fixtures', 'sebs-input-env')
const work = mkdtempSync(join(tmpdir(), 'sebs-e2e-input-env-'))
afterAll(() => rmSync(work, { recursive: true, force: true }))

function bench(cacheDir: string, dataDir: string, filter = '002.sebs-pillow') {
  const results = mkdtempSync(join(work, 'results-'))
  const res = spawnSync(
    process.execPath,
    [BIN, 'bench', '--benchmarks', FIXTURES, '--data-dir', dataDir, '-t', filter, '--repetitions', '1', '--results-dir', results, '--cache-dir', cacheDir],
    {
      cwd: ROOT,
      encoding: 'utf8',
      env: {
        ...process.env,
        SEBS_CLI_OVERRIDES: '',
        SEBS_RUN_ID: '',
        NO_COLOR: '1',
        FORCE_COLOR: '0',
        PIP_RETRIES: '0',
        DEBUG: '',
        // A one-package stand-in for SeBS's set (numpy, scipy, pandas, Pillow, …): CI installs it in seconds.
        SEBS_INPUT_REQUIREMENTS: join(FIXTURES, 'input-env-requirements.txt'),
        SEBS_INPUT_PYTHON: '',
      },
      timeout: 600_000,
    },
  )
  const all = `${res.stdout}\n${res.stderr}`
  const [runDir] = readdirSync(results, { withFileTypes: true }).filter((d) => d.isDirectory())
  const records = runDir
    ? readFileSync(join(results, runDir.name, 'invocations.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as InvocationRecord)
    : []
  return { status: res.status, all, records }
}

describe('sebs bench: input.py in its managed Python environment', () => {
  it('creates the environment on the first run and reuses it on the second', () => {
    const cacheDir = join(work, 'cache')
    const dataDir = join(work, 'data')

    // With 003.sebs-undeclared, whose input.py imports a module nothing provides: it fails alone (exit 1).
    const first = bench(cacheDir, dataDir, '00[23]\\.sebs-')
    expect(first.status, first.all).toBe(1)
    const failed = first.records.filter((r) => r.benchmark === '003.sebs-undeclared') as Array<InvocationRecord & { error?: string }>
    expect(failed.map((r) => r.state)).toEqual(['error'])
    expect(failed[0]!.error).toMatch(/^loading input module failed: .*input\.py: imports 'sebs_undeclared_module_4711', which input\.py's environment \S+ does not have/)
    expect(failed[0]!.error).toContain(join(FIXTURES, '000.sebs', '003.sebs-undeclared', 'input-requirements.txt'))
    expect(first.all).not.toMatch(/Unhandled Error|\n\s+at [\w.<]+ \(/)
    const created = /python environment for input\.py: installing 1 package\(s\) \(pillow\) into (\S+)…/.exec(first.all)
    expect(created, first.all).not.toBeNull()
    expect(first.all).toMatch(/python environment for input\.py ready \(1 of 1 package\(s\) installed\) in [\d.]+ (m?s|min)/)
    const envDir = created![1]!
    expect(envDir.startsWith(join(cacheDir, 'python-env'))).toBe(true)
    const pillow = first.records.filter((r) => r.benchmark === '002.sebs-pillow')
    expect(pillow.map((r) => r.phase).sort()).toEqual(['cold', 'warm'])
    for (const r of pillow) {
      // The validator (bench worker) imported PIL too and agreed with the function.
      expect(r, first.all).toMatchObject({ benchmark: '002.sebs-pillow', state: 'ok', outputValid: true })
    }
    const marker = join(envDir, '.sebs-input-env.json')
    const before = { marker: readFileSync(marker, 'utf8'), mtime: statSync(join(envDir, 'lib')).mtimeMs }

    const second = bench(cacheDir, dataDir)
    expect(second.status, second.all).toBe(0)
    expect(second.all).not.toMatch(/python environment for input\.py/)
    expect(second.records.every((r) => r.state === 'ok' && r.outputValid === true), second.all).toBe(true)
    expect(readFileSync(marker, 'utf8')).toBe(before.marker)
    expect(statSync(join(envDir, 'lib')).mtimeMs).toBe(before.mtime)
    expect(readdirSync(join(cacheDir, 'python-env'))).toEqual([envDir.split('/').at(-1)])
  }, 600_000)
})
