/**
 * The suite's configuration: what users write (`SebsUserConfig`, in
 * `sebs.config.ts` or as plugin options) and what the rest of the code reads
 * (`SebsConfig`, every default filled in). Precedence, lowest first:
 * defaults → config file / plugin options → environment (`SEBS_*`) → CLI flags.
 * The settings themselves (types, defaults, flags, variables, messages) are
 * one table: engine/settings-schema.ts. Runs in the main process.
 */
import { randomBytes } from 'node:crypto'
import { ConfigError } from '../core/errors.ts'
import { loadProvider } from '../providers/registry.ts'
import {
  SETTINGS,
  mergesKeys,
  resolveSettings,
  settingError,
  settingsFromEnv,
  userConfigSchema,
  type ResolvedSettings,
  type SettingKey,
  type UserSettings,
} from './settings-schema.ts'

export { splitList } from './settings-schema.ts'

/**
 * What users write in `sebs.config.ts` (through `defineConfig`) or pass as
 * the plugin's options; every key is optional. The keys, their types and
 * their documentation come from the table in engine/settings-schema.ts.
 */
export interface SebsUserConfig extends UserSettings {}

/** The resolved configuration the code reads: every default filled in, paths absolute. */
export interface SebsConfig extends ResolvedSettings {
  /** Whether a layer set `repetitions` (else it is the default, and an experiment may use its own). */
  repetitionsSet?: boolean
  /** Identifies this run: results directory name and the tag on every created resource. */
  runId: string
  /** The project root (where `benchmarks/` and `results/` are resolved from). */
  root: string
}

/** Typed helper for `sebs.config.ts`. */
export function defineConfig(config: SebsUserConfig): SebsUserConfig {
  return config
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v = input
  for (const p of path) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[p] : undefined
  return v
}

/** Validates a user config (file, plugin options or merged overrides) and names the bad field. */
export function validateUserConfig(input: unknown, source: string): SebsUserConfig {
  const parsed = userConfigSchema.safeParse(input ?? {})
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    const key = issue.path[0]
    const r = typeof key === 'string' ? SETTINGS[key as SettingKey] : undefined
    // A table setting gets its own message; structured values and unknown keys get zod's, with the field.
    if (r && r.kind.type !== 'object') {
      // A bad list item is named by its value (`--size small,huge` → 'huge').
      throw settingError(key as SettingKey, { source }, valueAt(input, issue.path.slice(0, 2)))
    }
    const field = issue.path.join('.') || '(root)'
    throw new ConfigError('CONFIG_INVALID', `${source}: field '${field}': ${issue.message}. See the configuration section of README.md.`)
  }
  return parsed.data as SebsUserConfig
}

/** `SEBS_*` environment variables (and the `sebs` CLI's flags), for `npx vitest bench` users who cannot pass flags. */
export function configFromEnv(env: NodeJS.ProcessEnv): SebsUserConfig {
  const out: SebsUserConfig = settingsFromEnv(env)
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

function mergeUser(base: SebsUserConfig, over: SebsUserConfig): SebsUserConfig {
  const out: Record<string, unknown> = { ...base }
  for (const [key, v] of Object.entries(over)) {
    if (v === undefined) continue
    // Provider sections and `runtimes` merge key by key across layers.
    out[key] = mergesKeys(key) && typeof v === 'object' ? { ...((out[key] as object) ?? {}), ...(v as object) } : v
  }
  return out as SebsUserConfig
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
  return {
    ...resolveSettings(merged, options.root),
    repetitionsSet: merged.repetitions !== undefined,
    runId: options.runId ?? createRunId(),
    root: options.root,
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
