/**
 * Shared Python dependency installs with the real pip (from this machine's
 * configured index/find-links, as the package builder's own tests): one pip
 * run per distinct requirement set, linked into every package that needs it;
 * an unreachable index is said once and not retried.
 */
import { mkdtempSync, rmSync, statSync, existsSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createServer } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLogger } from '../../core/logger.ts'
import { runCommand } from './run-command.ts'
import { PIP_SET_COMPLETE, indexFromConfig, installShared, linkTree, probeIndex, type SharedPipInstall } from './pip-cache.ts'

const work = mkdtempSync(join(tmpdir(), 'sebs-pip-cache-'))
afterAll(() => rmSync(work, { recursive: true, force: true }))

/** An index URL on a loopback port nothing listens on (taken, then released): refused at once. */
let refused = ''
beforeAll(async () => {
  const server = createServer()
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok))
  const { port } = server.address() as { port: number }
  await new Promise((ok) => server.close(ok))
  refused = `http://127.0.0.1:${port}/simple`
})

function request(over: Partial<SharedPipInstall> & { target: string }, log: string[], pipRuns: string[][]): SharedPipInstall {
  return {
    python: 'python3',
    requirements: ['six'],
    extraArgs: [],
    cacheDir: join(work, 'cache'),
    logger: createLogger('sebs:test', { write: (line) => log.push(line) }),
    run: async (args, env) => {
      pipRuns.push(args)
      return runCommand('python3', args, { cwd: work, env: { ...env, PIP_RETRIES: '0' }, timeoutMs: 300_000 })
    },
    ...over,
  }
}

describe('shared pip installs', () => {
  it('installs a requirement set once and links it into every package that needs it', async () => {
    const log: string[] = []
    const runs: string[][] = []
    const a = await installShared(request({ target: join(work, 'pkg-a', 'python_packages') }, log, runs))
    // The same set in another order, as a second benchmark would list it.
    const b = await installShared(request({ target: join(work, 'pkg-b', 'python_packages'), requirements: ['  six', ''] }, log, runs))
    expect(runs).toHaveLength(1)
    expect(a.installed).toBe(true)
    expect(b).toMatchObject({ installed: false, key: a.key })
    for (const pkg of ['pkg-a', 'pkg-b']) expect(existsSync(join(work, pkg, 'python_packages', 'six.py'))).toBe(true)
    // Hard links: one copy on disk; the completion marker stays in the cache.
    expect(statSync(join(work, 'pkg-b', 'python_packages', 'six.py')).ino).toBe(statSync(join(a.dir, 'six.py')).ino)
    expect(existsSync(join(work, 'pkg-a', 'python_packages', PIP_SET_COMPLETE))).toBe(false)
    // The installed module imports from the package.
    const { stdout } = await runCommand('python3', ['-c', 'import six; print(six.__file__)'], { cwd: join(work, 'pkg-b', 'python_packages'), timeoutMs: 30_000 })
    expect(stdout.trim()).toBe(join(work, 'pkg-b', 'python_packages', 'six.py'))

    // A different set is a different install.
    const c = await installShared(request({ target: join(work, 'pkg-c', 'python_packages'), requirements: ['six', 'texttable'] }, log, runs))
    expect(runs).toHaveLength(2)
    expect(c.key).not.toBe(a.key)
    expect(readdirSync(join(work, 'cache', 'pip')).sort()).toEqual([a.key, c.key].sort())
  }, 300_000)

  it('says once that the configured index cannot be reached and runs pip without retries', async () => {
    const log: string[] = []
    const runs: string[][] = []
    // Refused at once; the machine's other sources (extra index, find-links) still serve.
    const extraArgs = ['--index-url', refused]
    await installShared(request({ target: join(work, 'pkg-d', 'python_packages'), extraArgs, requirements: ['six==1.17.0'] }, log, runs))
    await installShared(request({ target: join(work, 'pkg-e', 'python_packages'), extraArgs, requirements: ['texttable==1.7.0'] }, log, runs))
    expect(runs).toHaveLength(2)
    for (const args of runs) expect(args.join(' ')).toContain('--retries 0')
    const warnings = log.filter((l) => l.includes('cannot be reached'))
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain(refused)
    expect(warnings[0]).toContain('ECONNREFUSED')
  }, 300_000)
})

describe('pip index settings', () => {
  it("reads the index from `pip config list`, the environment's first", () => {
    expect(indexFromConfig(`global.extra-index-url='file:///opt/pypi/simple'\nglobal.index-url='https://mirror.example/simple'\n`)).toBe('https://mirror.example/simple')
    expect(indexFromConfig(`global.index-url='https://a/simple'\n:env:.index-url='https://b/simple'\n`)).toBe('https://b/simple')
    expect(indexFromConfig(`global.find-links='/opt/wheels'\n`)).toBeUndefined()
  })

  it('probes file indexes on disk and http indexes over the network', async () => {
    expect(await probeIndex(`file://${work}`)).toBeUndefined()
    expect(await probeIndex(`file://${join(work, 'missing')}`)).toBe('no such directory')
    expect(await probeIndex(refused)).toBe('ECONNREFUSED')
  })

  it('links symlinks as links and skips the completion marker', async () => {
    const { symlinkSync, writeFileSync, mkdirSync, readlinkSync } = await import('node:fs')
    const src = join(work, 'tree')
    mkdirSync(join(src, 'd'), { recursive: true })
    writeFileSync(join(src, 'd', 'f.py'), 'x = 1\n')
    writeFileSync(join(src, PIP_SET_COMPLETE), '{}')
    symlinkSync('d/f.py', join(src, 'l.py'))
    await linkTree(src, join(work, 'tree-copy'))
    expect(readdirSync(join(work, 'tree-copy')).sort()).toEqual(['d', 'l.py'])
    expect(readlinkSync(join(work, 'tree-copy', 'l.py'))).toBe('d/f.py')
  })
})
