/**
 * Version-specific dependency files as SeBS chooses them (test process):
 * the choice by runtime version and architecture, the package hash covering
 * the chosen file, and real builds (pip from the local index, npm) that
 * install from the chosen file only.
 */
import { existsSync } from 'node:fs'
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLogger } from '../../core/logger.ts'
import type { BenchmarkDefinition } from '../../core/types.ts'
import { chooseDependencyFile, dependencyFileCandidates, versionTag } from './dependency-files.ts'
import { buildPackage, computePackageHash, type AssembleOptions } from './package-builder.ts'

const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), '__fixtures__', '900.fixtures', '901.shared-build')

describe('chooseDependencyFile', () => {
  const all = ['requirements.txt', 'requirements.txt.3.9', 'requirements.txt.3.11', 'requirements.txt.arm.3.9', 'package.json', 'package.json.16', 'package.json.20']

  it('python: the arm file on arm64, else the version file, else requirements.txt', () => {
    const py = (runtimeVersion: string, arch: 'x64' | 'arm64', names = all) => chooseDependencyFile(names, { language: 'python', runtimeVersion, arch })
    expect(py('3.11', 'x64')).toBe('requirements.txt.3.11')
    expect(py('python3.11', 'x64')).toBe('requirements.txt.3.11')
    expect(py('3.11.7', 'x64')).toBe('requirements.txt.3.11')
    // No .arm.3.11: the version file serves arm64 too (SeBS's installer falls through the same way).
    expect(py('3.11', 'arm64')).toBe('requirements.txt.3.11')
    expect(py('python3.9', 'arm64')).toBe('requirements.txt.arm.3.9')
    expect(py('python3.9', 'x64')).toBe('requirements.txt.3.9')
    expect(py('3.12', 'x64')).toBe('requirements.txt')
    expect(py('3.12', 'arm64')).toBe('requirements.txt')
    // "3.1" must not take "3.11"'s file, nor "3.11" a "3.1" one.
    expect(py('3.1', 'x64', ['requirements.txt', 'requirements.txt.3.11'])).toBe('requirements.txt')
    expect(py('3.11', 'x64', ['requirements.txt', 'requirements.txt.3.1'])).toBe('requirements.txt')
    expect(py('3.11', 'x64', ['requirements.txt.3.11'])).toBe('requirements.txt.3.11')
    expect(py('3.12', 'x64', ['requirements.txt.3.11'])).toBeUndefined()
    expect(py('3.11', 'x64', [])).toBeUndefined()
  })

  it('nodejs: package.json.<major>, else package.json', () => {
    const node = (runtimeVersion: string, arch: 'x64' | 'arm64' = 'x64', names = all) => chooseDependencyFile(names, { language: 'nodejs', runtimeVersion, arch })
    expect(node('20')).toBe('package.json.20')
    expect(node('nodejs20.x')).toBe('package.json.20')
    expect(node('20.11.1', 'arm64')).toBe('package.json.20')
    expect(node('node16.20.2')).toBe('package.json.16')
    expect(node('22.3.0')).toBe('package.json')
    expect(node('2')).toBe('package.json')
    expect(node('20', 'x64', ['function.js'])).toBeUndefined()
  })

  it('lists the candidates most specific first', () => {
    expect(dependencyFileCandidates('python', 'python3.9', 'arm64')).toEqual(['requirements.txt.arm.3.9', 'requirements.txt.3.9', 'requirements.txt'])
    expect(dependencyFileCandidates('python', 'python3.9', 'x64')).toEqual(['requirements.txt.3.9', 'requirements.txt'])
    expect(dependencyFileCandidates('nodejs', 'nodejs18.x', 'arm64')).toEqual(['package.json.18', 'package.json'])
    expect(versionTag('nodejs20.x')).toEqual({ major: '20', majorMinor: undefined })
    expect(versionTag('custom')).toEqual({})
  })
})

let work: string
let benchDir: string
let wrappers: { python: string; nodejs: string }

function benchmark(): BenchmarkDefinition {
  return {
    id: '901.shared-build',
    group: '900.fixtures',
    dir: benchDir,
    config: { timeout: 10, memory: 128, languages: ['python', 'nodejs'], variants: {}, modules: [] },
    input: { kind: 'ts', path: join(benchDir, 'input.ts') },
    source: dirname(benchDir),
  }
}

