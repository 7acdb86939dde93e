/**
 * The CI recipe in docs/ci.md (runs in a Vitest worker): its workflow passes
 * action-validator (the npm package @action-validator/cli, a WebAssembly build
 * of the Rust validator: schema of workflows and actions, globs), its actions are
 * node24 majors, and its cache keys cover what the package hash covers.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

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

  it('uses the node24 majors of the actions', () => {
    const uses = [...doc.matchAll(/uses: ([\w-]+\/[\w/-]+)@v(\d+)/g)].map((m) => [m[1]!, Number(m[2])] as const)
    const minimum: Record<string, number> = {
      'actions/checkout': 5,
      'actions/setup-node': 6,
      'actions/setup-python': 6,
      'actions/cache': 5,
      'actions/cache/save': 5,
      'actions/cache/restore': 5,
      'actions/upload-artifact': 6,
      'actions/download-artifact': 7,
    }
    for (const [action, major] of uses) if (minimum[action] !== undefined) expect(major, action).toBeGreaterThanOrEqual(minimum[action]!)
    expect(uses.some(([a]) => a === 'actions/cache')).toBe(true)
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
})
