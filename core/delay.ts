/**
 * The one pause helper (every process). Waiting for something to become ready
 * is a poll with a deadline built on it, never a bare sleep.
 */

/**
 * Resolves after `ms`. With `unref`, the timer does not keep the process
 * alive (pauses between polls of a child that holds the process anyway).
 */
export function delay(ms: number, options: { unref?: boolean } = {}): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms)
    if (options.unref) timer.unref()
  })
}
