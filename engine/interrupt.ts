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

/**
 * A check for bench workers: true once the run in `runDir` is interrupted.
 * One stat per call until then (microseconds, outside any timed window); true stays true.
 */
export function interruptionCheck(runDir: string): () => boolean {
  const file = join(runDir, INTERRUPTED_FILE)
  let interrupted = false
  return () => (interrupted ||= existsSync(file))
}

/** The exit status a shell reports for a process ended by `signal` (130 for SIGINT, 143 for SIGTERM). */
export function signalExitCode(signal: NodeJS.Signals): number {
  return signal === 'SIGTERM' ? 143 : signal === 'SIGHUP' ? 129 : 130
}
