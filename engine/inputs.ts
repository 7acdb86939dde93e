/**
 * Generates benchmark inputs and uploads them to storage, once.
 *
 * A benchmark's `generateInput` makes its data files (deterministically, into
 * the data directory) and calls `upload` for each; uploads are skipped when the
 * same content (by SHA-256) is already in the bucket, so a second run
 * re-uploads nothing. A manifest per benchmark and size records what was
 * uploaded (for `sebs inputs`).
 */
import { createHash } from 'node:crypto'
import { createReadStream, existsSync } from 'node:fs'
import { mkdir, readFile, rename, stat as statFile, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { BenchmarkInputModule, GenerateInputContext } from '../core/benchmark-input.ts'
import { BenchmarkError, SebsError, errorMessage } from '../core/errors.ts'
import { createLogger, formatDuration, type Logger } from '../core/logger.ts'
import { startProgress, withProgress, type ProgressStep } from '../core/progress.ts'
import type { BenchmarkDefinition, Size } from '../core/types.ts'
import type { NoSqlStorage, ObjectStorage } from '../providers/types.ts'
import { loadPythonInputModule } from './python-bridge.ts'
import { inputPython, missingModuleError } from './python-env.ts'

export function benchmarkDataDir(dataRoot: string, bench: BenchmarkDefinition): string {
  return join(dataRoot, bench.group, bench.id)
}

export function inputPrefixes(bench: BenchmarkDefinition, count: number, kind: 'input' | 'output'): string[] {
  return Array.from({ length: count }, (_, i) => `${bench.id}-${i}-${kind}`)
}

/**
 * Where Vitest's module runner is handed to us: the global setup stores
 * `project.import`, and each generated suite (code that Vitest itself
 * transforms) stores a function around its own `import()`. A symbol on
 * globalThis because the suite's code and this module are loaded by
 * different loaders.
 */
export const MODULE_IMPORTER = Symbol.for('serverless-benchmarks.import-module')

type ModuleImporter = (file: string) => Promise<unknown>

/** Registers how TypeScript modules are imported in this process (Vitest's module runner). */
export function setModuleImporter(importer: ModuleImporter): void {
  ;(globalThis as Record<symbol, unknown>)[MODULE_IMPORTER] = importer
}

/**
 * Imports a benchmark's input module. A user's `input.ts` needs TypeScript:
 * from the built package (in node_modules) a plain `import()` is Node's own,
 * which loads no TypeScript on Node 20 and none under node_modules on any
 * version, so TypeScript goes through Vitest's module runner when one was
 * registered. JavaScript modules (the built-in benchmarks' compiled input.js)
 * are imported directly.
 */
async function importInputModule(file: string): Promise<unknown> {
  const importer = (globalThis as Record<symbol, unknown>)[MODULE_IMPORTER] as ModuleImporter | undefined
  if (/\.[cm]?ts$/.test(file) && importer) return importer(file)
  return import(/* @vite-ignore */ pathToFileURL(file).href)
}

/** How an input module is loaded. */
export interface LoadInputOptions {
  /** The base Python interpreter (config `runtimes.python`). */
  python: string
  /**
   * The cache folder: with it, `input.py` runs in the managed environment
   * (python-env.ts, created on first use); without it, with `python` as it is.
   */
  cacheDir?: string
  logger?: Logger
  /** Retry packages the environment could not install before (`--force`). */
  force?: boolean
}

/** Loads `input.ts`, or SeBS's `input.py` through the Python bridge (in its managed environment when `cacheDir` is given). */
export async function loadInputModule(bench: Pick<BenchmarkDefinition, 'id' | 'dir' | 'input'>, options: LoadInputOptions): Promise<BenchmarkInputModule> {
  if (bench.input.kind === 'py') {
    if (options.cacheDir === undefined) return loadPythonInputModule(bench, { python: options.python })
    // Without a logger of its own (a bench worker validating outputs) the main process has said everything already.
    const quiet = createLogger('sebs').child('python-env')
    const logger = options.logger ?? { ...quiet, warn: (m: string) => quiet.debug(m), info: (m: string) => quiet.debug(m) }
    const env = await inputPython(bench.input.path, { python: options.python, cacheDir: options.cacheDir, logger, force: options.force })
    return loadPythonInputModule(bench, {
      python: env.python,
      explainMissingModule: (module) => missingModuleError(bench.input.path, module, env),
    })
  }
  let mod: Partial<BenchmarkInputModule>
  try {
    mod = (await importInputModule(bench.input.path)) as Partial<BenchmarkInputModule>
  } catch (cause) {
    throw new BenchmarkError('BENCHMARK_LAYOUT_INVALID', bench.input.path, `cannot be loaded: ${errorMessage(cause)}`, { cause })
  }
  if (typeof mod.generateInput !== 'function') {
    throw new BenchmarkError('BENCHMARK_LAYOUT_INVALID', bench.input.path, `must export a function generateInput(ctx).`)
  }
  return mod as BenchmarkInputModule
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await mkdir(dirname(file), { recursive: true })
  const tmp = `${file}.tmp-${process.pid}`
  await writeFile(tmp, JSON.stringify(value, null, 2))
  await rename(tmp, file)
}

async function readJson<T>(file: string): Promise<T | undefined> {
  if (!existsSync(file)) return undefined
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T
  } catch {
    return undefined // a damaged cache entry is just a miss
  }
}

