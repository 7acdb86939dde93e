/** Unit tests of core/out-of-memory.ts: the out-of-memory messages of each runtime and platform, and ones that are not. */
import { describe, expect, it } from 'vitest'
import { isOutOfMemoryError } from './out-of-memory.ts'

describe('isOutOfMemoryError', () => {
  it('recognises how each runtime and platform reports running out of memory', () => {
    for (const message of [
      'instance was killed by SIGKILL: memory limit exceeded: the instance needed more than its 128 MB and was killed by the OOM killer (cgroup memory limit)',
      'out of memory: the function exceeded its 128 MB memory limit and the container was killed (OOMKilled)',
      'MemoryError: ',
      'instance was killed by SIGABRT: FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory',
      'Runtime.OutOfMemory: RequestId: 1 Error: Runtime exited with error: signal: killed',
      'System.OutOfMemoryException: Exception of type System.OutOfMemoryException was thrown.',
    ]) {
      expect(isOutOfMemoryError(message), message).toBe(true)
    }
  })
  it('leaves other errors alone', () => {
    for (const message of ['Exception: boom', 'instance exited with code 3: (no stderr output)', 'function exceeded its 2 s timeout; instance killed', 'ValueError: memory_mb must be > 0']) {
      expect(isOutOfMemoryError(message), message).toBe(false)
    }
  })
})
