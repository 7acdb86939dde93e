/**
 * Runs SeBS-format `input.py` files (`buckets_count`, `allocate_nosql`,
 * `generate_input`, `validate_output`) through a Python child process
 * (`python-bridge.py`), so that a benchmark directory in SeBS's own format
 * runs unchanged.
 *
 * One bridge process per loaded module, speaking line-delimited JSON on its
 * stdin/stdout (the Python side moves input.py's own stdout to stderr first).
 * Calls go one at a time; while one runs, Python may call back into Node:
 * `upload` / `nosql` (generate_input) and `download` / `download_stream`
 * (the `storage` argument of validate_output). Every call has a timeout; the
 * process is idle-unreferenced (it never keeps Node alive), restarted after a
 * crash or timeout, and killed by `close()` or when Node exits.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type {
  BenchmarkInputModule,
  GenerateInputContext,
  NosqlTableSpec,
  ValidateOutputContext,
} from '../core/benchmark-input.ts'
import { BenchmarkError, SebsError, errorMessage } from '../core/errors.ts'
import { tailLines } from '../core/format.ts'
import { createLogger, type Logger } from '../core/logger.ts'
import type { BenchmarkDefinition } from '../core/types.ts'

/** The Python half of the bridge (standard library only). */
export const PYTHON_BRIDGE_SCRIPT = fileURLToPath(new URL('./python-bridge.py', import.meta.url))

/** Where SeBS clones its data repository (spcl/serverless-benchmarks-data). */
export const SEBS_DEFAULT_DATA_ROOT = '~/.sebs/benchmarks-data'

export interface PythonBridgeTimeouts {
  /** Starting Python and importing input.py. */
  startMs: number
  /** buckets_count + allocate_nosql at load time. */
  describeMs: number
  /** One generate_input call, uploads included. */
  generateInputMs: number
  /** One validate_output call, downloads included. */
  validateOutputMs: number
}

export const DEFAULT_PYTHON_BRIDGE_TIMEOUTS: PythonBridgeTimeouts = {
  startMs: 60_000,
  describeMs: 60_000,
  generateInputMs: 10 * 60_000,
  validateOutputMs: 5 * 60_000,
}

export interface PythonInputModuleOptions {
  /** Python interpreter (config `runtimes.python`). */
  python: string
  timeouts?: Partial<PythonBridgeTimeouts>
  logger?: Logger
  /**
   * Explains an `import` that failed for want of a module (ModuleNotFoundError)
   * when the interpreter's environment knows why (python-env.ts: a package
   * that could not be installed, or one input.py never declared).
   */
  explainMissingModule?: (module: string) => SebsError | undefined
}

/** A loaded `input.py`: the harness's input-module contract plus process control. */
export interface PythonInputModule extends BenchmarkInputModule {
  generateInput(ctx: GenerateInputContext): Promise<Record<string, unknown>>
  validateOutput?: (ctx: ValidateOutputContext) => Promise<string | undefined>
  /** Stops the bridge process (idempotent). A later call starts a new one. */
  close(): Promise<void>
  /** Pid of the running bridge process, if one runs. */
  readonly pid: number | undefined
}

/** What a Python exception looks like on the wire. */
interface PythonError {
  type: string
  message: string
  traceback: string
  callbackFailed?: boolean
  filename?: string
  dataDirState?: 'missing' | 'empty' | 'present'
}

interface ReadyMessage {
  type: 'ready'
  pid: number
  python: string
  functions: Record<'buckets_count' | 'allocate_nosql' | 'generate_input' | 'validate_output', boolean>
}

type CallbackHandler = (params: Record<string, unknown>) => Promise<unknown>

/** The environment's explanation of a ModuleNotFoundError, with Python's traceback appended; undefined for other errors. */
function explainImport(error: PythonError, explain: ((module: string) => SebsError | undefined) | undefined): SebsError | undefined {
  if (error.type !== 'ModuleNotFoundError' || !explain) return undefined
  const module = /No module named '([^']+)'/.exec(error.message)?.[1]
  const ours = module ? explain(module) : undefined
  if (!ours) return undefined
  ours.message += `\nPython said: ${error.type}: ${error.message}\n${tail(error.traceback, 8)}`
  return ours
}

