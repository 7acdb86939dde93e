/**
 * TEST-ONLY support shared by the benchmarks' tests: run a benchmark's
 * `python/function.py` or `nodejs/function.js` for real, in a child `python3`
 * or `node`, outside the harness; a filesystem-backed object store for both
 * sides (this module on the test side, `fs-storage.{js,py}` as the function's
 * `storage` module); a GenerateInputContext like the harness builds; and
 * small directory helpers for determinism checks.
 *
 * A function's dependencies come from the registries (npm, the pip index),
 * installed once per manifest and runtime into `<repo>/.sebs-cache/test-deps/`.
 * Nothing in the harness imports this.
 */
import { execFile } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { copyFile, cp, mkdir, mkdtemp, readFile, readdir, rename, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { GenerateInputContext } from '../../../core/benchmark-input.ts'
import { readBenchmarkConfig } from '../../../engine/discovery.ts'
import { functionSourceFiles } from '../../../providers/packaging/package-builder.ts'

const HERE = dirname(fileURLToPath(import.meta.url))
/** The repository root (this file is `benchmarks/_lib/testing/`). */
export const REPO_ROOT = resolve(HERE, '../../..')
/** Where installed function dependencies are cached between test runs. */
export const DEPS_CACHE = join(REPO_ROOT, '.sebs-cache', 'test-deps')

export type FunctionLanguage = 'python' | 'nodejs'

export interface CommandResult {
  stdout: string
  stderr: string
}

/**
 * Runs a command with a timeout (no shell). A failure rejects with the
 * command, why it ended, and the tail of its stderr and stdout.
 */
export function runCommand(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<CommandResult> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      command,
      args,
      { cwd: options.cwd, env: options.env ?? process.env, timeout: options.timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) {
          const how = err.killed ? `killed after ${options.timeoutMs} ms` : `exit code ${String(err.code)}`
          reject(
            new Error(
              `${command} ${args.join(' ').slice(0, 200)} failed (${how})\n--- stderr ---\n${stderr.slice(-4000)}\n--- stdout ---\n${stdout.slice(-2000)}`,
              { cause: err },
            ),
          )
        } else resolvePromise({ stdout, stderr })
      },
    )
  })
}

let pythonInfo: Promise<{ executable: string; version: string }> | undefined

/**
 * The interpreter `python3` on PATH resolves to, asked once: pyenv's shim
 * costs about a second per start on a busy machine, the real binary does not.
 */
export function python(): Promise<{ executable: string; version: string }> {
  pythonInfo ??= runCommand('python3', ['-c', 'import sys; print(sys.executable); print(sys.version)'], { timeoutMs: 30_000 }).then(
    ({ stdout }) => {
      const [executable, ...version] = stdout.trim().split('\n')
      return { executable: executable!, version: version.join('\n').trim() }
    },
  )
  return pythonInfo
}

function hasPythonRequirements(text: string): boolean {
  return text.split('\n').some((line) => line.trim() !== '' && !line.trim().startsWith('#'))
}

/**
 * Installs the dependencies of `<benchmarkDir>/<language>/` (package.json or
 * requirements.txt) into `.sebs-cache/test-deps/<benchmark>-<language>-<hash>`
 * (hash of the manifest, the runtime version and the platform) and returns
 * that directory: for nodejs it holds `node_modules/`, for python it is the
 * `pip install --target`. Undefined when there is nothing to install.
 * Concurrent callers are safe: each installs into its own temporary
 * directory and the first to finish renames it into place.
 */
