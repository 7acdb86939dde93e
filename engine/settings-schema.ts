/**
 * The one table of user settings (engine code, no Vitest; read in the main
 * process by the `sebs` CLI, the plugin and the global setup). Each row holds
 * a setting's kind (type, range or choices), default, `sebs bench` flag with
 * its help line and `SEBS_*` variable. Everything else is derived from it:
 * the `SebsUserConfig`/`SebsConfig` types and the zod schema
 * (engine/settings.ts), the parseArgs options and the `--help` text
 * (plugin/cli.ts), the environment reading and every validation message.
 * Adding a setting is one row here.
 *
 * Provider sections (`local`, `aws`, `azure`) are rows too, but their content
 * is each provider's own schema (its descriptor in providers/registry.ts).
 */
import { isAbsolute, resolve } from 'node:path'
import { z } from 'zod'
import { ConfigError, listChoices, type SebsErrorCode } from '../core/errors.ts'
import { DEFAULT_PRICE_TABLE } from '../analysis/cost.ts'
import { DEFAULT_PROVIDER, LANGUAGES, PROVIDERS, SIZES, type Architecture, type ProviderName, type Trigger } from '../core/types.ts'

/** What a setting's value is: decides its zod schema, its parsing from flags and variables, and its message. */
export type SettingKind =
  | { type: 'choice'; choices: readonly string[]; noun: string; code: SebsErrorCode; list: boolean }
  | { type: 'int'; min: number; max: number; list: boolean }
  | { type: 'number'; above: number; max?: number; what: string }
  | { type: 'string'; list: boolean; what: string }
  | { type: 'boolean' }
  /** Structured values (objects): config file / plugin options only, checked by `schema`. */
  | { type: 'object'; schema: z.ZodType; what: string; mergeKeys: boolean }

/** The `sebs bench` flag of a setting. */
export interface SettingFlag {
  /** Without the dashes: `repetitions` is `--repetitions`. */
  name: string
  /** The value's placeholder in the help (`N`, `DIR`); choice settings list their choices instead. */
  value?: string
  /** One line for `sebs bench --help` and README's flag table. */
  help: string
  /** Which other commands take it besides `bench` (`sebs cleanup/history/inputs/package`). */
  commands?: ReadonlyArray<'cleanup' | 'history' | 'inputs' | 'package'>
}

/** Everything a resolved value may depend on besides its own layers. */
export interface ResolveContext {
  /** The project root: relative paths are resolved from it. */
  root: string
  /** Every layer merged (user values, before defaults). */
  merged: Readonly<Record<string, unknown>>
  /** The resolved cache folder (the data folder defaults below it). */
  cacheDir: () => string
}

/** One row of the table. `T` is the value users write, `R` the resolved value the code reads. */
export interface Setting<T, R = T> {
  kind: SettingKind
  /** Value when no layer sets it; rows without one stay `undefined` unless `resolve` fills them. */
  default?: R
  /** How the default reads in the help when it is computed (`<cache-dir>/benchmarks-data`). */
  defaultText?: string
  /** Fills in or normalises the resolved value (absolute paths, provider-section fallbacks). */
  resolve?: (value: T | undefined, ctx: ResolveContext) => R
  flag?: SettingFlag
  /** The `SEBS_*` variable read for `npx vitest bench`, where flags cannot be passed. */
  env?: `SEBS_${string}`
  /**
   * A setting of the config file / plugin options only, with no flag or
   * variable (structured values, per-project choices): its meaning line for
   * README's table.
   */
  configOnly?: string
  /** Handed to bench workers in `SebsProvided` (engine/run-state.ts) as resolved. */
  worker?: boolean
  /** Phantom: the user value's type, for the derived types. */
  readonly __user?: T
}

// ——— kinds, typed so that each row's value type follows from its kind ———

interface Kind<T> {
  kind: SettingKind
  readonly __user?: T
}

