/**
 * Unit tests (Vitest worker) proving the settings table is the one source:
 * every row has a flag in the help, a `SEBS_*` variable that is read and a
 * message naming it (or is a config-only row); the types, the zod schema,
 * the parseArgs options and README's table all follow the rows.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { ConfigError } from '../core/errors.ts'
import type { Language, ProviderName, Size } from '../core/types.ts'
import {
  SETTINGS,
  flagHelp,
  flagOptions,
  replaceSettingsTable,
  settingError,
  settingRows,
  settingsFromEnv,
  settingsFromFlags,
  settingsMarkdownTable,
  userConfigSchema,
  workerSettings,
  type SettingKind,
} from './settings-schema.ts'
import { configFromEnv, resolveConfig, validateUserConfig, type SebsConfig, type SebsUserConfig } from './settings.ts'

/** A value the kind accepts, as a flag or variable would give it. */
function goodText(kind: SettingKind): string {
  switch (kind.type) {
    case 'choice':
      return kind.choices[kind.choices.length - 1]!
    case 'int':
      return String(kind.max)
    case 'number':
      return String(kind.max ?? kind.above + 1)
    case 'string':
      return 'some/folder'
    case 'boolean':
      return '1'
    case 'object':
      throw new Error('object settings have no text form')
  }
}

/** A value the kind refuses, as text; strings accept any text (they are checked in the config layer below). */
function badText(kind: SettingKind): string | undefined {
  switch (kind.type) {
    case 'choice':
      return 'no-such-choice'
    case 'int':
      return String(kind.min - 1)
    case 'number':
      return String(kind.above)
    case 'boolean':
      return 'maybe'
    default:
      return undefined
  }
}

const message = (fn: () => unknown): string => {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError)
    return (err as Error).message
  }
  throw new Error('expected an error')
}

const rows = settingRows()

describe('the settings table', () => {
  it('gives every setting a flag and a variable, or marks it config-only with its meaning', () => {
    for (const [key, r] of rows) {
      if (r.configOnly !== undefined) {
        expect(r.flag, key).toBeUndefined()
        expect(r.env, key).toBeUndefined()
      } else {
        expect(r.flag, key).toBeDefined()
        expect(r.env, key).toMatch(/^SEBS_[A-Z_]+$/)
      }
    }
    // No two rows share a flag or a variable.
    const flags = rows.flatMap(([, r]) => (r.flag ? [r.flag.name] : []))
    const envs = rows.flatMap(([, r]) => (r.env ? [r.env] : []))
    expect(new Set(flags).size).toBe(flags.length)
    expect(new Set(envs).size).toBe(envs.length)
  })

  it.each(rows.filter(([, r]) => r.flag))('%s: a line in --help naming its flag and variable, and a parseArgs option', (key, r) => {
    const line = flagHelp()
      .split('\n')
      .findIndex((l) => l.startsWith(`  --${r.flag!.name} `) || l === `  --${r.flag!.name}`)
    expect(line, `--${r.flag!.name} in the help`).toBeGreaterThanOrEqual(0)
    expect(flagHelp().split('\n').slice(line, line + 2).join(' ')).toContain(`[${r.env}]`)
    expect(flagOptions('bench')[r.flag!.name]).toEqual(
      r.kind.type === 'boolean' ? { type: 'boolean' } : 'list' in r.kind && r.kind.list ? { type: 'string', multiple: true } : { type: 'string' },
    )
  })

  it.each(rows.filter(([, r]) => r.flag))('%s: read from its variable and its flag; a bad value names the variable / flag', (key, r) => {
    const good = goodText(r.kind)
    const fromEnv = settingsFromEnv({ [r.env!]: good }) as Record<string, unknown>
    expect(Object.keys(fromEnv)).toEqual([key])
    // The flag as parseArgs hands it over gives the same value.
    const { values } = parseArgs({ args: r.kind.type === 'boolean' ? [`--${r.flag!.name}`] : [`--${r.flag!.name}`, good], options: flagOptions('bench'), strict: true })
    expect(settingsFromFlags(values)).toEqual(fromEnv)
    // What both give passes the config schema as it is.
    expect(validateUserConfig(fromEnv, 'test')).toEqual(fromEnv)

    const bad = badText(r.kind)
    if (bad === undefined) return
    const envMessage = message(() => settingsFromEnv({ [r.env!]: bad }))
    expect(envMessage).toContain(r.env!)
    expect(envMessage).toContain(`'${bad}'`)
    const flagMessage = message(() => settingsFromFlags({ [r.flag!.name]: r.kind.type === 'boolean' || !('list' in r.kind && r.kind.list) ? bad : [bad] }))
    expect(flagMessage).toContain(`--${r.flag!.name}`)
    expect(flagMessage).toContain(`'${bad}'`)
  })

  it.each(rows)('%s: a wrong value in a config layer names the source and the key', (key, r) => {
    for (const wrong of [r.kind.type === 'object' ? 'not an object' : { not: 'a setting value' }, Symbol.for('odd'), 10n]) {
      const m = message(() => validateUserConfig({ [key]: wrong }, 'sebs.config.ts'))
      expect(m).toContain('sebs.config.ts')
      expect(m).toContain(`field '${key}'`)
    }
  })

  it('one message shape: name, value and the allowed range or choices', () => {
    expect(settingError('repetitions', { flag: true }, '-1').message).toBe("--repetitions must be a whole number ≥ 0, got '-1'.")
    expect(settingError('repetitions', { env: true }, '200000').message).toBe("SEBS_REPETITIONS must be a whole number ≤ 100000, got '200000'.")
    expect(settingError('repetitions', { source: 'sebs.config.ts' }, -2).message).toBe("sebs.config.ts: field 'repetitions' must be a whole number ≥ 0, got -2.")
    expect(settingError('ciTarget', { flag: true }, '0').message).toBe("--ci-target must be a percentage in (0, 100], got '0'.")
    expect(settingError('maxCost', { env: true }, 'x').message).toBe("SEBS_MAX_COST must be a positive amount in USD, got 'x'.")
    const provider = settingError('provider', { env: true }, 'gcp')
    expect(provider.code).toBe('UNKNOWN_PROVIDER')
    expect(provider.message).toBe("Unknown provider 'gcp'. Choose one of 'local', 'aws', 'azure' (SEBS_PROVIDER).")
    expect(settingError('trigger', { flag: true }, 'ftp').message).toBe("Unknown trigger 'ftp'. Choose one of 'http', 'library' (--trigger).")
    // A bad list item is the value named.
    expect(message(() => validateUserConfig({ sizes: ['test', 'huge'] }, 'cli'))).toBe("Unknown size 'huge'. Choose one of 'test', 'small', 'large' (cli: field 'sizes').")
    expect(message(() => validateUserConfig({ memory: [128, 50_000] }, 'cli'))).toBe("cli: field 'memory' must be a whole number ≤ 32768, got 50000.")
  })

  it('derives the zod schema, the bench options and the README table from the rows, one entry per row', () => {
    expect(Object.keys(userConfigSchema.shape)).toEqual(Object.keys(SETTINGS))
    expect(Object.keys(flagOptions('bench'))).toEqual(rows.flatMap(([, r]) => (r.flag ? [r.flag.name] : [])))
    const table = settingsMarkdownTable().split('\n').slice(2)
    expect(table.map((l) => /\| `(\w+)` \| [^|]*\|$/.exec(l)![1])).toEqual(Object.keys(SETTINGS))
    // Other commands take the rows that name them.
    expect(Object.keys(flagOptions('package'))).toEqual(['provider', 'language', 'arch', 'benchmarks', 'data-dir', 'cache-dir', 'results-dir', 'force'])
    expect(Object.keys(flagOptions('history'))).toEqual(['provider', 'benchmarks', 'data-dir', 'cache-dir', 'results-dir'])
  })

  it("README.md's table is the generated one (node bin/run-ts.mjs scripts/settings-docs.ts rewrites it)", () => {
    const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8')
    expect(replaceSettingsTable(readme)).toBe(readme)
  })
})

