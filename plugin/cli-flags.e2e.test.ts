/**
 * The `sebs` bin refuses bad numeric flags with the flag's range message and
 * no stack (issue 15, item 5): `--repetitions -1` used to be "ambiguous".
 * Runs the real bin; it fails before Vitest starts.
 */
import { spawnSync } from 'node:child_process'
import { join, resolve } from 'node:path'
import { describe, expect, it, beforeAll } from 'vitest'
import { ensureFreshDist } from '../test/support/fresh-dist.ts'
import { settingRows } from '../engine/settings-schema.ts'

// These tests spawn the built bin (bin/sebs.mjs runs dist/): build what changed first.
beforeAll(ensureFreshDist, 300_000)

const ROOT = resolve(import.meta.dirname, '..')
const BIN = join(ROOT, 'bin', 'sebs.mjs')

describe('sebs bench numeric flags', () => {
  it.each([
    [['--repetitions', '-1'], "--repetitions must be a whole number ≥ 0, got '-1'"],
    [['--memory', '-128'], "--memory must be a whole number ≥ 64, got '-128'"],
  ])('%j gets the range message, not "ambiguous", and no stack', (flags, message) => {
    const res = spawnSync(process.execPath, [BIN, 'bench', ...flags], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, DEBUG: '', NO_COLOR: '1' } })
    expect(res.status).toBe(1)
    expect(res.stderr).toBe(`sebs: error [CONFIG_INVALID]: ${message}.\n`)
  })

  it.each([
    [{ SEBS_REPETITIONS: '-1' }, "SEBS_REPETITIONS must be a whole number ≥ 0, got '-1'"],
    [{ SEBS_MEMORY: '128,abc' }, "SEBS_MEMORY must be a whole number ≥ 64, got 'abc'"],
  ])('%j: the variable gets the same message shape, naming the variable', (vars, message) => {
    const res = spawnSync(process.execPath, [BIN, 'bench'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...vars, DEBUG: '', NO_COLOR: '1' } })
    expect(res.status).toBe(1)
    expect(res.stderr).toBe(`sebs: error [CONFIG_INVALID]: ${message}.\n`)
  })

  it('--help lists every flag of the settings table with its variable', () => {
    const res = spawnSync(process.execPath, [BIN, 'bench', '--help'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, DEBUG: '', NO_COLOR: '1' } })
    expect(res.status).toBe(0)
    const flagged = settingRows().filter(([, r]) => r.flag)
    expect(flagged.length).toBeGreaterThan(15)
    for (const [, r] of flagged) {
      expect(res.stdout).toMatch(new RegExp(`^  --${r.flag!.name}\\b`, 'm'))
      expect(res.stdout).toContain(`[${r.env}]`)
    }
  })

  it("-t '(' is a clear CONFIG_INVALID naming the pattern, with no stack", () => {
    const res = spawnSync(process.execPath, [BIN, 'bench', '-t', '('], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, DEBUG: '', NO_COLOR: '1' } })
    expect(res.status).toBe(1)
    expect(res.stderr).toMatch(/^sebs: error \[CONFIG_INVALID\]: -t '\(' is not a valid regular expression \(\/\(\/: Unterminated group\); escape/)
    expect(res.stderr).not.toMatch(/\n\s+at /)
  })

  it('-t matching no case prints only our message with the list of cases (no Vitest "No benchmark files found" / "Unhandled Error")', () => {
    const res = spawnSync(process.execPath, [BIN, 'bench', '-t', 'no-such-case-4711', '--results-dir', join(ROOT, '.sebs-cache', 'test-no-results')], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, DEBUG: '', NO_COLOR: '1' },
    })
    expect(res.status).toBe(1)
    expect(res.stderr).toMatch(/^sebs: error \[NOTHING_SELECTED\]: No benchmark case matches -t no-such-case-4711[^\n]*Cases that exist:\n  010\.sleep python test\n/)
    expect(res.stdout + res.stderr).not.toMatch(/No benchmark files found|Unhandled|RUN {2}v/)
  })
})

describe('sebs bench -t on a built-in benchmark from this repository', () => {
  // The bin runs dist/, the repository's vitest.config.ts loads the plugin from sources: the
  // preselected bench file must match either copy. And Vitest's help, read to know its flags,
  // is coloured under FORCE_COLOR (as in CI): '-t' was then refused as an unknown flag.
  it('runs the selected case with colours forced, and records it', () => {
    const results = join(ROOT, '.sebs-cache', 'test-builtin-t')
    const res = spawnSync(process.execPath, [BIN, 'bench', '-t', '010.sleep', '--repetitions', '0', '--results-dir', results], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, DEBUG: '', FORCE_COLOR: '1', NO_COLOR: '' },
    })
    expect(res.stdout + res.stderr).not.toMatch(/UNKNOWN_FLAG|No benchmark files found/)
    expect(res.status).toBe(0)
    expect(res.stdout).toMatch(/010\.sleep +python +test +cold +1 /)
  }, 180_000)
})

describe('sebs bench --experiment with Vitest flags', () => {
  // Vitest's help reads process.argv too: '--experiment' there made it list only its
  // '--experimental' options, and '-t' was refused as unknown.
  it("'-t' is Vitest's flag beside --experiment: the selection is checked, not the flag refused", () => {
    const res = spawnSync(process.execPath, [BIN, 'bench', '--experiment', 'perf-cost', '-t', 'no-such-case-4711', '--results-dir', join(ROOT, '.sebs-cache', 'test-no-results')], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, DEBUG: '', NO_COLOR: '1' },
    })
    expect(res.stderr).not.toMatch(/UNKNOWN_FLAG/)
    expect(res.stderr).toMatch(/^sebs: error \[NOTHING_SELECTED\]/)
    expect(res.status).toBe(1)
  })
})
