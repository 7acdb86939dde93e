/**
 * Unit tests of the progress helper (core/progress.ts), with Vitest's fake
 * timers and a fake clock: start line, heartbeats with the latest detail,
 * the step's own duration at the end, silence after stop().
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { lineSplitter, startProgress, withProgress } from './progress.ts'

let lines: string[]
const logger = { info: (m: string) => lines.push(m) }

beforeEach(() => {
  lines = []
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

describe('startProgress', () => {
  it('announces, beats with the latest detail, and ends with its own duration', () => {
    const step = startProgress(logger, 'building 411 (python, local)', { heartbeatMs: 5000, now: Date.now })
    expect(lines).toEqual(['building 411 (python, local)…'])
    vi.advanceTimersByTime(5000)
    step.update('Collecting torch==2.5.1')
    step.update('  Downloading torch-2.5.1-cp311-none-manylinux.whl (180.2 MB)  ')
    vi.advanceTimersByTime(5000)
    expect(lines.slice(1)).toEqual([
      'building 411 (python, local): 5.0 s',
      'building 411 (python, local): 10.0 s, Downloading torch-2.5.1-cp311-none-manylinux.whl (180.2 MB)',
    ])
    vi.advanceTimersByTime(62_000)
    expect(step.end('built 411 (python, local)')).toBe(72_000)
    expect(lines.at(-1)).toBe('built 411 (python, local) in 1 min 12 s')
    const count = lines.length
    vi.advanceTimersByTime(20_000)
    expect(lines.length).toBe(count)
  })

  it('quietStart prints nothing for a step shorter than a heartbeat; stop() prints nothing', () => {
    const step = startProgress(logger, 'inputs 110 (test)', { quietStart: true, heartbeatMs: 5000 })
    vi.advanceTimersByTime(4999)
    expect(step.stop()).toBe(4999)
    vi.advanceTimersByTime(10_000)
    expect(lines).toEqual([])
  })

  it('withProgress ends with the summary of the result, and stops silently on failure', async () => {
    await expect(withProgress(logger, 'uploading', async () => 3, (n) => `uploaded ${n} object(s)`)).resolves.toBe(3)
    expect(lines).toEqual(['uploading…', 'uploaded 3 object(s) in 0 ms'])
    lines = []
    await expect(withProgress(logger, 'deploying', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom')
    vi.advanceTimersByTime(60_000)
    expect(lines).toEqual(['deploying…'])
  })
})

describe('lineSplitter', () => {
  it('splits chunks on \\n, \\r\\n and \\r redraws, keeping partial lines for the next chunk', () => {
    const got: string[] = []
    const feed = lineSplitter((l) => got.push(l))
    feed('Collecting a\nDownlo')
    feed('ading b (1 MB)\r\n  10%\r  50%\r')
    feed(Buffer.from('\n\ndone'))
    expect(got).toEqual(['Collecting a', 'Downloading b (1 MB)', '  10%', '  50%'])
  })
})
