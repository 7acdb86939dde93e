/**
 * The perf script's install decisions (test process): when the user's
 * project is reused, when only the tarball is reinstalled, when Vitest too;
 * the state file and node_modules read back from a real folder; and the
 * environment npm gets without `npm run`'s variables.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { hashFile, PACKAGE_NAME, PerfSetupError, planInstall, prepareUserProject, PROJECT_FILES, projectEnv, readInstalled, readInstallState, STATE_FILE, writeProjectFiles } from './perf-project.ts'

const dirs: string[] = []
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'sebs-perf-project-test-'))
  dirs.push(d)
  return d
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

describe('planInstall', () => {
  const wanted = { tarballHash: 'aaa', vitest: '4.1.12' }

  it('reuses the project when the same tarball and Vitest are installed', () => {
    expect(planInstall({ tarballHash: 'aaa', vitest: '4.1.12' }, { packageVersion: '0.1.0', vitest: '4.1.12' }, wanted)).toEqual({ kind: 'reuse' })
  })

  it('reinstalls only the tarball when its hash changed, the package is missing, or no install was recorded', () => {
    expect(planInstall({ tarballHash: 'bbb', vitest: '4.1.12' }, { packageVersion: '0.1.0', vitest: '4.1.12' }, wanted)).toEqual({ kind: 'tarball', reason: 'the tarball changed' })
    expect(planInstall({ tarballHash: 'aaa', vitest: '4.1.12' }, { vitest: '4.1.12' }, wanted).kind).toBe('tarball')
    // An install that was interrupted writes no state: the tarball goes in again.
    expect(planInstall(undefined, { packageVersion: '0.1.0', vitest: '4.1.12' }, wanted)).toEqual({ kind: 'tarball', reason: 'no record of the installed tarball' })
  })

  it('installs Vitest too in a fresh project or when another Vitest is installed', () => {
    expect(planInstall(undefined, {}, wanted)).toEqual({ kind: 'full', reason: 'no vitest installed' })
    expect(planInstall({ tarballHash: 'aaa', vitest: '4.1.11' }, { packageVersion: '0.1.0', vitest: '4.1.11' }, wanted)).toEqual({ kind: 'full', reason: 'vitest 4.1.11 installed, 4.1.12 wanted' })
  })
})

describe('the project on disk', () => {
  it('reads the state file and the installed versions, and nothing from a broken or empty project', () => {
    const project = tempDir()
    expect(readInstallState(project)).toBeUndefined()
    expect(readInstalled(project)).toEqual({})
    writeFileSync(join(project, STATE_FILE), '{ not json')
    expect(readInstallState(project)).toBeUndefined()
    writeFileSync(join(project, STATE_FILE), JSON.stringify({ tarballHash: 'abc', vitest: '4.1.12' }))
    expect(readInstallState(project)).toEqual({ tarballHash: 'abc', vitest: '4.1.12' })
    for (const [name, version] of [[PACKAGE_NAME, '0.1.0'], ['vitest', '4.1.12']] as const) {
      mkdirSync(join(project, 'node_modules', name), { recursive: true })
      writeFileSync(join(project, 'node_modules', name, 'package.json'), JSON.stringify({ name, version }))
    }
    expect(readInstalled(project)).toEqual({ packageVersion: '0.1.0', vitest: '4.1.12' })
  })

  it("writes the README's project files, keeping the package.json npm has filled in", () => {
    const project = join(tempDir(), 'user-project')
    writeProjectFiles(project)
    expect(readFileSync(join(project, 'package.json'), 'utf8')).toBe(PROJECT_FILES['package.json'])
    // Its own config stops Vitest's upward search for one (which would find this repository's).
    expect(readFileSync(join(project, 'vitest.config.ts'), 'utf8')).toMatch(/import \{ sebs \} from 'serverless-benchmarks'/)
    const filled = JSON.stringify({ private: true, type: 'module', dependencies: { vitest: '4.1.12' } })
    writeFileSync(join(project, 'package.json'), filled)
    writeFileSync(join(project, 'vitest.config.ts'), 'edited')
    writeProjectFiles(project)
    expect(readFileSync(join(project, 'package.json'), 'utf8')).toBe(filled)
    expect(readFileSync(join(project, 'vitest.config.ts'), 'utf8')).toBe(PROJECT_FILES['vitest.config.ts'])
  })

  it('hashes a file by its bytes', () => {
    const d = tempDir()
    writeFileSync(join(d, 'a'), 'same')
    writeFileSync(join(d, 'b'), 'same')
    writeFileSync(join(d, 'c'), 'other')
    expect(hashFile(join(d, 'a'))).toBe(hashFile(join(d, 'b')))
    expect(hashFile(join(d, 'a'))).not.toBe(hashFile(join(d, 'c')))
    expect(hashFile(join(d, 'a'))).toMatch(/^[0-9a-f]{64}$/)
  })
})

describe('projectEnv', () => {
  it("drops npm run's variables that would point a nested npm at this repository, and keeps the user's npm settings", () => {
    const saved = { ...process.env }
    try {
      Object.assign(process.env, { npm_config_local_prefix: '/repo', npm_package_name: 'serverless-benchmarks', npm_lifecycle_event: 'perf', INIT_CWD: '/repo', npm_config_registry: 'http://mirror.example/' })
      const env = projectEnv({ NO_COLOR: '1' })
      expect(env.npm_config_local_prefix).toBeUndefined()
      expect(env.npm_package_name).toBeUndefined()
      expect(env.npm_lifecycle_event).toBeUndefined()
      expect(env.INIT_CWD).toBeUndefined()
      expect(env.npm_config_registry).toBe('http://mirror.example/')
      expect(env.NO_COLOR).toBe('1')
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k]
      Object.assign(process.env, saved)
    }
  })
})

describe('prepareUserProject with real npm', () => {
  /** A package folder npm can pack: `prepack` stands in for the build. */
  function fakePackage(prepack: string): string {
    const root = tempDir()
    writeFileSync(join(root, 'package.json'), JSON.stringify({ name: PACKAGE_NAME, version: '0.0.1', scripts: { prepack } }))
    writeFileSync(join(root, 'index.js'), 'export {}\n')
    return root
  }

  /** Runs with npm pointed at a closed port and no retries, as on a machine without the registry. */
  function withoutRegistry<T>(fn: () => T): T {
    const saved = { registry: process.env.npm_config_registry, retries: process.env.npm_config_fetch_retries }
    process.env.npm_config_registry = 'http://127.0.0.1:9/'
    process.env.npm_config_fetch_retries = '0'
    try {
      return fn()
    } finally {
      for (const [k, v] of [['npm_config_registry', saved.registry], ['npm_config_fetch_retries', saved.retries]] as const) {
        if (v === undefined) delete process.env[k]
        else process.env[k] = v
      }
    }
  }

  function setupError(fn: () => unknown): PerfSetupError {
    try {
      fn()
    } catch (err) {
      if (err instanceof PerfSetupError) return err
      throw err
    }
    throw new Error('expected a PerfSetupError')
  }

  it('a failing build stops the pack with PERF_PACK_FAILED, the output tail and the fix', () => {
    const root = fakePackage('node -e "console.error(\'build broke here\'); process.exit(3)"')
    const lines: string[] = []
    const err = setupError(() => prepareUserProject(root, join(tempDir(), 'p'), '4.1.12', (l) => lines.push(l)))
    expect(err.code).toBe('PERF_PACK_FAILED')
    expect(err.message).toContain(`\`npm pack\` in ${root} failed`)
    expect(err.message).toContain('build broke here')
    expect(err.message).toContain('npm run build')
    expect(lines.join('')).toMatch(/npm pack .*failed/)
  }, 60_000)

  it('an unreachable registry stops the install with PERF_INSTALL_FAILED, the command and the --repo way out, and records no install', () => {
    const root = fakePackage('node -e ""')
    const project = join(tempDir(), 'p')
    // A Vitest no registry has: npm must ask the (closed) registry for it.
    const err = setupError(() => withoutRegistry(() => prepareUserProject(root, project, '0.0.0-sebs-perf-missing', () => {})))
    expect(err.code).toBe('PERF_INSTALL_FAILED')
    expect(err.message).toMatch(/`npm install --prefer-offline .*\.\/serverless-benchmarks-[0-9a-f]{16}\.tgz vitest@0\.0\.0-sebs-perf-missing` in .*failed/)
    expect(err.message).toContain('npm run perf -- --repo')
    expect(readInstallState(project)).toBeUndefined()
  }, 120_000)
})
