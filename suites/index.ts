/**
 * The experiments this suite can run (`--experiment NAME`). Names and
 * descriptions only: this module is loaded by the plugin in the main process
 * and must stay free of Vitest imports. Each experiment's implementation
 * lives in its own file beside this one.
 */
export interface ExperimentInfo {
  description: string
}

export const EXPERIMENTS: Record<string, ExperimentInfo> = {}
