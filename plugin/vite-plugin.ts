/**
 * The Vitest plugin (main process, in Vite's config and transform hooks).
 * In benchmark mode it discovers benchmark directories, makes each one's
 * `config.json` a bench file (transformed into a generated suite, so no
 * per-benchmark bench file is written by hand), and wires the global setup
 * and the reporter. On Vitest 4 the run is one Vitest project named for its
 * provider (`vitest bench --project aws`; without `--project`, the default
 * provider only); on Vitest 5 the run is Vitest's own bench project and
 * `--project aws` still chooses the provider. In test mode (`vitest run`) it does nothing.
 */
import { resolve } from 'node:path'
import type { Plugin } from 'vite'
import type { Vitest } from 'vitest/node'
// Vitest's augmentation of Vite's config (the `test` key), also when this file is compiled alone.
import type {} from 'vitest/config'
import { ConfigError, listChoices } from '../core/errors.ts'
import { PROVIDERS, type ProviderName } from '../core/types.ts'
import { checkListSettings, experimentCaseParts, EXPERIMENTS } from '../suites/index.ts'
import { configFromEnv, resolveConfig, type SebsUserConfig } from '../engine/settings.ts'
import { discoverBenchmarks } from '../engine/discovery.ts'
import { SebsReporter } from './reporter.ts'
import { asPlainUserError } from './user-error.ts'
import { installInterruptHandling } from './interrupt.ts'
import { enumerateCases, nothingSelectedError, selectCases, selectedVitest5TaskNames, type BenchCase } from '../engine/selection.ts'
import { setRunState } from '../engine/run-state.ts'
import { MODULE_IMPORTER } from '../engine/inputs.ts'
import { siblingModulePath } from '../core/module-path.ts'
import { detectVitestMajor } from './vitest-major.ts'
import type { VitestMajor } from './bench-adapter.ts'
import { markTiming } from '../core/timing.ts'
import { loadProvider } from '../providers/registry.ts'

const here = (file: string) => siblingModulePath(file, import.meta.url)
const SUITE_MODULE = here('../suites/benchmark-suite.ts')
const EXPERIMENT_SUITE_MODULE = here('../suites/experiment-suite.ts')
const ADAPTER_MODULE = here('./bench-adapter.ts')
const PROVIDER_MODULE = here('./faas-benchmark-provider.ts')

/**
 * Whether Vitest runs benchmarks. Vitest 4 says so with the Vite mode
 * 'benchmark'; Vitest 5 runs `vitest bench` in mode 'test' (it adds a bench
 * project instead), so there the command line says it.
 */
function isBenchRun(mode: string, major: VitestMajor): boolean {
  if (mode === 'benchmark') return true
  return major >= 5 && process.argv.slice(2).includes('bench')
}
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
 * Vitest 5 makes no project per provider: the run is the root's bench
 * project, named "<root name> (bench)", and Vitest applies `--project` to
 * that name, so `--project aws` would match nothing ("No projects matched the
 * filter"). The plugin has taken the name as the provider, so it removes the
 * filter that Vitest's CLI plugin (a `config` hook of order 'pre', run before
 * this one) merged into the config; a returned partial config cannot do it,
 * since Vite concatenates arrays when merging.
 */
function consumeProjectFilter(viteConfig: { test?: object }): void {
  // `project` is a command-line option, absent from the config file's types.
  const test = viteConfig.test as { project?: string | string[] } | undefined
  if (test?.project !== undefined) test.project = []
}

// asPlainUserError lives in user-error.ts (the global setup imports it without the plugin); re-exported here.
export { asPlainUserError } from './user-error.ts'

/** What the plugin decided for this run, shared by its hooks. */
interface RunPlan {
  suiteFiles: Map<string, string>
  experiment: string | undefined
  vitestMajor: VitestMajor
  /**
   * Vitest 5: the `-t` Vitest applies, made of the selected tasks' exact
   * names. Vitest 5 joins a test's name with ` > `, so the spelling the
   * README gives (`-t '110.dynamic-html python'`, which Vitest 4 matches)
   * selected cases for the setup but no test: nothing ran.
   */
  vitestNamePattern?: RegExp
}

/**
 * Vitest 5's `-t` for the selected cases: the ` > `-joined names of their
 * tasks that the user's pattern selects (all tasks of a case whose name it
 * matches, e.g. `110.dynamic-html python`; only the matching ones for a task
 * pattern such as `· cold`), anchored at their end.
 */
