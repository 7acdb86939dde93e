/**
 * The experiments' logic against the real local provider, with known
 * answers: a function that sleeps 100 ms, a configured keep-alive, a clock
 * skewed by a known amount, a low- and a high-variance function.
 * Tolerances are generous for shared 2-core machines but still fail on a
 * wrong measurement (e.g. a missing sleep, mixed cold and warm samples).
 */
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { InvocationRecord } from '../core/types.ts'
import { computeStatistics } from '../analysis/statistics.ts'
import { timingWindowReport } from '../analysis/timing-windows.ts'
import { readRecords } from '../core/records.ts'
import { usable } from './context.ts'
import { coldStart } from './cold-start.ts'
import { evictionModel, estimateEviction } from './eviction-model.ts'
import { runPoint, type ExperimentSettings } from './experiment.ts'
import { CLOCK_SYNC_REASON, invocationOverhead, syncClockOverTrigger, syncClockOverUdp } from './invocation-overhead.ts'
import { networkPingPong } from './network-ping-pong.ts'
import { perfCostOptions, runPerfCostPhase, WARMUP_REASON } from './perf-cost.ts'
import { repetitionPolicy, runRepetitions } from './repetitions.ts'
import { createLocalTestbed, type LocalTestbed } from '../test/support/local-experiments.ts'

function settings(over: Partial<ExperimentSettings> = {}): ExperimentSettings {
  return { repetitions: 8, memory: [128], options: {}, ...over }
}

function median(xs: number[]): number {
  return computeStatistics(xs).median
}

let bed: LocalTestbed
beforeAll(async () => {
  bed = await createLocalTestbed()
})
afterAll(async () => {
  await bed?.close()
})

describe('perf-cost on a function that sleeps 100 ms (python)', () => {
  it('measures 100 ms; cold phases hold only cold samples, warm only warm; warm-up batches are discarded with a reason', async () => {
    const fn = await bed.deploy('910.sleep', 'python')
    const ctx = await bed.context(fn, { experiment: 'perf-cost' })
    const s = settings({ options: { burstSize: 3 } })
    const opts = perfCostOptions(s)
    const warm = await runPerfCostPhase(ctx, 'warm', 128, s, opts)
    const cold = await runPerfCostPhase(ctx, 'cold', 128, s, opts)
    const burst = await runPerfCostPhase(ctx, 'burst', 128, s, opts)

    const used = (rs: InvocationRecord[]) => rs.filter(usable)
    // Function time (the wrapper's own clock around the handler): within 2 % of 100 ms.
    const fnMedian = median(used(warm.records).map((r) => r.functionTimeUs))
    expect(fnMedian).toBeGreaterThanOrEqual(100_000)
    expect(fnMedian).toBeLessThanOrEqual(102_000)
    // Client time of warm invocations: within 10 % (the harness's round trip is
    // < 1 ms at rest; 5 % was exceeded twice at load 4.5–7, with 105.4 and 108 ms).
    const clientMedian = median(used(warm.records).map((r) => r.clientTimeUs))
    expect(clientMedian).toBeGreaterThanOrEqual(100_000)
    expect(clientMedian).toBeLessThanOrEqual(110_000)

    expect(used(warm.records)).toHaveLength(8)
    expect(used(warm.records).every((r) => !r.isCold && r.phase === 'warm')).toBe(true)
    expect(used(cold.records)).toHaveLength(8)
    expect(used(cold.records).every((r) => r.isCold && r.phase === 'cold')).toBe(true)
    // A cold start costs more than a warm one: the instance is started inside the measured time.
    expect(median(used(cold.records).map((r) => r.clientTimeUs))).toBeGreaterThan(clientMedian)
    // Every used cold record had its own instance.
    expect(new Set(used(cold.records).map((r) => r.containerId)).size).toBe(8)

    for (const phase of [warm, cold, burst]) {
      const discarded = phase.records.filter((r) => r.discarded)
      expect(discarded.length).toBeGreaterThan(0)
      expect(discarded.every((r) => r.discardReason?.startsWith(WARMUP_REASON))).toBe(true)
      expect(phase.records.every((r) => typeof r.costUsd === 'number' && r.costUsd > 0)).toBe(true)
      expect(phase.records.every((r) => String(r.params?.costModel).includes('(estimate)'))).toBe(true)
    }
    // Burst: the first batch of 3 discarded, then batches of 3 forced-cold concurrent invocations.
    expect(burst.records.filter((r) => r.discarded)).toHaveLength(3)
    expect(used(burst.records).length).toBeGreaterThanOrEqual(8)
    expect(used(burst.records).every((r) => r.isCold)).toBe(true)

    // Everything measured is on disk, and nothing else.
    const onDisk = readFileSync(bed.recordsFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as InvocationRecord).filter((r) => r.experiment === 'perf-cost')
    expect(onDisk).toHaveLength(warm.records.length + cold.records.length + burst.records.length)
    await fn.close()
  })
})

