/**
 * Experiment name → implementation. Loaded in bench workers only (the
 * plugin's main process reads the names from index.ts).
 */
import type { Experiment } from './experiment.ts'
import { coldStart } from './cold-start.ts'
import { evictionModel } from './eviction-model.ts'
import { EXPERIMENTS } from './index.ts'
import { invocationOverhead } from './invocation-overhead.ts'
import { LOCAL_EXPERIMENTS } from './local-experiments.ts'
import { networkPingPong } from './network-ping-pong.ts'
import { perfCost } from './perf-cost.ts'

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const EXPERIMENT_IMPLEMENTATIONS: Record<string, Experiment<any>> = {
  'perf-cost': perfCost,
  'invocation-overhead': invocationOverhead,
  'network-ping-pong': networkPingPong,
  'eviction-model': evictionModel,
  'cold-start': coldStart,
  ...LOCAL_EXPERIMENTS,
}

// Every registered name has an implementation and the other way round (checked at load, so a mismatch cannot ship).
for (const name of new Set([...Object.keys(EXPERIMENTS), ...Object.keys(EXPERIMENT_IMPLEMENTATIONS)])) {
  if (!EXPERIMENTS[name] || !EXPERIMENT_IMPLEMENTATIONS[name]) {
    throw new Error(`experiment '${name}' must be both described in suites/index.ts and implemented in suites/registry.ts`)
  }
}
