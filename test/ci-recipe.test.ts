/**
 * The CI recipe in docs/ci.md (runs in a Vitest worker): its workflow passes
 * action-validator (the npm package @action-validator/cli, a WebAssembly build
 * of the Rust validator: schema of workflows and actions, globs), and so do the
 * step snippets of the other sections placed in it; its actions are the current
 * majors (node24), its cache keys cover what the package hash covers, and it
 * creates Bencher's custom measures with the units bencher.json needs.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { BENCHER_CUSTOM_MEASURES } from '../reporters/ci-formats.ts'

const ROOT = resolve(import.meta.dirname, '..')
const doc = readFileSync(join(ROOT, 'docs', 'ci.md'), 'utf8')
const work = mkdtempSync(join(tmpdir(), 'sebs-ci-recipe-'))
afterAll(() => rmSync(work, { recursive: true, force: true }))

/** The YAML blocks of the doc; the first is the complete workflow. */
const yamlBlocks = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!)
const workflow = yamlBlocks[0]!

function validate(yaml: string): { status: number | null; out: string } {
  const file = join(work, `workflow-${Math.random().toString(36).slice(2)}.yml`)
  writeFileSync(file, yaml)
  const res = spawnSync(process.execPath, [join(ROOT, 'node_modules', '@action-validator', 'cli', 'cli.mjs'), file], { encoding: 'utf8', timeout: 60_000 })
  return { status: res.status, out: res.stdout + res.stderr }
}

describe('docs/ci.md workflow', () => {
  it('passes action-validator', () => {
    expect(workflow).toMatch(/^name: benchmarks\n/)
    const { status, out } = validate(workflow)
    expect(status, out).toBe(0)
  })

  it('action-validator does fail on a broken workflow (the check can fail)', () => {
    const broken = workflow.replace('runs-on: ubuntu-latest', 'runs-on: ubuntu-latest\n    bogus-key: 1')
    expect(validate(broken).status).not.toBe(0)
  })

  it('uses the current (node24) majors of the actions', () => {
    const uses = [...doc.matchAll(/uses: ([\w-]+\/[\w/-]+)@(v\d+|main)\b/g)].map((m) => [m[1]!, m[2]!] as const)
    // The newest major of each, checked against the actions' releases (2026-12): every one runs on node24.
    const current: Record<string, string> = {
      'actions/checkout': 'v7',
      'actions/setup-node': 'v7',
      'actions/setup-python': 'v7',
      'actions/cache': 'v6',
      'actions/cache/save': 'v6',
      'actions/cache/restore': 'v6',
      'actions/upload-artifact': 'v7',
      'actions/download-artifact': 'v8',
      'marocchino/sticky-pull-request-comment': 'v3',
      'aws-actions/configure-aws-credentials': 'v6',
      'benchmark-action/github-action-benchmark': 'v1',
      'bencherdev/bencher': 'main', // Bencher publishes its action on main only
    }
    for (const [action, major] of uses) expect([action, major]).toEqual([action, current[action]])
    expect(new Set(uses.map(([a]) => a))).toEqual(new Set(Object.keys(current)))
  })

  it('keys the package cache on what the package hash covers, and caches inputs apart', () => {
    const keys = [...workflow.matchAll(/^\s+key: (.*)$/gm)].map((m) => m[1]!)
    const packages = keys.find((k) => k.startsWith('sebs-packages-'))!
    expect(packages).toContain('${{ steps.node.outputs.node-version }}')
    expect(packages).toContain('${{ steps.python.outputs.python-version }}')
    expect(packages).toContain('runner.arch')
    expect(packages).toMatch(/hashFiles\('package-lock\.json', 'benchmarks\/\*\*', 'providers\/\*\*'\)/)
    const inputs = keys.find((k) => k.startsWith('sebs-inputs-'))!
    expect(inputs).toContain('steps.python.outputs.python-version')
    expect(workflow).toMatch(/path: \.sebs-cache\/packages\n/)
    expect(workflow).toMatch(/path: \.sebs-cache\/benchmarks-data\n/)
    // No apt step: ffmpeg comes from npm.
    expect(workflow).not.toMatch(/apt-get install/)
  })

  it('tracks cold and warm series in separate steps with their own thresholds', () => {
    const tracking = yamlBlocks.filter((b) => b.includes('benchmark-action/github-action-benchmark'))
    const text = tracking.join('\n')
    expect(text).toContain('github-action-benchmark-warm.json')
    expect(text).toContain('github-action-benchmark-cold.json')
    const thresholds = [...text.matchAll(/alert-threshold: '(\d+)%'/g)].map((m) => Number(m[1]))
    expect(new Set(thresholds).size).toBe(2)
  })

  it('places every step snippet of the other sections into the workflow, and action-validator passes it', () => {
    // Snippets that are lists of steps (the tracking and artifact variants), indented as the workflow's steps.
    const snippets = yamlBlocks.slice(1).filter((b) => /^ {6}- /.test(b))
    expect(snippets.length).toBeGreaterThanOrEqual(4)
    const at = workflow.indexOf('      - name: Fail on a regression')
    expect(at).toBeGreaterThan(0)
    const combined = workflow.slice(0, at) + snippets.join('\n') + '\n' + workflow.slice(at)
    const { status, out } = validate(combined)
    expect(status, out).toBe(0)
  })

  it('creates each custom Bencher measure with its units before uploading bencher.json', () => {
    const block = yamlBlocks.find((b) => b.includes('bencher run'))!
    expect(block).toBeDefined()
    const create = block.indexOf('bencher measure create')
    expect(create).toBeGreaterThan(0)
    expect(create).toBeLessThan(block.indexOf('bencher run'))
    // The CLI's syntax (bencher_cli parser: `measure create PROJECT --name --slug --units`).
    expect(block).toMatch(/bencher measure create "\$BENCHER_PROJECT" --slug "\$1" --name "\$2" --units "\$3"/)
    const created = [...block.matchAll(/^\s+measure ([\w-]+) '([^']+)' '([^']+)'$/gm)].map((m) => ({ slug: m[1], name: m[2], units: m[3] }))
    expect(created).toEqual([...BENCHER_CUSTOM_MEASURES])
    expect(block).toMatch(/--adapter json --file "\$\{\{ steps\.run\.outputs\.dir \}\}\/bencher\.json"/)
  })
})
