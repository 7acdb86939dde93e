/**
 * Builds a fixture benchmark for real: pip from the local index, npm from the
 * registry, init.sh through bash, into a temporary cache directory.
 */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { appendFile, chmod, cp, mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import yauzl from 'yauzl'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SebsError } from '../../core/errors.ts'
import { createLogger } from '../../core/logger.ts'
import type { BenchmarkDefinition, Language } from '../../core/types.ts'
import type { BuildContext } from '../types.ts'
import {
  PACKAGE_METADATA_FILE,
  buildPackage,
  computePackageHash,
  type AssembleOptions,
} from './package-builder.ts'
import { runCommand } from './run-command.ts'
import { zipDirectory } from './zip.ts'
import { S3_FUNCTION_STORAGE } from '../storage/wrappers/s3/index.ts'

const run = promisify(execFile)
const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), '__fixtures__', '900.fixtures', '901.shared-build')

let work: string
let benchDir: string
let cacheDir: string
let wrappers: { python: string; nodejs: string }
const logLines: string[] = []

function ctx(overrides: Partial<BuildContext> = {}): BuildContext {
  return {
    cacheDir,
    logger: createLogger('sebs:test', { write: (line) => logLines.push(line) }),
    runtimes: { python: 'python3', node: process.execPath },
    ...overrides,
  }
}

function benchmark(dir = benchDir): BenchmarkDefinition {
  return {
    id: '901.shared-build',
    group: '900.fixtures',
    dir,
    config: { timeout: 10, memory: 128, languages: ['python', 'nodejs'], variants: {}, modules: [] },
    input: { kind: 'ts', path: join(dir, 'input.ts') },
    source: dirname(dir),
  }
}

function options(language: Language, extra: Partial<AssembleOptions> = {}): AssembleOptions {
  return {
    benchmark: benchmark(),
    language,
    provider: 'local',
    arch: 'x64',
    wrapperFiles: [wrappers[language]],
    functionModules: [language === 'python' ? S3_FUNCTION_STORAGE.python.file : S3_FUNCTION_STORAGE.nodejs.file],
    runtimeVersion: language === 'python' ? 'python3.11.7' : `node${process.versions.node}`,
    ...extra,
  }
}

async function lines(file: string): Promise<string[]> {
  return (await readFile(file, 'utf8')).trimEnd().split('\n')
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'sebs-pkg-'))
  benchDir = join(work, 'benchmarks', '900.fixtures', '901.shared-build')
  await cp(FIXTURE, benchDir, { recursive: true })
  cacheDir = join(work, 'cache')
  wrappers = { python: join(work, 'wrap', 'handler.py'), nodejs: join(work, 'wrap', 'handler.js') }
  await mkdir(join(work, 'wrap'), { recursive: true })
  await writeFile(wrappers.python, 'from function import function\n')
  await writeFile(wrappers.nodejs, "module.exports = require('./function/function')\n")
})

afterAll(async () => {
  await rm(work, { recursive: true, force: true })
})

