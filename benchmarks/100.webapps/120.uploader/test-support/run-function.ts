/**
 * Test support shared by the benchmark folders' tests: runs a benchmark's
 * `python/function.py` or `nodejs/function.js` for real, in a child `python3`
 * or `node`, without the harness. The function's dependencies are installed
 * from the registries (npm, the pip index) once per manifest into
 * `<repo>/.sebs-cache/test-deps/`, and the function gets a filesystem-backed
 * stand-in for the storage wrapper (`storage.js` / `storage.py` beside this
 * file), so the real S3 clients are not needed here.
 *
 * Test-only: nothing in the harness imports this.
 */
import { execFile } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { copyFile, cp, mkdir, mkdtemp, readFile, readdir, rename, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { GenerateInputContext } from '../../../../core/benchmark-input.ts'

const HERE = dirname(fileURLToPath(import.meta.url))
/** The repository root (this file is `benchmarks/<group>/<bench>/test-support/`). */
export const REPO_ROOT = resolve(HERE, '../../../..')
const DEPS_CACHE = join(REPO_ROOT, '.sebs-cache', 'test-deps')

export type FunctionLanguage = 'python' | 'nodejs'

interface ExecResult {
  stdout: string
  stderr: string
}

function run(
  file: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<ExecResult> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      file,
      args,
      { cwd: options.cwd, env: options.env, timeout: options.timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) {
          const how = err.killed ? `killed after ${options.timeoutMs} ms` : `exit code ${String(err.code)}`
          reject(new Error(`${file} ${args.join(' ')} failed (${how})\n--- stderr ---\n${stderr}\n--- stdout ---\n${stdout}`, { cause: err }))
        } else resolvePromise({ stdout, stderr })
      },
    )
  })
}

/**
 * Installs the dependencies of `<benchmarkDir>/<language>` (package.json or
 * requirements.txt) into a cache directory keyed by the manifest and the
 * runtime version, and returns it; undefined when there is nothing to install.
 * Concurrent callers are safe: each installs into its own temporary directory
 * and the first to finish renames it into place.
 */