interface UploadCache {
  /** object key → content hash and size of what was uploaded there */
  objects: Record<string, { sha256: string; size: number }>
}

export interface InputManifest {
  benchmark: string
  size: Size
  dataDir: string
  generatedAt: string
  storage?: string
  files: Array<{ key: string; path: string; bytes: number }>
  event: Record<string, unknown>
}

export interface PrepareInputsContext {
  dataRoot: string
  cacheDir: string
  logger: Logger
  python: string
  /** Identifies the store the cache entries are valid for (`<provider>:<bucket>`). */
  storageIdentity?: string
  storage?: ObjectStorage
  nosql?: NoSqlStorage
  /** Base URL of a file server that serves the data root (120.uploader). */
  fileServerUrl?: string
  force?: boolean
  /** Heartbeat interval of the progress lines (default HEARTBEAT_MS, 5 s). */
  heartbeatMs?: number
}

export function manifestPath(cacheDir: string, benchmark: string, size: Size): string {
  return join(cacheDir, 'inputs', 'manifests', benchmark, `${size}.json`)
}

/** Generates (and uploads) the input of one benchmark for one size; returns the event. */
export async function prepareInput(
  bench: BenchmarkDefinition,
  size: Size,
  mod: BenchmarkInputModule,
  ctx: PrepareInputsContext,
  step?: ProgressStep,
  tasks?: { active: number },
): Promise<{ event: Record<string, unknown>; uploaded: number; cached: number; bytes: number; uploadMs: number }> {
  const [nIn, nOut] = mod.bucketsCount?.() ?? [0, 0]
  const dataDir = benchmarkDataDir(ctx.dataRoot, bench)
  await mkdir(dataDir, { recursive: true })
  const storage = ctx.storage
  if ((nIn > 0 || nOut > 0) && !storage) {
    throw new SebsError('STORAGE_FAILED', `${bench.id} needs object storage (bucketsCount ${nIn},${nOut}) but the provider has none.`)
  }
  const cacheFile = join(ctx.cacheDir, 'inputs', 'uploads', (ctx.storageIdentity ?? 'none').replace(/[^a-zA-Z0-9._-]/g, '_'), `${bench.id}.json`)
  const cache: UploadCache = (await readJson<UploadCache>(cacheFile)) ?? { objects: {} }
  const bucket = storage?.connection.bucket ?? ''
  const inputs = inputPrefixes(bench, nIn, 'input')
  const outputs = inputPrefixes(bench, nOut, 'output')
  const files: InputManifest['files'] = []
  let uploaded = 0
  let cached = 0
  let bytes = 0
  // Upload time on its own: generators call upload() between their own (often longer) work.
  let uploadMs = 0

  const upload = async (prefixIndex: number, key: string, filePath: string): Promise<string> => {
    if (!storage) throw new SebsError('STORAGE_FAILED', `${bench.id}: upload called but no storage is configured.`)
    const prefix = inputs[prefixIndex]
    if (prefix === undefined) {
      throw new BenchmarkError('INPUT_GENERATION_FAILED', bench.input.path, `upload to input prefix ${prefixIndex}, but bucketsCount() declares ${nIn} input prefix(es).`)
    }
    const objectKey = `${prefix}/${key}`
    const sha256 = await sha256File(filePath)
    const known = cache.objects[objectKey]
    let size = 0
    if (!ctx.force && known && known.sha256 === sha256) {
      const stat = await storage.stat(bucket, objectKey)
      if (stat && stat.size === known.size) {
        cached++
        size = known.size
      }
    }
    if (size === 0 || ctx.force) {
      const uploadStarted = Date.now()
      step?.update(`uploading ${objectKey} (${formatBytesMb((await statFile(filePath)).size)})`)
      await storage.upload(bucket, objectKey, filePath)
      uploadMs += Date.now() - uploadStarted
      const stat = await storage.stat(bucket, objectKey)
      size = stat?.size ?? 0
      cache.objects[objectKey] = { sha256, size }
      uploaded++
    }
    bytes += size
    files.push({ key: objectKey, path: filePath, bytes: size })
    return objectKey
  }

  const tables = mod.allocateNosql?.() ?? {}
  const physical = new Map<string, string>()
  const nosql = ctx.nosql
    ? async (table: string, data: Record<string, unknown>, pk: [string, string], sk?: [string, string]) => {
        let name = physical.get(table)
        if (!name) {
          const spec = tables[table] ?? { primaryKey: pk[0], secondaryKey: sk?.[0] }
          name = await ctx.nosql!.createTable(bench.id, table, spec.primaryKey, spec.secondaryKey)
          physical.set(table, name)
        }
        await ctx.nosql!.insert(name, pk, sk, data)
      }
    : undefined

  const genCtx: GenerateInputContext = {
    dataDir,
    size,
    bucket,
    inputPrefixes: inputs,
    outputPrefixes: outputs,
    upload,
    nosql,
    fileServerUrl: ctx.fileServerUrl ? `${ctx.fileServerUrl}/${bench.group}/${bench.id}` : undefined,
    task: async (label, work) => {
      // The sub-step beats for the whole step while it runs: one heartbeat line at a time.
      if (tasks) tasks.active++
      try {
        return await withProgress(ctx.logger, `inputs ${bench.id} (${size}): ${label}`, (sub) => work((detail) => sub.update(detail)), undefined, {
          heartbeatMs: ctx.heartbeatMs,
        })
      } finally {
        if (tasks) tasks.active--
      }
    },
  }
  let event: Record<string, unknown>
  try {
    event = await mod.generateInput(genCtx)
  } catch (cause) {
    if (cause instanceof SebsError) throw cause
    throw new BenchmarkError('INPUT_GENERATION_FAILED', bench.input.path, `generateInput failed for size '${size}': ${errorMessage(cause)}`, { cause })
  }
  if (!event || typeof event !== 'object') {
    throw new BenchmarkError('INPUT_GENERATION_FAILED', bench.input.path, `generateInput must return an object (the event), got ${typeof event}.`)
  }
  await writeJsonAtomic(cacheFile, cache)
  const manifest: InputManifest = {
    benchmark: bench.id,
    size,
    dataDir,
    generatedAt: new Date().toISOString(),
    storage: ctx.storageIdentity,
    files,
    event,
  }
  await writeJsonAtomic(manifestPath(ctx.cacheDir, bench.id, size), manifest)
  return { event, uploaded, cached, bytes, uploadMs }
}