describe('buildPackage: python', () => {
  let first: Awaited<ReturnType<typeof buildPackage>>

  it('assembles the layout, runs init.sh and installs requirements with pip', async () => {
    logLines.length = 0
    first = await buildPackage(options('python'), ctx())
    const pkg = first.dir
    expect(first.cached).toBe(false)
    expect(pkg).toBe(join(cacheDir, 'packages', 'local', '901.shared-build', 'python-x64', first.hash))
    expect(first.hash).toMatch(/^[0-9a-f]{16}$/)

    expect(existsSync(join(pkg, 'handler.py'))).toBe(true)
    expect(existsSync(join(pkg, 'function', 'function.py'))).toBe(true)
    expect(existsSync(join(pkg, 'function', 'requirements.txt'))).toBe(true)
    expect(existsSync(join(pkg, 'function', 'storage.py'))).toBe(true)
    expect(await readFile(join(pkg, 'function', '__init__.py'), 'utf8')).toBe('')
    expect(existsSync(join(pkg, 'python_packages', 'six.py'))).toBe(true)

    // Both init.sh ran (benchmark-level first; python/init.sh checks that), each
    // with the function directory, 'false' and the architecture, in its own folder.
    const root = await lines(join(pkg, 'function', 'init-root.txt'))
    const py = await lines(join(pkg, 'function', 'init-python.txt'))
    for (const [args, cwd] of [
      [root, benchDir],
      [py, join(benchDir, 'python')],
    ] as const) {
      expect(args).toHaveLength(4)
      // Built in a temporary sibling, then renamed: $1 is that directory's function/.
      expect(args[0]).toMatch(new RegExp(`/python-x64/${first.hash}\\.tmp-\\d+-[0-9a-f]+/function$`))
      expect(args.slice(1, 3)).toEqual(['false', 'x64'])
      expect(args[3]).toBe(cwd)
    }

    // The dependency is importable the way a wrapper would import the function.
    const { stdout } = await run('python3', [
      '-c',
      `import sys, json; sys.path[:0] = [${JSON.stringify(pkg)}, ${JSON.stringify(join(pkg, 'python_packages'))}]
from function import function
print(json.dumps(function.handler({'name': 'sebs'})))`,
    ])
    expect(JSON.parse(stdout)).toEqual({ result: 'sebs' })

    const meta = JSON.parse(await readFile(join(pkg, PACKAGE_METADATA_FILE), 'utf8'))
    expect(meta).toMatchObject({ hash: first.hash, benchmark: '901.shared-build', language: 'python', sizeBytes: first.sizeBytes })
    expect(first.sizeBytes).toBeGreaterThan(10_000)
    expect(logLines[0]).toBe('[sebs] building 901.shared-build (python, local)…')
    expect(logLines.at(-1)).toMatch(/^\[sebs\] built 901\.shared-build \(python, local\) in [\d.]+ m?s, [\d.]+ (KB|MB) \(dependency install [\d.]+ m?s\)$/)
  }, 180_000)

  it('reuses the cached package on the second build', async () => {
    logLines.length = 0
    const t0 = performance.now()
    const again = await buildPackage(options('python'), ctx())
    const elapsed = performance.now() - t0
    expect(again).toEqual({ dir: first.dir, hash: first.hash, cached: true, sizeBytes: first.sizeBytes })
    expect(logLines).toEqual(['[sebs] 901.shared-build (python, local): package cached'])
    // The build took seconds (pip); a cache hit only hashes a few files.
    expect(elapsed).toBeLessThan(2000)
  })

  it('rebuilds under a new hash when a source file changes, and drops the old package', async () => {
    const nodeHashBefore = computePackageHash(options('nodejs'))
    await appendFile(join(benchDir, 'python', 'function.py'), '\n# changed\n')
    // Derived artifacts (AWS zips its package to <hash>.zip) follow their package.
    const newHash = computePackageHash(options('python'))
    await writeFile(`${first.dir}.zip`, 'old zip')
    await writeFile(join(dirname(first.dir), `${newHash}.zip`), 'zip of the new hash')
    const changed = await buildPackage(options('python'), ctx())
    expect(changed.hash).toBe(newHash)
    expect(changed.cached).toBe(false)
    expect(changed.hash).not.toBe(first.hash)
    expect(await readFile(join(changed.dir, 'function', 'function.py'), 'utf8')).toContain('# changed')
    expect(existsSync(first.dir)).toBe(false)
    // Only this language's package is affected.
    expect(computePackageHash(options('nodejs'))).toBe(nodeHashBefore)
    const siblings = await readdir(dirname(changed.dir))
    expect(siblings.sort()).toEqual([changed.hash, `${changed.hash}.zip`])
  }, 180_000)

  it('fails with BUILD_FAILED naming pip and the benchmark, leaving nothing behind', async () => {
    const broken = join(work, 'broken-py')
    await cp(benchDir, broken, { recursive: true })
    await writeFile(join(broken, 'python', 'requirements.txt'), 'sebs-no-such-package-4711==1.0\n')
    const opts = { ...options('python'), benchmark: { ...benchmark(broken), id: '902.broken-build' } }
    const err = await buildPackage(opts, ctx()).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(SebsError)
    expect((err as SebsError).code).toBe('BUILD_FAILED')
    const msg = (err as Error).message
    expect(msg).toContain('902.broken-build (python, local)')
    expect(msg).toMatch(/-m pip install .*--target .*-r /)
    expect(msg).toContain('sebs-no-such-package-4711')
    // pip's own error lines, not its whole output.
    expect(msg).toMatch(/ERROR: .*sebs-no-such-package-4711/)
    expect(msg.split('\n').length).toBeLessThan(10)
    const parent = join(cacheDir, 'packages', 'local', '902.broken-build', 'python-x64')
    expect(existsSync(parent) ? await readdir(parent) : []).toEqual([])
  }, 180_000)

  it('fails with TOOL_MISSING when the python interpreter does not exist', async () => {
    const err = await buildPackage(options('python', { runtimeVersion: 'python3.99' }), ctx({ runtimes: { python: '/nonexistent/python3', node: process.execPath } })).catch(
      (e: unknown) => e,
    )
    expect((err as SebsError).code).toBe('TOOL_MISSING')
    expect((err as Error).message).toContain('/nonexistent/python3')
    expect((err as Error).message).toMatch(/Install Python/)
  })
})

