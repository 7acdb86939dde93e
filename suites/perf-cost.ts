/**
 * perf-cost, SeBS's main experiment: for each memory size of the sweep, the
 * phases
 *   cold        each batch after a forced cold start; only cold samples count
 *   warm        batches on warm instances; only warm samples count
 *   burst       `burstSize` concurrent invocations per batch, each batch
 *               forced cold; every sample counts (cold and warm are tallied)
 *   sequential  one invocation at a time after a warm-up call; every sample counts
 * A sample of the wrong kind (a warm answer in the cold phase) is kept on
 * disk, marked discarded with the reason, and never enters the statistics.
 * The first batch of every phase is discarded as warm-up, as SeBS does
 * (sequential: its warm-up call), and the records say so.
 */
import { z } from 'zod'
import type { InvocationRecord } from '../core/types.ts'
import type { ExperimentContext } from './context.ts'
import { usable } from './context.ts'
import {
  assertNoFailures,
  defineExperiment,
  formatPointLine,
  mb,
  ownOptions,
  parseOptions,
  summarizePoint,
  type ExperimentSettings,
  type PointOutcome,
} from './experiment.ts'
import { repetitionPolicy, runRepetitions } from './repetitions.ts'

export const PERF_COST_PHASES = ['cold', 'warm', 'burst', 'sequential'] as const
export type PerfCostPhase = (typeof PERF_COST_PHASES)[number]

const optionsSchema = z
  .object({
    phases: z.array(z.enum(PERF_COST_PHASES)).min(1).optional(),
    concurrency: z.number().int().min(1).max(1000).optional(),
    burstSize: z.number().int().min(1).max(1000).optional(),
    warmupBatches: z.number().int().min(0).max(100).optional(),
    batchPauseMs: z.number().min(0).optional(),
  })
  .strict()

export interface PerfCostOptions {
  phases: PerfCostPhase[]
  concurrency: number
  burstSize: number
  warmupBatches: number
  batchPauseMs: number
}

export function perfCostOptions(settings: ExperimentSettings): PerfCostOptions {
  const o = parseOptions('perf-cost', optionsSchema, ownOptions(settings.options))
  return {
    phases: o.phases ?? [...PERF_COST_PHASES],
    concurrency: o.concurrency ?? 1,
    burstSize: o.burstSize ?? 5,
    warmupBatches: o.warmupBatches ?? 1,
    batchPauseMs: o.batchPauseMs ?? 0,
  }
}

export interface PerfCostPoint {
  name: string
  memory: number
  phase: PerfCostPhase
}

export const WARMUP_REASON = 'warm-up batch (the first batch of each phase is discarded, as SeBS does)'
export const SEQUENTIAL_WARMUP_REASON = 'warm-up call before the sequential phase'

/** Runs one phase at one memory size. Exported for tests; the experiment calls it per point. */
export async function runPerfCostPhase(
  ctx: ExperimentContext,
  phase: PerfCostPhase,
  memory: number,
  settings: ExperimentSettings,
  opts: PerfCostOptions,
): Promise<PointOutcome> {
  // A memory change restarts instances (a configuration change does on platforms too).
  await ctx.ensureMemory(memory)
  const expect = phase === 'cold' ? 'cold' : phase === 'warm' ? 'warm' : undefined
  const batchSize = phase === 'burst' ? opts.burstSize : phase === 'sequential' ? 1 : opts.concurrency
  const forcedCold = phase === 'cold' || phase === 'burst'
  const warmupBatches = phase === 'sequential' ? 0 : opts.warmupBatches
  const records: InvocationRecord[] = []
  let repetition = 0
  const params = { memory }

  if (phase === 'sequential') {
    records.push((await ctx.measure({ phase, repetition: repetition++, params, discard: SEQUENTIAL_WARMUP_REASON })).record)
  }
  const runBatch = async (batchIndex: number, discard?: string): Promise<InvocationRecord[]> => {
    if (batchIndex > 0 && opts.batchPauseMs > 0) await ctx.sleep(opts.batchPauseMs)
    if (forcedCold) await ctx.forceColdStart()
    const batch = await Promise.all(
      Array.from({ length: batchSize }, () =>
        ctx.measure({ phase, repetition: repetition++, ...(expect ? { expect } : {}), params: { ...params, batch: batchIndex }, ...(discard ? { discard } : {}) }),
      ),
    )
    return batch.map((m) => m.record)
  }
  for (let b = 0; b < warmupBatches; b++) records.push(...(await runBatch(b, WARMUP_REASON)))

  const policy = repetitionPolicy(settings, batchSize, warmupBatches * batchSize)
  const outcome = await runRepetitions(
    policy,
    batchSize,
    async (index) => {
      const batch = await runBatch(warmupBatches + index)
      records.push(...batch)
      return {
        samples: batch.filter(usable).map((r) => r.clientTimeUs),
        invocations: batch.length,
        costUsd: batch.reduce((s, r) => s + (r.costUsd ?? 0), 0),
      }
    },
    { budget: ctx.budget },
  )
  const name = `${phase} ${mb(memory)}`
  const summary = summarizePoint(records, ctx.costModel, ctx.priceTable)
  return {
    point: name,
    records,
    repetitions: outcome,
    data: { phase, memory, summary, stoppedBecause: outcome.stoppedBecause },
    lines: [formatPointLine(name, summary), `  ${name}: ${outcome.explanation}`],
  }
}

export const perfCost = defineExperiment<PerfCostPoint>({
  name: 'perf-cost',
  options: optionsSchema,
  description:
    "SeBS's main experiment: cold, warm, burst and sequential phases per memory size of the sweep, with medians, CIs and cost per phase",
  sweepsMemory: true,
  settings: {
    phases: "phases to run, default ['cold', 'warm', 'burst', 'sequential']",
    concurrency: 'invocations per batch in the cold and warm phases (default 1)',
    burstSize: 'concurrent invocations per burst batch, each batch forced cold (default 5)',
    warmupBatches: 'batches discarded as warm-up at the start of each phase (default 1, as SeBS)',
    batchPauseMs: 'pause between batches (default 0; SeBS sleeps 5000 on clouds)',
  },
  plan(settings) {
    const opts = perfCostOptions(settings)
    return settings.memory.flatMap((memory) => opts.phases.map((phase) => ({ name: `${phase} ${mb(memory)}`, memory, phase })))
  },
  async run(ctx, point, settings) {
    const outcome = await runPerfCostPhase(ctx, point.phase, point.memory, settings, perfCostOptions(settings))
    assertNoFailures(`${ctx.benchmark} ${ctx.language} ${point.name}`, outcome.records)
    return outcome
  },
})