/** A call that ended with a Python exception (the bridge itself is fine). */
class PythonCallError extends Error {
  constructor(
    readonly method: string,
    readonly python: PythonError,
    /** Errors thrown by our callbacks during the call, newest last. */
    readonly callbackErrors: unknown[],
  ) {
    super(`${python.type}: ${python.message}`)
    this.name = 'PythonCallError'
  }
}

/** Node processes kill their bridges when they exit, whatever state those are in. */
const liveChildren = new Set<ChildProcess>()
let exitHookInstalled = false
function trackChild(child: ChildProcess): void {
  liveChildren.add(child)
  if (!exitHookInstalled) {
    exitHookInstalled = true
    process.once('exit', () => {
      for (const c of liveChildren) c.kill('SIGKILL')
    })
  }
}

const STDERR_TAIL_LINES = 60

/** The last lines of a traceback, for error messages. */
const tail = (text: string, n = 25): string => tailLines(text, n, '  …')

function isInside(file: string, dir: string): boolean {
  const rel = relative(dir, file)
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))
}

/** One `python-bridge.py` process and the call in flight. */
class BridgeProcess {
  private child: ChildProcess | undefined
  private ready: Promise<ReadyMessage> | undefined
  private nextId = 1
  private queue: Promise<unknown> = Promise.resolve()
  private stderrTail: string[] = []
  private pending:
    | {
        id: number
        method: string
        handlers: Record<string, CallbackHandler>
        callbackErrors: unknown[]
        resolve: (value: unknown) => void
        reject: (err: unknown) => void
      }
    | undefined

  constructor(
    private readonly inputPath: string,
    private readonly python: string,
    private readonly logger: Logger,
    private readonly timeouts: PythonBridgeTimeouts,
    private readonly explainMissingModule?: (module: string) => SebsError | undefined,
  ) {}

  get pid(): number | undefined {
    return this.child?.exitCode === null && this.child.signalCode === null ? this.child.pid : undefined
  }

  /** Starts the process if none runs; resolves once input.py is imported. */
  start(): Promise<ReadyMessage> {
    this.ready ??= this.spawnProcess()
    return this.ready
  }

  private spawnProcess(): Promise<ReadyMessage> {
    return new Promise<ReadyMessage>((resolveReady, rejectReady) => {
      let settled = false
      let fatal: PythonError | undefined
      const child = spawn(this.python, [PYTHON_BRIDGE_SCRIPT, this.inputPath], {
        // The harness's working directory, as SeBS runs input.py inside its own process.
        stdio: ['pipe', 'pipe', 'pipe'],
        // Unbuffered, so that a crash still shows input.py's last prints.
        env: { ...process.env, PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1' },
      })
      this.child = child
      this.stderrTail = []
      trackChild(child)
      const timer = setTimeout(() => {
        fail(
          new BenchmarkError(
            'TIMEOUT',
            this.inputPath,
            `the Python bridge did not start within ${this.timeouts.startMs / 1000} s (importing input.py with ${this.python}).${this.stderrNote()}`,
          ),
        )
        child.kill('SIGKILL')
      }, this.timeouts.startMs)
      const fail = (err: unknown) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        this.ready = undefined
        rejectReady(err)
      }

      child.on('error', (err: NodeJS.ErrnoException) => {
        liveChildren.delete(child)
        if (err.code === 'ENOENT') {
          fail(
            new SebsError(
              'TOOL_MISSING',
              `Python interpreter '${this.python}' not found, needed to run ${this.inputPath} (a SeBS-format benchmark). Install Python 3 or set runtimes.python in sebs.config.ts.`,
              { cause: err },
            ),
          )
        } else fail(new BenchmarkError('INPUT_GENERATION_FAILED', this.inputPath, `cannot start the Python bridge: ${err.message}`, { cause: err }))
      })
      // A write to a process that just died must not crash Node; the exit handler reports it.
      child.stdin!.on('error', (err) => this.logger.debug(`stdin of ${this.inputPath}: ${err.message}`))

      createInterface({ input: child.stderr!, crlfDelay: Infinity }).on('line', (line) => {
        this.stderrTail.push(line)
        if (this.stderrTail.length > STDERR_TAIL_LINES) this.stderrTail.shift()
        this.logger.debug(`${basename(dirname(this.inputPath))}: ${line}`)
      })

      createInterface({ input: child.stdout!, crlfDelay: Infinity }).on('line', (line) => {
        let message: { type?: string; [key: string]: unknown }
        try {
          message = JSON.parse(line) as typeof message
        } catch {
          // Only the bridge writes here; anything else is noise, never protocol.
          this.logger.debug(`ignoring non-protocol output from ${this.inputPath}: ${line.slice(0, 200)}`)
          return
        }
        if (message.type === 'ready') {
          if (settled) return
          settled = true
          clearTimeout(timer)
          this.setIdle(true)
          resolveReady(message as unknown as ReadyMessage)
        } else if (message.type === 'fatal') {
          fatal = message.error as PythonError
        } else this.onMessage(message)
      })

      child.on('exit', (code, signal) => {
        liveChildren.delete(child)
        if (this.child === child) {
          this.child = undefined
          this.ready = undefined
        }
        const how = signal ? `was killed by ${signal}` : `exited with code ${code}`
        if (!settled) {
          fail(
            (fatal && explainImport(fatal, this.explainMissingModule)) ??
            (fatal
              ? new BenchmarkError(
                  'BENCHMARK_LAYOUT_INVALID',
                  this.inputPath,
                  `cannot be imported: ${fatal.type}: ${fatal.message}\n${tail(fatal.traceback)}`,
                )
              : new BenchmarkError('INPUT_GENERATION_FAILED', this.inputPath, `the Python bridge ${how} before it was ready.${this.stderrNote()}`)),
          )
        }
        const pending = this.pending
        if (pending) {
          this.pending = undefined
          pending.reject(
            new BenchmarkError('INPUT_GENERATION_FAILED', this.inputPath, `the Python bridge ${how} during ${pending.method}.${this.stderrNote()}`),
          )
        }
      })
    })
  }