function choice<const C extends readonly string[]>(choices: C, noun: string, code: SebsErrorCode = 'CONFIG_INVALID'): Kind<C[number]> {
  return { kind: { type: 'choice', choices, noun, code, list: false } }
}
function choices<const C extends readonly string[]>(choices: C, noun: string, code: SebsErrorCode = 'CONFIG_INVALID'): Kind<Array<C[number]>> {
  return { kind: { type: 'choice', choices, noun, code, list: true } }
}
function int(min: number, max: number): Kind<number> {
  return { kind: { type: 'int', min, max, list: false } }
}
function ints(min: number, max: number): Kind<number[]> {
  return { kind: { type: 'int', min, max, list: true } }
}
function num(what: string, above: number, max?: number): Kind<number> {
  return { kind: { type: 'number', above, max, what } }
}
function text(what: string): Kind<string> {
  return { kind: { type: 'string', list: false, what } }
}
function texts(what: string): Kind<string[]> {
  return { kind: { type: 'string', list: true, what } }
}
function bool(): Kind<boolean> {
  return { kind: { type: 'boolean' } }
}
function object<S extends z.ZodType>(schema: S, what: string, mergeKeys = true): Kind<z.infer<S>> {
  return { kind: { type: 'object', schema, what, mergeKeys } }
}

/** A row's fields besides its kind, with the value type `T` its kind gives. */
type RowFields<T> = Omit<Setting<T, T>, 'kind' | '__user'>

/**
 * A row: its kind plus the rest. `const` keeps the literal shape (`worker:
 * true`, whether there is a default), from which the derived types read which
 * keys are always set once resolved and which reach the workers.
 */
function setting<T, const X extends RowFields<T>>(k: Kind<T>, rest: X): X & Kind<T> {
  return { ...rest, kind: k.kind } as X & Kind<T>
}

const abs = (root: string, p: string) => (isAbsolute(p) ? p : resolve(root, p))

/** A string setting a provider's own section may also hold (`aws.trigger`); the top-level value wins. */
function fromProviderSection<T extends string>(key: string, allowed: readonly T[], fallback: T) {
  return (value: T | undefined, ctx: ResolveContext): T => {
    if (value !== undefined) return value
    const section = ctx.merged[(ctx.merged.provider as string | undefined) ?? DEFAULT_PROVIDER] as Record<string, unknown> | undefined
    const own = section?.[key]
    return typeof own === 'string' && (allowed as readonly string[]).includes(own) ? (own as T) : fallback
  }
}

const TRIGGERS = ['http', 'library'] as const satisfies readonly Trigger[]
const ARCHS = ['x64', 'arm64'] as const satisfies readonly Architecture[]
const RUNTIMES = ['process', 'docker'] as const

/**
 * The settings, in the order the help lists them. The JSDoc of each row is
 * what users see on the `SebsUserConfig` key in their editor.
 */
