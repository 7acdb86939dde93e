/**
 * The user's project that `npm run perf` measures in (runs inside the perf
 * script's Node process, scripts/perf.ts): this repository packed with
 * `npm pack` (which runs `prepack`, the build) and installed with Vitest into
 * `.sebs-cache/perf/user-project/` with the README's vitest.config.ts, as a
 * user's `npm i -D serverless-benchmarks vitest` would. The installed project is reused while the tarball's content is the
 * same; a changed tarball is reinstalled on its own (Vitest stays).
 */
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, copyFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { cleanNpmEnv } from '../providers/packaging/package-builder.ts'

/** The package's name on npm (and its folder under the project's node_modules). */
export const PACKAGE_NAME = 'serverless-benchmarks'
/** Where the perf script writes what it installed, inside the project. */
export const STATE_FILE = 'sebs-perf-install.json'

/**
 * The project's own files, as the README's "Use it in your own project" has
 * them: a package.json and a vitest.config.ts adding the plugin (the
 * benchmarks folder comes from `--benchmarks`). The config matters beyond
 * realism: Vitest looks for its config upward from the project's root, so a
 * project inside this repository without one loads the repository's
 * vitest.config.ts, and with it the plugin's TypeScript sources (a cached
 * start measured 7.5 s that way against 1.9 s). Node's module resolution
 * still walks up to the repository's node_modules for anything the project
 * lacks; test/e2e/install.e2e.test.ts installs outside the repository and
 * catches a dependency missing from the package.
 */
export const PROJECT_FILES: Readonly<Record<string, string>> = {
  'package.json': JSON.stringify({ private: true, type: 'module' }, null, 2) + '\n',
  'vitest.config.ts': ["import { defineConfig } from 'vitest/config'", "import { sebs } from 'serverless-benchmarks'", '', 'export default defineConfig({ plugins: [sebs()] })', ''].join('\n'),
}

/**
 * Writes PROJECT_FILES into `project`. package.json only when missing (npm
 * records the installed dependencies in it); the config always, so the
 * measured setup is this script's.
 */
export function writeProjectFiles(project: string): void {
  mkdirSync(project, { recursive: true })
  for (const [name, text] of Object.entries(PROJECT_FILES)) {
    const file = join(project, name)
    if (name === 'package.json' && existsSync(file)) continue
    writeFileSync(file, text)
  }
}

/** What one install put into the project. */
export interface InstallState {
  /** sha256 of the tarball's bytes (`npm pack` writes fixed timestamps, so the same sources pack to the same bytes). */
  tarballHash: string
  /** The Vitest version installed beside it. */
  vitest: string
}

/** What is in the project's node_modules now (versions read from their package.json), undefined when absent. */
export interface Installed {
  packageVersion?: string
  vitest?: string
}

/**
 * What to install: nothing (`reuse`), the tarball alone (`tarball`: its hash
 * changed or it is missing), or the tarball and Vitest (`full`: a fresh
 * project, or the wanted Vitest is not the installed one).
 */
export type InstallPlan = { kind: 'reuse' } | { kind: 'tarball'; reason: string } | { kind: 'full'; reason: string }

/**
 * Decides what to install from the state written by the last successful
 * install, what node_modules actually holds, and what is wanted now. The
 * state file is written only after an install succeeded, so an interrupted
 * install is never taken for a finished one.
 */
export function planInstall(previous: InstallState | undefined, installed: Installed, wanted: InstallState): InstallPlan {
  if (installed.vitest === undefined) return { kind: 'full', reason: 'no vitest installed' }
  if (installed.vitest !== wanted.vitest) return { kind: 'full', reason: `vitest ${installed.vitest} installed, ${wanted.vitest} wanted` }
  if (installed.packageVersion === undefined) return { kind: 'tarball', reason: `no ${PACKAGE_NAME} installed` }
  if (previous === undefined) return { kind: 'tarball', reason: 'no record of the installed tarball' }
  if (previous.tarballHash !== wanted.tarballHash) return { kind: 'tarball', reason: 'the tarball changed' }
  return { kind: 'reuse' }
}

/** sha256 of a file's bytes, hex. */
export function hashFile(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex')
}

/** Reads the state file; undefined when it is missing or not what this script writes. */
export function readInstallState(project: string): InstallState | undefined {
  try {
    const s = JSON.parse(readFileSync(join(project, STATE_FILE), 'utf8')) as Partial<InstallState>
    return typeof s.tarballHash === 'string' && typeof s.vitest === 'string' ? { tarballHash: s.tarballHash, vitest: s.vitest } : undefined
  } catch {
    return undefined
  }
}

function versionOf(packageDir: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version?: string }).version
  } catch {
    return undefined
  }
}

/** The versions of the package and Vitest in the project's node_modules. */
export function readInstalled(project: string): Installed {
  const out: Installed = {}
  const pkg = versionOf(join(project, 'node_modules', PACKAGE_NAME))
  const vitest = versionOf(join(project, 'node_modules', 'vitest'))
  if (pkg !== undefined) out.packageVersion = pkg
  if (vitest !== undefined) out.vitest = vitest
  return out
}

/** `npm pack` or `npm install` failed: says which command, its output's tail, and what to do. */
export class PerfSetupError extends Error {
  readonly code: 'PERF_PACK_FAILED' | 'PERF_INSTALL_FAILED'
  constructor(code: 'PERF_PACK_FAILED' | 'PERF_INSTALL_FAILED', message: string) {
    super(message)
    this.name = 'PerfSetupError'
    this.code = code
  }
}