export async function installFunctionDeps(benchmarkDir: string, language: FunctionLanguage): Promise<string | undefined> {
  const manifestPath = join(benchmarkDir, language, language === 'nodejs' ? 'package.json' : 'requirements.txt')
  if (!existsSync(manifestPath)) return undefined
  const manifest = await readFile(manifestPath, 'utf8')
  if (language === 'nodejs') {
    const deps = (JSON.parse(manifest) as { dependencies?: Record<string, string> }).dependencies ?? {}
    if (Object.keys(deps).length === 0) return undefined
  } else if (!hasPythonRequirements(manifest)) {
    return undefined
  }
  const runtime = language === 'nodejs' ? process.version : (await python()).version
  const hash = createHash('sha256').update(manifest).update(runtime).update(process.platform + process.arch).digest('hex').slice(0, 16)
  const target = join(DEPS_CACHE, `${basename(benchmarkDir)}-${language}-${hash}`)
  if (existsSync(target)) return target

  await mkdir(DEPS_CACHE, { recursive: true })
  const tmp = `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`
  try {
    if (language === 'nodejs') {
      await mkdir(tmp, { recursive: true })
      await copyFile(manifestPath, join(tmp, 'package.json'))
      await runCommand('npm', ['install', '--prefix', tmp, '--omit=dev', '--no-audit', '--no-fund', '--no-package-lock'], { timeoutMs: 600_000 })
    } else {
      await runCommand(
        (await python()).executable,
        ['-m', 'pip', 'install', '--target', tmp, '-r', manifestPath, '--disable-pip-version-check', '--no-input', '-q'],
        { timeoutMs: 600_000 },
      )
    }
    try {
      await rename(tmp, target)
    } catch (err) {
      // Another worker finished first: keep its copy.
      if (!existsSync(target)) throw err
      await rm(tmp, { recursive: true, force: true })
    }
  } catch (err) {
    await rm(tmp, { recursive: true, force: true })
    throw err
  }
  return target
}

/**
 * A filesystem-backed object store: `<root>/<bucket>/<key>`, the layout the
 * function-side stand-ins (`fs-storage.{js,py}`) use, so what a test puts
 * here the function downloads, and what the function uploads the test reads.
 */
export interface FsStorage {
  root: string
  /** The file that holds an object (a key may not escape its bucket). */
  path(bucket: string, key: string): string
  /** Stores a local file under `key` (as is, no unique name); returns the key. */
  put(bucket: string, key: string, filePath: string): Promise<string>
  /** An object's bytes (the shape of ValidateOutputContext.download). */
  get(bucket: string, key: string): Promise<Buffer>
  /** Keys that start with `prefix`, sorted. */
  list(bucket: string, prefix?: string): Promise<string[]>
}

export function createFsStorage(root: string): FsStorage {
  const path = (bucket: string, key: string): string => {
    const bucketDir = resolve(root, bucket)
    const file = resolve(bucketDir, ...key.split('/'))
    if (!file.startsWith(bucketDir + '/')) throw new Error(`invalid key '${key}'`)
    return file
  }
  return {
    root,
    path,
    async put(bucket, key, filePath) {
      const dest = path(bucket, key)
      await mkdir(dirname(dest), { recursive: true })
      await copyFile(filePath, dest)
      return key
    },
    get: (bucket, key) => readFile(path(bucket, key)),
    async list(bucket, prefix = '') {
      const bucketDir = resolve(root, bucket)
      if (!existsSync(bucketDir)) return []
      const keys: string[] = []
      for (const entry of await readdir(bucketDir, { recursive: true, withFileTypes: true })) {
        if (!entry.isFile()) continue
        const key = join(entry.parentPath, entry.name).slice(bucketDir.length + 1)
        if (key.startsWith(prefix)) keys.push(key)
      }
      return keys.sort()
    },
  }
}

export interface RunFunctionOptions {
  /** The benchmark directory (`<lang>/` below it is the function). */
  benchmarkDir: string
  language: FunctionLanguage
  event: unknown
  /**
   * The store the function's `storage` module reads and writes: the
   * fs-storage stand-in is put into the package as `function/storage.{js,py}`.
   * Leave it out for benchmarks without the storage module.
   */
  storage?: FsStorage
  /** More files for `function/` (package name → source path). */
  extraFiles?: Record<string, string>
  /** Environment on top of this process's (PATH changes, endpoints, …). */
  env?: NodeJS.ProcessEnv
  timeoutMs?: number
}

export interface HandlerOutput {
  result: unknown
  measurement?: Record<string, unknown>
}

export interface FunctionRun {
  /** What the handler returned (resolved to): SeBS's `{ result, measurement }`. */
  output: HandlerOutput
  /** Wall time of the handler call alone, measured in the child (not process start or imports before it). */
  elapsedMs: number
  /** What the function left in its TMPDIR (removed afterwards). */
  tmpLeftovers: string[]
  stdout: string
  stderr: string
}

