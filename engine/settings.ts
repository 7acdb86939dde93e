/**
 * The suite's configuration: what users write (`SebsUserConfig`, in
 * `sebs.config.ts` or as plugin options) and what the rest of the code reads
 * (`SebsConfig`, every default filled in). Precedence, lowest first:
 * defaults → config file / plugin options → environment (`SEBS_*`) → CLI flags.
 */
import { randomBytes } from 'node:crypto'
import { isAbsolute, resolve } from 'node:path'
import { z } from 'zod'
import { ConfigError, listChoices } from '../core/errors.ts'
import { loadProvider } from '../providers/registry.ts'
import {
  DEFAULT_PROVIDER,
  LANGUAGES,
  PROVIDERS,
  SIZES,
  type Architecture,
  type Language,
  type ProviderName,
  type Size,
  type Trigger,
} from '../core/types.ts'

export interface SebsUserConfig {
  /** Where functions run: `local` (default, embedded), `aws`, `azure`. */
  provider?: ProviderName
  /** Languages to run (default: every language a benchmark has). */
  languages?: Language[]
  /** Input sizes to run (default: `['test']`). */
  sizes?: Size[]
  /** Warm invocations per case after the forced-cold one (default 10). */
  repetitions?: number
  /** Override every benchmark's memory (MB); a list sweeps memory sizes in experiments. */
  memory?: number[]
  trigger?: Trigger
  arch?: Architecture
  /** Experiment suite to run instead of the per-benchmark suites. */
  experiment?: string
  /** Per-experiment settings, keyed by experiment name (e.g. `{ 'perf-cost': { concurrency: 20 } }`). */
  experiments?: Record<string, Record<string, unknown>>
  /** Stop adding repetitions once the 95% CI of the median is within ±this % of it (adaptive mode). */
  ciTarget?: number
  /** Estimated cost ceiling for the run, USD. */
  maxCost?: number
  /** Price row for costs (`aws-x86_64`, `aws-arm64`, `azure-consumption`, …); default: the provider's, `aws-x86_64` for local. */
  costModel?: string
  /** Function runtime of the local provider: `process` (default) or `docker`. */
  runtime?: 'process' | 'docker'
  /** Extra benchmark folders; a benchmark there shadows a built-in one with the same id. */
  benchmarks?: string[]
  /** Include the built-in `benchmarks/` folder (default true). */
  builtinBenchmarks?: boolean
  /** Root of generated benchmark data (SeBS: `~/.sebs/benchmarks-data`). Default `<cacheDir>/benchmarks-data`. */
  dataDir?: string
  /** Content-addressed cache of packages and inputs (default `.sebs-cache`). */
  cacheDir?: string
  /** Where run directories go (default `results`). */
  resultsDir?: string
  /** Leave deployed functions and storage in place after the run. */
  keep?: boolean
  /** Exit 0 even when invocations failed, timed out or returned invalid output (they are still recorded and reported). */
  allowFailures?: boolean
  /** Interpreters for local instances and dependency installs. */
  runtimes?: { python?: string; node?: string }
  /** A run (directory, invocations.jsonl, run id or `latest`) to compare this run against; a regression fails the run. */
  baseline?: string
  /** Rebuild packages and re-upload inputs even when cached. */
  force?: boolean
  local?: Record<string, unknown>
  aws?: Record<string, unknown>
  azure?: Record<string, unknown>
}

export interface SebsConfig {
  provider: ProviderName
  languages?: Language[]
  sizes: Size[]
  repetitions: number
  /** Whether a layer set `repetitions` (else it is the default, and an experiment may use its own). */
  repetitionsSet?: boolean
  memory?: number[]
  trigger: Trigger
  arch: Architecture
  experiment?: string
  experiments: Record<string, Record<string, unknown>>
  ciTarget?: number
  maxCost?: number
  costModel?: string
  runtime: 'process' | 'docker'
  benchmarks: string[]
  builtinBenchmarks: boolean
  dataDir: string
  cacheDir: string
  resultsDir: string
  keep: boolean
  allowFailures: boolean
  force: boolean
  runtimes: { python: string; node: string }
  baseline?: string
  /** Identifies this run: results directory name and the tag on every created resource. */
  runId: string
  /** The project root (where `benchmarks/` and `results/` are resolved from). */
  root: string
  local: Record<string, unknown>
  aws: Record<string, unknown>
  azure: Record<string, unknown>
}

