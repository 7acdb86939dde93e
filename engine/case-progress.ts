/**
 * Progress of a case's measurement, in the bench workers. Vitest prints a
 * case's results only when its whole file ends, so a case whose samples take
 * long (411's forced cold start loads torch for 14 s; 30 warm samples of 3 s)
 * would run with no word at all. A case that goes on for longer than a
 * heartbeat prints where it is (`cold sample 1 of 1`, `warm sample 12 of 30`)
 * and, when it ends, how long it took; a case done within a heartbeat prints
 * nothing, so fast runs stay as quiet as before.
 *
 * Per sample this costs a few field writes, outside the invocation's timing
 * (measure.ts times the request itself); the only timer is one unref'd
 * interval per running case. A beat (one log line) can fall while a request is
 * in flight and delay handling its response by the time of a write: at most
 * once per heartbeat, and only in cases that already run longer than one.
 */
import { formatDuration, type Logger } from '../core/logger.ts'
import { HEARTBEAT_MS } from '../core/progress.ts'

export interface CaseProgressOptions {
  /** Milliseconds between heartbeats (default HEARTBEAT_MS). */
  heartbeatMs?: number
  /** Clock, for tests (default performance.now). */
  now?: () => number
}

/** The measurement progress of one case. */
export interface CaseProgress {
  /** A sample starts: `index` counts from 1 within its phase, `total` samples in that phase. */
  sampleStarted(phase: string, index: number, total: number): void
  /** The sample in flight ended. */
  sampleEnded(): void
  /** The case is over (all samples taken, a failure, or an interruption); prints its duration if it beat. */
  finish(outcome?: string): void
}

/** The case of this worker whose samples run now: a new case's first sample finishes it. */
let current: CaseProgress | undefined

/**
 * Progress for the case `label` (e.g. `411.image-recognition python test`):
 * heartbeats `measuring <label>: <elapsed>, <phase> sample <i> of <n>` while
 * a sample runs and the case has gone on for `heartbeatMs` since its last line,
 * then `measured <label>: <samples> sample(s) in <duration>` at the end.
 */
export function caseProgress(logger: Pick<Logger, 'info'>, label: string, options: CaseProgressOptions = {}): CaseProgress {
  const now = options.now ?? (() => performance.now())
  const every = options.heartbeatMs ?? HEARTBEAT_MS
  let started: number | undefined
  let timer: ReturnType<typeof setInterval> | undefined
  let beat = false
  let finished = false
  let samples = 0
  // The sample in flight (phase undefined between samples).
  let phase: string | undefined
  let index = 0
  let total = 0

  const tick = (): void => {
    if (started === undefined || finished) return
    const where = phase !== undefined ? `${phase} sample ${index} of ${total}` : `${samples} sample(s) taken`
    logger.info(`measuring ${label}: ${formatDuration(now() - started)}, ${where}`)
    beat = true
  }

  const self: CaseProgress = {
    sampleStarted(p, i, n) {
      if (finished) return
      if (started === undefined) {
        if (current && current !== self) current.finish()
        current = self
        started = now()
        timer = setInterval(tick, every)
        // A heartbeat never keeps a worker alive on its own.
        timer.unref?.()
      }
      phase = p
      index = i
      total = n
    },
    sampleEnded() {
      if (phase === undefined) return
      phase = undefined
      samples++
    },
    finish(outcome) {
      if (finished) return
      finished = true
      if (timer) clearInterval(timer)
      if (current === self) current = undefined
      if (started !== undefined && beat) {
        logger.info(`measured ${label}: ${samples} sample(s)${outcome ? `, ${outcome}` : ''} in ${formatDuration(now() - started)}`)
      }
    },
  }
  return self
}
