/**
 * The "this run was interrupted" mark: a file `<runDir>/.interrupted` holding
 * the signal's name. The main process writes it on the first SIGINT/SIGTERM
 * (plugin/interrupt.ts); bench workers (threads, which do not see the main
 * process's signal handlers or globals) check it before each invocation and
 * start no more. A file, not shared memory, so that it also tells a reader of
 * the results folder afterwards.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** The mark's file name in a run directory. */
export const INTERRUPTED_FILE = '.interrupted'

/** Marks the run in `runDir` as interrupted by `signal`. */
export function markRunInterrupted(runDir: string, signal: NodeJS.Signals): void {
  writeFileSync(join(runDir, INTERRUPTED_FILE), `${signal}\n`)
}

/** The signal that interrupted the run in `runDir`, if it was interrupted. */
export function runInterruptedBy(runDir: string): NodeJS.Signals | undefined {
  try {
    return (readFileSync(join(runDir, INTERRUPTED_FILE), 'utf8').trim() || 'SIGINT') as NodeJS.Signals
  } catch {
    return undefined
  }
}

/** How often a bench worker looks for the interruption marker at most, ms. */
export const INTERRUPTION_CHECK_MS = 50

/**
 * A check for bench workers: true once the run in `runDir` is interrupted.
 * Looks at the file system at most every INTERRUPTION_CHECK_MS (a warm
 * no-op sample takes a few hundred µs, and a stat before each one was a few
 * percent of the time between samples); true stays true. An interruption is
 * therefore seen within 50 ms, while the invocation in flight finishes anyway.
 */
export function interruptionCheck(runDir: string, now: () => number = () => performance.now()): () => boolean {
  const file = join(runDir, INTERRUPTED_FILE)
  let interrupted = false
  let lastCheck = -Infinity
  return () => {
    if (interrupted) return true
    const t = now()
    if (t - lastCheck < INTERRUPTION_CHECK_MS) return false
    lastCheck = t
    return (interrupted = existsSync(file))
  }
}

/** The exit status a shell reports for a process ended by `signal` (130 for SIGINT, 143 for SIGTERM). */
export function signalExitCode(signal: NodeJS.Signals): number {
  return signal === 'SIGTERM' ? 143 : signal === 'SIGHUP' ? 129 : 130
}
