/**
 * The local provider, the embedded default: functions run as local processes
 * (node, python3) behind an HTTP trigger on 127.0.0.1, object storage is an
 * embedded s3rver (or any S3/MinIO endpoint from config). No cloud account,
 * no Docker, no credentials. With `runtime: 'docker'` each instance is a
 * Docker container instead, with the function's memory as a hard limit.
 */
import { existsSync, statSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { z } from 'zod'
import { ConfigError, ProviderError, errorMessage } from '../../core/errors.ts'
import type { Logger } from '../../core/logger.ts'
import type { Language } from '../../core/types.ts'
import { WRAPPER_CORE } from '../packaging/wrapper-core/index.ts'
import type { DynaliteServer } from '../storage/nosql/dynalite-server.ts'
import { DYNAMODB_FUNCTION_NOSQL } from '../storage/nosql/wrappers/index.ts'
import { buildPackage } from '../packaging/package-builder.ts'
import type { RunningS3rver } from '../storage/s3rver-server.ts'
import { S3_FUNCTION_STORAGE } from '../storage/wrappers/s3/index.ts'
import type {
  BuildContext,
  CodePackage,
  DeployOptions,
  DeployedFunction,
  FunctionHandle,
  FunctionSpec,
  NoSqlConnection,
  NoSqlStorage,
  ObjectStorage,
  Provider,
  ProviderContext,
  StorageConnection,
  SweptResource,
} from '../types.ts'
// The Docker runtime and the sweeps are loaded on use: a process-runtime
// run does not need them, and every module loaded is start-up time.
import { dockerOptionsSchema } from './container/options.ts'
import type { Runtimes } from './instance.ts'
import { resolveInterpreter } from './interpreters.ts'
import { DEFAULT_START_TIMEOUT_MS, LocalFunction, type LocalHandleData } from './local-function.ts'
import { dynaliteDir, s3rverDir, safeSegment } from './paths.ts'

/** The single benchmarks bucket (SeBS: `sebs-benchmarks-<id>`). */
export const DEFAULT_LOCAL_BUCKET = 'sebs-benchmarks-local'

const WRAPPERS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'wrappers')

/** Files copied to the root of a local package, per language. */
export const LOCAL_WRAPPER_FILES: Record<Language, string[]> = {
  python: [join(WRAPPERS_DIR, 'python', 'handler.py'), WRAPPER_CORE.python, join(WRAPPERS_DIR, 'python', 'server.py')],
  // package.json marks the package CommonJS, whatever project the cache dir lives in.
  nodejs: [
    join(WRAPPERS_DIR, 'nodejs', 'handler.js'),
    WRAPPER_CORE.nodejs,
    join(WRAPPERS_DIR, 'nodejs', 'server.js'),
    join(WRAPPERS_DIR, 'nodejs', 'package.json'),
  ],
}

const SERVER_FILE: Record<Language, string> = { python: 'server.py', nodejs: 'server.js' }

const optionsSchema = z
  .object({
    /** Interpreters for instances (default: the build context's, else python3 and this Node). */
    runtimes: z.object({ python: z.string().min(1).optional(), node: z.string().min(1).optional() }).strict().optional(),
    /** An external S3/MinIO endpoint instead of the embedded s3rver. */
    storage: z
      .object({
        endpoint: z.string().min(1),
        accessKey: z.string().optional(),
        secretKey: z.string().optional(),
        region: z.string().optional(),
      })
      .strict()
      .optional(),
    /** An external DynamoDB-compatible endpoint instead of the embedded dynalite. */
    nosql: z
      .object({
        endpoint: z.string().min(1),
        accessKey: z.string().optional(),
        secretKey: z.string().optional(),
        region: z.string().optional(),
      })
      .strict()
      .optional(),
    bucket: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name: 3-63 lowercase letters, digits, dots and dashes')
      .optional(),
    /** Stop instances idle for longer than this (the eviction experiment); default: keep them. */
    keepAliveMs: z.number().positive().optional(),
    /** How long an instance may take to print SEBS_READY; default 30 s. */
    startTimeoutMs: z.number().positive().optional(),
    /** `process` (default): instances are child processes; `docker`: containers (needs a Docker engine). */
    runtime: z.enum(['process', 'docker']).optional(),
    /** Settings of the docker runtime: images, CPUs, /tmp size, pulling. */
    docker: dockerOptionsSchema.optional(),
  })
  .passthrough()

export type LocalProviderOptions = z.infer<typeof optionsSchema>

const KNOWN_OPTIONS = ['runtimes', 'storage', 'nosql', 'bucket', 'keepAliveMs', 'startTimeoutMs', 'runtime', 'docker']

