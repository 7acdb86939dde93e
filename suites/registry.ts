/**
 * Experiment name → implementation, derived from the experiments' own
 * descriptions (suites/index.ts lists them). Read by the experiment suite in
 * bench workers.
 */
import type { Experiment } from './experiment.ts'
import { ALL_EXPERIMENTS } from './index.ts'

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const EXPERIMENT_IMPLEMENTATIONS: Record<string, Experiment<any>> = Object.fromEntries(ALL_EXPERIMENTS.map((e) => [e.name, e]))
