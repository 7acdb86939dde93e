/**
 * The Vitest plugin (main process, in Vite's config and transform hooks).
 * In benchmark mode it makes one Vitest project per provider it is asked for
 * (`vitest bench --project aws`; without `--project`, the default provider
 * only), discovers benchmark directories, makes each one's `config.json` a
 * bench file (transformed into a generated suite, so no per-benchmark bench
 * file is written by hand), and wires the global setup and the reporter. In
 * test mode (`vitest run`) it does nothing.
 */
import { inspect } from 'node:util'
import { resolve } from 'node:path'
import type { Plugin } from 'vite'
// Vitest's augmentation of Vite's config (the `test` key), also when this file is compiled alone.
import type {} from 'vitest/config'
import { ConfigError, SebsError, listChoices } from '../core/errors.ts'
import { PROVIDERS, type ProviderName } from '../core/types.ts'
import { EXPERIMENTS } from '../suites/index.ts'
import { configFromEnv, resolveConfig, type SebsUserConfig } from '../engine/settings.ts'
import { discoverBenchmarks } from '../engine/discovery.ts'
import { SebsReporter } from './reporter.ts'
import { enumerateCases, selectCases } from '../engine/selection.ts'
import { setRunState } from '../engine/run-state.ts'
import { MODULE_IMPORTER } from '../engine/inputs.ts'
import { siblingModulePath } from '../core/module-path.ts'

const here = (file: string) => siblingModulePath(file, import.meta.url)
const SUITE_MODULE = here('../suites/benchmark-suite.ts')
const EXPERIMENT_SUITE_MODULE = here('../suites/experiment-suite.ts')
const GLOBAL_SETUP = here('./global-setup.ts')
const CLAIMED = Symbol.for('serverless-benchmarks.plugin-claimed')

/**
 * The provider names given with `--project` on Vitest's command line. Vite
 * runs plugin config hooks before Vitest merges its CLI options into the
 * config, so the plugin reads them where Vitest does: from argv.
 */
export function projectsFromArgv(argv: readonly string[]): string[] {
  const names: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--') break
    if (arg === '--project' && argv[i + 1] !== undefined) names.push(argv[++i]!)
    else if (arg.startsWith('--project=')) names.push(arg.slice('--project='.length))
  }
  return names
}

/**
 * The `-t` / `--testNamePattern` of Vitest's command line, if any (read from
 * argv for the same reason as `--project`).
 */
export function testNamePatternFromArgv(argv: readonly string[]): string | undefined {
  let pattern: string | undefined
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--') break
    if ((arg === '-t' || arg === '--testNamePattern') && argv[i + 1] !== undefined) pattern = argv[++i]
    else if (arg.startsWith('--testNamePattern=')) pattern = arg.slice('--testNamePattern='.length)
    else if (arg.startsWith('-t=')) pattern = arg.slice(3)
  }
  return pattern
}

/** Whether argv (before a `--`) has the flag, as `--flag value` or `--flag=value`. */
function hasFlag(argv: readonly string[], flag: string): boolean {
  const end = argv.indexOf('--')
  return (end === -1 ? argv : argv.slice(0, end)).some((a) => a === flag || a.startsWith(`${flag}=`))
}

/**
 * Which provider projects to create: the one `--project` names, else the
 * default provider (the config's `provider`, SEBS_PROVIDER, or `sebs bench
 * --provider`). One provider per run: a run's records, summary and cleanup
 * belong to one provider.
 */
export function chooseProviderProject(requested: readonly string[], defaultProvider: ProviderName): ProviderName {
  if (requested.length === 0) return defaultProvider
  const unknown = requested.filter((p) => !(PROVIDERS as readonly string[]).includes(p))
  if (unknown.length > 0) {
    throw new ConfigError('UNKNOWN_PROVIDER', `--project ${unknown.join(', ')}: the sebs plugin's projects are the providers ${listChoices(PROVIDERS)}; choose one.`)
  }
  const distinct = [...new Set(requested)]
  if (distinct.length > 1) {
    throw new ConfigError('CONFIG_INVALID', `--project ${distinct.join(' --project ')}: one provider per run; run each provider with its own 'vitest bench --project NAME'.`)
  }
  return distinct[0] as ProviderName
}

/**
 * A user error (bad config, missing credentials) as Vitest should print it:
 * the message only. Vitest prints startup errors with `console.error(err)` and
 * global-setup errors with their stack, own properties and cause, all noise
 * for a missing credential; so a fresh Error carries just the line
 * (`DEBUG=sebs:*` keeps the original, with its stack and cause).
 */
export function asPlainUserError(err: unknown): unknown {
  if (!(err instanceof SebsError) || process.env.DEBUG) return err
  const plain = new Error(`error [${err.code}]: ${err.message}`)
  Object.defineProperty(plain, 'name', { value: 'sebs', enumerable: false })
  plain.stack = `sebs: ${plain.message}`
  Object.defineProperty(plain, inspect.custom, { value: () => plain.stack, enumerable: false })
  return plain
}