describe('values from flags and variables', () => {
  it('splits lists on commas (folders from flags only per flag) and reads switches', () => {
    expect(settingsFromEnv({ SEBS_LANGUAGE: 'python, nodejs', SEBS_MEMORY: '128,256', SEBS_BENCHMARKS: 'a,b', SEBS_KEEP: 'true', SEBS_FORCE: '0', SEBS_SIZE: '' })).toEqual({
      languages: ['python', 'nodejs'],
      memory: [128, 256],
      benchmarks: ['a', 'b'],
      keep: true,
      force: false,
    })
    expect(settingsFromFlags({ language: ['python,nodejs'], benchmarks: ['a,b', 'c'], keep: true, 'allow-failures': false })).toEqual({ languages: ['python', 'nodejs'], benchmarks: ['a,b', 'c'], keep: true })
  })

  it('keeps the precedence defaults → config → SEBS_* → flags', () => {
    const env = { SEBS_REPETITIONS: '4', SEBS_KEEP: '1', SEBS_TRIGGER: 'library', SEBS_CLI_OVERRIDES: JSON.stringify({ repetitions: 2 }) }
    const c = resolveConfig(
      [
        { source: 'file', config: { repetitions: 7, keep: false, trigger: 'http', arch: 'arm64' } },
        { source: 'environment', config: configFromEnv(env) },
      ],
      { root: '/p', runId: 'r' },
    )
    expect(c).toMatchObject({ repetitions: 2, keep: true, trigger: 'library', arch: 'arm64', runtime: 'process', sizes: ['test'] })
  })
})

describe('derived types', () => {
  it('keep the public shapes of SebsUserConfig and SebsConfig', () => {
    expectTypeOf<SebsUserConfig['provider']>().toEqualTypeOf<ProviderName | undefined>()
    expectTypeOf<SebsUserConfig['sizes']>().toEqualTypeOf<Size[] | undefined>()
    expectTypeOf<SebsUserConfig['runtimes']>().toEqualTypeOf<{ python?: string; node?: string } | undefined>()
    expectTypeOf<SebsConfig['repetitions']>().toEqualTypeOf<number>()
    expectTypeOf<SebsConfig['languages']>().toEqualTypeOf<Language[] | undefined>()
    expectTypeOf<SebsConfig['runtimes']>().toEqualTypeOf<{ python: string; node: string }>()
    expectTypeOf<SebsConfig['dataDir']>().toEqualTypeOf<string>()
    expectTypeOf<SebsConfig['memory']>().toEqualTypeOf<number[] | undefined>()
    expectTypeOf<SebsConfig['runId']>().toEqualTypeOf<string>()
  })

  it('hand the worker rows to the workers, as resolved', () => {
    const c = resolveConfig([{ source: 'file', config: { memory: [256], ciTarget: 5, repetitions: 3 } }], { root: '/p', runId: 'r' })
    expect(workerSettings(c)).toEqual({ languages: undefined, sizes: ['test'], repetitions: 3, memory: [256], trigger: 'http', ciTarget: 5, maxCost: undefined, cacheDir: '/p/.sebs-cache' })
  })
})
