/**
 * Start-up phase marks for `SEBS_DEBUG_TIMING=1` (any process or thread of a
 * run: the `sebs` main process, Vitest's config loading, bench workers).
 * Each mark prints one stderr line with the milliseconds since the `sebs`
 * process started, so one run shows where a cached start spends its time:
 *
 *   [sebs timing] 812 ms main: config loaded
 *
 * Off (a single environment lookup per mark) unless the variable is set.
 */
import { performance } from 'node:perf_hooks'

/** The variable that switches the marks on. */
export const DEBUG_TIMING_ENV = 'SEBS_DEBUG_TIMING'
/** Epoch ms of the `sebs` process start, handed to threads and child processes. */
const ORIGIN_ENV = 'SEBS_DEBUG_TIMING_ORIGIN'

/** Whether timing marks are printed in this process. */
export function debugTimingEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env[DEBUG_TIMING_ENV]
  return value !== undefined && value !== '' && value !== '0' && value !== 'false'
}

/**
 * The epoch ms the marks count from: the first process that marks sets it
 * (its own start, from the performance clock's origin) and its threads and
 * children read it from the environment.
 */
function origin(): number {
  const inherited = Number(process.env[ORIGIN_ENV])
  if (Number.isFinite(inherited) && inherited > 0) return inherited
  process.env[ORIGIN_ENV] = String(performance.timeOrigin)
  return performance.timeOrigin
}

/** Prints `[sebs timing] <ms since the sebs process started> ms <where>: <what>` when SEBS_DEBUG_TIMING is set. */
export function markTiming(where: string, what: string): void {
  if (!debugTimingEnabled()) return
  const ms = performance.timeOrigin + performance.now() - origin()
  process.stderr.write(`[sebs timing] ${ms.toFixed(0).padStart(6)} ms ${where}: ${what}\n`)
}