/**
 * The plugin. Several instances may be present (the project's Vitest config
 * and the one the `sebs` CLI adds for projects without one): the first whose
 * `config` hook runs claims the run and the others step aside.
 */
export function sebs(userConfig: SebsUserConfig = {}): Plugin {
  return {
    name: 'serverless-benchmarks',
    enforce: 'pre',
    config(viteConfig, env) {
      if (env.mode !== 'benchmark') return
      const g = globalThis as Record<symbol, unknown>
      if (g[CLAIMED]) return // another instance (from the user's config file) is in charge
      g[CLAIMED] = true
      try {
        const root = resolve(viteConfig.root ?? process.cwd())
        const layers = [
          { source: 'sebs plugin options', config: userConfig },
          { source: 'SEBS_* environment / sebs CLI flags', config: configFromEnv(process.env) },
        ]
        const runId = process.env.SEBS_RUN_ID || undefined
        const provider = chooseProviderProject(projectsFromArgv(process.argv), resolveConfig(layers, { root, runId }).provider)
        // `--project aws` is the highest layer: the Vitest-native spelling of --provider=aws.
        const config = resolveConfig([...layers, { source: `--project ${provider}`, config: { provider } }], { root, runId })
        process.env.SEBS_RUN_ID = config.runId
        if (config.experiment && !EXPERIMENTS[config.experiment]) {
          throw new ConfigError('UNKNOWN_EXPERIMENT', `Unknown experiment '${config.experiment}'. Choose one of ${listChoices(Object.keys(EXPERIMENTS))}.`)
        }
        const { benchmarks, notices } = discoverBenchmarks({ builtin: config.builtinBenchmarks, extra: config.benchmarks })
        const cases = enumerateCases(benchmarks, { languages: config.languages, sizes: config.sizes })
        // Only benchmarks with a case that `-t` selects become bench files: Vitest would list every other one as skipped lines.
        const pattern = testNamePatternFromArgv(process.argv)
        const wanted = pattern !== undefined ? selectCases(cases, { testNamePattern: new RegExp(pattern), root }) : cases
        const shown = wanted.length > 0 ? wanted : cases // nothing matches: the global setup reports it with the list of cases
        const suiteFiles = new Map(benchmarks.filter((b) => shown.some((c) => c.benchmark === b.id)).map((b) => [resolve(b.dir, 'config.json'), b.id]))
        setRunState({ config, benchmarks, notices, cases })
        return {
          test: {
            // Reporters belong to the root: they see every project's results.
            // Vitest adds a `--reporter` of its command line to these: 'default' only when none is asked for, so `--reporter=verbose` replaces it.
            benchmark: { reporters: hasFlag(process.argv, '--reporter') ? [new SebsReporter()] : ['default', new SebsReporter()] },
            // Only the provider this run is for becomes a project, so plain
            // `vitest bench` never touches a cloud it was not asked for.
            projects: [{ test: { name: provider }, plugins: [providerProject(provider, suiteFiles, config.experiment)] }],
            fileParallelism: false,
          },
        }
      } catch (err) {
        throw asPlainUserError(err)
      }
    },
  }
}

/**
 * The Vite plugin of the provider's Vitest project: its bench files are the
 * selected benchmarks' config.json files, each turned into its generated suite;
 * its global setup builds, deploys and provides.
 */
function providerProject(provider: ProviderName, suiteFiles: ReadonlyMap<string, string>, experiment: string | undefined): Plugin {
  return {
    name: `serverless-benchmarks:${provider}`,
    enforce: 'pre',
    config() {
      return {
        test: {
          // The exact files; no exclude, since Vitest's default one drops node_modules and dist, where the built-in benchmarks of an installed package live.
          benchmark: { include: [...suiteFiles.keys()], exclude: [] },
          globalSetup: [GLOBAL_SETUP],
          // Parallel cases would skew each other's timings on a small machine.
          fileParallelism: false,
          // Builds, deploys and cloud cleanups take longer than Vitest's defaults.
          hookTimeout: 10 * 60_000,
          teardownTimeout: 10 * 60_000,
        },
      }
    },
    transform(_code, id) {
      const file = id.split('?')[0]!
      const benchmarkId = suiteFiles.get(file)
      if (!benchmarkId) return
      // The generated code is run by Vitest's module runner: its import() loads a user's input.ts in the bench worker.
      const importer = `globalThis[Symbol.for(${JSON.stringify(MODULE_IMPORTER.description)})] ??= (file) => import(/* @vite-ignore */ file)\n`
      const code =
        importer +
        (experiment
          ? `import { defineExperimentSuite } from ${JSON.stringify(EXPERIMENT_SUITE_MODULE)}\ndefineExperimentSuite(${JSON.stringify(experiment)}, ${JSON.stringify(benchmarkId)})\n`
          : `import { defineBenchmarkSuite } from ${JSON.stringify(SUITE_MODULE)}\ndefineBenchmarkSuite(${JSON.stringify(benchmarkId)})\n`)
      return {
        code,
        map: null,
        // Vite would otherwise parse the generated code as the JSON it replaced.
        moduleType: 'js' as const,
      }
    },
  }
}