const PY_RUNNER = `
import json, sys, time
from function import function
with open(sys.argv[1]) as f:
    event = json.load(f)
begin = time.perf_counter()
ret = function.handler(event)
elapsed_ms = (time.perf_counter() - begin) * 1000
with open(sys.argv[2], "w") as f:
    json.dump({"output": ret, "elapsedMs": elapsed_ms}, f)
`

const NODE_RUNNER = `'use strict'
const fs = require('fs')
const event = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'))
const { handler } = require('./function/function.js')
const begin = process.hrtime.bigint()
Promise.resolve()
  .then(() => handler(event))
  .then(
    (output) => {
      const elapsedMs = Number(process.hrtime.bigint() - begin) / 1e6
      fs.writeFileSync(process.argv[3], JSON.stringify({ output, elapsedMs }))
    },
    (err) => { console.error((err && err.stack) || String(err)); process.exitCode = 1 },
  )
`

/**
 * The shared folders a benchmark's config.json declares for `language`
 * (validated as discovery does, taking the benchmark's group folder's parent
 * as the benchmarks folder); none without a config.json.
 */
function sharedFolders(benchmarkDir: string, language: FunctionLanguage): string[] {
  if (!existsSync(join(benchmarkDir, 'config.json'))) return []
  return readBenchmarkConfig(benchmarkDir, dirname(dirname(benchmarkDir))).shared?.[language] ?? []
}

/**
 * Lays out a package as the real builds do (the benchmark's language folder
 * and its config.json `shared` folders as `function/`, the storage stand-in
 * as `function/storage.*` when `storage` is given), runs the handler once in
 * a child process with its own TMPDIR and returns what it returned. A
 * throwing handler rejects with the child's stderr in the message. stdout
 * stays free for the function's own logging.
 */
export async function runFunction(options: RunFunctionOptions): Promise<FunctionRun> {
  const { benchmarkDir, language, event, storage } = options
  const deps = await installFunctionDeps(benchmarkDir, language)
  const work = await mkdtemp(join(tmpdir(), `sebs-fn-${basename(benchmarkDir)}-${language}-`))
  try {
    const pkg = join(work, 'pkg')
    const fnDir = join(pkg, 'function')
    const fnTmp = join(work, 'tmp')
    await mkdir(fnTmp, { recursive: true })
    await cp(join(benchmarkDir, language), fnDir, {
      recursive: true,
      filter: (src) => !['node_modules', '__pycache__'].includes(basename(src)),
    })
    // Shared files next to the function's own, with the package builder's list (and its clash check).
    const own = join(benchmarkDir, language)
    const sources = { dir: benchmarkDir, config: { shared: { [language]: sharedFolders(benchmarkDir, language) } } }
    for (const file of functionSourceFiles(sources, language)) {
      if (file.folder === own) continue
      await mkdir(dirname(join(fnDir, file.rel)), { recursive: true })
      await copyFile(file.abs, join(fnDir, file.rel))
    }
    const storageFile = language === 'nodejs' ? 'storage.js' : 'storage.py'
    const files: Record<string, string> = {
      ...(storage ? { [storageFile]: join(HERE, language === 'nodejs' ? 'fs-storage.js' : 'fs-storage.py') } : {}),
      ...options.extraFiles,
    }
    for (const [name, source] of Object.entries(files)) await copyFile(source, join(fnDir, name))
    const eventFile = join(work, 'event.json')
    const outFile = join(work, 'out.json')
    await writeFile(eventFile, JSON.stringify(event))
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...options.env,
      TMPDIR: fnTmp,
      ...(storage ? { SEBS_TEST_STORAGE_DIR: storage.root } : {}),
    }
    const timeoutMs = options.timeoutMs ?? 120_000
    let exec: CommandResult
    if (language === 'nodejs') {
      // Outside the repo (whose package.json says "type": "module") the .js files are CommonJS, as in a real package.
      await writeFile(join(pkg, 'package.json'), JSON.stringify({ name: 'sebs-test-package', private: true, type: 'commonjs' }))
      if (deps) await symlink(join(deps, 'node_modules'), join(fnDir, 'node_modules'), 'dir')
      await writeFile(join(pkg, 'runner.js'), NODE_RUNNER)
      exec = await runCommand(process.execPath, ['runner.js', eventFile, outFile], { cwd: pkg, env, timeoutMs })
    } else {
      if (!existsSync(join(fnDir, '__init__.py'))) await writeFile(join(fnDir, '__init__.py'), '')
      await writeFile(join(pkg, 'runner.py'), PY_RUNNER)
      env.PYTHONPATH = [pkg, deps, options.env?.PYTHONPATH].filter(Boolean).join(':')
      env.PYTHONDONTWRITEBYTECODE = '1'
      exec = await runCommand((await python()).executable, ['runner.py', eventFile, outFile], { cwd: pkg, env, timeoutMs })
    }
    const { output, elapsedMs } = JSON.parse(await readFile(outFile, 'utf8')) as { output: HandlerOutput; elapsedMs: number }
    return { output, elapsedMs, tmpLeftovers: await readdir(fnTmp), stdout: exec.stdout, stderr: exec.stderr }
  } finally {
    await rm(work, { recursive: true, force: true })
  }
}