/**
 * The environment a function needs to reach object storage; the function-side
 * storage modules read these names.
 */
export function storageEnv(connection: StorageConnection): Record<string, string> {
  const env: Record<string, string> = { SEBS_STORAGE_ENDPOINT: connection.endpoint }
  if (connection.accessKey !== undefined) env.SEBS_STORAGE_ACCESS_KEY = connection.accessKey
  if (connection.secretKey !== undefined) env.SEBS_STORAGE_SECRET_KEY = connection.secretKey
  env.SEBS_STORAGE_REGION = connection.region ?? 'us-east-1'
  return env
}

/** Both configured interpreters resolved; only the one a language needs must exist. */
async function resolveRuntimes(language: Language, runtimes: Runtimes): Promise<{ runtimes: Runtimes; version: string }> {
  const own = await resolveInterpreter(language, language === 'python' ? runtimes.python : runtimes.node)
  return {
    runtimes: language === 'python' ? { ...runtimes, python: own.executable } : { ...runtimes, node: own.executable },
    version: own.version,
  }
}

function hostArch(): 'x64' | 'arm64' | undefined {
  return process.arch === 'x64' || process.arch === 'arm64' ? process.arch : undefined
}

export class LocalProvider implements Provider {
  readonly name = 'local' as const
  readonly #ctx: ProviderContext
  readonly #options: LocalProviderOptions
  readonly #logger: Logger
  /** Interpreters a package was built with, by package path: deploy runs it with the same ones. */
  readonly #packageRuntimes = new Map<string, Runtimes>()
  readonly #functions = new Set<LocalFunction>()
  #storage: Promise<{ storage: ObjectStorage; server?: RunningS3rver }> | undefined
  #nosql: Promise<{ nosql: NoSqlStorage; server?: DynaliteServer }> | undefined