function opts(extra: Partial<AssembleOptions> = {}): AssembleOptions {
  const language = extra.language ?? 'python'
  return {
    benchmark: benchmark(),
    language,
    provider: 'local',
    arch: 'x64',
    wrapperFiles: [wrappers[language]],
    runtimeVersion: language === 'python' ? 'python3.11.7' : '20.11.1',
    ...extra,
  }
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'sebs-depfiles-'))
  benchDir = join(work, 'benchmarks', '900.fixtures', '901.shared-build')
  await cp(FIXTURE, benchDir, { recursive: true })
  wrappers = { python: join(work, 'wrap', 'handler.py'), nodejs: join(work, 'wrap', 'handler.js') }
  await mkdir(join(work, 'wrap'), { recursive: true })
  await writeFile(wrappers.python, 'from function import function\n')
  await writeFile(wrappers.nodejs, "module.exports = require('./function/function')\n")
})

afterAll(async () => {
  await rm(work, { recursive: true, force: true })
})

describe('the package hash and the chosen dependency file', () => {
  it('covers the chosen versioned file, and only the targets that choose it', async () => {
    const before311 = computePackageHash(opts())
    const before312 = computePackageHash(opts({ runtimeVersion: 'python3.12.1' }))
    await writeFile(join(benchDir, 'python', 'requirements.txt.3.11'), 'six==1.17.0\n')
    const with311 = computePackageHash(opts())
    expect(with311).not.toBe(before311)
    await writeFile(join(benchDir, 'python', 'requirements.txt.3.11'), 'six==1.16.0\n')
    expect(computePackageHash(opts())).not.toBe(with311)
    // An arm file is packaged with the sources (as in SeBS), so both hashes change; arm64's also records the new choice.
    const x64 = computePackageHash(opts())
    const arm = computePackageHash(opts({ arch: 'arm64' }))
    await writeFile(join(benchDir, 'python', 'requirements.txt.arm.3.11'), 'six\n')
    expect(computePackageHash(opts({ arch: 'arm64' }))).not.toBe(arm)
    expect(computePackageHash(opts())).not.toBe(x64)
    await rm(join(benchDir, 'python', 'requirements.txt.arm.3.11'))
    await rm(join(benchDir, 'python', 'requirements.txt.3.11'))
    expect(computePackageHash(opts())).toBe(before311)
    expect(computePackageHash(opts({ runtimeVersion: 'python3.12.1' }))).toBe(before312)
  })
})

describe('buildPackage installs from the chosen file only', () => {
  const logger = createLogger('sebs:test', { write: () => {} })

  it('python: requirements.txt.3.11 replaces requirements.txt (whose package does not exist)', async () => {
    const cacheDir = join(work, 'cache-py')
    await writeFile(join(benchDir, 'python', 'requirements.txt'), 'sebs-no-such-package-4711==1.0\n')
    await writeFile(join(benchDir, 'python', 'requirements.txt.3.11'), 'six\n')
    try {
      const built = await buildPackage(opts({ runtimeVersion: '3.11' }), { cacheDir, logger, runtimes: { python: 'python3', node: process.execPath } })
      expect(existsSync(join(built.dir, 'python_packages', 'six.py'))).toBe(true)
      // Another version falls back to requirements.txt, and its missing package fails the build.
      await expect(
        buildPackage(opts({ runtimeVersion: '3.12' }), { cacheDir, logger, runtimes: { python: 'python3', node: process.execPath } }),
      ).rejects.toThrow(/sebs-no-such-package-4711/)
    } finally {
      await cp(join(FIXTURE, 'python', 'requirements.txt'), join(benchDir, 'python', 'requirements.txt'))
      await rm(join(benchDir, 'python', 'requirements.txt.3.11'))
    }
  }, 180_000)

  it('nodejs: package.json.<major> becomes the package.json', async () => {
    const cacheDir = join(work, 'cache-node')
    const versioned = { name: 'versioned', version: '1.0.0', private: true, dependencies: {} }
    await writeFile(join(benchDir, 'nodejs', 'package.json.20'), JSON.stringify(versioned))
    try {
      const built = await buildPackage(opts({ language: 'nodejs', runtimeVersion: 'nodejs20.x' }), { cacheDir, logger, runtimes: { python: 'python3', node: process.execPath } })
      const pkg = JSON.parse(await readFile(join(built.dir, 'function', 'package.json'), 'utf8')) as { name: string; dependencies: object }
      expect(pkg).toMatchObject({ name: 'versioned', dependencies: {} })
      expect(existsSync(join(built.dir, 'function', 'node_modules', 'is-number'))).toBe(false)
    } finally {
      await rm(join(benchDir, 'nodejs', 'package.json.20'))
    }
  }, 180_000)
})
