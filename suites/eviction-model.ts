/**
 * eviction-model: after how long idle is a warm instance evicted? For each
 * idle time t: invoke (priming: afterwards an instance is warm), stay idle
 * for t, invoke again and record whether that start was cold. The
 * keep-alive lies between the longest idle time after which the instance
 * was always still warm and the shortest after which it was always cold.
 *
 * SeBS runs one function copy per idle time in parallel; here the idle
 * times run one after another on one function, so the total time is the
 * sum of the idle times × repetitions. On the local provider the answer is
 * known (its `keepAliveMs` option), which validates the experiment.
 */
import { z } from 'zod'
import { ConfigError } from '../core/errors.ts'
import type { InvocationRecord } from '../core/types.ts'
import { assertNoFailures, defineExperiment, ownOptions, parseOptions, type PointOutcome } from './experiment.ts'

export const SEBS_IDLE_SECONDS = [1, 2, 4, 8, 15, 30, 60, 120, 180, 240, 300, 360, 480, 600, 720, 900, 1080, 1200]
export const PRIMING_REASON = 'priming invocation (makes an instance warm before the idle time)'

const optionsSchema = z
  .object({
    idleSeconds: z.array(z.number().positive().max(24 * 3600)).min(1).optional(),
  })
  .strict()

export interface EvictionPoint {
  name: string
  idleMs: number
}

export interface EvictionEstimate {
  /** Longest idle time after which every probe was warm, ms (0 when none was). */
  lastWarmMs: number
  /** Shortest idle time after which every probe was cold, ms (undefined: never evicted within the tested times). */
  firstColdMs?: number
  /** Idle times with mixed answers (the boundary is fuzzy there). */
  mixedMs: number[]
  /** "keep-alive in (lastWarm, firstCold]" */
  text: string
}

/** The keep-alive interval from probes: idle time → was the second start cold. Pure. */
export function estimateEviction(probes: ReadonlyArray<{ idleMs: number; cold: boolean }>): EvictionEstimate {
  const byIdle = new Map<number, boolean[]>()
  for (const p of probes) byIdle.set(p.idleMs, [...(byIdle.get(p.idleMs) ?? []), p.cold])
  const idle = [...byIdle.keys()].sort((a, b) => a - b)
  const allWarm = idle.filter((t) => byIdle.get(t)!.every((c) => !c))
  const allCold = idle.filter((t) => byIdle.get(t)!.every((c) => c))
  const mixedMs = idle.filter((t) => !allWarm.includes(t) && !allCold.includes(t))
  const firstColdMs = allCold.find((t) => !allWarm.some((w) => w > t))
  const lastWarmMs = Math.max(0, ...allWarm.filter((t) => firstColdMs === undefined || t < firstColdMs))
  const text =
    firstColdMs === undefined
      ? `no eviction within ${idle[idle.length - 1]! / 1000} s idle`
      : `keep-alive in (${lastWarmMs / 1000} s, ${firstColdMs / 1000} s]`
  return { lastWarmMs, ...(firstColdMs !== undefined ? { firstColdMs } : {}), mixedMs, text }
}

export const evictionModel = defineExperiment<EvictionPoint>({
  name: 'eviction-model',
  options: optionsSchema,
  description: 'after how long idle a warm instance is evicted: invoke, stay idle t, invoke again, for each idle time t',
  settings: {
    idleSeconds: 'idle times in seconds (default SeBS list 1, 2, 4, 8, 15, 30, 60, 120, 180, 240, 300, 360, 480, 600, 720, 900, 1080, 1200)',
    repetitions: 'probes per idle time (default 1; --repetitions sets it too)',
  },
  // One probe is an idle period (up to 20 min): the run's default of 10 would multiply the run's hours.
  defaultRepetitions: 1,
  plan(settings) {
    const o = parseOptions('eviction-model', optionsSchema, ownOptions(settings.options))
    // Refused rather than ignored: the summary file records these settings as what ran.
    if (settings.repetitions < 1) {
      throw new ConfigError('CONFIG_INVALID', `eviction-model needs at least 1 probe per idle time, got repetitions ${settings.repetitions}; pass --repetitions 1 or more (or leave it out: 1).`)
    }
    if (settings.adaptive || (settings.adaptive === undefined && settings.ciTarget !== undefined)) {
      throw new ConfigError(
        'CONFIG_INVALID',
        `eviction-model runs a fixed number of probes per idle time (a probe is a yes/no answer, not a timing sample): adaptive repetitions (--ci-target, experiments['eviction-model'].adaptive/ciTarget) do not apply; set --repetitions N instead.`,
      )
    }
    return (o.idleSeconds ?? SEBS_IDLE_SECONDS).map((s) => ({ name: `idle ${s}s`, idleMs: Math.round(s * 1000) }))
  },
  async run(ctx, point, settings) {
    await ctx.ensureMemory(settings.memory[0] ?? ctx.memory)
    const records: InvocationRecord[] = []
    const probes: Array<{ idleMs: number; cold: boolean }> = []
    // Fixed count (plan refuses adaptive): each probe is one idle period.
    const repetitions = settings.repetitions
    for (let i = 0; i < repetitions; i++) {
      records.push((await ctx.measure({ phase: 'eviction-prime', repetition: i, params: { idleMs: point.idleMs }, discard: PRIMING_REASON })).record)
      await ctx.sleep(point.idleMs)
      const probe = await ctx.measure({ phase: 'eviction', repetition: i, params: { idleMs: point.idleMs } })
      records.push(probe.record)
      if (probe.record.state === 'ok') probes.push({ idleMs: point.idleMs, cold: probe.record.isCold })
    }
    assertNoFailures(`${ctx.benchmark} ${ctx.language} ${point.name}`, records)
    const cold = probes.filter((p) => p.cold).length
    return {
      point: point.name,
      records,
      data: { idleMs: point.idleMs, probes },
      lines: [`${point.name}: ${cold} of ${probes.length} probe(s) cold after ${point.idleMs / 1000} s idle`],
    }
  },
  summarize(outcomes: PointOutcome[]) {
    const probes = outcomes.flatMap((o) => (o.data?.probes as Array<{ idleMs: number; cold: boolean }> | undefined) ?? [])
    if (probes.length === 0) return { lines: [], data: {} }
    const estimate = estimateEviction(probes)
    return { lines: [`eviction: ${estimate.text}${estimate.mixedMs.length ? ` (mixed answers at ${estimate.mixedMs.map((t) => t / 1000).join(', ')} s)` : ''}`], data: { estimate } }
  },
})
