/**
 * The seed's local experiments (time, memory, disk-io, papi) against the
 * real local provider, both languages: every record carries the counters
 * the experiment promises, each with its source.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Language } from '../core/types.ts'
import { perfAvailable } from '../providers/local/counters.ts'
import { timingWindowReport } from '../analysis/timing-windows.ts'
import { readRecords } from '../core/records.ts'
import { usable } from './context.ts'
import type { ExperimentSettings } from './experiment.ts'
import { diskIoExperiment, memoryExperiment, papiExperiment, timeExperiment } from './local-experiments.ts'
import { createLocalTestbed, type LocalTestbed } from '../test/support/local-experiments.ts'

const s = (options: Record<string, unknown> = {}): ExperimentSettings => ({ repetitions: 3, memory: [256], options })
const target = (language: Language) => ({ provider: 'local', functionsOnThisMachine: true, language, deployedMemory: 256 })

let bed: LocalTestbed
beforeAll(async () => {
  bed = await createLocalTestbed()
})
afterAll(async () => {
  await bed?.close()
})

describe.each(['python', 'nodejs'] as Language[])('local experiments (%s)', (language) => {
  it('time: cold and warm with CPU times; memory: sampled RSS/PSS; disk-io: /proc io counters', async () => {
    const fn = await bed.deploy('910.sleep', language)
    const ctx = await bed.context(fn)
    for (const point of timeExperiment.plan(s(), target(language))) {
      const out = await timeExperiment.run(ctx, point, s(), new Map())
      const used = out.records.filter(usable)
      expect(used).toHaveLength(3)
      expect(used.every((r) => r.isCold === (point.phase === 'cold'))).toBe(true)
      expect(used.every((r) => typeof r.cpuUserUs === 'number' && typeof r.cpuSystemUs === 'number')).toBe(true)
      // rusage counters come from the wrapper on every record.
      expect(used.every((r) => r.counters?.['context-switches-voluntary']?.source === 'rusage')).toBe(true)
    }

    const memory = await memoryExperiment.run(ctx, { name: 'instances 1', instances: 1 }, s(), new Map())
    for (const r of memory.records.filter(usable)) {
      expect(r.counters?.['rss-peak-kb']).toMatchObject({ source: 'procfs-sampled' })
      expect(r.counters!['rss-peak-kb']!.value).toBeGreaterThan(5000)
      expect(r.counters!['pss-peak-kb']!.value).toBeGreaterThan(1000)
      expect(r.counters!['memory-samples']!.value).toBeGreaterThanOrEqual(2)
      expect(r.counters?.['rss-peak-invocation-kb']?.source).toBe('procfs')
    }

    const io = await diskIoExperiment.run(ctx, { name: 'warm' }, s(), new Map())
    for (const r of io.records.filter(usable)) {
      expect(r.counters?.['io-read-chars']?.source).toBe('procfs')
      // The wrapper answers over a socket: at least the request was read and the answer written.
      expect(r.counters!['io-read-syscalls']!.value + r.counters!['io-write-syscalls']!.value).toBeGreaterThanOrEqual(0)
      expect(typeof r.counters!['io-write-bytes']!.value).toBe('number')
    }
    await fn.close()
  })

  it('papi: perf software counters (hardware ones reported unsupported, never zero) and callgrind instruction counts', async () => {
    const fn = await bed.deploy('910.sleep', language)
    const ctx = await bed.context(fn, { payload: { sleep_ms: 5 } })
    const settings = s({ sources: ['perf', 'callgrind'] })
    if (await perfAvailable()) {
      const perf = await papiExperiment.run(ctx, { name: 'perf', source: 'perf' }, settings, new Map())
      for (const r of perf.records.filter(usable)) {
        expect(r.counters?.['task-clock-ns']).toMatchObject({ source: 'perf' })
        expect(r.counters!['task-clock-ns']!.value).toBeGreaterThan(0)
        const unsupported = String(r.params?.perfUnsupported ?? '').split(',').filter(Boolean)
        for (const e of unsupported) expect(r.counters?.[e]).toBeUndefined()
      }
    }
    const cg = await papiExperiment.run(ctx, { name: 'callgrind', source: 'callgrind' }, settings, new Map())
    const counts = cg.records.filter(usable).map((r) => r.counters?.instructions)
    expect(counts).toHaveLength(3)
    for (const c of counts) {
      expect(c?.source).toBe('callgrind')
      expect(c!.value).toBeGreaterThan(10_000)
    }
    await fn.close()
  }, 180_000)
})

describe('timed windows (docs/results-schema.md)', () => {
  it('every record the local experiments wrote keeps its windows nested (function, compute, init ≤ client)', () => {
    const { records } = readRecords(bed.recordsFile)
    expect(records.length).toBeGreaterThan(0)
    expect(timingWindowReport(records)).toEqual([])
  })
})
