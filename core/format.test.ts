import { describe, expect, it } from 'vitest'
import { delay } from './delay.ts'
import { formatBytes, tailLines } from './format.ts'

describe('small helpers', () => {
  it('tailLines keeps the last n lines, drops trailing white space, and marks a cut only when asked', () => {
    expect(tailLines('a\nb\nc\n\n', 2)).toBe('b\nc')
    expect(tailLines('a\nb\nc', 2, '…')).toBe('…\nb\nc')
    expect(tailLines('a\nb', 2, '…')).toBe('a\nb')
  })

  it('formatBytes picks the unit', () => {
    expect([formatBytes(812), formatBytes(1536), formatBytes(1.3 * 1024 * 1024), formatBytes(2.1 * 1024 ** 3)]).toEqual(['812 B', '1.5 KB', '1.3 MB', '2.10 GB'])
  })

  it('delay resolves after the pause, referenced or not', async () => {
    const started = performance.now()
    await delay(20)
    await delay(20, { unref: true })
    expect(performance.now() - started).toBeGreaterThanOrEqual(38)
  })
})