export const SETTINGS = {
  /** Where functions run: `local` (default, embedded), `aws`, `azure`. */
  provider: setting(choice(PROVIDERS, 'provider', 'UNKNOWN_PROVIDER'), {
    default: DEFAULT_PROVIDER as ProviderName,
    flag: { name: 'provider', help: 'where functions run', commands: ['cleanup', 'history', 'inputs', 'package'] },
    env: 'SEBS_PROVIDER',
  }),
  /** Languages to run (default: every language a benchmark has). */
  languages: setting(choices(LANGUAGES, 'language', 'UNKNOWN_LANGUAGE'), {
    flag: { name: 'language', help: 'languages to run (default: every language a benchmark has)', commands: ['package'] },
    env: 'SEBS_LANGUAGE',
    worker: true,
  }),
  /** Input sizes to run (default: `['test']`). */
  sizes: setting(choices(SIZES, 'size', 'UNKNOWN_SIZE'), {
    defaultText: 'test',
    resolve: (value) => (value && value.length > 0 ? [...new Set(value)] : ['test' as const]),
    flag: { name: 'size', help: 'input sizes' },
    env: 'SEBS_SIZE',
    worker: true,
  }),
  /** Warm invocations per case after the forced-cold one (default 10). */
  repetitions: setting(int(0, 100_000), {
    default: 10,
    flag: { name: 'repetitions', value: 'N', help: 'warm invocations per case after the cold one' },
    env: 'SEBS_REPETITIONS',
    worker: true,
  }),
  /** Override every benchmark's memory (MB); a list sweeps memory sizes in experiments. */
  memory: setting(ints(64, 32_768), {
    flag: { name: 'memory', value: 'MB,…', help: "override the benchmarks' memory (MB): one size, or a list that --experiment perf-cost and cold-start sweep" },
    env: 'SEBS_MEMORY',
    worker: true,
  }),
  /** How functions are invoked: `http` (default) or `library` (the provider SDK's invoke). */
  trigger: setting(choice(TRIGGERS, 'trigger'), {
    defaultText: 'http',
    resolve: fromProviderSection('trigger', TRIGGERS, 'http'),
    flag: { name: 'trigger', help: 'how functions are invoked' },
    env: 'SEBS_TRIGGER',
    worker: true,
  }),
  /** CPU architecture of cloud functions: `x64` (default) or `arm64`. */
  arch: setting(choice(ARCHS, 'architecture'), {
    defaultText: 'x64',
    resolve: fromProviderSection('arch', ARCHS, 'x64'),
    flag: { name: 'arch', help: 'CPU architecture of cloud functions', commands: ['package'] },
    env: 'SEBS_ARCH',
  }),
  /** Experiment suite to run instead of the per-benchmark suites. */
  experiment: setting(text('an experiment name'), {
    flag: { name: 'experiment', value: 'NAME', help: 'run an experiment instead of the plain cases (docs/experiments.md)' },
    env: 'SEBS_EXPERIMENT',
  }),
  /** Per-experiment settings, keyed by experiment name (e.g. `{ 'perf-cost': { concurrency: 20 } }`). */
  experiments: setting(object(z.record(z.string(), z.record(z.string(), z.unknown())), 'settings per experiment name', false), {
    default: {} as Record<string, Record<string, unknown>>,
    configOnly: 'settings per experiment, keyed by its name (docs/experiments.md)',
  }),
  /** Stop adding repetitions once the 95% CI of the median is within ±this % of it (adaptive mode). */
  ciTarget: setting(num('percentage', 0, 100), {
    flag: { name: 'ci-target', value: 'PCT', help: "adaptive repetitions: stop when the median's 95% CI is within ±PCT %" },
    env: 'SEBS_CI_TARGET',
    worker: true,
  }),
  /** Estimated cost ceiling for the run, USD. */
  maxCost: setting(num('amount in USD', 0), {
    flag: { name: 'max-cost', value: 'USD', help: 'estimated cost ceiling for the run' },
    env: 'SEBS_MAX_COST',
    worker: true,
  }),
  /** Price row for costs (`aws-x86_64`, `aws-arm64`, `azure-consumption`, …); default: the provider's, `aws-x86_64` for local. */
  costModel: setting(choice(Object.keys(DEFAULT_PRICE_TABLE), 'cost model'), {
    flag: { name: 'cost-model', help: "price table for the cost of each invocation (default: the provider's; aws-x86_64 for local)" },
    env: 'SEBS_COST_MODEL',
  }),
  /** Function runtime of the local provider: `process` (default) or `docker`. */
  runtime: setting(choice(RUNTIMES, 'runtime'), {
    default: 'process' as (typeof RUNTIMES)[number],
    flag: { name: 'runtime', help: 'local provider: run instances as processes or as containers' },
    env: 'SEBS_RUNTIME',
  }),
  /** Extra benchmark folders; a benchmark there shadows a built-in one with the same id. */
  benchmarks: setting(texts('a list of folders'), {
    resolve: (value, ctx) => (value ?? []).map((p) => abs(ctx.root, p)),
    flag: { name: 'benchmarks', value: 'DIR', help: 'an extra benchmarks folder (repeatable; comma-separated in the variable); its benchmarks shadow built-in ones with the same id', commands: ['cleanup', 'history', 'inputs', 'package'] },
    env: 'SEBS_BENCHMARKS',
  }),
  /** Include the built-in `benchmarks/` folder (default true). */
  builtinBenchmarks: setting(bool(), {
    default: true,
    defaultText: 'true',
    configOnly: 'include the built-in benchmarks/ folder',
  }),
  /** Root of generated benchmark data (SeBS: `~/.sebs/benchmarks-data`). Default `<cacheDir>/benchmarks-data`. */
  dataDir: setting(text('a folder'), {
    defaultText: '<cache-dir>/benchmarks-data',
    resolve: (value, ctx) => abs(ctx.root, value ?? resolve(ctx.cacheDir(), 'benchmarks-data')),
    flag: { name: 'data-dir', value: 'DIR', help: 'root of generated benchmark data', commands: ['cleanup', 'history', 'inputs', 'package'] },
    env: 'SEBS_DATA_DIR',
  }),
  /** Content-addressed cache of packages and inputs (default `.sebs-cache`). */
  cacheDir: setting(text('a folder'), {
    defaultText: '.sebs-cache',
    resolve: (value, ctx) => ctx.cacheDir(),
    flag: { name: 'cache-dir', value: 'DIR', help: 'where packages and inputs are cached', commands: ['cleanup', 'history', 'inputs', 'package'] },
    env: 'SEBS_CACHE_DIR',
    worker: true,
  }),
  /** Where run directories go (default `results`). */
  resultsDir: setting(text('a folder'), {
    defaultText: 'results',
    resolve: (value, ctx) => abs(ctx.root, value ?? 'results'),
    flag: { name: 'results-dir', value: 'DIR', help: 'where run directories (records, reports) are written', commands: ['cleanup', 'history', 'inputs', 'package'] },
    env: 'SEBS_RESULTS_DIR',
  }),
  /** Leave deployed functions and storage in place after the run. */
  keep: setting(bool(), {
    default: false,
    flag: { name: 'keep', help: 'leave deployed functions in place after the run' },
    env: 'SEBS_KEEP',
  }),
  /** Exit 0 even when invocations failed, timed out or returned invalid output (they are still recorded and reported). */
  allowFailures: setting(bool(), {
    default: false,
    flag: { name: 'allow-failures', help: 'exit 0 even when invocations failed (they are still recorded and reported)' },
    env: 'SEBS_ALLOW_FAILURES',
  }),
  /** Interpreters for local instances and dependency installs. */
  runtimes: setting(
    object(z.object({ python: z.string().optional(), node: z.string().optional() }).strict(), 'interpreters { python, node }'),
    {
      resolve: (value) => ({ python: value?.python ?? 'python3', node: value?.node ?? process.execPath }),
      defaultText: 'python3 and the Node running sebs',
      configOnly: 'interpreters for local instances and dependency installs: { python, node }',
    },
  ),
  /** A run (directory, invocations.jsonl, run id or `latest`) to compare this run against; a regression fails the run. */
  baseline: setting(text('a run'), {
    flag: { name: 'baseline', value: 'RUN', help: "compare with a run (dir, invocations.jsonl, run id or 'latest'); exit 1 on a regression" },
    env: 'SEBS_BASELINE',
  }),
  /** Rebuild packages and re-upload inputs even when cached. */
  force: setting(bool(), {
    default: false,
    flag: { name: 'force', help: 'rebuild packages and re-upload inputs even when cached', commands: ['package'] },
    env: 'SEBS_FORCE',
  }),
  /** Options of the local provider (providers/local/README.md). */
  local: setting(object(z.record(z.string(), z.unknown()), 'an object'), { default: {} as Record<string, unknown>, configOnly: 'options of the local provider (providers/local/README.md)' }),
  /** Options of the AWS provider (providers/aws/README.md). */
  aws: setting(object(z.record(z.string(), z.unknown()), 'an object'), { default: {} as Record<string, unknown>, configOnly: 'options of the AWS provider (providers/aws/README.md)' }),
  /** Options of the Azure provider (providers/azure/README.md). */
  azure: setting(object(z.record(z.string(), z.unknown()), 'an object'), { default: {} as Record<string, unknown>, configOnly: 'options of the Azure provider (providers/azure/README.md)' }),
}

