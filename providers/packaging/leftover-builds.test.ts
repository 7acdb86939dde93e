/** Temporary build folders of killed builds: reported and removed by `sebs cleanup`, never those of a running build. */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { sweepLeftoverBuilds } from './leftover-builds.ts'

let cacheDir: string
afterEach(() => rmSync(cacheDir, { recursive: true, force: true }))

/** The pid of a process that has exited (and was reaped). */
function deadPid(): number {
  return Number(spawnSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' }).stdout.trim())
}

describe('sweepLeftoverBuilds', () => {
  it('reports, then removes, the <hash>.tmp-<pid>-… folder of a build killed with -9; keeps a running build\'s', async () => {
    cacheDir = mkdtempSync(join(tmpdir(), 'sebs-builds-'))
    const parent = join(cacheDir, 'packages', 'local', '901.echo', 'python-x64')
    const dead = join(parent, `0123abcd.tmp-${deadPid()}-deadbeef`)
    const live = join(parent, `4567abcd.tmp-${process.pid}-cafebabe`)
    const pyDeps = join(cacheDir, 'benchmarks-data', '400.inference', '411.x', `.python.tmp-${deadPid()}-0badf00d`)
    const inputEnv = join(cacheDir, 'python-env', `3e44b2a9b106f4d7.tmp-${deadPid()}-0ddba11f`)
    for (const dir of [dead, live, pyDeps, inputEnv]) {
      mkdirSync(dir, { recursive: true })
      writeFileSync(join(dir, 'half-written'), 'x')
    }
    mkdirSync(join(parent, '89abcdef'), { recursive: true }) // a finished build: not a leftover

    const dry = await sweepLeftoverBuilds(cacheDir, { dryRun: true })
    expect(dry.map((r) => r.id).sort()).toEqual([pyDeps, dead, inputEnv].sort())
    expect(dry.every((r) => r.kind === 'build-temp' && !r.removed)).toBe(true)
    expect(existsSync(dead)).toBe(true)

    const swept = await sweepLeftoverBuilds(cacheDir, { dryRun: false })
    expect(swept.every((r) => r.removed)).toBe(true)
    expect([existsSync(dead), existsSync(pyDeps), existsSync(inputEnv), existsSync(live), existsSync(join(parent, '89abcdef'))]).toEqual([false, false, false, true, true])
    expect(await sweepLeftoverBuilds(cacheDir, { dryRun: true })).toEqual([])
  })
})