export async function installFunctionDeps(benchmarkDir: string, language: FunctionLanguage): Promise<string | undefined> {
  const manifestName = language === 'nodejs' ? 'package.json' : 'requirements.txt'
  const manifestPath = join(benchmarkDir, language, manifestName)
  if (!existsSync(manifestPath)) return undefined
  const manifest = await readFile(manifestPath, 'utf8')
  if (language === 'nodejs') {
    const deps = (JSON.parse(manifest) as { dependencies?: Record<string, string> }).dependencies ?? {}
    if (Object.keys(deps).length === 0) return undefined
  } else if (!manifest.split('\n').some((line) => line.trim() !== '' && !line.trim().startsWith('#'))) {
    return undefined
  }
  const runtime =
    language === 'nodejs'
      ? process.version
      : (await run('python3', ['-c', 'import sys; print(sys.version)'], { timeoutMs: 30_000 })).stdout.trim()
  const hash = createHash('sha256').update(manifest).update(runtime).update(process.platform + process.arch).digest('hex').slice(0, 16)
  const target = join(DEPS_CACHE, `${basename(benchmarkDir)}-${language}-${hash}`)
  if (existsSync(target)) return target

  await mkdir(DEPS_CACHE, { recursive: true })
  const tmp = `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`
  try {
    if (language === 'nodejs') {
      await mkdir(tmp, { recursive: true })
      await copyFile(manifestPath, join(tmp, 'package.json'))
      await run('npm', ['install', '--prefix', tmp, '--omit=dev', '--no-audit', '--no-fund', '--no-package-lock'], {
        timeoutMs: 600_000,
      })
    } else {
      await run(
        'python3',
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
 * A filesystem-backed object store shared by the test (harness side) and the
 * storage test double inside the function (same `<root>/<bucket>/<key>` layout).
 */
export interface FsStorage {
  root: string
  path(bucket: string, key: string): string
  put(bucket: string, key: string, filePath: string): Promise<string>
  get(bucket: string, key: string): Promise<Buffer>
}

export function createFsStorage(root: string): FsStorage {
  const path = (bucket: string, key: string): string => {
    const bucketDir = resolve(root, bucket)
    const file = resolve(bucketDir, key)
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
  }
}

export interface RunFunctionOptions {
  benchmarkDir: string
  language: FunctionLanguage
  event: Record<string, unknown>
  storage: FsStorage
  /** Extra environment (PATH changes, …). */
  env?: NodeJS.ProcessEnv
  timeoutMs?: number
}

export interface FunctionRun {
  /** What the handler returned: `{ result, measurement }`. */
  output: { result: unknown; measurement?: Record<string, number> }
  /** The TMPDIR the function ran with (removed afterwards); its leftovers at the end. */
  tmpLeftovers: string[]
  stderr: string
}

const PY_RUNNER = `
import json, sys
from function import function
with open(sys.argv[1]) as f:
    event = json.load(f)
ret = function.handler(event)
with open(sys.argv[2], "w") as f:
    json.dump(ret, f)
`

const NODE_RUNNER = `'use strict'
const fs = require('fs')
const event = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'))
require('./function/function.js').handler(event).then(
  (ret) => fs.writeFileSync(process.argv[3], JSON.stringify(ret)),
  (err) => { console.error((err && err.stack) || String(err)); process.exitCode = 1 },
)
`

/**
 * Lays out a package like the real builds do (the benchmark's language folder
 * as `function/`, plus the storage double), runs the handler once in a child
 * process and returns what it returned. A throwing handler rejects with the
 * child's stderr in the message.
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
    await cp(join(benchmarkDir, language), fnDir, { recursive: true })
    await copyFile(join(HERE, language === 'nodejs' ? 'storage.js' : 'storage.py'), join(fnDir, language === 'nodejs' ? 'storage.js' : 'storage.py'))
    const eventFile = join(work, 'event.json')
    const outFile = join(work, 'out.json')
    await writeFile(eventFile, JSON.stringify(event))
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...options.env,
      SEBS_TEST_STORAGE_DIR: storage.root,
      TMPDIR: fnTmp,
    }
    let exec: ExecResult
    if (language === 'nodejs') {
      // Outside the repo (whose package.json says "type": "module") the .js files are CommonJS, as in a real package.
      await writeFile(join(pkg, 'package.json'), JSON.stringify({ name: 'sebs-test-package', private: true, type: 'commonjs' }))
      if (deps) await symlink(join(deps, 'node_modules'), join(fnDir, 'node_modules'), 'dir')
      await writeFile(join(pkg, 'runner.js'), NODE_RUNNER)
      exec = await run(process.execPath, ['runner.js', eventFile, outFile], { cwd: pkg, env, timeoutMs: options.timeoutMs ?? 120_000 })
    } else {
      await writeFile(join(fnDir, '__init__.py'), '')
      await writeFile(join(pkg, 'runner.py'), PY_RUNNER)
      env.PYTHONPATH = [pkg, deps].filter(Boolean).join(':')
      env.PYTHONDONTWRITEBYTECODE = '1'
      exec = await run('python3', ['runner.py', eventFile, outFile], { cwd: pkg, env, timeoutMs: options.timeoutMs ?? 120_000 })
    }
    const output = JSON.parse(await readFile(outFile, 'utf8')) as FunctionRun['output']
    return { output, tmpLeftovers: await readdir(fnTmp), stderr: exec.stderr }
  } finally {
    await rm(work, { recursive: true, force: true })
  }
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
  /** Where uploads land; without one they are only recorded. */
  storage?: FsStorage
  bucket?: string
  counts: [number, number]
  fileServerUrl?: string
}

/**
 * A GenerateInputContext like the harness builds (SeBS's prefixes
 * `<benchmark>-<i>-input|output`), whose `upload` copies into `storage` and
 * records every call in `uploads`.
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
    uploads,
    async upload(prefixIndex, key, filePath) {
      const prefix = inputPrefixes[prefixIndex]
      if (prefix === undefined) throw new Error(`upload to input prefix ${prefixIndex}, but only ${inputPrefixes.length} exist`)
      uploads.push({ prefixIndex, key, filePath })
      if (options.storage) await options.storage.put(bucket, `${prefix}/${key}`, filePath)
      return key
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