/**
 * The environment for npm and for the user's commands: `npm run perf`
 * exports `npm_config_local_prefix` (this repository), `npm_package_*` and
 * friends; a nested `npm install` would obey them and install into the
 * repository instead of the project, so they go (package-builder's
 * cleanNpmEnv). The user's own npm settings (registry, proxy, cache) stay.
 */
export function projectEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...cleanNpmEnv(), ...extra }
}

/** The last lines of a command's output, for an error message. */
function tail(text: string, lines = 25): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n')
}

function npm(args: string[], cwd: string, timeoutMs: number): { code: number | null; output: string; stdout: string; error?: Error } {
  const res = spawnSync('npm', args, { cwd, env: projectEnv({ NO_COLOR: '1' }), encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 2 ** 20 })
  return { code: res.status, stdout: res.stdout ?? '', output: `${res.stdout ?? ''}${res.stderr ?? ''}`, ...(res.error ? { error: res.error } : {}) }
}

/** What `prepareUserProject` left in place. */
export interface UserProject {
  project: string
  /** Versions read back from the project's node_modules. */
  packageVersion: string
  vitest: string
  tarballHash: string
  plan: InstallPlan
  packMs: number
  installMs: number
}

const REGISTRY_FIX =
  'The install needs the npm registry (or npm\'s cache) for Vitest and the package\'s dependencies: check `npm ping` and your proxy settings, ' +
  'or run `npm run perf -- --repo` to measure the repository path only (no pack, no install).'

/**
 * Packs `root` into a temporary folder, then installs the tarball (and, in a
 * fresh project, `vitest@<vitest>`) into `project` unless the same tarball is
 * installed already. Prints one line for the pack and one for the install,
 * with their durations. Throws PerfSetupError when npm fails.
 */
export function prepareUserProject(root: string, project: string, vitest: string, print: (line: string) => void): UserProject {
  const packDir = mkdtempSync(join(tmpdir(), 'sebs-perf-pack-'))
  try {
    print(`perf: npm pack (runs the build) … `)
    const t0 = performance.now()
    const pack = npm(['pack', '--pack-destination', packDir, '--silent'], root, 600_000)
    const packMs = performance.now() - t0
    const name = pack.stdout.trim().split('\n').pop() ?? ''
    if (pack.code !== 0 || !name || !existsSync(join(packDir, name))) {
      print('failed\n')
      throw new PerfSetupError(
        'PERF_PACK_FAILED',
        `\`npm pack\` in ${root} failed (${pack.error ? pack.error.message : `exit code ${pack.code}`}); its output ends with:\n${tail(pack.output)}\n` +
          'Fix: `npm run build` shows the build error; the pack runs the build (prepack) and nothing else.',
      )
    }
    const tarballHash = hashFile(join(packDir, name))
    print(`${(packMs / 1000).toFixed(1)} s (${name}, sha256 ${tarballHash.slice(0, 12)})\n`)

    writeProjectFiles(project)
    const plan = planInstall(readInstallState(project), readInstalled(project), { tarballHash, vitest })
    let installMs = 0
    if (plan.kind === 'reuse') {
      print(`perf: ${project} holds this tarball already; no install\n`)
    } else {
      // The tarball is kept in the project under a name of its content, so the
      // `file:` entry npm writes into package.json stays valid for later installs.
      const local = `${PACKAGE_NAME}-${tarballHash.slice(0, 16)}.tgz`
      copyFileSync(join(packDir, name), join(project, local))
      rmSync(join(project, STATE_FILE), { force: true })
      const args = ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', `./${local}`, ...(plan.kind === 'full' ? [`vitest@${vitest}`] : [])]
      print(`perf: npm ${args.join(' ')} (${plan.reason}) … `)
      const t1 = performance.now()
      const install = npm(args, project, 900_000)
      installMs = performance.now() - t1
      if (install.code !== 0) {
        print('failed\n')
        throw new PerfSetupError(
          'PERF_INSTALL_FAILED',
          `\`npm ${args.join(' ')}\` in ${project} failed (${install.error ? install.error.message : `exit code ${install.code}`}); its output ends with:\n${tail(install.output)}\nFix: ${REGISTRY_FIX}`,
        )
      }
      print(`${(installMs / 1000).toFixed(1)} s\n`)
      for (const f of readdirSync(project)) if (f.startsWith(`${PACKAGE_NAME}-`) && f.endsWith('.tgz') && f !== local) rmSync(join(project, f), { force: true })
    }
    const installed = readInstalled(project)
    if (installed.packageVersion === undefined || installed.vitest !== vitest) {
      throw new PerfSetupError('PERF_INSTALL_FAILED', `after the install, ${project}/node_modules holds ${PACKAGE_NAME} ${installed.packageVersion ?? '(none)'} and vitest ${installed.vitest ?? '(none)'} (wanted vitest ${vitest}).\nFix: delete ${project} and run again.`)
    }
    writeFileSync(join(project, STATE_FILE), JSON.stringify({ tarballHash, vitest } satisfies InstallState, null, 2) + '\n')
    return { project, packageVersion: installed.packageVersion, vitest: installed.vitest, tarballHash, plan, packMs, installMs }
  } finally {
    rmSync(packDir, { recursive: true, force: true })
  }
}