type Settings = typeof SETTINGS
/** A setting's key (`repetitions`, `cacheDir`, …). */
export type SettingKey = keyof Settings
type UserValue<S> = S extends { readonly __user?: infer T } ? T : never
type ResolvedValue<S> = S extends { resolve: (...args: never[]) => infer R } ? R : UserValue<S>
type AlwaysResolved<S> = S extends { default: unknown } | { resolve: unknown } ? true : false

/** User settings by key (all optional): the body of `SebsUserConfig`. Homomorphic, so each key keeps its row's JSDoc. */
export type UserSettings = { -readonly [K in keyof Settings]?: UserValue<Settings[K]> }
/** Resolved settings: keys with a default or a resolver are always set. */
export type ResolvedSettings = { -readonly [K in keyof Settings as AlwaysResolved<Settings[K]> extends true ? K : never]: ResolvedValue<Settings[K]> } & {
  -readonly [K in keyof Settings as AlwaysResolved<Settings[K]> extends true ? never : K]?: ResolvedValue<Settings[K]>
}
/** The keys handed to bench workers as resolved (`worker: true` rows). */
export type WorkerSettingKey = { [K in keyof Settings]: Settings[K] extends { worker: true } ? K : never }[keyof Settings]

/** Every row, as `[key, row]`, in table order. */
export function settingRows(): Array<[SettingKey, Setting<unknown, unknown>]> {
  return Object.entries(SETTINGS) as Array<[SettingKey, Setting<unknown, unknown>]>
}