/** Typed helper for `sebs.config.ts`. */
export function defineConfig(config: SebsUserConfig): SebsUserConfig {
  return config
}

const userConfigSchema = z
  .object({
    provider: z.string().optional(),
    languages: z.array(z.string()).optional(),
    sizes: z.array(z.string()).optional(),
    repetitions: z.number().int().min(0).max(100_000).optional(),
    memory: z.array(z.number().int().min(64).max(32_768)).optional(),
    trigger: z.enum(['http', 'library']).optional(),
    arch: z.enum(['x64', 'arm64']).optional(),
    experiment: z.string().optional(),
    experiments: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
    ciTarget: z.number().positive().max(100).optional(),
    maxCost: z.number().positive().optional(),
    costModel: z.string().optional(),
    runtime: z.enum(['process', 'docker']).optional(),
    benchmarks: z.array(z.string()).optional(),
    builtinBenchmarks: z.boolean().optional(),
    dataDir: z.string().optional(),
    cacheDir: z.string().optional(),
    resultsDir: z.string().optional(),
    keep: z.boolean().optional(),
    allowFailures: z.boolean().optional(),
    force: z.boolean().optional(),
    runtimes: z.object({ python: z.string().optional(), node: z.string().optional() }).strict().optional(),
    baseline: z.string().optional(),
    local: z.record(z.string(), z.unknown()).optional(),
    aws: z.record(z.string(), z.unknown()).optional(),
    azure: z.record(z.string(), z.unknown()).optional(),
  })
  .strict()

function checkChoice<T extends string>(what: string, value: string, choices: readonly T[], hint: string): T {
  if (!(choices as readonly string[]).includes(value)) {
    const code = what === 'provider' ? 'UNKNOWN_PROVIDER' : what === 'language' ? 'UNKNOWN_LANGUAGE' : 'UNKNOWN_SIZE'
    throw new ConfigError(code, `Unknown ${what} '${value}'. Choose one of ${listChoices(choices)}${hint}.`)
  }
  return value as T
}

/** Validates a user config (file, plugin options or merged overrides) and names the bad field. */
export function validateUserConfig(input: unknown, source: string): SebsUserConfig {
  const parsed = userConfigSchema.safeParse(input ?? {})
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    const field = issue.path.join('.') || '(root)'
    throw new ConfigError('CONFIG_INVALID', `${source}: field '${field}': ${issue.message}. See the configuration section of README.md.`)
  }
  const cfg = parsed.data as SebsUserConfig
  if (cfg.provider !== undefined) checkChoice('provider', cfg.provider, PROVIDERS, ` (in ${source})`)
  for (const l of cfg.languages ?? []) checkChoice('language', l, LANGUAGES, ` (in ${source})`)
  for (const s of cfg.sizes ?? []) checkChoice('size', s, SIZES, ` (in ${source})`)
  return cfg
}

/** Splits `a,b` lists from flags and environment variables. */
export function splitList(value: string | string[] | undefined): string[] | undefined {
  if (value === undefined) return undefined
  const items = (Array.isArray(value) ? value : [value]).flatMap((v) => v.split(',')).map((v) => v.trim())
  return items.filter(Boolean)
}

/** `SEBS_*` environment variables, for `npx vitest bench` users who cannot pass flags. */
export function configFromEnv(env: NodeJS.ProcessEnv): SebsUserConfig {
  const out: SebsUserConfig = {}
  if (env.SEBS_PROVIDER) out.provider = env.SEBS_PROVIDER as ProviderName
  if (env.SEBS_LANGUAGE) out.languages = splitList(env.SEBS_LANGUAGE) as Language[]
  if (env.SEBS_SIZE) out.sizes = splitList(env.SEBS_SIZE) as Size[]
  if (env.SEBS_REPETITIONS) {
    const n = Number(env.SEBS_REPETITIONS)
    if (!Number.isInteger(n) || n < 0) {
      throw new ConfigError('CONFIG_INVALID', `SEBS_REPETITIONS must be a whole number ≥ 0, got '${env.SEBS_REPETITIONS}'.`)
    }
    out.repetitions = n
  }
  if (env.SEBS_RESULTS_DIR) out.resultsDir = env.SEBS_RESULTS_DIR
  if (env.SEBS_CACHE_DIR) out.cacheDir = env.SEBS_CACHE_DIR
  if (env.SEBS_DATA_DIR) out.dataDir = env.SEBS_DATA_DIR
  if (env.SEBS_BENCHMARKS) out.benchmarks = splitList(env.SEBS_BENCHMARKS)
  // Overrides from the `sebs` CLI travel as JSON: Vitest's own CLI would reject the flags.
  if (env.SEBS_CLI_OVERRIDES) {
    try {
      Object.assign(out, JSON.parse(env.SEBS_CLI_OVERRIDES) as SebsUserConfig)
    } catch (cause) {
      throw new ConfigError('CONFIG_INVALID', 'SEBS_CLI_OVERRIDES is not valid JSON (it is set by the sebs CLI; unset it).', { cause })
    }
  }
  return out
}

