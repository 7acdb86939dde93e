import { chmod, cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SebsError } from '../../core/errors.ts'
import type { BenchmarkDefinition } from '../../core/types.ts'
import { formatBytes } from '../../core/format.ts'
import { computePackageHash, functionSourceFiles, type AssembleOptions } from './package-builder.ts'
import { formatCommand, requireTool } from './run-command.ts'
import { directorySize } from './sizes.ts'

const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), '__fixtures__', '900.fixtures', '901.shared-build')

let work: string
let benchA: string
let benchB: string
let wrapper: string

function def(dir: string, id: string): BenchmarkDefinition {
  return {
    id,
    group: '900.fixtures',
    dir,
    config: { timeout: 10, memory: 128, languages: ['python', 'nodejs'], variants: {}, modules: [] },
    input: { kind: 'ts', path: join(dir, 'input.ts') },
    source: dirname(dir),
  }
}

function opts(dir = benchA, extra: Partial<AssembleOptions> = {}): AssembleOptions {
  return {
    benchmark: def(dir, dir === benchA ? '901.a' : '902.b'),
    language: 'python',
    provider: 'local',
    arch: 'x64',
    wrapperFiles: [wrapper],
    runtimeVersion: 'python3.11.7',
    ...extra,
  }
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'sebs-hash-'))
  benchA = join(work, 'a', '901.a')
  benchB = join(work, 'b', '902.b')
  await cp(FIXTURE, benchA, { recursive: true })
  await cp(FIXTURE, benchB, { recursive: true })
  wrapper = join(work, 'w1', 'handler.py')
  await mkdir(dirname(wrapper), { recursive: true })
  await writeFile(wrapper, 'print("wrapper")\n')
})

afterAll(async () => {
  await rm(work, { recursive: true, force: true })
})

describe('computePackageHash', () => {
  it('is stable, 16 hex chars', () => {
    expect(computePackageHash(opts())).toMatch(/^[0-9a-f]{16}$/)
    expect(computePackageHash(opts())).toBe(computePackageHash(opts()))
  })

  it('changes with every build input', () => {
    const base = computePackageHash(opts())
    const variants: Partial<AssembleOptions>[] = [
      { runtimeVersion: 'python3.12.1' },
      { arch: 'arm64' },
      { provider: 'aws' },
      { pythonTarget: '.' },
      { pipExtraArgs: ['--only-binary=:all:'] },
      { npmExtraArgs: ['--cpu=arm64'] },
      { extraDependencies: { python: ['boto3'] } },
      { extraDependencies: { nodejs: { minio: '8.0.7' } } },
      { functionModules: [fileURLToPath(new URL('../storage/wrappers/s3/python/storage.py', import.meta.url))] },
    ]
    const hashes = variants.map((v) => computePackageHash(opts(benchA, v)))
    for (const h of hashes) expect(h).not.toBe(base)
    expect(new Set(hashes).size).toBe(hashes.length)
  })

  it('ignores where the wrapper lives, not what it holds', async () => {
    const base = computePackageHash(opts())
    const moved = join(work, 'w2', 'handler.py')
    await mkdir(dirname(moved), { recursive: true })
    await writeFile(moved, 'print("wrapper")\n')
    expect(computePackageHash(opts(benchA, { wrapperFiles: [moved] }))).toBe(base)
    await writeFile(moved, 'print("changed")\n')
    expect(computePackageHash(opts(benchA, { wrapperFiles: [moved] }))).not.toBe(base)
  })

  it('ignores node_modules, __pycache__ and .pyc in the sources', async () => {
    const base = computePackageHash(opts())
    await mkdir(join(benchA, 'python', '__pycache__'), { recursive: true })
    await writeFile(join(benchA, 'python', '__pycache__', 'function.cpython-311.pyc'), 'x')
    await writeFile(join(benchA, 'python', 'stray.pyc'), 'x')
    await mkdir(join(benchA, 'python', 'node_modules', 'x'), { recursive: true })
    await writeFile(join(benchA, 'python', 'node_modules', 'x', 'index.js'), 'x')
    expect(computePackageHash(opts())).toBe(base)
  })

  it('changes only the edited benchmark, and only its edited language', async () => {
    const a = computePackageHash(opts())
    const aNode = computePackageHash(opts(benchA, { language: 'nodejs' }))
    const b = computePackageHash(opts(benchB))
    await writeFile(join(benchA, 'python', 'helper.py'), 'X = 1\n')
    expect(computePackageHash(opts())).not.toBe(a)
    expect(computePackageHash(opts(benchA, { language: 'nodejs' }))).toBe(aNode)
    expect(computePackageHash(opts(benchB))).toBe(b)
  })

  it('covers config.json, the benchmark-level init.sh and the executable bit', async () => {
    let h = computePackageHash(opts(benchB))
    await writeFile(join(benchB, 'config.json'), '{"timeout":11,"memory":128,"languages":["python"]}')
    expect(computePackageHash(opts(benchB))).not.toBe(h)
    h = computePackageHash(opts(benchB))
    await writeFile(join(benchB, 'init.sh'), '#!/bin/bash\ntrue\n')
    expect(computePackageHash(opts(benchB))).not.toBe(h)
    h = computePackageHash(opts(benchB))
    await chmod(join(benchB, 'python', 'function.py'), 0o755)
    expect(computePackageHash(opts(benchB))).not.toBe(h)
  })

  it('refuses a missing language directory and a pythonTarget outside the package', async () => {
    const noNode = join(work, 'c', '903.c')
    await mkdir(join(noNode, 'python'), { recursive: true })
    expect(() => computePackageHash(opts(noNode, { language: 'nodejs' }))).toThrow(/no nodejs\/ directory/)
    try {
      computePackageHash(opts(noNode, { language: 'nodejs' }))
    } catch (err) {
      expect((err as SebsError).code).toBe('BENCHMARK_LAYOUT_INVALID')
    }
    expect(() => computePackageHash(opts(benchA, { pythonTarget: '../outside' }))).toThrow(/inside the package/)
    expect(() => computePackageHash(opts(benchA, { wrapperFiles: [join(work, 'missing.py')] }))).toThrow(/Cannot read wrapper file/)
  })
})