function row(key: SettingKey): Setting<unknown, unknown> {
  return SETTINGS[key] as Setting<unknown, unknown>
}

// ——— the zod schema ———

function isList(kind: SettingKind): boolean {
  return 'list' in kind && kind.list
}

function itemSchema(kind: SettingKind): z.ZodType {
  switch (kind.type) {
    case 'choice':
      return z.enum(kind.choices as [string, ...string[]])
    case 'int':
      return z.number().int().min(kind.min).max(kind.max)
    case 'number':
      return kind.max === undefined ? z.number().gt(kind.above) : z.number().gt(kind.above).max(kind.max)
    case 'string':
      return z.string()
    case 'boolean':
      return z.boolean()
    case 'object':
      return kind.schema
  }
}

/** The zod schema of a setting's user value. */
export function settingSchema(key: SettingKey): z.ZodType {
  const kind = row(key).kind
  const item = itemSchema(kind)
  return isList(kind) ? z.array(item) : item
}

/** The zod schema of a whole user config (unknown keys refused). */
export const userConfigSchema = z
  .object(Object.fromEntries(settingRows().map(([key]) => [key, settingSchema(key).optional()])) as Record<SettingKey, z.ZodOptional<z.ZodType>>)
  .strict()

// ——— messages: one shape for every setting and every origin ———

/** Where a value came from: a `sebs` flag, a `SEBS_*` variable, or a config layer (file, plugin options). */
export type SettingOrigin = { flag: true } | { env: true } | { source: string }

/** How a setting is named for its origin: `--repetitions`, `SEBS_REPETITIONS`, `sebs.config.ts: field 'repetitions'`. */
export function settingName(key: SettingKey, origin: SettingOrigin): string {
  const r = row(key)
  if ('flag' in origin && r.flag) return `--${r.flag.name}`
  if ('env' in origin && r.env) return r.env
  return `${'source' in origin ? `${origin.source}: ` : ''}field '${key}'`
}

/** What a value must be, as the messages say it (`a whole number ≥ 0`); for whole numbers, the bound the value breaks. */
export function settingRule(key: SettingKey, value?: unknown): string {
  const kind = row(key).kind
  switch (kind.type) {
    case 'choice':
      return `one of ${listChoices(kind.choices)}`
    case 'int':
      return (typeof value === 'number' || typeof value === 'string' ? Number(value) : Number.NaN) > kind.max ? `a whole number ≤ ${kind.max}` : `a whole number ≥ ${kind.min}`
    case 'number':
      if (kind.max !== undefined) return `a ${kind.what} in (${kind.above}, ${kind.max}]`
      return kind.above === 0 ? `a positive ${kind.what}` : `a ${kind.what} > ${kind.above}`
    case 'string':
      return kind.what
    case 'boolean':
      return 'true or false (1 or 0 in a variable)'
    case 'object':
      return kind.what
  }
}

function shown(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return String(value) // a BigInt or a cycle in a config file's value
  }
}

/**
 * The error for a bad value of a setting: names the flag, variable or config
 * key, the value and what is allowed. Choice settings keep their
 * `Unknown <noun> '<value>'. Choose one of …` form (and their codes:
 * UNKNOWN_PROVIDER, UNKNOWN_LANGUAGE, UNKNOWN_SIZE).
 */
export function settingError(key: SettingKey, origin: SettingOrigin, value: unknown): ConfigError {
  const kind = row(key).kind
  const name = settingName(key, origin)
  if (kind.type === 'choice') {
    return new ConfigError(kind.code, `Unknown ${kind.noun} ${shown(value)}. Choose one of ${listChoices(kind.choices)} (${name}).`)
  }
  return new ConfigError('CONFIG_INVALID', `${name} must be ${settingRule(key, value)}, got ${shown(value)}.`)
}

