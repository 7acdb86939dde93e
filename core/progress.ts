/**
 * Progress of long steps (builds, dependency installs, input generation,
 * uploads, deploys, cloud waits), used in the main process and in workers.
 * A step is announced when it starts, prints a heartbeat with its latest
 * detail (pip's own lines, bytes, files) while it runs, so that nothing is
 * silent for more than a few seconds, and its own duration when it ends.
 * Plain lines through the logger, no spinner: the same on a terminal and in CI.
 */
import { formatDuration, type Logger } from './logger.ts'

/** Heartbeat interval: a step quiet for this long prints where it is. */
export const HEARTBEAT_MS = 5_000

export interface ProgressOptions {
  /** Milliseconds between heartbeats (default HEARTBEAT_MS). */
  heartbeatMs?: number
  /** Clock, for tests (default Date.now). */
  now?: () => number
  /** Do not announce the start (the caller already printed a line of its own). */
  quietStart?: boolean
  /** Skip heartbeats while this returns true (a sub-step is beating for it). */
  muted?: () => boolean
}

/** One running step. */
export interface ProgressStep {
  readonly label: string
  /** The latest detail (a pip line, "12.3 MB of 93.7 MB"); shown at the next heartbeat. */
  update(detail: string): void
  /** Milliseconds since the step started. */
  elapsedMs(): number
  /** Ends the step: prints `<summary ?? label> in <duration>` and returns the duration in ms. */
  end(summary?: string): number
  /** Ends the step without a line (on failure, or when the caller prints its own); returns the duration. */
  stop(): number
}

/**
 * Starts a step: prints `<label>…`, then every `heartbeatMs` without a line
 * `<label>: <elapsed>[, <latest detail>]`, until `end()` or `fail()`.
 */
export function startProgress(logger: Pick<Logger, 'info'>, label: string, options: ProgressOptions = {}): ProgressStep {
  const now = options.now ?? Date.now
  const every = options.heartbeatMs ?? HEARTBEAT_MS
  const started = now()
  let detail: string | undefined
  let done = false
  if (!options.quietStart) logger.info(`${label}…`)
  const timer = setInterval(() => {
    if (done || options.muted?.()) return
    logger.info(`${label}: ${formatDuration(now() - started)}${detail ? `, ${detail}` : ''}`)
  }, every)
  // A heartbeat never keeps the process alive on its own.
  timer.unref?.()
  const stop = (): number => {
    done = true
    clearInterval(timer)
    return now() - started
  }
  return {
    label,
    update(text) {
      const line = text.trim()
      if (line) detail = line.length > 160 ? `${line.slice(0, 157)}…` : line
    },
    elapsedMs: () => now() - started,
    end(summary) {
      if (done) return now() - started
      const ms = stop()
      logger.info(`${summary ?? label} in ${formatDuration(ms)}`)
      return ms
    },
    stop() {
      if (done) return now() - started
      return stop()
    },
  }
}

/** Runs `work` as a step: start line, heartbeats, and `<summary> in <duration>` (summary from the result). */
export async function withProgress<T>(
  logger: Pick<Logger, 'info'>,
  label: string,
  work: (step: ProgressStep) => Promise<T>,
  summary?: (result: T) => string,
  options?: ProgressOptions,
): Promise<T> {
  const step = startProgress(logger, label, options)
  try {
    const result = await work(step)
    step.end(summary?.(result))
    return result
  } catch (err) {
    step.stop()
    throw err
  }
}

/**
 * Splits a child's output chunks into lines and passes each non-empty line to
 * `onLine` (pip and npm print progress as lines; `\r` redraws count as lines too).
 */
export function lineSplitter(onLine: (line: string) => void): (chunk: Buffer | string) => void {
  let rest = ''
  return (chunk) => {
    const parts = (rest + chunk.toString()).split(/\r\n|\r|\n/)
    rest = parts.pop() ?? ''
    for (const part of parts) if (part.trim()) onLine(part)
    if (rest.length > 4096) rest = rest.slice(-4096)
  }
}