  private stderrNote(): string {
    return this.stderrTail.length ? `\nPython stderr (last lines):\n${this.stderrTail.slice(-20).join('\n')}` : ''
  }

  /** An idle bridge must not keep Node alive; a busy one must. */
  private setIdle(idle: boolean): void {
    const child = this.child
    if (!child) return
    const streams = [child.stdin, child.stdout, child.stderr] as unknown as Array<{ ref?: () => void; unref?: () => void } | null>
    if (idle) {
      child.unref()
      for (const s of streams) s?.unref?.()
    } else {
      child.ref()
      for (const s of streams) s?.ref?.()
    }
  }

  private send(message: unknown): void {
    this.child?.stdin?.write(JSON.stringify(message) + '\n')
  }

  private onMessage(message: { type?: string; [key: string]: unknown }): void {
    const pending = this.pending
    if (message.type === 'callback') {
      const id = message.id as number
      if (!pending || message.call !== pending.id) {
        this.send({ type: 'callback_result', id, error: 'no call is in progress' })
        return
      }
      const method = String(message.method)
      const handler = pending.handlers[method]
      const run = handler
        ? handler((message.params ?? {}) as Record<string, unknown>)
        : Promise.reject(new Error(`callback '${method}' is not available during ${pending.method}`))
      run.then(
        (value) => this.send({ type: 'callback_result', id, value: value ?? null }),
        (err: unknown) => {
          pending.callbackErrors.push(err)
          this.send({ type: 'callback_result', id, error: errorMessage(err) })
        },
      )
      return
    }
    if ((message.type === 'result' || message.type === 'error') && pending && message.id === pending.id) {
      this.pending = undefined
      if (message.type === 'result') pending.resolve(message.value)
      else pending.reject(new PythonCallError(pending.method, message.error as PythonError, pending.callbackErrors))
      return
    }
    this.logger.debug(`ignoring unexpected bridge message from ${this.inputPath}: ${JSON.stringify(message).slice(0, 200)}`)
  }