  constructor(ctx: ProviderContext) {
    this.#ctx = ctx
    this.#logger = ctx.logger.child('provider:local')
    const parsed = optionsSchema.safeParse(ctx.options ?? {})
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!
      throw new ConfigError(
        'CONFIG_INVALID',
        `local provider option '${issue.path.join('.') || '(root)'}': ${issue.message}. ` +
          `Known options: ${KNOWN_OPTIONS.join(', ')}.`,
      )
    }
    this.#options = parsed.data
    for (const key of Object.keys(parsed.data)) {
      if (!KNOWN_OPTIONS.includes(key)) this.#logger.debug(`option '${key}' is not used by the local provider itself`)
    }
  }

  async checkCredentials(): Promise<void> {
    // No credentials; but the docker runtime needs an engine, and that is
    // better said before anything is built.
    if (this.#options.runtime === 'docker') await (await import('./container/runtime.ts')).requireDockerRuntime('the local provider')
  }

  async package(spec: FunctionSpec, ctx: BuildContext): Promise<CodePackage> {
    const arch = hostArch()
    if (spec.arch !== arch) {
      throw new ConfigError(
        'NOT_SUPPORTED',
        `the local provider runs functions on this machine (${process.arch}), not on ${spec.arch}; ` +
          `drop the arch setting or set it to '${arch ?? process.arch}'.`,
      )
    }
    const language = spec.language
    const { runtimes, version: runtimeVersion } = await resolveRuntimes(language, this.#runtimes(ctx.runtimes))

    // Function-side modules only for what the benchmark declares (config.modules).
    const modules = [
      ...(spec.benchmark.config.modules.includes('storage') ? [S3_FUNCTION_STORAGE] : []),
      ...(spec.benchmark.config.modules.includes('nosql') ? [DYNAMODB_FUNCTION_NOSQL] : []),
    ]
    const built = await buildPackage(
      {
        benchmark: spec.benchmark,
        language,
        provider: 'local',
        arch: spec.arch,
        wrapperFiles: LOCAL_WRAPPER_FILES[language],
        functionModules: modules.map((m) => m[language].file),
        extraDependencies:
          modules.length === 0
            ? undefined
            : language === 'nodejs'
              ? { nodejs: Object.assign({}, ...modules.map((m) => m.nodejs.dependencies)) as Record<string, string> }
              : { python: [...new Set(modules.flatMap((m) => m.python.requirements))] },
        runtimeVersion,
      },
      // Installs run with the same interpreters the instances will use.
      { ...ctx, runtimes },
    )
    this.#packageRuntimes.set(built.dir, runtimes)
    return {
      provider: 'local',
      benchmark: spec.benchmark.id,
      language,
      arch: spec.arch,
      kind: 'directory',
      path: built.dir,
      sizeBytes: built.sizeBytes,
      hash: built.hash,
      cached: built.cached,
    }
  }

  async deploy(pkg: CodePackage, options: DeployOptions): Promise<DeployedFunction> {
    const what = `${pkg.benchmark} (${pkg.language})`
    if (pkg.provider !== 'local' || pkg.kind !== 'directory') {
      throw new ProviderError(
        'local',
        'DEPLOY_FAILED',
        `cannot deploy ${what}: the package is a ${pkg.provider} ${pkg.kind}; build it with the local provider's package()`,
      )
    }
    const server = join(pkg.path, SERVER_FILE[pkg.language])
    if (!existsSync(pkg.path) || !statSync(pkg.path).isDirectory() || !existsSync(server)) {
      throw new ProviderError(
        'local',
        'DEPLOY_FAILED',
        `cannot deploy ${what}: ${existsSync(pkg.path) ? `${server} is missing` : `package directory ${pkg.path} does not exist`}. ` +
          `Rebuild it (sebs package, or --force).`,
      )
    }
    if (!(options.timeout > 0) || !(options.memory > 0)) {
      throw new ProviderError(
        'local',
        'DEPLOY_FAILED',
        `cannot deploy ${what}: timeout (${options.timeout} s) and memory (${options.memory} MB) must be positive`,
      )
    }
    // Fail at deploy, not at every invocation, when the interpreter is missing.
    const { runtimes, version: runtimeVersion } = await resolveRuntimes(pkg.language, this.#packageRuntimes.get(pkg.path) ?? this.#runtimes())
    // The docker runtime: the engine and the image are checked here, once, not at every cold start.
    const docker =
      this.#options.runtime === 'docker'
        ? await (await import('./container/runtime.ts')).prepareDockerRuntime({
            what: what,
            language: pkg.language,
            command: pkg.language === 'python' ? runtimes.python : runtimes.node,
            runtimeVersion,
            docker: this.#options.docker ?? {},
            logger: this.#logger,
          })
        : undefined

    // A package with the storage (nosql) module gets the endpoint, whichever
    // order the harness starts storage and deploys in. NoSQL tables created
    // before the deploy are included; for tables created later the harness
    // passes nosqlEnv() through update({ env }).
    let providedEnv: Record<string, string> = {}
    const hasModule = (file: string): boolean => existsSync(join(pkg.path, 'function', basename(file)))
    if (hasModule(S3_FUNCTION_STORAGE[pkg.language].file)) {
      providedEnv = { ...providedEnv, ...storageEnv((await this.storage()).connection) }
    }
    if (hasModule(DYNAMODB_FUNCTION_NOSQL[pkg.language].file)) {
      const { nosqlEnv } = await import('../storage/nosql/dynamodb-nosql.ts')
      providedEnv = { ...providedEnv, ...nosqlEnv((await this.nosql()).connection) }
    }
    const env = { ...providedEnv, ...options.env }

    const data: LocalHandleData = {
      packageDir: pkg.path,
      packageSizeBytes: pkg.sizeBytes,
      language: pkg.language,
      runtimes,
      env,
      cacheDir: this.#ctx.cacheDir,
      ...(this.#options.keepAliveMs !== undefined ? { keepAliveMs: this.#options.keepAliveMs } : {}),
      startTimeoutMs: this.#options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS,
      ...(docker ? { runtime: 'docker' as const, docker } : {}),
    }
    const handle: FunctionHandle = {
      provider: 'local',
      name: `sebs-${safeSegment(options.runId)}-${pkg.benchmark}-${pkg.language}`,
      benchmark: pkg.benchmark,
      language: pkg.language,
      memory: options.memory,
      timeout: options.timeout,
      trigger: options.trigger,
      runId: options.runId,
      data: data as unknown as Record<string, unknown>,
    }
    this.#logger.debug(`deployed ${handle.name} from ${pkg.path}${docker ? ` in ${docker.image}` : ''}`)
    return this.connect(handle)
  }

  connect(handle: FunctionHandle): LocalFunction {
    const fn = new LocalFunction(handle, this.#logger, (closed) => this.#functions.delete(closed))
    this.#functions.add(fn)
    return fn
  }

  storage(): Promise<ObjectStorage> {
    this.#storage ??= this.#startStorage().catch((err: unknown) => {
      // Not cached: a later call may succeed (e.g. once the endpoint is up).
      this.#storage = undefined
      throw err
    })
    return this.#storage.then((s) => s.storage)
  }

  /** Start (once) the embedded dynalite, or connect to `options.nosql`. */
  nosql(): Promise<NoSqlStorage> {
    this.#nosql ??= this.#startNoSql().catch((err: unknown) => {
      this.#nosql = undefined
      throw err
    })
    return this.#nosql.then((n) => n.nosql)
  }

  async sweep(options: { runId?: string; dryRun: boolean }): Promise<SweptResource[]> {
    // Containers are swept whatever the configured runtime: a run with
    // `--runtime docker` may have left them, and `sebs cleanup` does not say which.
    const [processes, containers, builds] = await Promise.all([
      import('./sweep.ts').then(({ sweepInstances }) => sweepInstances(this.#ctx.cacheDir, options, this.#logger)),
      import('./container/docker-sweep.ts').then(({ sweepContainers }) => sweepContainers(options, this.#logger)),
      // Temporary folders of killed builds carry no run id: only a sweep of every run looks for them.
      options.runId === undefined
        ? import('../packaging/leftover-builds.ts').then(({ sweepLeftoverBuilds }) => sweepLeftoverBuilds(this.#ctx.cacheDir, options))
        : [],
    ])
    return [...processes, ...containers, ...builds]
  }

  /** Stops the instances of every function connected through this provider, and the embedded servers. */
  async close(): Promise<void> {
    await Promise.all([...this.#functions].map((fn) => fn.close()))
    const storage = this.#storage
    const nosql = this.#nosql
    this.#storage = undefined
    this.#nosql = undefined
    const startedStorage = await storage?.catch(() => undefined)
    await startedStorage?.storage.close()
    await startedStorage?.server?.close()
    const startedNoSql = await nosql?.catch(() => undefined)
    await startedNoSql?.nosql.close()
    await startedNoSql?.server?.close()
  }

  // -------------------------------------------------------------------------

  #runtimes(fromBuild?: Runtimes): Runtimes {
    const configured = this.#options.runtimes ?? {}
    return {
      python: configured.python ?? fromBuild?.python ?? 'python3',
      node: configured.node ?? fromBuild?.node ?? process.execPath,
    }
  }

  async #startNoSql(): Promise<{ nosql: NoSqlStorage; server?: DynaliteServer }> {
    const external = this.#options.nosql
    let server: DynaliteServer | undefined
    let connection: NoSqlConnection
    if (external) {
      connection = {
        kind: 'dynamodb',
        endpoint: external.endpoint,
        region: external.region ?? 'us-east-1',
        ...(external.accessKey !== undefined ? { accessKey: external.accessKey } : {}),
        ...(external.secretKey !== undefined ? { secretKey: external.secretKey } : {}),
        tables: {},
      }
    } else {
      // Persistent like the object store: items inserted with cached inputs survive the run.
      const { startDynalite } = await import('../storage/nosql/dynalite-server.ts')
      server = await startDynalite({ directory: dynaliteDir(this.#ctx.cacheDir) })
      this.#logger.debug(`dynalite listening on ${server.endpoint}`)
      // dynalite accepts any credentials, but the clients need some to sign requests.
      connection = { kind: 'dynamodb', endpoint: server.endpoint, region: 'us-east-1', accessKey: 'local', secretKey: 'local', tables: {} }
    }
    // Storage clients and embedded servers load on first use: most runs need few of them.
    const { createDynamoNoSql } = await import('../storage/nosql/dynamodb-nosql.ts')
    return { nosql: createDynamoNoSql(connection, { provider: 'local', logger: this.#logger }), server }
  }

  async #startStorage(): Promise<{ storage: ObjectStorage; server?: RunningS3rver }> {
    const bucket = this.#options.bucket ?? DEFAULT_LOCAL_BUCKET
    const external = this.#options.storage
    let server: RunningS3rver | undefined
    let connection: StorageConnection
    if (external) {
      connection = {
        kind: 's3',
        endpoint: external.endpoint,
        region: external.region ?? 'us-east-1',
        bucket,
        ...(external.accessKey !== undefined ? { accessKey: external.accessKey } : {}),
        ...(external.secretKey !== undefined ? { secretKey: external.secretKey } : {}),
      }
    } else {
      const { startS3rver } = await import('../storage/s3rver-server.ts')
      server = await startS3rver({ directory: s3rverDir(this.#ctx.cacheDir) })
      this.#logger.debug(`s3rver listening on ${server.endpoint}`)
      connection = {
        kind: 's3',
        endpoint: server.endpoint,
        region: 'us-east-1',
        bucket,
        accessKey: server.accessKey,
        secretKey: server.secretKey,
      }
    }
    const { createS3Storage } = await import('../storage/s3-storage.ts')
    const storage = createS3Storage(connection, { provider: 'local' })
    try {
      await storage.ensureBucket(bucket)
    } catch (err) {
      await storage.close()
      await server?.close()
      throw err
    }
    return { storage, server }
  }
}

/** Creates the local provider. Cheap: nothing starts until storage() or an invocation needs it. */
export function createLocalProvider(ctx: ProviderContext): Provider {
  return new LocalProvider(ctx)
}
