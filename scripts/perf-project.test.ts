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
import { hashFile, PACKAGE_NAME, planInstall, PROJECT_FILES, projectEnv, readInstalled, readInstallState, STATE_FILE, writeProjectFiles } from './perf-project.ts'

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