describe('shared folders (config.shared)', () => {
  let root: string
  /** Two benchmarks on one shared python folder, a third without it. */
  let users: BenchmarkDefinition[]
  let other: BenchmarkDefinition
  let common: string

  const withShared = (dir: string, id: string, shared: string[]): BenchmarkDefinition => {
    const d = def(dir, id)
    return { ...d, config: { ...d.config, shared: { python: shared } } }
  }
  const hashOf = (benchmark: BenchmarkDefinition, extra: Partial<AssembleOptions> = {}) => computePackageHash({ ...opts(), benchmark, ...extra })

  beforeAll(async () => {
    root = join(work, 'shared-root')
    common = join(root, '900.fixtures', '_common', 'python')
    await mkdir(join(common, 'lib'), { recursive: true })
    await writeFile(join(common, 'helper.py'), 'X = 1\n')
    await writeFile(join(common, 'lib', 'util.py'), 'Y = 2\n')
    const ids = ['911.one', '912.two', '913.other']
    for (const id of ids) await cp(FIXTURE, join(root, '900.fixtures', id), { recursive: true })
    users = ids.slice(0, 2).map((id) => withShared(join(root, '900.fixtures', id), id, [common]))
    other = def(join(root, '900.fixtures', ids[2]!), ids[2]!)
  })

  it("lists the shared files at the root of function/, next to the benchmark's own", () => {
    const files = functionSourceFiles(users[0]!, 'python')
    expect(files.map((f) => f.rel)).toEqual(['function.py', 'helper.py', 'init.sh', 'lib/util.py', 'requirements.txt'])
    expect(files.find((f) => f.rel === 'lib/util.py')).toEqual({ rel: 'lib/util.py', abs: join(common, 'lib', 'util.py'), folder: common })
    // Shared for python only: the nodejs package has its own files alone.
    expect(functionSourceFiles(users[0]!, 'nodejs').every((f) => f.folder === join(users[0]!.dir, 'nodejs'))).toBe(true)
  })

  it('an edit of a shared file changes the hashes of the packages that use it, and no other', async () => {
    const before = [...users.map((u) => hashOf(u)), hashOf(other), hashOf(users[0]!, { language: 'nodejs' })]
    await writeFile(join(common, 'lib', 'util.py'), 'Y = 3\n')
    const after = [...users.map((u) => hashOf(u)), hashOf(other), hashOf(users[0]!, { language: 'nodejs' })]
    expect(after.map((h, i) => h !== before[i])).toEqual([true, true, false, false])
    // A new file, a removed one and the executable bit count too.
    let h = hashOf(users[0]!)
    await writeFile(join(common, 'new.py'), '')
    expect(hashOf(users[0]!)).not.toBe(h)
    h = hashOf(users[0]!)
    await rm(join(common, 'new.py'))
    expect(hashOf(users[0]!)).not.toBe(h)
    h = hashOf(users[0]!)
    await chmod(join(common, 'helper.py'), 0o755)
    expect(hashOf(users[0]!)).not.toBe(h)
    await chmod(join(common, 'helper.py'), 0o644)
    // Without the shared folder the same benchmark is another package.
    expect(hashOf(def(users[0]!.dir, users[0]!.id))).not.toBe(hashOf(users[0]!))
  })

  it('a file that a shared folder and the benchmark both provide is an error naming both', async () => {
    const clash = join(root, '900.fixtures', '_clash')
    await mkdir(clash, { recursive: true })
    await writeFile(join(clash, 'function.py'), '')
    const b = withShared(users[0]!.dir, users[0]!.id, [clash])
    const err = (() => {
      try {
        hashOf(b)
      } catch (e) {
        return e as SebsError
      }
    })()
    expect(err?.code).toBe('BENCHMARK_LAYOUT_INVALID')
    expect(err?.message).toContain(`${join(b.dir, 'config.json')}: field 'shared.python': ${join(b.dir, 'python', 'function.py')} and ${join(clash, 'function.py')} both need function/function.py`)
    expect(err?.message).toContain('rename or remove one of them')
  })

  it('two shared folders that provide the same path, or a file where the other has a directory, clash', async () => {
    const a = join(root, '900.fixtures', '_a')
    const bDir = join(root, '900.fixtures', '_b')
    await mkdir(a, { recursive: true })
    await mkdir(bDir, { recursive: true })
    await writeFile(join(a, 'helper.py'), '')
    expect(() => functionSourceFiles(withShared(users[0]!.dir, users[0]!.id, [common, a]), 'python')).toThrow(
      `${join(common, 'helper.py')} and ${join(a, 'helper.py')} both need function/helper.py`,
    )
    await writeFile(join(bDir, 'lib'), '')
    expect(() => functionSourceFiles(withShared(users[0]!.dir, users[0]!.id, [bDir, common]), 'python')).toThrow(
      `${join(bDir, 'lib')} and ${join(common, 'lib', 'util.py')} both need function/lib`,
    )
  })

  it("a shared file with a function module's name, or a shared folder that is gone, is an error", async () => {
    const named = join(root, '900.fixtures', '_named')
    await mkdir(named, { recursive: true })
    await writeFile(join(named, 'storage.py'), '')
    const storage = fileURLToPath(new URL('../storage/wrappers/s3/python/storage.py', import.meta.url))
    const b = withShared(users[0]!.dir, users[0]!.id, [named])
    expect(() => hashOf(b, { functionModules: [storage] })).toThrow(/_named\/storage\.py has the name of the function module .*storage\.py.*rename the shared file/)
    // The benchmark's own storage.py may be replaced by the module, as in SeBS.
    expect(() => hashOf(b)).not.toThrow()
    const gone = withShared(users[0]!.dir, users[0]!.id, [join(root, 'nowhere')])
    expect(() => hashOf(gone)).toThrow(/field 'shared\.python' names .*nowhere, which is not a directory/)
  })
})

