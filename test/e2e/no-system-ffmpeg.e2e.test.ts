/**
 * End to end (a `sebs bench` child process, local provider): on a machine
 * without a system ffmpeg, 210.thumbnailer and 220.video-processing still run.
 * PATH holds only node, npm, python3, bash and tar, so inputs are rendered
 * with the npm package's static ffmpeg and 220's package carries its own
 * (function/ffmpeg/ffmpeg, put there by its init.sh).
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, it, beforeAll } from 'vitest'
import { ensureFreshDist } from '../support/fresh-dist.ts'
import type { InvocationRecord } from '../../core/types.ts'

// These tests spawn the built bin (bin/sebs.mjs runs dist/): build what changed first.
beforeAll(ensureFreshDist, 300_000)

const ROOT = resolve(import.meta.dirname, '..', '..')
const BIN = join(ROOT, 'bin', 'sebs.mjs')
// Shared with the other end-to-end tests so dependency installs are cached between runs.
const CACHE = join(ROOT, '.sebs-cache', 'test-e2e')
const work = mkdtempSync(join(tmpdir(), 'sebs-e2e-noffmpeg-'))

afterAll(() => rmSync(work, { recursive: true, force: true }))

/** A bin folder with the tools a user without ffmpeg has; the real python3 behind a pyenv shim. */
function toolsOnlyPath(): string {
  const bin = join(work, 'bin')
  mkdirSync(bin, { recursive: true })
  const which = (tool: string) => spawnSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim()
  const python = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).stdout.trim()
  const tools: Record<string, string> = { node: process.execPath, python3: python, npm: which('npm'), bash: which('bash'), sh: which('sh'), env: which('env'), tar: which('tar') }
  for (const [name, target] of Object.entries(tools)) if (target) symlinkSync(target, join(bin, name))
  return bin
}

describe('sebs bench without a system ffmpeg', () => {
  it('runs 210 and 220 with the npm static ffmpeg, and 220 packages carry it', () => {
    const bin = toolsOnlyPath()
    expect(spawnSync('bash', ['-c', 'command -v ffmpeg'], { env: { PATH: bin } }).status).not.toBe(0)
    const results = join(work, 'results')
    const res = spawnSync(
      process.execPath,
      [BIN, 'bench', '-t', 'thumbnailer|video-processing', '--language', 'nodejs', '--size', 'test', '--repetitions', '1', '--results-dir', results, '--cache-dir', CACHE, '--data-dir', join(work, 'data')],
      {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, PATH: bin, SEBS_FFMPEG: '', SEBS_CLI_OVERRIDES: '', SEBS_RUN_ID: '', FORCE_COLOR: '0', NO_COLOR: '1' },
        timeout: 600_000,
      },
    )
    const all = res.stdout + res.stderr
    expect(res.status, all).toBe(0)
    const [runDir] = readdirSync(results, { withFileTypes: true }).filter((d) => d.isDirectory())
    const recs = readFileSync(join(results, runDir!.name, 'invocations.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as InvocationRecord)
    for (const benchmark of ['210.thumbnailer', '220.video-processing']) {
      const mine = recs.filter((r) => r.benchmark === benchmark)
      expect(mine.map((r) => r.phase), all).toEqual(['cold', 'warm'])
      expect(mine.every((r) => r.state === 'ok' && r.outputValid), JSON.stringify(mine)).toBe(true)
    }
    const pkgRoot = join(CACHE, 'packages', 'local', '220.video-processing', `nodejs-${process.arch}`)
    const hashes = readdirSync(pkgRoot).filter((d) => !d.includes('.'))
    expect(hashes.some((h) => existsSync(join(pkgRoot, h, 'function', 'ffmpeg', 'ffmpeg')))).toBe(true)
  }, 600_000)
})
