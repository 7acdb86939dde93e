/**
 * The experiments this suite can run (`--experiment NAME`): names,
 * descriptions and settings, derived from each experiment's own description
 * (its `defineExperiment` in the file beside this one). Loaded by the plugin in
 * the main process: the experiment files import neither Vitest nor provider
 * SDKs. docs/experiments.md describes them for users.
 */
import { ConfigError } from '../core/errors.ts'
import type { BenchmarkDefinition, Language } from '../core/types.ts'
import { experimentPointNames, type Experiment, type ExperimentSettingsSource } from './experiment.ts'
import { coldStart } from './cold-start.ts'
import { evictionModel } from './eviction-model.ts'
import { invocationOverhead } from './invocation-overhead.ts'
import { LOCAL_EXPERIMENTS } from './local-experiments.ts'
import { networkPingPong } from './network-ping-pong.ts'
import { perfCost } from './perf-cost.ts'

/** What the plugin and CLI need of an experiment (its description without the implementation). */
export type ExperimentInfo = Pick<Experiment, 'description' | 'providers' | 'settings' | 'sweepsMemory'>

/** Every experiment, in listing order. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const ALL_EXPERIMENTS: readonly Experiment<any>[] = [perfCost, invocationOverhead, networkPingPong, evictionModel, coldStart, ...Object.values(LOCAL_EXPERIMENTS)]

export const EXPERIMENTS: Record<string, ExperimentInfo> = Object.fromEntries(
  ALL_EXPERIMENTS.map((e) => [
    e.name,
    { description: e.description, settings: e.settings, ...(e.providers ? { providers: e.providers } : {}), ...(e.sweepsMemory ? { sweepsMemory: e.sweepsMemory } : {}) },
  ]),
)

/**
 * Refuses a list-valued setting that the run would not honour in full: more than
 * one `--memory` size runs only in an experiment that sweeps memory (a plain run
 * and the other experiments deploy one memory size). `languages` and `sizes` are
 * honoured everywhere (one case per language × size), so they need no check.
 */
export function checkListSettings(config: { memory?: readonly number[]; experiment?: string }): void {
  const memory = [...new Set(config.memory ?? [])]
  if (memory.length <= 1) return
  const sweeping = Object.entries(EXPERIMENTS)
    .filter(([, info]) => info.sweepsMemory)
    .map(([name]) => name)
  if (config.experiment && EXPERIMENTS[config.experiment]?.sweepsMemory) return
  const list = memory.join(',')
  const where = config.experiment ? `the '${config.experiment}' experiment deploys one memory size` : 'a plain run deploys each function with one memory size'
  throw new ConfigError(
    'CONFIG_INVALID',
    `--memory ${list}: ${where}, so only ${memory[0]} MB would run. ` +
      `Sweep memory sizes with --experiment ${sweeping[0]} (or ${sweeping.slice(1).join(', ')}): npx sebs bench --experiment ${sweeping[0]} --memory ${list}; ` +
      `or give one size (--memory ${memory[0]}).`,
  )
}

/** What of the run's settings names an experiment's points (a SebsConfig has these). */
export interface ExperimentRunSettings extends Omit<ExperimentSettingsSource, 'experiment'> {
  provider: string
  experiment?: string
  experiments: Record<string, Record<string, unknown>>
}

/**
 * The point names of each case of an experiment run, for `-t` to select
 * single points in the main process (engine/selection.ts `parts`); undefined
 * for a plain run or an unknown experiment. Functions are deployed with the
 * first `--memory` size, else the benchmark's own, as the global setup does.
 * `strict`: a plan's refusal of its settings (a ConfigError) is thrown;
 * otherwise the case just has no point names here and the refusal comes
 * from the place that knows the whole target.
 */
export function experimentCaseParts(
  config: ExperimentRunSettings,
  functionsOnThisMachine: boolean,
  options: { strict?: boolean } = {},
): ((benchmark: BenchmarkDefinition, language: Language) => string[]) | undefined {
  const name = config.experiment
  const experiment = name ? ALL_EXPERIMENTS.find((e) => e.name === name) : undefined
  if (!name || !experiment) return undefined
  const source: ExperimentSettingsSource = { ...config, experiment: { name, options: config.experiments[name] ?? {} } }
  return (benchmark, language) => {
    const target = { provider: config.provider, functionsOnThisMachine, language, deployedMemory: config.memory?.[0] ?? benchmark.config.memory }
    try {
      return experimentPointNames(experiment, source, target)
    } catch (err) {
      if (options.strict) throw err
      return []
    }
  }
}
