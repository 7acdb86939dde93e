/**
 * Records of an experiment carry their point: invocation-overhead against a
 * stub function (no provider), every point run through `runPoint` as the
 * experiment suite runs it, and the summary keeps the points apart.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { readRecords } from '../core/records.ts'
import type { InvocationRecord } from '../core/types.ts'
import type { DeployedFunction, FunctionHandle, InvokeResult } from '../providers/types.ts'
import { summarizeRecords } from '../reporters/summary.ts'
import { CostBudget, ExperimentContext, RunInterruptedError, epochUs, type ExperimentContextInit } from './context.ts'
import { evictionModel } from './eviction-model.ts'
import { defineExperiment, experimentPointNames, experimentSettings, runPoint, type ExperimentSettings } from './experiment.ts'
import { perfCost } from './perf-cost.ts'
import { CLOCK_SYNC_REASON, invocationOverhead } from './invocation-overhead.ts'

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'point-'))
})
afterEach(() => {
  rmSync(dir, { recursive: true, force: true })
})

/** A function that answers at once: cold after forceColdStart, warm otherwise. */
function stubFunction(): DeployedFunction {
  const handle: FunctionHandle = { provider: 'local', name: 'stub', benchmark: '910.sleep', language: 'python', memory: 128, timeout: 10, trigger: 'http', runId: 'r', data: {} }
  let cold = true
  let n = 0
  return {
    handle,
    invoke: async (): Promise<InvokeResult> => {
      const begin = epochUs()
      const isCold = cold
      cold = false
      n++
      return {
        state: 'ok',
        clientTimeUs: 1000,
        envelope: { begin, end: begin + 100, computeTimeUs: 100, isCold, containerId: `c${n}`, requestId: `q${n}`, result: {} },
      }
    },
    forceColdStart: async () => {
      cold = true
    },
    update: async () => {},
    delete: async () => {},
  }
}

function contextOf(recordsFile: string, overrides: Partial<ExperimentContextInit> = {}): ExperimentContext {
  return new ExperimentContext({
    fn: stubFunction(),
    payload: {},
    runId: 'r',
    recordsFile,
    experiment: 'invocation-overhead',
    benchmark: '910.sleep',
    language: 'python',
    size: 'test',
    provider: 'local',
    trigger: 'http',
    memory: 128,
    dataDir: dir,
    costModel: 'aws-x86_64',
    budget: new CostBudget(undefined),
    ...overrides,
  })
}

describe('runPoint', () => {
  it('tags every record of an invocation-overhead point with the point, warm-ups and clock sync included', async () => {
    const recordsFile = join(dir, 'invocations.jsonl')
    const ctx = contextOf(recordsFile)
    const settings: ExperimentSettings = { repetitions: 2, memory: [128], options: { payloadSizes: [65_536, 1024], phases: ['warm', 'cold'], syncRounds: 2 } }
    const points = invocationOverhead.plan(settings, { provider: 'local', functionsOnThisMachine: true, language: 'python', deployedMemory: 128 })
    expect(points.map((p) => p.name)).toEqual(['payload 65536B warm', 'payload 65536B cold', 'payload 1024B warm', 'payload 1024B cold'])

    const state = new Map<string, unknown>()
    const returned: InvocationRecord[] = []
    for (const point of points) {
      const out = await runPoint(invocationOverhead, ctx, point, settings, state)
      expect(out.records.every((r) => r.point === point.name)).toBe(true)
      returned.push(...out.records)
      expect(ctx.point).toBeUndefined()
    }

    const { records } = readRecords(recordsFile)
    // Clock sync (2) before the first point; per warm point 1 warm-up + 2; per cold point 2.
    expect(records).toHaveLength(2 + 2 * 3 + 2 * 2)
    expect(records.every((r) => r.experiment === 'invocation-overhead' && typeof r.point === 'string')).toBe(true)
    // The clock-sync calls ran inside the first point and carry it.
    const sync = records.filter((r) => r.phase === 'clock-sync')
    expect(sync.map((r) => [r.point, r.discardReason])).toEqual([
      ['payload 65536B warm', CLOCK_SYNC_REASON],
      ['payload 65536B warm', CLOCK_SYNC_REASON],
    ])
    // Each point's records say its payload size.
    for (const r of records.filter((x) => x.phase !== 'clock-sync')) expect(r.point).toBe(`payload ${r.params?.payloadBytes}B ${r.phase}`)

    // One summary row per point, in natural order, instead of one per phase.
    const cases = summarizeRecords(records, { runId: 'r' }).cases
    expect(cases.map((c) => [c.phase, c.point, c.n])).toEqual([
      ['cold', 'payload 1024B cold', 2],
      ['cold', 'payload 65536B cold', 2],
      ['warm', 'payload 1024B warm', 2],
      ['warm', 'payload 65536B warm', 2],
      ['clock-sync', 'payload 65536B warm', 0],
    ])
  })

  it('puts the context back when the point throws; records outside a point have none', async () => {
    const ctx = contextOf(join(dir, 'invocations.jsonl'))
    const failing = defineExperiment({
      name: 'failing',
      description: 'a point that throws',
      settings: {},
      plan: () => [{ name: 'boom 1' }],
      run: async (c) => {
        await c.measure({ phase: 'warm', repetition: 0 })
        throw new Error('boom')
      },
    })
    await expect(runPoint(failing, ctx, { name: 'boom 1' }, { repetitions: 1, memory: [128], options: {} }, new Map())).rejects.toThrow('boom')
    expect(ctx.point).toBeUndefined()
    const outside = await ctx.measure({ phase: 'warm', repetition: 1 })
    expect(outside.record).not.toHaveProperty('point')
    expect(readRecords(join(dir, 'invocations.jsonl')).records.map((r) => r.point ?? null)).toEqual(['boom 1', null])
  })
})

