/**
 * The provider interface: everything the harness needs from a FaaS platform.
 * Kept deliberately small (SeBS's 13 abstract methods are the counter-example).
 *
 * Two sides:
 *  - the main process (Vitest global setup, the `sebs` CLI) builds, deploys,
 *    starts storage and sweeps, through `Provider`;
 *  - bench workers get plain-data `FunctionHandle`s through Vitest's
 *    `provide`/`inject` and turn them back into live `DeployedFunction`s with
 *    `provider.connect(handle)`. Handles never hold SDK clients.
 */
import type { Logger } from '../core/logger.ts'
import type {
  Architecture,
  BenchmarkDefinition,
  InvocationRecord,
  Language,
  ProviderName,
  Trigger,
  WrapperEnvelope,
} from '../core/types.ts'

/** What to build: one benchmark in one language for one architecture. */
export interface FunctionSpec {
  benchmark: BenchmarkDefinition
  language: Language
  arch: Architecture
}

export interface BuildContext {
  /** Root of the content-addressed cache (`.sebs-cache` by default). */
  cacheDir: string
  logger: Logger
  /** Interpreters used to install dependencies and to run local instances. */
  runtimes: { python: string; node: string }
  /** Rebuild even when the cache has a package with the same hash. */
  force?: boolean
}

/** A built code package, stored in the cache. */
export interface CodePackage {
  provider: string
  benchmark: string
  language: Language
  arch: Architecture
  /** A directory (local provider) or a zip file (cloud providers). */
  kind: 'directory' | 'zip'
  path: string
  sizeBytes: number
  /** Content hash of sources, wrappers and runtime version: the cache key. */
  hash: string
  /** True when the package came from the cache and nothing was rebuilt. */
  cached: boolean
}

export interface DeployOptions {
  runId: string
  memory: number
  /** Seconds. */
  timeout: number
  trigger: Trigger
  /** Extra environment for the function (storage endpoints, table names, …). */
  env: Record<string, string>
}

/**
 * Plain, structured-cloneable description of a deployed function: crosses
 * from the main process to bench workers. `data` is provider-specific.
 */
export interface FunctionHandle {
  provider: ProviderName
  name: string
  benchmark: string
  language: Language
  memory: number
  timeout: number
  trigger: Trigger
  runId: string
  data: Record<string, unknown>
}

/** Extra times a provider measured for one invocation (µs unless named). */
export interface ProviderTimes {
  /**
   * Epoch µs on the harness's clock at which the client window began (the
   * event serialized, the request about to be written). Providers that set
   * it let experiments start their send → first-instruction window at the
   * same instant as `clientTimeUs` (docs/results-schema.md, "Timed windows").
   */
  sentAtUs?: number
  connectTimeUs?: number
  providerTimeUs?: number
  initTimeUs?: number
  billedTimeMs?: number
  memoryUsedMb?: number
  memoryEnforced?: boolean
  /**
   * How the instance's memory is limited (`cgroup`, `rlimit-as`, `node-heap`, …), for the
   * invocations whose instance died before its wrapper could say so in the envelope.
   */
  memoryLimitMechanism?: string
  /** Memory the platform gave the function when it differs from the configured one (Azure Flex instance sizes), MB. */
  providerMemoryMb?: number
}

/** The outcome of one invocation, before the harness turns it into a record. */
export type InvokeResult =
  | ({ state: 'ok'; envelope: WrapperEnvelope; clientTimeUs: number } & ProviderTimes)
  | ({ state: 'error'; error: string; clientTimeUs: number; envelope?: WrapperEnvelope } & ProviderTimes)
  | ({ state: 'timeout'; error: string; clientTimeUs: number } & ProviderTimes)

export interface InvokeOptions {
  trigger?: Trigger
}

/** The file a padded code package gets (SeBS's `randomdata.bin`). */
export const CODE_PADDING_FILE = 'sebs-padding.bin'

/** What `updateCode` deployed. */
export interface CodeUpdateResult {
  /** Bytes of random padding in the package the function runs now (0: its own package). */
  paddingBytes: number
  /**
   * Size of the package the function runs now, bytes: the files of the
   * directory (local) or the zip (cloud providers), padding included.
   */
  packageSizeBytes: number
}

/** A live function, on either side of the process boundary. */
export interface DeployedFunction {
  readonly handle: FunctionHandle
  invoke(payload: Record<string, unknown>, options?: InvokeOptions): Promise<InvokeResult>
  /** Make the next invocation start a new instance/sandbox. */
  forceColdStart(): Promise<void>
  update(options: { memory?: number; timeout?: number; env?: Record<string, string> }): Promise<void>
  /**
   * Redeploys the function's own code package plus one file,
   * `CODE_PADDING_FILE`, of `paddingBytes` incompressible random bytes
   * (SeBS's code-package-size sweep); `paddingBytes: 0` restores the
   * original package. Resolves once the new code serves; the next
   * invocation is cold. Padded packages are temporary copies, never written
   * into the package cache, and removed when replaced, at `close()`/`delete()`
   * or by `sweep`. Optional: a provider without it cannot run code-size sweeps.
   */
  updateCode?(options: { paddingBytes: number }): Promise<CodeUpdateResult>
  /** Fill in provider-side times, billing and memory for records of this function. */
  metrics?(records: InvocationRecord[]): Promise<InvocationRecord[]>
  delete(): Promise<void>
  /** Release client-side resources (worker side); does not delete the function. */
  close?(): Promise<void>
}

