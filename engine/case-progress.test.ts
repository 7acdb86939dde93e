/**
 * Measurement progress of a case (engine/case-progress.ts), with a short
 * heartbeat and real timers: a long case beats with the sample in flight and
 * ends with its duration; a short one prints nothing; a new case ends the
 * previous one.
 */
import { describe, expect, it } from 'vitest'
import { createLogger } from '../core/logger.ts'
import { caseProgress } from './case-progress.ts'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function capture() {
  const lines: string[] = []
  return { lines, logger: createLogger('sebs', { write: (l) => lines.push(l) }) }
}

describe('caseProgress', () => {
  it('beats while a long sample runs, naming it, and ends with the case duration', async () => {
    const { lines, logger } = capture()
    const p = caseProgress(logger, '411.image-recognition python test', { heartbeatMs: 40 })
    p.sampleStarted('cold', 1, 1)
    await sleep(130)
    p.sampleEnded()
    p.sampleStarted('warm', 1, 2)
    await sleep(100)
    p.sampleEnded()
    p.sampleStarted('warm', 2, 2)
    p.sampleEnded()
    p.finish()
    const L = '\\[sebs\\] measuring 411\\.image-recognition python test: \\d+ ms, '
    const cold = lines.filter((l) => new RegExp(`^${L}cold sample 1 of 1$`).test(l))
    const warm = lines.filter((l) => new RegExp(`^${L}warm sample 1 of 2$`).test(l))
    expect(cold.length, lines.join('\n')).toBeGreaterThanOrEqual(2)
    expect(warm.length, lines.join('\n')).toBeGreaterThanOrEqual(1)
    expect(lines.at(-1)).toMatch(/^\[sebs\] measured 411\.image-recognition python test: 3 sample\(s\) in \d+ ms$/)
    const total = Number(/in (\d+) ms$/.exec(lines.at(-1)!)![1])
    expect(total).toBeGreaterThanOrEqual(220)
    // No beat after the end.
    const count = lines.length
    await sleep(120)
    expect(lines.length).toBe(count)
  })

  it('prints nothing for a case done within a heartbeat', async () => {
    const { lines, logger } = capture()
    const p = caseProgress(logger, '110.dynamic-html nodejs test', { heartbeatMs: 200 })
    for (let i = 1; i <= 5; i++) {
      p.sampleStarted('warm', i, 5)
      await sleep(5)
      p.sampleEnded()
    }
    p.finish()
    await sleep(250)
    expect(lines).toEqual([])
  })

  it('says why a case that beat ended early, and a new case ends the one before', async () => {
    const { lines, logger } = capture()
    const a = caseProgress(logger, 'a python test', { heartbeatMs: 30 })
    a.sampleStarted('warm', 1, 30)
    await sleep(80)
    a.sampleEnded()
    a.finish('stopped after a failure')
    expect(lines.at(-1)).toMatch(/^\[sebs\] measured a python test: 1 sample\(s\), stopped after a failure in \d+ ms$/)

    lines.length = 0
    const b = caseProgress(logger, 'b python test', { heartbeatMs: 30 })
    const c = caseProgress(logger, 'c python test', { heartbeatMs: 30 })
    b.sampleStarted('warm', 1, 3)
    await sleep(80)
    b.sampleEnded()
    // b never saw its last sample (Vitest moved on): c's first sample ends it, so only c beats from here.
    const atSwitch = lines.length
    c.sampleStarted('cold', 1, 1)
    await sleep(80)
    c.sampleEnded()
    c.finish()
    expect(lines.slice(0, atSwitch).every((l) => l.includes('b python test'))).toBe(true)
    expect(lines[atSwitch]).toMatch(/^\[sebs\] measured b python test: 1 sample\(s\) in \d+ ms$/)
    expect(lines.slice(atSwitch + 1).every((l) => l.includes('c python test')), lines.join('\n')).toBe(true)
    expect(lines.at(-1)).toMatch(/^\[sebs\] measured c python test: 1 sample\(s\) in \d+ ms$/)
  })
})
