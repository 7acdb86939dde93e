/**
 * Test-only helper: runs a benchmark's handler for real, outside the harness.
 *
 * The language folder is copied into `<tmp>/function/` (the layout the build
 * step produces: the function module is `function.function` in Python and
 * `./function/function.js` in Node), its dependencies come from the
 * registries (`npm install` / `pip install --target`) into a cache under
 * `<repo>/.sebs-cache/test-deps/` keyed by the manifest's content, and the
 * handler runs in a child `node` or `python3` process whose result is written
 * to a file (stdout stays free for the function's own logging).
 *
 * It lives here because this folder is the only shared one the graph helper
 * owns; it serves the tests of 010, 110, 311 and 501–503 alike and would
 * belong in `benchmarks/_lib/`.
 */
import { execFile } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { cp, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')
const DEPS_CACHE = join(REPO_ROOT, '.sebs-cache', 'test-deps')

export interface ExecResult {
  stdout: string
  stderr: string
}

/** execFile with a timeout; a failure carries the child's stderr in the message. */
export function run(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<ExecResult> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      command,
      args,
      { cwd: options.cwd, env: options.env ?? process.env, timeout: options.timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          const why = error.killed ? `killed after ${options.timeoutMs} ms` : `exit ${String(error.code)}`
          reject(new Error(`${command} ${args.join(' ').slice(0, 200)} failed (${why}):\n${stderr.slice(-4000)}`, { cause: error }))
          return
        }
        resolvePromise({ stdout, stderr })
      },
    )
  })
}

/**
 * Installs into `<cache>/<name>` once: the installer writes into a temporary
 * sibling that is renamed into place, so concurrent test files or an
 * interrupted install never leave a half-filled cache entry behind.
 */
async function cachedInstall(name: string, install: (dir: string) => Promise<void>): Promise<string> {
  const final = join(DEPS_CACHE, name)
  if (existsSync(final)) return final
  await mkdir(DEPS_CACHE, { recursive: true })
  const tmp = `${final}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`
  try {
    await mkdir(tmp, { recursive: true })
    await install(tmp)
    await rename(tmp, final)
  } catch (err) {
    await rm(tmp, { recursive: true, force: true })
    // Another process may have won the race with the same content.
    if (existsSync(final)) return final
    throw err
  }
  return final
}

function contentKey(...parts: string[]): string {
  const hash = createHash('sha256')
  for (const part of parts) hash.update(part).update('\0')
  return hash.digest('hex').slice(0, 16)
}

/** Installs a `package.json`'s dependencies from the npm registry; returns the `node_modules` dir. */
export async function installNodeDeps(packageJsonPath: string): Promise<string> {
  const manifest = await readFile(packageJsonPath, 'utf8')
  const deps = Object.keys((JSON.parse(manifest) as { dependencies?: Record<string, string> }).dependencies ?? {})
  const dir = await cachedInstall(`node-${contentKey(manifest, process.version)}`, async (tmp) => {
    await writeFile(join(tmp, 'package.json'), manifest)
    if (deps.length === 0) {
      await mkdir(join(tmp, 'node_modules'))
      return
    }
    await run('npm', ['install', '--prefix', tmp, '--omit=dev', '--no-audit', '--no-fund', '--no-package-lock'], {
      cwd: tmp,
      timeoutMs: 300_000,
    })
  })
  return join(dir, 'node_modules')
}

let pythonInfo: Promise<{ executable: string; version: string }> | undefined

/**
 * The interpreter `python3` on PATH resolves to, asked once: pyenv's shim
 * costs a second per start on a busy machine, the real binary does not.
 */
function python(): Promise<{ executable: string; version: string }> {
  pythonInfo ??= run('python3', ['-c', 'import sys; print(sys.executable); print(sys.version)'], { timeoutMs: 30_000 }).then(
    ({ stdout }) => {
      const [executable, ...version] = stdout.trim().split('\n')
      return { executable, version: version.join(' ') }
    },
  )
  return pythonInfo
}

/** Installs a `requirements.txt` with `pip install --target`; returns the target dir. */
export async function installPythonDeps(requirementsPath: string): Promise<string> {
  const requirements = existsSync(requirementsPath) ? await readFile(requirementsPath, 'utf8') : ''
  const { executable, version } = await python()
  const empty = requirements.split('\n').every((line) => line.trim() === '' || line.trim().startsWith('#'))
  return cachedInstall(`python-${contentKey(requirements, version)}`, async (tmp) => {
    if (empty) return
    await run(
      executable,
      ['-m', 'pip', 'install', '--target', tmp, '--disable-pip-version-check', '--no-input', '--retries', '0', '-r', requirementsPath],
      { timeoutMs: 300_000 },
    )
  })
}