/** How functions and the harness reach an object store (plain data). */
export interface StorageConnection {
  kind: 's3' | 'azure-blob'
  endpoint: string
  region?: string
  /** The single benchmarks bucket. */
  bucket: string
  /**
   * Access key and secret are only filled for emulators and explicitly
   * configured endpoints; they are passed to function instances through their
   * environment and must never be written to disk or logs.
   */
  accessKey?: string
  secretKey?: string
  connectionString?: string
}

export interface StoredObject {
  key: string
  size: number
  etag?: string
}

/** Harness-side object storage (SeBS's single-bucket layout). */
export interface ObjectStorage {
  readonly connection: StorageConnection
  ensureBucket(bucket: string): Promise<void>
  upload(bucket: string, key: string, filePath: string): Promise<void>
  uploadBuffer(bucket: string, key: string, data: Buffer): Promise<void>
  download(bucket: string, key: string): Promise<Buffer>
  stat(bucket: string, key: string): Promise<StoredObject | undefined>
  list(bucket: string, prefix: string): Promise<StoredObject[]>
  removePrefix(bucket: string, prefix: string): Promise<number>
  close(): Promise<void>
}

export interface NoSqlConnection {
  kind: 'dynamodb' | 'cosmosdb'
  endpoint: string
  region?: string
  accessKey?: string
  secretKey?: string
  /** Logical table name → physical table name. */
  tables: Record<string, string>
}

export interface NoSqlStorage {
  readonly connection: NoSqlConnection
  /** Create (or reuse) a table for a benchmark; returns its physical name. */
  createTable(benchmark: string, table: string, primaryKey: string, secondaryKey?: string): Promise<string>
  insert(
    table: string,
    primaryKey: [string, string],
    secondaryKey: [string, string] | undefined,
    data: Record<string, unknown>,
  ): Promise<void>
  close(): Promise<void>
}

/** A resource found by `sweep`, removed unless it was a dry run. */
export interface SweptResource {
  kind: string
  id: string
  runId?: string
  removed: boolean
}

export interface Provider {
  readonly name: ProviderName
  /** Fail within a second on missing or invalid credentials, before anything is built. */
  checkCredentials(): Promise<void>
  package(spec: FunctionSpec, ctx: BuildContext): Promise<CodePackage>
  deploy(pkg: CodePackage, options: DeployOptions): Promise<DeployedFunction>
  /** Start (or connect to) object storage. */
  storage(): Promise<ObjectStorage>
  nosql?(): Promise<NoSqlStorage>
  /** Worker side: a live function from a handle. */
  connect(handle: FunctionHandle): DeployedFunction
  /** Remove what this suite created: everything (no runId) or one run's resources. */
  sweep(options: { runId?: string; dryRun: boolean }): Promise<SweptResource[]>
  /** Stop embedded servers and release clients; deployed functions stay unless deleted. */
  close(): Promise<void>
}

export interface ProviderContext {
  runId: string
  cacheDir: string
  logger: Logger
  /** The provider's own section of the resolved config. */
  options: Record<string, unknown>
}

/** Settings every provider may use, besides its own config section. */
export interface SharedProviderSettings {
  /** Interpreters for dependency installs and local instances. */
  runtimes: { python: string; node: string }
  /** Function runtime of providers that run instances on this machine. */
  runtime: 'process' | 'docker'
}

/**
 * What a provider says about itself: the one object `providers/<name>/index.ts`
 * exports and `providers/registry.ts` loads lazily. Everything outside the
 * provider's folder asks the descriptor instead of comparing provider names.
 * Keep the module that defines it light (import heavy parts inside the
 * functions): bench workers load it to connect.
 */
export interface ProviderDescriptor {
  readonly name: ProviderName
  /** Main process: the whole provider (packaging, deploy, storage, sweep). */
  create(ctx: ProviderContext): Provider | Promise<Provider>
  /**
   * Worker side: a live function from a handle without the whole provider.
   * Default (when absent): `create(ctx)` then `connect(handle)`.
   */
  connect?(handle: FunctionHandle, ctx: ProviderContext): DeployedFunction | Promise<DeployedFunction>
  /** Worker side: a harness-side client for a connection this provider's `storage()` returned. */
  connectStorage(connection: StorageConnection): Promise<ObjectStorage>
  /** Environment function instances need to reach the run's storage and NoSQL store. */
  functionEnv(storage: StorageConnection | undefined, nosql: NoSqlConnection | undefined): Record<string, string>
  /**
   * The price row (analysis/cost.ts) costs are estimated with unless the user
   * picks one; `section` is the provider's own config section (Azure's plan).
   */
  defaultCostModel(arch: Architecture, section?: Record<string, unknown>): string
  /** `ProviderContext.options` from the provider's config section and the shared settings. */
  options(section: Record<string, unknown>, shared: SharedProviderSettings): Record<string, unknown>
  /**
   * Main process, as soon as a bench run's settings are known (the plugin's
   * config hook): starts slow lookups the setup will need, in the background,
   * so that they overlap Vitest's own start (the local provider asks its
   * Python for its version, ~0.3 s). Never throws; the setup asks again and
   * reports failures.
   */
  prepare?(shared: SharedProviderSettings, languages: readonly Language[]): void
  /**
   * True when functions run on this machine: benchmark data is served to them
   * from a file server on loopback, and experiments that measure local
   * processes (pids, /proc) can run.
   */
  readonly functionsOnThisMachine: boolean
  /**
   * True when the credential check talks to a remote account: the `sebs` CLI
   * runs it before starting Vitest, to fail in the first second.
   */
  readonly remoteCredentials: boolean
}

/** Typed helper for a provider's descriptor (`providers/<name>/index.ts`). */
export function defineProvider(descriptor: ProviderDescriptor): ProviderDescriptor {
  return descriptor
}