  /** Runs one call (after the ones before it); rejects with PythonCallError on a Python exception. */
  call<T>(method: string, params: Record<string, unknown>, timeoutMs: number, handlers: Record<string, CallbackHandler> = {}): Promise<T> {
    const run = async (): Promise<T> => {
      await this.start()
      const child = this.child
      if (!child) throw new BenchmarkError('INPUT_GENERATION_FAILED', this.inputPath, `the Python bridge stopped before ${method}.${this.stderrNote()}`)
      this.setIdle(false)
      const id = this.nextId++
      let timer: NodeJS.Timeout | undefined
      try {
        return await new Promise<T>((resolveCall, rejectCall) => {
          this.pending = { id, method, handlers, callbackErrors: [], resolve: resolveCall as (v: unknown) => void, reject: rejectCall }
          timer = setTimeout(() => {
            if (this.pending?.id !== id) return
            this.pending = undefined
            rejectCall(
              new BenchmarkError(
                'TIMEOUT',
                this.inputPath,
                `${method} did not finish within ${Math.round(timeoutMs / 1000)} s; the Python bridge was stopped.${this.stderrNote()}`,
              ),
            )
            // Its state is unknown now: the next call starts a fresh process.
            child.kill('SIGKILL')
          }, timeoutMs)
          this.send({ type: 'call', id, method, params })
        })
      } finally {
        clearTimeout(timer)
        this.setIdle(true)
      }
    }
    const result = this.queue.then(run, run)
    this.queue = result.catch(() => undefined)
    return result
  }

  /**
   * Asks the process to exit and kills it after a grace period; resolves once
   * it is gone. A call still running fails (the exit handler rejects it).
   */
  async close(graceMs = 2_000): Promise<void> {
    const child = this.child
    this.ready = undefined
    if (!child || child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()))
    this.send({ type: 'shutdown' })
    child.stdin?.end()
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
    await exited
    clearTimeout(timer)
  }
}

function parseBucketsCount(value: unknown, path: string): [number, number] {
  if (Array.isArray(value) && value.length === 2 && value.every((n) => Number.isInteger(n) && (n as number) >= 0)) {
    return [value[0] as number, value[1] as number]
  }
  throw new BenchmarkError('BENCHMARK_LAYOUT_INVALID', path, `buckets_count() must return (n_input, n_output), got ${JSON.stringify(value)}.`)
}

/** SeBS's `{table: {primary_key, secondary_key}}` → ours. */
function parseNosqlTables(value: unknown, path: string): Record<string, NosqlTableSpec> {
  const bad = (why: string) =>
    new BenchmarkError('BENCHMARK_LAYOUT_INVALID', path, `allocate_nosql() must return {table: {"primary_key": str, "secondary_key": str}}: ${why}.`)
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw bad(`got ${JSON.stringify(value)}`)
  const out: Record<string, NosqlTableSpec> = {}
  for (const [table, spec] of Object.entries(value as Record<string, unknown>)) {
    const s = spec as { primary_key?: unknown; secondary_key?: unknown } | null
    if (!s || typeof s !== 'object' || typeof s.primary_key !== 'string') throw bad(`table '${table}' has no primary_key`)
    if (s.secondary_key !== undefined && s.secondary_key !== null && typeof s.secondary_key !== 'string') {
      throw bad(`table '${table}' has a secondary_key that is not a string`)
    }
    out[table] = { primaryKey: s.primary_key, ...(typeof s.secondary_key === 'string' ? { secondaryKey: s.secondary_key } : {}) }
  }
  return out
}

function keyPair(value: unknown, what: string): [string, string] {
  if (!Array.isArray(value) || value.length !== 2 || typeof value[0] !== 'string' || value[1] === null || value[1] === undefined) {
    throw new Error(`nosql_func: ${what} must be a (name, value) pair, got ${JSON.stringify(value)}`)
  }
  return [value[0], String(value[1])]
}

/** A Python exception during a call, as the error the harness reports. */
function callFailure(
  bench: Pick<BenchmarkDefinition, 'id' | 'input'>,
  err: unknown,
  what: string,
  explain?: (module: string) => SebsError | undefined,
): unknown {
  if (!(err instanceof PythonCallError)) return err
  // A failing upload/nosql callback keeps its own error (and code): Python only passed it through.
  const ours = err.callbackErrors.at(-1)
  if (err.python.callbackFailed && ours !== undefined) return ours
  const missing = explainImport(err.python, explain)
  if (missing) return missing
  return new BenchmarkError(
    'INPUT_GENERATION_FAILED',
    bench.input.path,
    `${what} raised ${err.python.type}: ${err.python.message}\n${tail(err.python.traceback)}`,
    { cause: err },
  )
}