function formatBytesMb(n: number): string {
  return `${(n / 1e6).toFixed(1)} MB`
}

/** Prepares every size of a benchmark with progress lines. */
export async function prepareBenchmarkInputs(
  bench: BenchmarkDefinition,
  sizes: Size[],
  ctx: PrepareInputsContext,
  loaded?: BenchmarkInputModule,
): Promise<Map<Size, Record<string, unknown>>> {
  const mod = loaded ?? (await loadInputModule(bench, { python: ctx.python, cacheDir: ctx.cacheDir, logger: ctx.logger, force: ctx.force }))
  const events = new Map<Size, Record<string, unknown>>()
  for (const size of sizes) {
    // Not announced up front (cached inputs take milliseconds); a generation that runs longer
    // than a heartbeat says so, and its sub-steps (ctx.task) announce themselves.
    const tasks = { active: 0 }
    const step = startProgress(ctx.logger, `inputs ${bench.id} (${size})`, { quietStart: true, heartbeatMs: ctx.heartbeatMs, muted: () => tasks.active > 0 })
    let result: Awaited<ReturnType<typeof prepareInput>>
    try {
      result = await prepareInput(bench, size, mod, ctx, step, tasks)
    } finally {
      step.stop()
    }
    const { event, uploaded, cached, bytes, uploadMs } = result
    const totalMs = step.elapsedMs()
    events.set(size, event)
    const mb = (bytes / 1e6).toFixed(1)
    // Generation and upload timed apart: 411's first run spends minutes installing torch and seconds uploading.
    const generation = totalMs - uploadMs >= 1000 ? `; generated in ${formatDuration(totalMs - uploadMs)}` : ''
    if (uploaded === 0 && cached > 0) ctx.logger.info(`inputs ${bench.id} (${size}): ${cached} object(s), ${mb} MB cached${generation}`)
    else if (uploaded > 0) {
      ctx.logger.info(
        `inputs ${bench.id} (${size}): uploaded ${uploaded} object(s)${cached ? `, ${cached} cached` : ''}, ${mb} MB in ${formatDuration(uploadMs)}${generation}`,
      )
    } else ctx.logger.debug(`inputs ${bench.id} (${size}): no objects`)
  }
  return events
}