describe('buildPackage: nodejs', () => {
  let built: Awaited<ReturnType<typeof buildPackage>>

  it('installs package.json dependencies merged with the extra ones, without devDependencies', async () => {
    built = await buildPackage(options('nodejs', { extraDependencies: { nodejs: { 'is-odd': '3.0.1' } } }), ctx())
    const pkg = built.dir
    expect(built.cached).toBe(false)
    expect(existsSync(join(pkg, 'handler.js'))).toBe(true)
    expect(existsSync(join(pkg, 'function', 'storage.js'))).toBe(true)
    expect(existsSync(join(pkg, 'function', '__init__.py'))).toBe(false)
    const pj = JSON.parse(await readFile(join(pkg, 'function', 'package.json'), 'utf8'))
    expect(pj.dependencies).toEqual({ 'is-number': '7.0.0', 'is-odd': '3.0.1' })
    expect(existsSync(join(pkg, 'function', 'node_modules', 'left-pad'))).toBe(false)
    expect(existsSync(join(pkg, 'function', 'package-lock.json'))).toBe(false)

    await run(process.execPath, ['-e', `require(${JSON.stringify(join(pkg, 'function', 'node_modules', 'is-number'))})`])
    const { stdout } = await run(process.execPath, [
      '-e',
      `require(${JSON.stringify(join(pkg, 'handler.js'))}).handler({ value: '42' }).then((r) => console.log(JSON.stringify(r)))`,
    ])
    expect(JSON.parse(stdout)).toEqual({ result: true })
    await run(process.execPath, ['-e', `require(${JSON.stringify(join(pkg, 'function', 'node_modules', 'is-odd'))})`])

    // Only the benchmark-level init.sh applies to nodejs.
    const args = await lines(join(pkg, 'function', 'init-root.txt'))
    expect(args.slice(1)).toEqual(['false', 'x64', benchDir])
    expect(existsSync(join(pkg, 'function', 'init-python.txt'))).toBe(false)
  }, 180_000)

  it('rebuilds when forced, and the hash depends on the extra dependencies and the arch', async () => {
    const opts = options('nodejs', { extraDependencies: { nodejs: { 'is-odd': '3.0.1' } } })
    const forced = await buildPackage(opts, ctx({ force: true }))
    expect(forced.cached).toBe(false)
    expect(forced.hash).toBe(built.hash)
    expect(existsSync(join(forced.dir, PACKAGE_METADATA_FILE))).toBe(true)
    expect(computePackageHash(options('nodejs'))).not.toBe(built.hash)
    expect(computePackageHash({ ...opts, arch: 'arm64' })).not.toBe(built.hash)
  }, 180_000)

  it('fails with BUILD_FAILED naming npm when a dependency does not exist', async () => {
    const opts = options('nodejs', { extraDependencies: { nodejs: { 'sebs-no-such-package-4711': '1.0.0' } } })
    const err = await buildPackage(opts, ctx()).catch((e: unknown) => e)
    expect((err as SebsError).code).toBe('BUILD_FAILED')
    const msg = (err as Error).message
    expect(msg).toContain('901.shared-build (nodejs, local)')
    expect(msg).toMatch(/npm install --omit=dev --no-audit --no-fund --no-package-lock/)
    expect(msg).toMatch(/E404|404|sebs-no-such-package-4711/)
    // The good package of the same benchmark is still there.
    expect(existsSync(join(built.dir, PACKAGE_METADATA_FILE))).toBe(true)
  }, 180_000)
})

