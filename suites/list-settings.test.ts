/**
 * Every value of a list flag is honoured or refused (issue 16): checkListSettings
 * (main process, before anything is built) and the `sebs` CLI's message.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { describe, expect, it, beforeAll } from 'vitest'
import { ensureFreshDist } from '../test/support/fresh-dist.ts'
import { checkListSettings, EXPERIMENTS } from './index.ts'

// These tests spawn the built bin (bin/sebs.mjs runs dist/): build what changed first.
beforeAll(ensureFreshDist, 300_000)

describe('checkListSettings', () => {
  it('accepts one memory size anywhere, and a list in the experiments that sweep memory', () => {
    expect(() => checkListSettings({})).not.toThrow()
    expect(() => checkListSettings({ memory: [256] })).not.toThrow()
    expect(() => checkListSettings({ memory: [256, 256] })).not.toThrow()
    expect(() => checkListSettings({ memory: [128, 256], experiment: 'perf-cost' })).not.toThrow()
    expect(() => checkListSettings({ memory: [128, 256], experiment: 'cold-start' })).not.toThrow()
    expect(Object.entries(EXPERIMENTS).filter(([, i]) => i.sweepsMemory).map(([n]) => n)).toEqual(['perf-cost', 'cold-start'])
  })

  it('refuses a memory list on a plain run, naming the flag and the experiment to use', () => {
    expect(() => checkListSettings({ memory: [128, 256, 512] })).toThrow(
      /--memory 128,256,512: a plain run deploys each function with one memory size, so only 128 MB would run\. Sweep memory sizes with --experiment perf-cost/,
    )
  })

  it('refuses a memory list in an experiment that runs one memory size', () => {
    expect(() => checkListSettings({ memory: [128, 256], experiment: 'eviction-model' })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringMatching(/the 'eviction-model' experiment deploys one memory size/) }),
    )
  })
})

describe('sebs bench --memory LIST', () => {
  it('stops before building anything, with the message and exit code 1', () => {
    const results = mkdtempSync(join(tmpdir(), 'sebs-list-flags-'))
    try {
      const root = resolve(import.meta.dirname, '..')
      const res = spawnSync(process.execPath, [join(root, 'bin', 'sebs.mjs'), 'bench', '-t', '010.sleep', '--memory', '128,256,512', '--results-dir', results], {
        cwd: root,
        encoding: 'utf8',
        env: { ...process.env, SEBS_CLI_OVERRIDES: '', SEBS_RUN_ID: '', NO_COLOR: '1' },
        timeout: 60_000,
      })
      expect(res.status).toBe(1)
      expect(res.stderr).toMatch(/^sebs: error \[CONFIG_INVALID\]: --memory 128,256,512: .*--experiment perf-cost --memory 128,256,512/)
      expect(res.stderr).not.toMatch(/\n\s+at /) // no stack trace for a user error
      expect(res.stdout).not.toMatch(/building/)
    } finally {
      rmSync(results, { recursive: true, force: true })
    }
  })
})
