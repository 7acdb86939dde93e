/**
 * Small text helpers for messages and progress lines (every process): the
 * last lines of a tool's output, a byte count for people.
 */

/**
 * The last `n` lines of `text` (trailing white space dropped), for error
 * messages. With `ellipsis`, a line of it stands first when lines were cut.
 */
export function tailLines(text: string, n: number, ellipsis?: string): string {
  const lines = text.trimEnd().split('\n')
  if (lines.length <= n) return lines.join('\n')
  return (ellipsis !== undefined ? [ellipsis, ...lines.slice(-n)] : lines.slice(-n)).join('\n')
}

/** Human-readable size for progress lines: 812 B, 14.2 KB, 1.3 MB, 2.05 GB. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`
  if (bytes < 1024 * 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MB`
  return `${(bytes / 1024 / 1024 / 1024).toFixed(2)} GB`
}
