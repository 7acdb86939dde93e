/**
 * The experiments this suite can run (`--experiment NAME`). Names,
 * descriptions and settings only: this module is loaded by the plugin in the
 * main process and must stay free of Vitest imports. Each experiment's
 * implementation lives in its own file beside this one (registry.ts maps
 * names to them); docs/experiments.md describes them for users.
 */
import { ConfigError } from '../core/errors.ts'

export interface ExperimentInfo {
  description: string
  /** Providers it runs on; absent = every provider. */
  providers?: readonly string[]
  /** Settings read from the config file's `experiments[name]` section, with their defaults. */
  settings: Record<string, string>
  /** Its plan has points per memory size of `--memory` (a list sweeps); without it the experiment runs one memory size. */
  sweepsMemory?: true
}

export const EXPERIMENTS: Record<string, ExperimentInfo> = {
  'perf-cost': {
    description:
      "SeBS's main experiment: cold, warm, burst and sequential phases per memory size of the sweep, with medians, CIs and cost per phase",
    sweepsMemory: true,
    settings: {
      phases: "phases to run, default ['cold', 'warm', 'burst', 'sequential']",
      concurrency: 'invocations per batch in the cold and warm phases (default 1)',
      burstSize: 'concurrent invocations per burst batch, each batch forced cold (default 5)',
      warmupBatches: 'batches discarded as warm-up at the start of each phase (default 1, as SeBS)',
      batchPauseMs: 'pause between batches (default 0; SeBS sleeps 5000 on clouds)',
    },
  },
  'invocation-overhead': {
    description:
      "time from the client's send to the function's first instruction, clock-drift corrected, over a payload-size and/or code-package-size sweep, cold and warm",
    settings: {
      sweep: "'payload' (default), 'code' (default when only codeSizes is set) or 'both' (default when both lists are set): SeBS's type",
      payloadSizes: 'payload sizes in bytes (default [1024, 65536, 1048576])',
      codeSizes: 'code sweep: bytes of random padding added to the code package, redeployed before each size (default [0, 1048576, 10485760])',
      phases: "default ['warm', 'cold']",
      clockSync: "'trigger' (timestamp round trips over the function's own trigger; default), 'udp' (SeBS's protocol; the function must speak 920.network's) or 'none'",
      syncRounds: 'round trips for the clock-offset estimate (default 10)',
    },
  },
  'network-ping-pong': {
    description: 'UDP round trips between the harness and a function (920.network protocol): p50/p75/p95/p99/p99.9 and a histogram',
    settings: {
      invocations: 'function invocations (default 3)',
      rounds: 'round trips per invocation (default 200)',
      address: 'the harness address the function sends to (default 127.0.0.1: local provider only)',
      bins: 'histogram bins (default: Sturges)',
    },
  },
  'eviction-model': {
    description: 'after how long idle a warm instance is evicted: invoke, stay idle t, invoke again, for each idle time t',
    settings: {
      idleSeconds: 'idle times in seconds (default SeBS list 1, 2, 4, 8, 15, 30, 60, 120, 180, 240, 300, 360, 480, 600, 720, 900, 1080, 1200)',
      repetitions: 'probes per idle time (default 1)',
    },
  },
  'cold-start': {
    description: 'cold-start breakdown: runtime initialisation vs function import vs handler vs transport, per language, memory size and (with codeSizes) code package size',
    sweepsMemory: true,
    settings: {
      codeSizes: 'bytes of random padding added to the code package; points become code size × memory size (default: no padding, memory sizes only)',
    },
  },
  time: {
    description: 'local: warm and cold invocation time with user and system CPU time (SeBS local "time")',
    providers: ['local'],
    settings: {},
  },
  memory: {
    description: 'local: peak and sampled RSS/PSS of the instance(s) over each invocation (SeBS local "memory")',
    providers: ['local'],
    settings: { instances: 'concurrent instances sampled, default [1, 5]', intervalMs: 'sampling interval (default 10)' },
  },
  'disk-io': {
    description: 'local: bytes and syscalls read and written per invocation, from /proc/<pid>/io (SeBS local "disk-io")',
    providers: ['local'],
    settings: {},
  },
  papi: {
    description:
      'local: counters per invocation: perf events where the kernel exposes them, callgrind instruction counts, software counters (SeBS local "papi")',
    providers: ['local'],
    settings: { sources: "default ['perf', 'callgrind']", perfEvents: 'perf event names (default: software and hardware basics)' },
  },
}

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