describe('adaptive repetitions', () => {
  it('stop earlier on a low-variance function than on a high-variance one', async () => {
    const policy = repetitionPolicy({ repetitions: 10, ciTarget: 5, minRepetitions: 10, maxRepetitions: 60 })
    const measureUntilStop = async (id: string) => {
      const fn = await bed.deploy(id, 'python')
      const ctx = await bed.context(fn)
      await ctx.measure({ phase: 'warm', repetition: 0, discard: 'warm-up' })
      let i = 1
      const out = await runRepetitions(policy, 1, async () => {
        const m = await ctx.measure({ phase: 'warm', repetition: i++, expect: 'warm' })
        return { samples: usable(m.record) ? [m.record.functionTimeUs] : [], invocations: 1, costUsd: m.record.costUsd ?? 0 }
      })
      await fn.close()
      return out
    }
    const steady = await measureUntilStop('911.steady')
    const jittery = await measureUntilStop('912.jittery')
    expect(steady.stoppedBecause).toBe('ci-target')
    expect(jittery.stoppedBecause).toBe('max-count')
    expect(steady.samples.length).toBeLessThan(jittery.samples.length)
    expect(steady.invocations).toBe(steady.samples.length)
  })
})

describe('eviction-model against a configured keep-alive', () => {
  it('recovers keepAliveMs = 1000 within its step of 250 ms', async () => {
    const evicting = await createLocalTestbed({ keepAliveMs: 1000 })
    try {
      const fn = await evicting.deploy('910.sleep', 'nodejs')
      const ctx = await evicting.context(fn, { experiment: 'eviction-model', payload: { sleep_ms: 1 } })
      const s = settings({ options: { idleSeconds: [0.5, 0.75, 1.25, 1.5] } })
      const outcomes = []
      for (const point of evictionModel.plan(s, { provider: 'local', functionsOnThisMachine: true, language: 'nodejs', deployedMemory: 128 })) {
        outcomes.push(await evictionModel.run(ctx, point, s, new Map()))
      }
      const { data } = evictionModel.summarize!(outcomes, s)
      const estimate = data.estimate as ReturnType<typeof estimateEviction>
      expect(estimate.lastWarmMs).toBeLessThan(1000)
      expect(estimate.firstColdMs).toBeGreaterThanOrEqual(1000)
      expect(estimate.firstColdMs! - estimate.lastWarmMs).toBeLessThanOrEqual(500)
      expect(estimate).toMatchObject({ lastWarmMs: 750, firstColdMs: 1250 })
      await fn.close()
    } finally {
      await evicting.close()
    }
  })
})

describe('clock synchronisation on loopback with a deliberately skewed function clock', () => {
  const SKEW_US = 2_500_000
  it.each(['python', 'nodejs'] as const)('recovers the skew over the trigger and over UDP (%s)', async (language) => {
    const fn = await bed.deploy('920.network', language, { env: { SEBS_CLOCK_SKEW_US: String(SKEW_US) } })
    const ctx = await bed.context(fn, { experiment: 'invocation-overhead' })
    const trigger = await syncClockOverTrigger(ctx, 10)
    expect(Math.abs(trigger.offsetUs - SKEW_US)).toBeLessThanOrEqual(Math.max(trigger.errorUs, 2000))
    expect(trigger.errorUs).toBeLessThan(20_000)
    const udp = await syncClockOverUdp(ctx, { rounds: 100 })
    expect(Math.abs(udp.offsetUs - SKEW_US)).toBeLessThanOrEqual(Math.max(udp.errorUs, 1000))
    expect(udp.exchanges).toBeGreaterThan(5)

    // The overhead experiment corrects for the skew: send → first instruction is small and positive.
    const s = settings({ repetitions: 3, options: { payloadSizes: [1024], phases: ['warm'] } })
    const state = new Map<string, unknown>()
    const [point] = invocationOverhead.plan(s, { provider: 'local', functionsOnThisMachine: true, language, deployedMemory: 128 })
    // As the experiment suite runs it: through runPoint, so its records carry the point.
    const out = await runPoint(invocationOverhead, ctx, point!, s, state)
    expect(out.records.map((r) => r.point)).toEqual(out.records.map(() => 'payload 1024B warm'))
    const overheads = out.records.filter(usable).map((r) => r.params?.invocationOverheadUs as number)
    expect(overheads).toHaveLength(3)
    for (const o of overheads) {
      expect(o).toBeGreaterThan(-5000)
      expect(o).toBeLessThan(50_000)
    }
    const onDisk = readFileSync(bed.recordsFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as InvocationRecord)
    const synced = onDisk.filter((r) => r.phase === 'clock-sync')
    expect(synced.every((r) => r.discarded && r.discardReason === CLOCK_SYNC_REASON)).toBe(true)
    // On disk: the point's own clock sync (10 rounds), warm-up and 3 samples carry the point; the syncs above, outside a point, do not.
    const ofPoint = onDisk.filter((r) => r.language === language && r.point === 'payload 1024B warm')
    expect(ofPoint.filter((r) => r.phase === 'clock-sync')).toHaveLength(10)
    expect(ofPoint.filter((r) => r.phase === 'warm')).toHaveLength(out.records.length)
    expect(synced.filter((r) => r.language === language && r.point === undefined).length).toBeGreaterThan(0)
    await fn.close()
  })
})