export function createRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-')
  return `${stamp}-${randomBytes(3).toString('hex')}`
}

function isProviderSection(key: string): key is ProviderName {
  return (PROVIDERS as readonly string[]).includes(key)
}

function mergeUser(base: SebsUserConfig, over: SebsUserConfig): SebsUserConfig {
  const out: SebsUserConfig = { ...base }
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue
    const key = k as keyof SebsUserConfig
    // Provider sections and `runtimes` merge key by key across layers.
    if ((key === 'runtimes' || isProviderSection(key)) && typeof v === 'object') {
      ;(out as Record<string, unknown>)[key] = { ...((base[key] as object) ?? {}), ...(v as object) }
    } else {
      ;(out as Record<string, unknown>)[key] = v
    }
  }
  return out
}

function providerSetting<T extends string>(merged: SebsUserConfig, key: string, allowed: readonly T[]): T | undefined {
  const section = merged[merged.provider ?? DEFAULT_PROVIDER] as Record<string, unknown> | undefined
  const value = section?.[key]
  return typeof value === 'string' && (allowed as readonly string[]).includes(value) ? (value as T) : undefined
}

export interface ResolveOptions {
  root: string
  env?: NodeJS.ProcessEnv
  /** A run id chosen before (shared by the plugin, global setup and reporters). */
  runId?: string
}

/** Fills in defaults; validates every layer and names the layer in errors. */
export function resolveConfig(layers: Array<{ source: string; config: unknown }>, options: ResolveOptions): SebsConfig {
  let merged: SebsUserConfig = {}
  for (const layer of layers) merged = mergeUser(merged, validateUserConfig(layer.config, layer.source))
  const root = options.root
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(root, p))
  const cacheDir = abs(merged.cacheDir ?? '.sebs-cache')
  return {
    provider: merged.provider ?? DEFAULT_PROVIDER,
    languages: merged.languages,
    sizes: merged.sizes && merged.sizes.length > 0 ? [...new Set(merged.sizes)] : ['test'],
    repetitions: merged.repetitions ?? 10,
    repetitionsSet: merged.repetitions !== undefined,
    memory: merged.memory,
    // A provider's own section may set these (aws.trigger, aws.arch); flags win over both.
    trigger: merged.trigger ?? providerSetting(merged, 'trigger', ['http', 'library']) ?? 'http',
    arch: merged.arch ?? providerSetting(merged, 'arch', ['x64', 'arm64']) ?? 'x64',
    experiment: merged.experiment,
    experiments: merged.experiments ?? {},
    ciTarget: merged.ciTarget,
    maxCost: merged.maxCost,
    costModel: merged.costModel,
    runtime: merged.runtime ?? 'process',
    benchmarks: (merged.benchmarks ?? []).map(abs),
    builtinBenchmarks: merged.builtinBenchmarks ?? true,
    dataDir: abs(merged.dataDir ?? resolve(cacheDir, 'benchmarks-data')),
    cacheDir,
    resultsDir: abs(merged.resultsDir ?? 'results'),
    keep: merged.keep ?? false,
    allowFailures: merged.allowFailures ?? false,
    force: merged.force ?? false,
    runtimes: { python: merged.runtimes?.python ?? 'python3', node: merged.runtimes?.node ?? process.execPath },
    baseline: merged.baseline,
    runId: options.runId ?? createRunId(),
    root,
    local: merged.local ?? {},
    aws: merged.aws ?? {},
    azure: merged.azure ?? {},
  }
}

/**
 * The options a provider is created with: its own config section, shaped by
 * its descriptor (the local provider also takes the interpreters and the
 * function runtime).
 */
export async function providerOptions(config: SebsConfig): Promise<Record<string, unknown>> {
  const descriptor = await loadProvider(config.provider)
  return descriptor.options(config[config.provider], { runtimes: config.runtimes, runtime: config.runtime })
}
