/**
 * Memory limits for real: an instance that allocates past its memory is
 * killed (cgroup), gets MemoryError (address-space limit) or runs out of
 * heap (V8), and the record says why and whether the memory was enforced.
 */
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Language } from '../../core/types.ts'
import { createLocalTestbed, type LocalTestbed } from '../../test/support/local-experiments.ts'
import { CGROUP_V1_MEMORY, applyMemoryLimit, ownMemoryCgroup } from './limits.ts'

function cgroupUsable(): boolean {
  const own = ownMemoryCgroup()
  return process.getuid?.() === 0 && own !== undefined && existsSync(join(CGROUP_V1_MEMORY, own, 'cgroup.procs'))
}
const CGROUP = cgroupUsable()

let bed: LocalTestbed
beforeAll(async () => {
  bed = await createLocalTestbed()
})
afterAll(async () => {
  await bed?.close()
})

function leftoverCgroups(): string[] {
  const own = ownMemoryCgroup()
  if (!own) return []
  return readdirSync(join(CGROUP_V1_MEMORY, own)).filter((d) => d.includes(bed.runId))
}

describe.each(['python', 'nodejs'] as Language[])('memory limit (%s)', (language) => {
  it('within the limit the function runs, and the record says the memory was enforced where a cgroup applies', async () => {
    const fn = await bed.deploy('910.sleep', language, { memory: 128 })
    const ctx = await bed.context(fn)
    await ctx.ensureMemory(128)
    const m = await ctx.measure({ phase: 'warm', repetition: 0, payload: { sleep_ms: 1, allocate_mb: 16 } })
    expect(m.record.state, JSON.stringify(m.record)).toBe('ok')
    expect(m.record.memoryEnforced).toBe(CGROUP || language === 'python')
    expect(m.record.params?.memoryLimit).toBe(CGROUP ? 'cgroup' : language === 'python' ? 'rlimit-as' : 'node-heap')
    await fn.close()
  })

  it('past the limit the invocation fails with an error that mentions memory', async () => {
    const fn = await bed.deploy('910.sleep', language, { memory: 128 })
    const ctx = await bed.context(fn)
    await ctx.ensureMemory(128)
    const m = await ctx.measure({ phase: 'warm', repetition: 0, payload: { sleep_ms: 1, allocate_mb: 300 } })
    expect(m.record.state).toBe('error')
    expect(m.record.state === 'error' && m.record.error).toMatch(/memory/i)
    if (CGROUP) {
      expect(m.record.state === 'error' && m.record.error).toMatch(/memory limit exceeded: .*128 MB/)
      expect(m.record.memoryEnforced).toBe(true)
    }
    // A bigger memory setting lets the same invocation through: the sweep is not only a label.
    await ctx.ensureMemory(1024)
    const big = await ctx.measure({ phase: 'warm', repetition: 1, payload: { sleep_ms: 1, allocate_mb: 300 } })
    expect(big.record.state, JSON.stringify(big.record)).toBe('ok')
    await fn.close()
    expect(leftoverCgroups()).toEqual([])
  })
})

describe('fallback mechanisms for real (no cgroup)', () => {
  const NO_CGROUP = '/nonexistent-cgroup-mount'
  it('Python under the address-space limit gets MemoryError', async () => {
    const { spawnSync } = await import('node:child_process')
    const r = applyMemoryLimit({ memoryMb: 64, language: 'python', instanceName: 'x', cgroupMount: NO_CGROUP }, 'python3', ['-c', 'x = bytearray(200 * 1024 * 1024)'])
    const out = spawnSync(r.command, r.args, { encoding: 'utf8', timeout: 60_000 })
    expect(out.status).not.toBe(0)
    expect(out.stderr).toMatch(/MemoryError/)
  })
  it('Node.js under the heap limit runs out of heap', async () => {
    const { spawnSync } = await import('node:child_process')
    const r = applyMemoryLimit({ memoryMb: 64, language: 'nodejs', instanceName: 'x', cgroupMount: NO_CGROUP }, process.execPath, [
      '-e',
      'const a = []; for (let i = 0; i < 3e7; i++) a.push({ i })',
    ])
    const out = spawnSync(r.command, r.args, { encoding: 'utf8', timeout: 60_000 })
    expect(out.status).not.toBe(0)
    expect(out.stderr).toMatch(/heap out of memory/i)
  })
})