describe('network-ping-pong and cold-start breakdown', () => {
  it('UDP round trips on loopback with tail percentiles and a histogram', async () => {
    const fn = await bed.deploy('920.network', 'python')
    const ctx = await bed.context(fn, { experiment: 'network-ping-pong' })
    const s = settings({ options: { invocations: 2, rounds: 50 } })
    const [point] = networkPingPong.plan(s, { provider: 'local', functionsOnThisMachine: true, language: 'python', deployedMemory: 128 })
    const out = await networkPingPong.run(ctx, point!, s, new Map())
    const rtt = out.data!.rttUs as { n: number; p50: number; p75: number; p95: number; p99: number; p999: number }
    expect(rtt.n).toBe(100)
    expect(rtt.p50).toBeGreaterThan(0)
    expect(rtt.p50).toBeLessThan(20_000)
    expect(rtt.p50 <= rtt.p75 && rtt.p75 <= rtt.p95 && rtt.p95 <= rtt.p99 && rtt.p99 <= rtt.p999).toBe(true)
    const hist = out.data!.histogramUs as { counts: number[] }
    expect(hist.counts.reduce((a, b) => a + b, 0)).toBe(100)
    expect(() => networkPingPong.plan(s, { provider: 'aws', functionsOnThisMachine: false, language: 'python', deployedMemory: 128 })).toThrow(/address/)
    await fn.close()
  })

  it('cold start = init + import + handler + transport, with the handler near the 100 ms sleep', async () => {
    const fn = await bed.deploy('910.sleep', 'python')
    const ctx = await bed.context(fn, { experiment: 'cold-start' })
    const s = settings({ repetitions: 3 })
    const [point] = coldStart.plan(s, { provider: 'local', functionsOnThisMachine: true, language: 'python', deployedMemory: 128 })
    const out = await coldStart.run(ctx, point!, s, new Map())
    const m = out.data!.medians as Record<string, number>
    expect(m.initUs).toBeGreaterThan(1000)
    expect(m.importUs).toBeGreaterThan(0)
    expect(m.handlerUs).toBeGreaterThanOrEqual(99_000)
    expect(m.handlerUs).toBeLessThan(110_000)
    expect(m.clientUs).toBeGreaterThan(m.warmClientUs!)
    await fn.close()
  })
})

describe('timed windows (docs/results-schema.md)', () => {
  // The case: with the send time taken before the provider serialized
  // the event, a 4 MB payload put milliseconds of JSON.stringify inside
  // send → first instruction but outside the client window.
  it.each(['nodejs', 'python'] as const)('a 4 MB payload: send → first instruction + function stay inside the client window (%s)', async (language) => {
    const fn = await bed.deploy('920.network', language)
    const ctx = await bed.context(fn, { experiment: 'invocation-overhead' })
    const s = settings({ repetitions: 5, options: { payloadSizes: [4 * 1024 * 1024], phases: ['warm'], syncRounds: 10 } })
    const [point] = invocationOverhead.plan(s, { provider: 'local', functionsOnThisMachine: true, language, deployedMemory: 128 })
    const out = await runPoint(invocationOverhead, ctx, point!, s, new Map())
    const measured = out.records.filter(usable)
    expect(measured.length).toBe(5)
    expect(measured.every((r) => typeof r.params?.invocationOverheadUs === 'number')).toBe(true)
    expect(timingWindowReport(out.records)).toEqual([])
    await fn.close()
  })

  it('every record the experiments in this file wrote keeps its windows nested', () => {
    const { records } = readRecords(bed.recordsFile)
    expect(records.length).toBeGreaterThan(0)
    expect(timingWindowReport(records)).toEqual([])
  })
})