describe('eviction-model repetitions', () => {
  it('runs --repetitions N probes per idle time and records N in its settings; without the flag, one probe', async () => {
    const source = { experiment: { name: 'eviction-model', options: { idleSeconds: [0.01, 0.02] } } }
    // Not set by the user: the experiment's own default (one idle period per probe), not the run's 10.
    expect(experimentSettings({ ...source, repetitions: 10, repetitionsSet: false }, evictionModel, 128).repetitions).toBe(1)
    const settings = experimentSettings({ ...source, repetitions: 3, repetitionsSet: true }, evictionModel, 128)
    expect(settings.repetitions).toBe(3)
    const ctx = contextOf(join(dir, 'invocations.jsonl'))
    for (const point of evictionModel.plan(settings, { provider: 'local', functionsOnThisMachine: true, language: 'python', deployedMemory: 128 })) {
      const out = await runPoint(evictionModel, ctx, point, settings, new Map())
      expect(out.records.filter((r) => r.phase === 'eviction')).toHaveLength(3)
      expect(out.records.filter((r) => r.phase === 'eviction-prime')).toHaveLength(3)
      expect((out.data?.probes as unknown[]).length).toBe(3)
    }
    // The config section's own value wins over the flag.
    expect(experimentSettings({ experiment: { name: 'eviction-model', options: { repetitions: 2 } }, repetitions: 5, repetitionsSet: true }, evictionModel, 128).repetitions).toBe(2)
  })

  it('refuses what it would not honour: 0 probes, adaptive repetitions', () => {
    const target = { provider: 'local', functionsOnThisMachine: true, language: 'python' as const, deployedMemory: 128 }
    const zero = experimentSettings({ repetitions: 0, repetitionsSet: true }, evictionModel, 128)
    expect(() => evictionModel.plan(zero, target)).toThrow(/at least 1 probe per idle time.*--repetitions 1/)
    const adaptive = experimentSettings({ repetitions: 10, repetitionsSet: false, ciTarget: 5 }, evictionModel, 128)
    expect(() => evictionModel.plan(adaptive, target)).toThrow(/fixed number of probes.*--ci-target/)
  })
})

describe('experimentPointNames', () => {
  it('names the points as the experiment suite names its tasks, from the run settings', () => {
    const target = { provider: 'local', functionsOnThisMachine: true, language: 'nodejs' as const, deployedMemory: 256 }
    expect(experimentPointNames(perfCost, { repetitions: 10, memory: [128] }, target)).toEqual(['cold 128MB', 'warm 128MB', 'burst 128MB', 'sequential 128MB'])
    // Without --memory: the deployed size.
    expect(experimentPointNames(perfCost, { repetitions: 10 }, target)).toEqual(['cold 256MB', 'warm 256MB', 'burst 256MB', 'sequential 256MB'])
  })
})

describe('an interrupt inside a long point', () => {
  it('stops it between invocations: measure starts none once the run is interrupted, and what ran is on disk', async () => {
    const recordsFile = join(dir, 'invocations.jsonl')
    let stop = false
    const ctx = contextOf(recordsFile, {
      experiment: 'eviction-model',
      // The "Ctrl-C" arrives during the first idle period.
      sleep: async () => {
        stop = true
      },
      interrupted: () => stop,
    })
    const settings = experimentSettings({ experiment: { name: 'eviction-model', options: { idleSeconds: [600] } }, repetitions: 5, repetitionsSet: true }, evictionModel, 128)
    const [point] = evictionModel.plan(settings, { provider: 'local', functionsOnThisMachine: true, language: 'python', deployedMemory: 128 })
    await expect(runPoint(evictionModel, ctx, point!, settings, new Map())).rejects.toBeInstanceOf(RunInterruptedError)
    // The priming call before the interrupt is recorded; nothing after it was invoked.
    expect(readRecords(recordsFile).records.map((r) => r.phase)).toEqual(['eviction-prime'])
  })
})

