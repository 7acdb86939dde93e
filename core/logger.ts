/**
 * Two channels, as Vitest does it: a namespaced debug logger for internals
 * (quiet unless `DEBUG=sebs:*` or `DEBUG=sebs:provider:local`), and `info`
 * for user-facing progress ("deployed 210.thumbnailer (python) in 4.2 s"),
 * which goes to stderr so that machine-readable stdout stays clean.
 */

export interface Logger {
  /** User-facing progress and notices. */
  info(message: string): void
  warn(message: string): void
  /** Internals, shown only when the namespace is enabled through DEBUG. */
  debug(message: string): void
  child(namespace: string): Logger
}

function debugEnabled(namespace: string): boolean {
  const spec = process.env.DEBUG ?? ''
  if (!spec) return false
  return spec.split(/[\s,]+/).some((pattern) => {
    if (!pattern) return false
    if (pattern.endsWith('*')) return namespace.startsWith(pattern.slice(0, -1))
    return namespace === pattern
  })
}

export interface LoggerOptions {
  /** Where user-facing lines go; defaults to stderr. */
  write?: (line: string) => void
  /** Suppress `info` (tests, `--silent`). */
  quiet?: boolean
}

export function createLogger(namespace = 'sebs', options: LoggerOptions = {}): Logger {
  const write = options.write ?? ((line: string) => process.stderr.write(line + '\n'))
  const enabled = debugEnabled(namespace)
  return {
    info(message) {
      if (!options.quiet) write(`[sebs] ${message}`)
    },
    warn(message) {
      write(`[sebs] warning: ${message}`)
    },
    debug(message) {
      if (enabled) process.stderr.write(`${namespace} ${message}\n`)
    },
    child(sub) {
      return createLogger(`${namespace}:${sub}`, options)
    },
  }
}

/** Formats a duration in ms for progress lines. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`
  const m = Math.floor(ms / 60_000)
  return `${m} min ${Math.round((ms - m * 60_000) / 1000)} s`
}