describe('requireTool', () => {
  it('accepts a command on PATH or an executable path', async () => {
    await expect(requireTool('sh', 'unused')).resolves.toBeUndefined()
    await expect(requireTool(process.execPath, 'unused')).resolves.toBeUndefined()
  })

  it('throws TOOL_MISSING with the hint', async () => {
    const err = await requireTool('sebs-no-such-tool', 'Install it with apt-get install sebs-tool.').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(SebsError)
    expect((err as SebsError).code).toBe('TOOL_MISSING')
    expect((err as Error).message).toBe("'sebs-no-such-tool' was not found on PATH. Install it with apt-get install sebs-tool.")
    const err2 = await requireTool(join(work, 'nope', 'python3'), 'Hint.').catch((e: unknown) => e)
    expect((err2 as Error).message).toContain('is not an executable file')
  })
})

describe('helpers', () => {
  it('directorySize sums regular files', async () => {
    const d = join(work, 'size')
    await mkdir(join(d, 'x'), { recursive: true })
    await writeFile(join(d, 'a'), Buffer.alloc(1000))
    await writeFile(join(d, 'x', 'b'), Buffer.alloc(24))
    expect(await directorySize(d)).toBe(1024)
  })

  it('formats sizes and commands for messages', () => {
    expect(formatBytes(512)).toBe('512 B')
    expect(formatBytes(1536)).toBe('1.5 KB')
    expect(formatBytes(1.3 * 1024 * 1024)).toBe('1.3 MB')
    expect(formatCommand('pip', ['install', '-r', '/tmp/a b.txt'])).toBe("pip install -r '/tmp/a b.txt'")
  })
})