/**
 * Runs a Python snippet with `<benchmarkDir>/python/`'s dependencies
 * installed and that folder and its shared folders importable; returns its stdout.
 */
export async function runPython(benchmarkDir: string, code: string, timeoutMs = 120_000): Promise<string> {
  const deps = await installFunctionDeps(benchmarkDir, 'python')
  const path = [join(benchmarkDir, 'python'), ...sharedFolders(benchmarkDir, 'python'), deps]
  const { stdout } = await runCommand((await python()).executable, ['-c', code], {
    env: { ...process.env, PYTHONPATH: path.filter(Boolean).join(':'), PYTHONDONTWRITEBYTECODE: '1' },
    timeoutMs,
  })
  return stdout
}

/** Makes a fresh temporary directory for a test; remove it with `rm(dir, { recursive: true, force: true })`. */
export function makeTempDir(label: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `sebs-test-${label}-`))
}

export interface RecordedUpload {
  prefixIndex: number
  key: string
  filePath: string
}

export interface InputContextOptions {
  benchmark: string
  size: GenerateInputContext['size']
  dataDir: string
  /** Where uploads land (under `<prefix>/<key>`); without one they are only recorded. */
  storage?: FsStorage
  bucket?: string
  /** `bucketsCount()` of the benchmark. */
  counts: [number, number]
  nosql?: GenerateInputContext['nosql']
  fileServerUrl?: string
}

/**
 * A GenerateInputContext like the harness builds (SeBS's prefixes
 * `<benchmark>-<i>-input|output`, `upload` resolving to `<prefix>/<key>`),
 * whose `upload` copies into `storage` and records every call in `uploads`.
 */
export function createInputContext(options: InputContextOptions): GenerateInputContext & { uploads: RecordedUpload[] } {
  const bucket = options.bucket ?? 'sebs-benchmarks-test'
  const inputPrefixes = Array.from({ length: options.counts[0] }, (_, i) => `${options.benchmark}-${i}-input`)
  const outputPrefixes = Array.from({ length: options.counts[1] }, (_, i) => `${options.benchmark}-${i}-output`)
  const uploads: RecordedUpload[] = []
  return {
    dataDir: options.dataDir,
    size: options.size,
    bucket,
    inputPrefixes,
    outputPrefixes,
    fileServerUrl: options.fileServerUrl,
    nosql: options.nosql,
    uploads,
    async upload(prefixIndex, key, filePath) {
      const prefix = inputPrefixes[prefixIndex]
      if (prefix === undefined) throw new Error(`upload to input prefix ${prefixIndex}, but only ${inputPrefixes.length} exist`)
      uploads.push({ prefixIndex, key, filePath })
      if (options.storage) await options.storage.put(bucket, `${prefix}/${key}`, filePath)
      return `${prefix}/${key}`
    },
  }
}

/** Size, inode and mtime of every file under `dir`: equal snapshots mean nothing was regenerated. */
export async function snapshotDir(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue
    const full = join(entry.parentPath, entry.name)
    const s = await stat(full)
    out[full.slice(dir.length + 1)] = `${s.size}:${s.ino}:${s.mtimeMs}`
  }
  return out
}

/** SHA-256 of every file under `dir`, for determinism checks across two data directories. */
export async function hashDir(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue
    const full = join(entry.parentPath, entry.name)
    out[full.slice(dir.length + 1)] = createHash('sha256').update(await readFile(full)).digest('hex')
  }
  return out
}
