/**
 * Ctrl-C and SIGTERM during a run (main process, installed by the plugin's
 * `configureVitest` hook for `sebs bench` and plain `vitest bench` alike).
 *
 * Vitest's own handler exits within a millisecond of the signal, which lost
 * the run's summary and its place in results/index.json. Instead, the first
 * signal marks the run interrupted (engine/interrupt.ts): bench workers start
 * no more invocations, the one in flight finishes and is recorded, the
 * global setup's teardown removes what the run created, and the reporter
 * writes every output for what completed and adds the run to the index as
 * interrupted; the process then exits with 130 (SIGINT) or 143 (SIGTERM). A
 * second signal exits at once: the records written so far stay (each is a
 * whole line on disk), and instances end with the process (their exit handler
 * and lifeline).
 */
import { join } from 'node:path'
import type { Vitest } from 'vitest/node'
import { RECORDS_FILE } from '../core/records.ts'
import { markRunInterrupted, signalExitCode } from '../engine/interrupt.ts'
import { getRunState } from '../engine/run-state.ts'

const SIGNALS = ['SIGINT', 'SIGTERM'] as const
const INSTALLED = Symbol.for('serverless-benchmarks.interrupt-installed')

/** Replaces Vitest's exit-at-once signal handlers with the graceful stop above. */
export function installInterruptHandling(vitest: Vitest): void {
  // configureVitest runs once per project: one handler for the process.
  const g = globalThis as Record<symbol, unknown>
  if (g[INSTALLED] === vitest) return
  g[INSTALLED] = vitest
  // Vitest's Logger registered these in the Vitest constructor, before this hook: they call process.exit().
  const theirs = new Map(SIGNALS.map((signal) => [signal, process.listeners(signal)] as const))
  for (const [signal, listeners] of theirs) for (const listener of listeners) process.off(signal, listener)

  let first: NodeJS.Signals | undefined
  const onSignal = (signal: NodeJS.Signals): void => {
    const state = getRunState()
    const runDir = state ? join(state.config.resultsDir, state.config.runId) : undefined
    if (first) {
      process.stderr.write(
        `\n[sebs] ${signal} again: exiting now${runDir ? `; the invocations recorded so far are in ${join(runDir, RECORDS_FILE)}` : ''}.\n`,
      )
      process.exit(signalExitCode(first))
    }
    first = signal
    if (state) state.interrupted = signal
    if (runDir && state?.setupDone) {
      try {
        markRunInterrupted(runDir, signal)
      } catch {
        // The results folder is gone or unwritable: the reporter says so; exit at the next signal.
      }
    }
    process.stderr.write(
      `\n[sebs] ${signal}: starting no more invocations; finishing the one in flight, removing what the run created and writing the report. ` +
        `Press Ctrl-C again to exit at once.\n`,
    )
    // Runs before Vitest's own exit-code bookkeeping has the last word.
    process.exitCode = signalExitCode(signal)
  }
  for (const signal of SIGNALS) process.on(signal, onSignal)
  vitest.onClose(() => {
    for (const signal of SIGNALS) process.off(signal, onSignal)
    if (first) process.exitCode = signalExitCode(first)
  })
}