describe('zipDirectory', () => {
  async function entries(zipPath: string): Promise<Map<string, number>> {
    const zip = await yauzl.openPromise(zipPath, { lazyEntries: true })
    const out = new Map<string, number>()
    for await (const entry of zip.eachEntry()) out.set(entry.fileName, (entry.externalFileAttributes >>> 16) & 0xffff)
    zip.close()
    return out
  }

  it('is deterministic, keeps the executable bit and leaves the cache metadata out', async () => {
    const dir = join(work, 'zipme')
    await mkdir(join(dir, 'b', 'c'), { recursive: true })
    await writeFile(join(dir, 'b', 'c', 'data.txt'), 'data'.repeat(1000))
    await writeFile(join(dir, 'a.sh'), '#!/bin/sh\necho hi\n')
    await chmod(join(dir, 'a.sh'), 0o755)
    await writeFile(join(dir, PACKAGE_METADATA_FILE), '{"builtAt":"now"}')

    const z1 = join(work, 'zips', 'one.zip')
    const z2 = join(work, 'zips', 'two.zip')
    const r1 = await zipDirectory(dir, z1)
    // Different mtimes must not change the archive.
    await utimes(join(dir, 'b', 'c', 'data.txt'), new Date(2001, 1, 1), new Date(2001, 1, 1))
    const r2 = await zipDirectory(dir, z2)
    expect((await readFile(z1)).equals(await readFile(z2))).toBe(true)
    expect(r1.sizeBytes).toBe((await stat(z1)).size)
    expect(r2.sizeBytes).toBe(r1.sizeBytes)

    const modes = await entries(z1)
    expect([...modes.keys()]).toEqual(['a.sh', 'b/', 'b/c/', 'b/c/data.txt'])
    expect(modes.get('a.sh')! & 0o777).toBe(0o755)
    expect(modes.get('b/c/data.txt')! & 0o777).toBe(0o644)
  })

  it('zips a built package byte-identically twice', async () => {
    const built = await buildPackage(options('nodejs', { extraDependencies: { nodejs: { 'is-odd': '3.0.1' } } }), ctx())
    expect(built.cached).toBe(true)
    const a = join(work, 'zips', 'pkg-a.zip')
    const b = join(work, 'zips', 'pkg-b.zip')
    await zipDirectory(built.dir, a)
    await zipDirectory(built.dir, b)
    expect((await readFile(a)).equals(await readFile(b))).toBe(true)
    const names = [...(await entries(a)).keys()]
    expect(names).toContain('handler.js')
    expect(names).toContain('function/node_modules/is-number/index.js')
    expect(names).not.toContain(PACKAGE_METADATA_FILE)
  }, 180_000)
})

describe('runCommand', () => {
  it('kills a command at its timeout and reports BUILD_FAILED', async () => {
    const t0 = performance.now()
    const err = await runCommand('sleep', ['30'], { cwd: work, timeoutMs: 300 }).catch((e: unknown) => e)
    expect(performance.now() - t0).toBeLessThan(10_000)
    expect((err as SebsError).code).toBe('BUILD_FAILED')
    expect((err as Error).message).toMatch(/timed out after .* and was killed: sleep 30/)
  })

  it('does not hang on a grandchild that keeps the output pipe open', async () => {
    const t0 = performance.now()
    // Short sleeps: the orphaned grandchildren end by themselves soon after.
    const err = await runCommand('bash', ['-c', 'sleep 9 & sleep 9'], { cwd: work, timeoutMs: 200 }).catch((e: unknown) => e)
    // SIGTERM, 5 s to SIGKILL, 2 s for the pipes.
    expect(performance.now() - t0).toBeLessThan(20_000)
    expect((err as Error).message).toMatch(/timed out/)
  }, 30_000)

  it('reports the exit code and the output tail', async () => {
    const script = 'for i in $(seq 1 100); do echo line$i; done; echo oops >&2; exit 3'
    const err = await runCommand('bash', ['-c', script], { cwd: work, timeoutMs: 10_000 }).catch((e: unknown) => e)
    const msg = (err as Error).message
    expect(msg).toContain('exited with code 3')
    expect(msg).toContain('oops')
    expect(msg).toContain('line100')
    expect(msg).not.toMatch(/\bline50\b/)
  })

  it('resolves with stdout and stderr', async () => {
    const out = await runCommand('bash', ['-c', 'echo out; echo err >&2'], { cwd: work, timeoutMs: 10_000 })
    expect(out).toEqual({ stdout: 'out\n', stderr: 'err\n' })
  })
})