// ——— parsing text values (flags and variables) ———

/** Splits `a,b` lists from flags and environment variables. */
export function splitList(value: string | string[] | undefined): string[] | undefined {
  if (value === undefined) return undefined
  const items = (Array.isArray(value) ? value : [value]).flatMap((v) => v.split(',')).map((v) => v.trim())
  return items.filter(Boolean)
}

const TRUE = ['1', 'true', 'yes', 'on']
const FALSE = ['0', 'false', 'no', 'off']

function parseItem(key: SettingKey, origin: SettingOrigin, item: string): unknown {
  const kind = row(key).kind
  const parsed = kind.type === 'int' || kind.type === 'number' ? (item.trim() === '' ? Number.NaN : Number(item)) : item
  if (!itemSchema(kind).safeParse(parsed).success) throw settingError(key, origin, item)
  return parsed
}

/**
 * One setting's value from text: a flag's value(s) or a variable. Lists are
 * comma-separated, except folder lists from flags (a path may hold a comma;
 * repeat the flag instead). Throws the setting's message on a bad value.
 */
export function parseSettingText(key: SettingKey, origin: { flag: true } | { env: true }, raw: string | string[] | boolean): unknown {
  const kind = row(key).kind
  if (kind.type === 'boolean') {
    if (typeof raw === 'boolean') return raw
    const v = String(raw).trim().toLowerCase()
    if (TRUE.includes(v)) return true
    if (FALSE.includes(v)) return false
    throw settingError(key, origin, String(raw))
  }
  if (kind.type === 'object') throw new ConfigError('CONFIG_INVALID', `${key} has no flag or variable; set it in the config file.`)
  const texts = (Array.isArray(raw) ? raw : [String(raw)]) as string[]
  if (!isList(kind)) {
    // A single-value setting given twice (`--provider a --provider b`): the last one wins, as in parseArgs.
    return parseItem(key, origin, texts[texts.length - 1]!)
  }
  const items = kind.type === 'string' && 'flag' in origin ? texts : splitList(texts)!
  return items.map((item) => parseItem(key, origin, item))
}

/** `SEBS_*` variables, as a user config layer (empty variables are unset). Bad values get the setting's message naming the variable. */
export function settingsFromEnv(env: NodeJS.ProcessEnv): UserSettings {
  const out: Record<string, unknown> = {}
  for (const [key, r] of settingRows()) {
    const raw = r.env ? env[r.env] : undefined
    if (raw) out[key] = parseSettingText(key, { env: true }, raw)
  }
  return out as UserSettings
}

// ——— command-line flags ———

/** parseArgs options for the flags a command takes (`bench`: every flag). */
export function flagOptions(command: 'bench' | 'cleanup' | 'history' | 'inputs' | 'package'): Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> {
  const out: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = {}
  for (const [, r] of settingRows()) {
    if (!r.flag || (command !== 'bench' && !r.flag.commands?.includes(command))) continue
    const kind = r.kind
    out[r.flag.name] = kind.type === 'boolean' ? { type: 'boolean' } : isList(kind) ? { type: 'string', multiple: true } : { type: 'string' }
  }
  return out
}

/** Parsed flag values (parseArgs `values`) as a user config layer; each bad value gets its setting's message. */
export function settingsFromFlags(values: Readonly<Record<string, string | boolean | Array<string | boolean> | undefined>>): UserSettings {
  const out: Record<string, unknown> = {}
  for (const [key, r] of settingRows()) {
    const raw = r.flag ? values[r.flag.name] : undefined
    if (raw === undefined || raw === false) continue
    out[key] = parseSettingText(key, { flag: true }, raw as string | string[] | boolean)
  }
  return out as UserSettings
}

/** How a flag's value reads in the help: its choices (`local|aws|azure`, `python,nodejs`) or its placeholder. */
export function flagValueText(key: SettingKey): string {
  const r = row(key)
  const kind = r.kind
  if (kind.type === 'choice') return kind.choices.join(kind.list ? ',' : '|')
  return r.flag?.value ?? ''
}

function defaultText(r: Setting<unknown, unknown>): string | undefined {
  if (r.defaultText !== undefined) return r.defaultText
  if (r.default === undefined || r.kind.type === 'boolean' || r.kind.type === 'object') return undefined
  return String(r.default)
}

