/**
 * Recognises an out-of-memory end in an invocation's error message (pure;
 * bench workers call it when they build a record). Each platform says it its
 * own way; the record then carries `errorKind: 'oom'` so a reader can filter
 * on it and the summaries count it apart from other errors.
 */

/** What each runtime or platform says when a function runs out of memory. */
const OUT_OF_MEMORY = [
  // Local process instances under a cgroup limit (providers/local/limits.ts).
  /memory limit exceeded/i,
  // Local containers killed by Docker's OOM killer (providers/local/container).
  /\bout of memory\b.*OOMKilled/i,
  // Python under an address-space limit, or a platform's Python runtime.
  /\bMemoryError\b/,
  // Node.js past its heap limit (V8's fatal error).
  /JavaScript heap out of memory|Reached heap limit/i,
  // AWS Lambda (REPORT line "Error Type: Runtime.OutOfMemory").
  /\bRuntime\.OutOfMemory\b/,
  // .NET-hosted runtimes (Azure Functions host).
  /\bOutOfMemoryException\b/,
]

/** True when an invocation's error message says it ran out of memory. */
export function isOutOfMemoryError(message: string): boolean {
  return OUT_OF_MEMORY.some((pattern) => pattern.test(message))
}
