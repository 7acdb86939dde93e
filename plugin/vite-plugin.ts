/**
 * The Vitest plugin. In benchmark mode it discovers benchmark directories,
 * makes each one's `config.json` a bench file (transformed into a generated
 * suite, so no per-benchmark bench file is written by hand), and wires the
 * global setup and the reporter. In test mode (`vitest run`) it does nothing.
 */
import { fileURLToPath } from 'node:url'
import { resolve } from 'node:path'
import type { Plugin } from 'vite'
import { ConfigError, listChoices } from '../core/errors.ts'
import { checkListSettings, EXPERIMENTS } from '../suites/index.ts'
import { configFromEnv, resolveConfig, type SebsUserConfig } from '../engine/settings.ts'
import { discoverBenchmarks } from '../engine/discovery.ts'
import { SebsReporter } from './reporter.ts'
import { installInterruptHandling } from './interrupt.ts'
import { enumerateCases } from '../engine/selection.ts'
import { setRunState } from '../engine/run-state.ts'
import { detectVitestMajor } from './vitest-major.ts'
import type { VitestMajor } from './bench-adapter.ts'

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url))
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
 * The plugin. Several instances may be present (the project's Vitest config
 * and the one the `sebs` CLI adds for projects without one): the first whose
 * `config` hook runs claims the run and the others step aside.
 */
export function sebs(userConfig: SebsUserConfig = {}): Plugin {
  let suiteFiles = new Map<string, string>()
  let active = false
  let experiment: string | undefined
  let root = process.cwd()
  let vitestMajor: VitestMajor | undefined
  return {
    name: 'serverless-benchmarks',
    enforce: 'pre',
    config(viteConfig, env) {
      root = resolve(viteConfig.root ?? process.cwd())
      vitestMajor = detectVitestMajor(root)
      if (!isBenchRun(env.mode, vitestMajor)) return
      const g = globalThis as Record<symbol, unknown>
      if (g[CLAIMED]) return // another instance (from the user's config file) is in charge
      g[CLAIMED] = true
      active = true
      const config = resolveConfig(
        [
          { source: 'sebs plugin options', config: userConfig },
          { source: 'SEBS_* environment / sebs CLI flags', config: configFromEnv(process.env) },
        ],
        { root, runId: process.env.SEBS_RUN_ID || undefined },
      )
      process.env.SEBS_RUN_ID = config.runId
      if (config.experiment && !EXPERIMENTS[config.experiment]) {
        throw new ConfigError(
          'UNKNOWN_EXPERIMENT',
          `Unknown experiment '${config.experiment}'. Choose one of ${listChoices(Object.keys(EXPERIMENTS))}.`,
        )
      }
      // Every value of a list flag is honoured or refused, before anything is built.
      checkListSettings(config)
      experiment = config.experiment
      const { benchmarks, notices } = discoverBenchmarks({ builtin: config.builtinBenchmarks, extra: config.benchmarks })
      const cases = enumerateCases(benchmarks, { languages: config.languages, sizes: config.sizes })
      suiteFiles = new Map(benchmarks.filter((b) => cases.some((c) => c.benchmark === b.id)).map((b) => [resolve(b.dir, 'config.json'), b.id]))
      setRunState({ config, benchmarks, notices, cases })
      // Vitest 5 runs registrations through a benchmark provider (ours) and has no bench-only reporters.
      const benchmark = vitestMajor >= 5
        ? { include: [...suiteFiles.keys()], provider: PROVIDER_MODULE }
        : { include: [...suiteFiles.keys()], reporters: ['default', new SebsReporter()] }
      return {
        test: {
          benchmark,
          ...(vitestMajor >= 5 ? { reporters: ['default', new SebsReporter()] } : {}),
          globalSetup: [GLOBAL_SETUP],
          // Parallel cases would skew each other's timings on a small machine.
          fileParallelism: false,
          // Builds, deploys and cloud cleanups take longer than Vitest's defaults.
          hookTimeout: 10 * 60_000,
          teardownTimeout: 10 * 60_000,
        },
      }
    },
    configureVitest({ vitest }) {
      if (!active) return
      // Ctrl-C / SIGTERM still report what completed (interrupt.ts).
      installInterruptHandling(vitest)
      // Vitest 5: reporters named on the command line replace the config's, and ours writes the run's
      // summary files, index entry and failure exit; it is added back before Vitest creates its reporters.
      if ((vitestMajor ?? 4) >= 5) {
        const reporters = vitest.config.reporters as unknown[]
        if (!reporters.some((r) => r instanceof SebsReporter || (Array.isArray(r) && r[0] instanceof SebsReporter))) reporters.push(new SebsReporter())
      }
    },
    transform(_code, id) {
      if (!active) return
      const file = id.split('?')[0]!
      const benchmarkId = suiteFiles.get(file)
      if (!benchmarkId) return
      // The suites register tasks through the adapter of the Vitest major the project runs.
      const tasks = `import { benchTasks } from ${JSON.stringify(ADAPTER_MODULE)}\nconst tasks = benchTasks(${vitestMajor ?? 4})\n`
      const code = experiment
        ? `${tasks}import { defineExperimentSuite } from ${JSON.stringify(EXPERIMENT_SUITE_MODULE)}\ndefineExperimentSuite(${JSON.stringify(experiment)}, ${JSON.stringify(benchmarkId)}, tasks)\n`
        : `${tasks}import { defineBenchmarkSuite } from ${JSON.stringify(SUITE_MODULE)}\ndefineBenchmarkSuite(${JSON.stringify(benchmarkId)}, tasks)\n`
      return {
        code,
        map: null,
        // Vite would otherwise parse the generated code as the JSON it replaced.
        moduleType: 'js' as const,
      }
    },
  }
}