export function vitest5NamePattern(selected: BenchCase[], pattern: RegExp): RegExp {
  const names = selected.flatMap((c) => selectedVitest5TaskNames(c, pattern))
  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  return new RegExp(`(?:${names.map(escape).join('|')})$`)
}

/** The generated suite of a benchmark's config.json, or undefined for any other module. */
function suiteCode(plan: RunPlan, id: string): { code: string; map: null; moduleType: 'js' } | undefined {
  const file = id.split('?')[0]!
  const benchmarkId = plan.suiteFiles.get(file)
  if (!benchmarkId) return undefined
  // The generated code is run by Vitest's module runner: its import() loads a user's input.ts in the bench worker.
  const importer = `globalThis[Symbol.for(${JSON.stringify(MODULE_IMPORTER.description)})] ??= (file) => import(/* @vite-ignore */ file)\n`
  // The suites register tasks through the adapter of the Vitest major the project runs.
  const tasks = `import { benchTasks } from ${JSON.stringify(ADAPTER_MODULE)}\nconst tasks = benchTasks(${plan.vitestMajor})\n`
  const code = plan.experiment
    ? `${importer}${tasks}import { defineExperimentSuite } from ${JSON.stringify(EXPERIMENT_SUITE_MODULE)}\ndefineExperimentSuite(${JSON.stringify(plan.experiment)}, ${JSON.stringify(benchmarkId)}, tasks)\n`
    : `${importer}${tasks}import { defineBenchmarkSuite } from ${JSON.stringify(SUITE_MODULE)}\ndefineBenchmarkSuite(${JSON.stringify(benchmarkId)}, tasks)\n`
  // Vite would otherwise parse the generated code as the JSON it replaced.
  return { code, map: null, moduleType: 'js' }
}

const CONFIGURED = new WeakSet<object>()

/** Once per Vitest instance, whichever of our plugins sees it first. */
function configureRun(vitest: Vitest, plan: RunPlan): void {
  if (CONFIGURED.has(vitest)) return
  CONFIGURED.add(vitest)
  // Ctrl-C / SIGTERM still report what completed (interrupt.ts).
  installInterruptHandling(vitest)
  // Vitest 5: reporters named on the command line replace the config's, and ours writes the run's
  // summary files, index entry and failure exit; it is added back before Vitest creates its reporters.
  if (plan.vitestMajor >= 5) {
    if (plan.vitestNamePattern) vitest.config.testNamePattern = plan.vitestNamePattern
    const reporters = vitest.config.reporters as unknown[]
    if (!reporters.some((r) => r instanceof SebsReporter || (Array.isArray(r) && r[0] instanceof SebsReporter))) reporters.push(new SebsReporter())
  }
}

/**
 * The plugin. Several instances may be present (the project's Vitest config
 * and the one the `sebs` CLI adds for projects without one): the first whose
 * `config` hook runs claims the run and the others step aside.
 */