/** Exceptions a generator raises when the files it looks for are absent (an empty glob indexed or iterated). */
const DATA_LOOKUP_ERRORS = new Set(['FileNotFoundError', 'NotADirectoryError', 'UnboundLocalError', 'NameError', 'IndexError', 'StopIteration'])

function dataMissingError(bench: Pick<BenchmarkDefinition, 'id' | 'input'>, err: PythonCallError, dataDir: string, dataRoot: string): BenchmarkError {
  const group = basename(dirname(dataDir))
  const sebsDefault = join(homedir(), '.sebs', 'benchmarks-data')
  const state = err.python.dataDirState === 'missing' ? 'does not exist' : err.python.dataDirState === 'empty' ? 'is empty' : 'lacks a file it needs'
  const hint = existsSync(join(sebsDefault, group, bench.id))
    ? ` ${join(sebsDefault, group, bench.id)} exists on this machine: run with --data-dir ${sebsDefault}.`
    : ` SeBS keeps benchmark data in ${SEBS_DEFAULT_DATA_ROOT} (a clone of https://github.com/spcl/serverless-benchmarks-data); clone it there and run with --data-dir ${SEBS_DEFAULT_DATA_ROOT}, or point --data-dir at a folder laid out as <root>/${group}/${bench.id}/.`
  return new BenchmarkError(
    'BENCHMARK_DATA_MISSING',
    bench.input.path,
    `generate_input found no data for ${bench.id}: ${dataDir} ${state} (data root ${dataRoot}).${hint}\nPython said: ${err.python.type}: ${err.python.message}\n${tail(err.python.traceback, 8)}`,
    { cause: err },
  )
}

/**
 * Loads a SeBS-format `input.py` through the Python bridge. `buckets_count()`
 * and `allocate_nosql()` run once, now, and are served from memory; every
 * `generateInput` / `validateOutput` is a call into the same Python process.
 * Call `close()` when done (an idle bridge never keeps Node alive, and it is
 * killed when Node exits).
 */