export interface RunOptions {
  /** Extra files placed into `<pkg>/function/` next to the function module (e.g. a storage test double). */
  extraFiles?: Record<string, string>
  env?: Record<string, string>
  timeoutMs?: number
}

export interface HandlerOutput {
  result: unknown
  measurement?: Record<string, unknown>
}

export interface HandlerRun {
  /** What the handler returned (resolved to). */
  output: HandlerOutput
  /** Wall time of the handler call alone, measured inside the child (not process start or imports before it). */
  elapsedMs: number
}

async function preparePackage(languageDir: string, extraFiles: Record<string, string>): Promise<string> {
  const pkg = await mkdtemp(join(tmpdir(), 'sebs-fn-'))
  await cp(languageDir, join(pkg, 'function'), { recursive: true })
  for (const [name, source] of Object.entries(extraFiles)) await cp(source, join(pkg, 'function', name))
  return pkg
}

/** Runs `nodejs/function.js`'s handler on `event` in a child `node`; returns what it resolved to and how long it took. */
export async function runNodeHandler(languageDir: string, event: unknown, options: RunOptions = {}): Promise<HandlerRun> {
  const nodeModules = await installNodeDeps(join(languageDir, 'package.json'))
  const pkg = await preparePackage(languageDir, options.extraFiles ?? {})
  try {
    const outFile = join(pkg, 'result.json')
    // package.json at the root like the built package (CommonJS, whatever the repository root says).
    await writeFile(join(pkg, 'package.json'), JSON.stringify({ name: 'sebs-test-package', private: true, type: 'commonjs' }))
    const script = `
      const fs = require('fs')
      const { handler } = require('./function/function.js')
      const event = JSON.parse(process.env.SEBS_TEST_EVENT)
      const begin = process.hrtime.bigint()
      Promise.resolve(handler(event))
        .then((output) => {
          const elapsedMs = Number(process.hrtime.bigint() - begin) / 1e6
          fs.writeFileSync(process.env.SEBS_TEST_OUT, JSON.stringify({ output, elapsedMs }))
        })
        .catch((err) => { console.error(err && err.stack || err); process.exit(1) })`
    await run(process.execPath, ['-e', script], {
      cwd: pkg,
      env: {
        ...process.env,
        ...options.env,
        NODE_PATH: nodeModules,
        SEBS_TEST_EVENT: JSON.stringify(event),
        SEBS_TEST_OUT: outFile,
      },
      timeoutMs: options.timeoutMs ?? 120_000,
    })
    return JSON.parse(await readFile(outFile, 'utf8')) as HandlerRun
  } finally {
    await rm(pkg, { recursive: true, force: true })
  }
}

/** Runs `python/function.py`'s handler on `event` in a child `python3`; returns what it returned and how long it took. */
export async function runPythonHandler(languageDir: string, event: unknown, options: RunOptions = {}): Promise<HandlerRun> {
  const site = await installPythonDeps(join(languageDir, 'requirements.txt'))
  const pkg = await preparePackage(languageDir, options.extraFiles ?? {})
  try {
    const outFile = join(pkg, 'result.json')
    const script = [
      'import json, os, sys',
      'sys.path[:0] = [os.environ["SEBS_TEST_PKG"], os.environ["SEBS_TEST_SITE"]]',
      'import time',
      'from function import function',
      'event = json.loads(os.environ["SEBS_TEST_EVENT"])',
      'begin = time.perf_counter()',
      'output = function.handler(event)',
      'elapsed_ms = (time.perf_counter() - begin) * 1000',
      'open(os.environ["SEBS_TEST_OUT"], "w").write(json.dumps({"output": output, "elapsedMs": elapsed_ms}))',
    ].join('\n')
    await run((await python()).executable, ['-c', script], {
      cwd: pkg,
      env: {
        ...process.env,
        ...options.env,
        SEBS_TEST_PKG: pkg,
        SEBS_TEST_SITE: site,
        SEBS_TEST_EVENT: JSON.stringify(event),
        SEBS_TEST_OUT: outFile,
      },
      timeoutMs: options.timeoutMs ?? 120_000,
    })
    return JSON.parse(await readFile(outFile, 'utf8')) as HandlerRun
  } finally {
    await rm(pkg, { recursive: true, force: true })
  }
}

/** Runs a Python snippet with a language folder's dependencies and the folder itself importable. */
export async function runPython(languageDir: string, code: string, timeoutMs = 120_000): Promise<string> {
  const site = await installPythonDeps(join(languageDir, 'requirements.txt'))
  const { stdout } = await run((await python()).executable, ['-c', code], {
    env: { ...process.env, PYTHONPATH: [languageDir, site].join(':') },
    timeoutMs,
  })
  return stdout
}