export function sebs(userConfig: SebsUserConfig = {}): Plugin {
  let plan: RunPlan | undefined
  // Vitest 4: the run lives in the provider's project (its own plugin); the root only holds the reporters.
  let inProject = false
  return {
    name: 'serverless-benchmarks',
    enforce: 'pre',
    config(viteConfig, env) {
      const root = resolve(viteConfig.root ?? process.cwd())
      const vitestMajor = detectVitestMajor(root)
      if (!isBenchRun(env.mode, vitestMajor)) return
      const g = globalThis as Record<symbol, unknown>
      if (g[CLAIMED]) return // another instance (from the user's config file) is in charge
      g[CLAIMED] = true
      markTiming('main', 'plugin config hook (Vitest config loaded)')
      try {
        const layers = [
          { source: 'sebs plugin options', config: userConfig },
          { source: 'SEBS_* environment / sebs CLI flags', config: configFromEnv(process.env) },
        ]
        const runId = process.env.SEBS_RUN_ID || undefined
        // `--project aws` is the highest layer, the Vitest-native spelling of --provider=aws.
        const requested = projectsFromArgv(process.argv)
        const provider = chooseProviderProject(requested, resolveConfig(layers, { root, runId }).provider)
        if (vitestMajor >= 5 && requested.length > 0) consumeProjectFilter(viteConfig)
        const config = resolveConfig([...layers, { source: `--project ${provider}`, config: { provider } }], { root, runId })
        process.env.SEBS_RUN_ID = config.runId
        if (config.experiment && !EXPERIMENTS[config.experiment]) {
          throw new ConfigError('UNKNOWN_EXPERIMENT', `Unknown experiment '${config.experiment}'. Choose one of ${listChoices(Object.keys(EXPERIMENTS))}.`)
        }
        // Every value of a list flag is honoured or refused, before anything is built.
        checkListSettings(config)
        const { benchmarks, notices } = discoverBenchmarks({ builtin: config.builtinBenchmarks, extra: config.benchmarks })
        // In an experiment run `-t` may name one point; point names do not depend on where functions
        // run (only a plan's refusals do, and the global setup plans again knowing the provider).
        const parts = experimentCaseParts(config, true)
        const cases = enumerateCases(benchmarks, { languages: config.languages, sizes: config.sizes, ...(parts ? { parts } : {}) })
        // Only benchmarks with a case that `-t` selects become bench files: Vitest would list every other one as skipped lines.
        const pattern = testNamePatternFromArgv(process.argv)
        const filters = pattern !== undefined ? { testNamePattern: new RegExp(pattern), root } : undefined
        const wanted = filters ? selectCases(cases, filters) : cases
        // Nothing matches: our message with the list of cases, before Vitest would say "No benchmark files found".
        if (filters && wanted.length === 0) throw nothingSelectedError(cases, filters, { sizes: config.sizes, languages: config.languages })
        const suiteFiles = new Map(benchmarks.filter((b) => wanted.some((c) => c.benchmark === b.id)).map((b) => [resolve(b.dir, 'config.json'), b.id]))
        setRunState({ config, benchmarks, notices, cases })
        // The provider's slow lookups (the local provider asks Python for its version) overlap Vitest's start.
        const languages = [...new Set(wanted.map((c) => c.language))]
        void loadProvider(config.provider)
          .then((descriptor) => descriptor.prepare?.({ runtimes: config.runtimes, runtime: config.runtime }, languages))
          .catch(() => {})
        plan = { suiteFiles, experiment: config.experiment, vitestMajor, ...(vitestMajor >= 5 && filters ? { vitestNamePattern: vitest5NamePattern(wanted, filters.testNamePattern) } : {}) }
        const runSettings = {
          globalSetup: [GLOBAL_SETUP],
          // Parallel cases would skew each other's timings on a small machine.
          fileParallelism: false,
          // Builds, deploys and cloud cleanups take longer than Vitest's defaults.
          hookTimeout: 10 * 60_000,
          teardownTimeout: 10 * 60_000,
        }
        // The exact files; no exclude, since Vitest's default one drops node_modules and dist, where the built-in benchmarks of an installed package live.
        const include = [...suiteFiles.keys()]
        if (vitestMajor >= 5) {
          // Vitest 5 runs registrations through a benchmark provider (ours) and has no bench-only reporters.
          return {
            test: {
              benchmark: { include, exclude: [], provider: PROVIDER_MODULE },
              reporters: ['default', new SebsReporter()],
              ...runSettings,
            },
          }
        }
        inProject = true
        return {
          test: {
            // Reporters belong to the root: they see every project's results. Vitest adds a `--reporter`
            // of its command line to these: 'default' only when none is asked for, so `--reporter=verbose` replaces it.
            benchmark: { reporters: hasFlag(process.argv, '--reporter') ? [new SebsReporter()] : ['default', new SebsReporter()] },
            // Only the provider this run is for becomes a project, so plain
            // `vitest bench` never touches a cloud it was not asked for.
            projects: [{ test: { name: provider }, plugins: [providerProject(provider, plan, { include, ...runSettings })] }],
            fileParallelism: false,
          },
        }
      } catch (err) {
        throw asPlainUserError(err)
      }
    },
    configureVitest({ vitest }) {
      if (plan) configureRun(vitest, plan)
    },
    transform(_code, id) {
      if (!plan || inProject) return
      return suiteCode(plan, id)
    },
  }
}

/**
 * The Vite plugin of the provider's Vitest project (Vitest 4): its bench files
 * are the selected benchmarks' config.json files, each turned into its
 * generated suite; its global setup builds, deploys and provides.
 */
function providerProject(
  provider: ProviderName,
  plan: RunPlan,
  settings: { include: string[]; globalSetup: string[]; fileParallelism: boolean; hookTimeout: number; teardownTimeout: number },
): Plugin {
  const { include, ...rest } = settings
  return {
    name: `serverless-benchmarks:${provider}`,
    enforce: 'pre',
    config() {
      return { test: { benchmark: { include, exclude: [] }, ...rest } }
    },
    configureVitest({ vitest }) {
      configureRun(vitest, plan)
    },
    transform(_code, id) {
      return suiteCode(plan, id)
    },
  }
}