export async function loadPythonInputModule(
  bench: Pick<BenchmarkDefinition, 'id' | 'dir' | 'input'>,
  options: PythonInputModuleOptions,
): Promise<PythonInputModule> {
  const path = bench.input.path
  const timeouts = { ...DEFAULT_PYTHON_BRIDGE_TIMEOUTS, ...options.timeouts }
  const logger = options.logger ?? createLogger('sebs').child('python-bridge')
  const bridge = new BridgeProcess(path, options.python, logger, timeouts, options.explainMissingModule)

  let ready: ReadyMessage
  let described: { bucketsCount: unknown; nosql: unknown }
  try {
    ready = await bridge.start()
    if (!ready.functions.generate_input) {
      throw new BenchmarkError(
        'BENCHMARK_LAYOUT_INVALID',
        path,
        'defines no generate_input(data_dir, size, benchmarks_bucket, input_paths, output_paths, upload_func, nosql_func).',
      )
    }
    described = await bridge.call('describe', {}, timeouts.describeMs)
  } catch (err) {
    await bridge.close()
    throw callFailure(bench, err, 'buckets_count()/allocate_nosql()', options.explainMissingModule)
  }
  logger.debug(`loaded ${path} (python ${ready.python}, pid ${ready.pid})`)
  const bucketsCount = described.bucketsCount === null ? undefined : parseBucketsCount(described.bucketsCount, path)
  const tables = described.nosql === null ? undefined : parseNosqlTables(described.nosql, path)

  const module: PythonInputModule = {
    get pid() {
      return bridge.pid
    },
    close: () => bridge.close(),

    async generateInput(ctx: GenerateInputContext): Promise<Record<string, unknown>> {
      const dataDir = resolve(ctx.dataDir)
      // ctx.dataDir is <dataRoot>/<N00.group>/<NNN.name>.
      const dataRoot = dirname(dirname(dataDir))
      const handlers: Record<string, CallbackHandler> = {
        upload: async (p) => {
          const index = p.prefix_idx
          if (!Number.isInteger(index)) throw new Error(`upload_func: prefix_idx must be an integer, got ${JSON.stringify(index)}`)
          return ctx.upload(index as number, String(p.key), String(p.filepath))
        },
        nosql: async (p) => {
          if (!ctx.nosql) {
            throw new SebsError(
              'NOT_SUPPORTED',
              `${path}: generate_input called nosql_func, but this run has no NoSQL storage: add "nosql" to the modules in config.json (or define allocate_nosql()) so that the harness starts one.`,
            )
          }
          const secondary = p.secondary_key === null || p.secondary_key === undefined ? undefined : keyPair(p.secondary_key, 'the secondary key')
          const data = p.data
          if (!data || typeof data !== 'object' || Array.isArray(data)) throw new Error(`nosql_func: data must be a dict, got ${JSON.stringify(data)}`)
          await ctx.nosql(String(p.table), data as Record<string, unknown>, keyPair(p.primary_key, 'the primary key'), secondary)
          return null
        },
      }
      try {
        return await bridge.call<Record<string, unknown>>(
          'generate_input',
          {
            data_dir: dataDir,
            data_root: dataRoot,
            size: ctx.size,
            bucket: ctx.bucket,
            input_paths: ctx.inputPrefixes,
            output_paths: ctx.outputPrefixes,
          },
          timeouts.generateInputMs,
          handlers,
        )
      } catch (err) {
        if (err instanceof PythonCallError && !(err.python.callbackFailed && err.callbackErrors.length > 0)) {
          const py = err.python
          const notFoundInData = py.type === 'FileNotFoundError' && (py.filename === undefined || isInside(py.filename, dataRoot))
          // Missing data only when the exception is what looking for absent files gives
          // (SeBS's generators glob the folder and index or use the result); any other
          // exception is the generator's own and is reported as it is.
          const lookedForNothing = (py.dataDirState === 'missing' || py.dataDirState === 'empty') && DATA_LOOKUP_ERRORS.has(py.type)
          if (lookedForNothing || notFoundInData) throw dataMissingError(bench, err, dataDir, dataRoot)
        }
        throw callFailure(bench, err, `generate_input (size '${ctx.size}')`, options.explainMissingModule)
      }
    },
  }
  if (bucketsCount) module.bucketsCount = () => [bucketsCount[0], bucketsCount[1]]
  if (tables) module.allocateNosql = () => structuredClone(tables)

  if (ready.functions.validate_output) {
    module.validateOutput = async (ctx: ValidateOutputContext): Promise<string | undefined> => {
      const download = ctx.download
      const handlers: Record<string, CallbackHandler> = download
        ? {
            download: async (p) => {
              const file = String(p.filepath)
              const data = await download(String(p.bucket), String(p.key))
              await mkdir(dirname(file), { recursive: true })
              await writeFile(file, data)
              return null
            },
            download_stream: async (p) => (await download(String(p.bucket), String(p.key))).toString('base64'),
          }
        : {}
      const measurement = (ctx as ValidateOutputContext & { measurement?: Record<string, unknown> }).measurement
      try {
        const verdict = await bridge.call<string | null>(
          'validate_output',
          {
            data_dir: resolve(ctx.dataDir),
            data_root: dirname(dirname(resolve(ctx.dataDir))),
            input_config: ctx.input,
            output: sebsOutput(ctx.output, measurement),
            language: ctx.language,
            has_storage: Boolean(download),
          },
          timeouts.validateOutputMs,
          handlers,
        )
        return verdict ?? undefined
      } catch (err) {
        if (!(err instanceof PythonCallError)) throw err
        return `validate_output raised: ${err.python.type}: ${err.python.message} (${path})\n${tail(err.python.traceback)}`
      }
    }
  }
  return module
}

/**
 * The `output` argument of a SeBS validator. SeBS's handlers return
 * `{result, measurement}`; v1.2.1's validators read `output['result']` (e.g.
 * 501's `output.get('result')` is the PageRank value), while validators
 * written against the AWS wrapper's body read `output['output']` (its
 * `{output: ret['result'], measurement}`, e.g. a 311 draft's
 * `output.get('output', {}).get('key')`). Both keys hold the handler's result.
 */
export function sebsOutput(result: unknown, measurement?: Record<string, unknown>): Record<string, unknown> {
  return { result, output: result, measurement: measurement ?? {} }
}
