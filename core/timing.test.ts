/**
 * SEBS_DEBUG_TIMING marks (test process): silent unless switched on, then one
 * line per mark counted from the process start.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { debugTimingEnabled, markTiming } from './timing.ts'

afterEach(() => {
  vi.unstubAllEnvs()
  vi.restoreAllMocks()
})

describe('markTiming', () => {
  it('prints nothing unless SEBS_DEBUG_TIMING is set to a true value', () => {
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
    for (const value of ['', '0', 'false']) {
      vi.stubEnv('SEBS_DEBUG_TIMING', value)
      expect(debugTimingEnabled()).toBe(false)
      markTiming('main', 'nothing')
    }
    expect(write).not.toHaveBeenCalled()
  })

  it('prints one line with the milliseconds since the process (or the inherited origin) started', () => {
    const lines: string[] = []
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      lines.push(String(chunk))
      return true
    })
    vi.stubEnv('SEBS_DEBUG_TIMING', '1')
    vi.stubEnv('SEBS_DEBUG_TIMING_ORIGIN', String(Date.now() - 5000))
    markTiming('worker', 'first record written')
    expect(lines).toHaveLength(1)
    const m = /^\[sebs timing\] +(\d+) ms worker: first record written\n$/.exec(lines[0]!)
    expect(m).not.toBeNull()
    // The origin set 5 s ago: the mark counts from there, not from this thread's start.
    expect(Number(m![1])).toBeGreaterThanOrEqual(5000)
    expect(Number(m![1])).toBeLessThan(60_000)
  })
})