/** What follows a help line: the default and, for numbers, the range (`default 10; 0–100000`). */
function helpSuffix(r: Setting<unknown, unknown>): string {
  const k = r.kind
  const range = k.type === 'int' ? `${k.min}–${k.max}` : k.type === 'number' ? `more than ${k.above}${k.max !== undefined ? `, at most ${k.max}` : ''}` : undefined
  const d = defaultText(r)
  const parts = [d !== undefined ? `default ${d}` : undefined, range].filter(Boolean)
  return parts.length > 0 ? ` (${parts.join('; ')})` : ''
}

/** The flag lines of `sebs bench --help`: flag and value, help, default and variable. */
export function flagHelp(): string {
  const lines = settingRows()
    .filter(([, r]) => r.flag)
    .map(([key, r]) => {
      const left = `--${r.flag!.name}${flagValueText(key) ? ` ${flagValueText(key)}` : ''}`
      return { left, right: `${r.flag!.help}${helpSuffix(r)} [${r.env}]` }
    })
  // A flag too long for the column (the cost models) puts its help on the next line.
  const width = 28
  return lines.map((l) => (l.left.length < width ? `  ${l.left.padEnd(width)}${l.right}` : `  ${l.left}\n  ${''.padEnd(width)}${l.right}`)).join('\n')
}

/** README's table of flags, variables and config keys (a test keeps README.md equal to it). */
export function settingsMarkdownTable(): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|')
  const rows = settingRows().map(([key, r]) => {
    const flag = r.flag ? `\`${esc(`--${r.flag.name}${flagValueText(key) ? ` ${flagValueText(key)}` : ''}`)}\`` : '—'
    const env = r.env ? `\`${r.env}\`` : '—'
    const meaning = r.flag ? r.flag.help : (r.configOnly ?? '')
    return `| ${flag} | ${env} | \`${key}\` | ${esc(meaning + helpSuffix(r))} |`
  })
  return ['| flag | variable | config key | meaning |', '|---|---|---|---|', ...rows].join('\n')
}

// ——— resolution ———

/** Fills in every row's default or resolved value from the merged user layers. */
export function resolveSettings(merged: UserSettings, root: string): ResolvedSettings {
  let cacheDir: string | undefined
  const ctx: ResolveContext = {
    root,
    merged: merged as Record<string, unknown>,
    cacheDir: () => (cacheDir ??= abs(root, merged.cacheDir ?? '.sebs-cache')),
  }
  const out: Record<string, unknown> = {}
  for (const [key, r] of settingRows()) {
    const value = (merged as Record<string, unknown>)[key]
    out[key] = r.resolve ? r.resolve(value, ctx) : (value ?? r.default)
  }
  return out as ResolvedSettings
}

/** Whether a layer's value of this setting merges key by key with the layers below (provider sections, `runtimes`). */
export function mergesKeys(key: string): boolean {
  const r = (SETTINGS as Record<string, Setting<unknown, unknown>>)[key]
  return r?.kind.type === 'object' && r.kind.mergeKeys
}

/** The resolved settings bench workers receive (`worker: true` rows), for `SebsProvided`. */
export function workerSettings<C extends ResolvedSettings>(config: C): Pick<ResolvedSettings, WorkerSettingKey> {
  const out: Record<string, unknown> = {}
  for (const [key, r] of settingRows()) if (r.worker) out[key] = config[key as keyof ResolvedSettings]
  return out as Pick<ResolvedSettings, WorkerSettingKey>
}

/** The markers around README.md's generated settings table. */
export const SETTINGS_TABLE_MARKERS = ['<!-- settings table: generated from engine/settings-schema.ts by scripts/settings-docs.ts -->', '<!-- end of settings table -->'] as const

/** A README text with its settings table (between the markers) replaced by the current one. */
export function replaceSettingsTable(readme: string): string {
  const [start, end] = SETTINGS_TABLE_MARKERS
  const a = readme.indexOf(start)
  const b = readme.indexOf(end)
  if (a < 0 || b < a) throw new ConfigError('CONFIG_INVALID', `README.md has no settings table markers ('${start}' … '${end}'); add them where the table goes.`)
  return `${readme.slice(0, a + start.length)}\n${settingsMarkdownTable()}\n${readme.slice(b)}`
}
