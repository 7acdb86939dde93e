/**
 * cold-start: where the time of a cold start goes, per language (and
 * package, since each benchmark is its own package):
 *   init       starting the runtime and the wrapper until it accepts
 *              requests (the provider's init time; AWS: Init Duration)
 *   import     loading the function's module (the wrapper's first call)
 *   handler    running the handler (function time − import)
 *   transport  everything else the client waited for (client − init − function)
 * Each repetition is a forced cold start, followed by one warm call as the
 * reference. Components a provider does not report are left out, not guessed.
 *
 * Points are memory sizes, or with `codeSizes` code package sizes × memory
 * sizes: the function runs its own package plus that many bytes of random
 * padding (the provider's `updateCode`), so the breakdown is per package
 * size. Code sizes are the outer loop: a redeploy costs more than a memory change.
 */
import { z } from 'zod'
import type { InvocationRecord } from '../core/types.ts'
import { computeStatistics } from '../analysis/statistics.ts'
import { usable } from './context.ts'
import { assertNoFailures, defineExperiment, formatPointLine, mb, ownOptions, parseOptions, summarizePoint } from './experiment.ts'
import { codeSizesSchema } from './invocation-overhead.ts'
import { repetitionPolicy, runRepetitions } from './repetitions.ts'

const optionsSchema = z.object({ codeSizes: codeSizesSchema.optional() }).strict()

export interface ColdStartPoint {
  name: string
  memory: number
  /** Bytes of code padding (with `codeSizes` only). */
  codePaddingBytes?: number
}

export interface ColdStartBreakdown {
  initUs?: number
  importUs?: number
  handlerUs: number
  transportUs: number
  clientUs: number
}

/** The components of one cold record (pure). */
export function breakdown(record: InvocationRecord): ColdStartBreakdown {
  const importUs = typeof record.params?.importTimeUs === 'number' ? record.params.importTimeUs : undefined
  const initUs = record.initTimeUs
  const handlerUs = Math.max(0, record.functionTimeUs - (importUs ?? 0))
  const transportUs = Math.max(0, record.clientTimeUs - (initUs ?? 0) - record.functionTimeUs)
  return { ...(initUs !== undefined ? { initUs } : {}), ...(importUs !== undefined ? { importUs } : {}), handlerUs, transportUs, clientUs: record.clientTimeUs }
}

export const coldStart = defineExperiment<ColdStartPoint>({
  name: 'cold-start',
  options: optionsSchema,
  description: 'cold-start breakdown: runtime initialisation vs function import vs handler vs transport, per language, memory size and (with codeSizes) code package size',
  sweepsMemory: true,
  settings: {
    codeSizes: 'bytes of random padding added to the code package; points become code size × memory size (default: no padding, memory sizes only)',
  },
  plan(settings) {
    const o = parseOptions('cold-start', optionsSchema, ownOptions(settings.options))
    if (!o.codeSizes) return settings.memory.map((memory) => ({ name: `cold-start ${mb(memory)}`, memory }))
    return o.codeSizes.flatMap((codePaddingBytes) =>
      settings.memory.map((memory) => ({ name: `cold-start ${mb(memory)} code ${codePaddingBytes}B`, memory, codePaddingBytes })),
    )
  },
  async run(ctx, point, settings) {
    if (point.codePaddingBytes !== undefined) await ctx.setCodePadding(point.codePaddingBytes)
    await ctx.ensureMemory(point.memory)
    const params: Record<string, unknown> = {
      memory: point.memory,
      ...(point.codePaddingBytes !== undefined ? { codePaddingBytes: ctx.codePaddingBytes } : {}),
      ...(point.codePaddingBytes !== undefined && ctx.codePackageBytes !== undefined ? { codePackageBytes: ctx.codePackageBytes } : {}),
    }
    const records: InvocationRecord[] = []
    let repetition = 0
    const outcome = await runRepetitions(repetitionPolicy(settings, 2), 2, async () => {
      await ctx.forceColdStart()
      const cold = await ctx.measure({ phase: 'cold', repetition, expect: 'cold', params })
      const warm = await ctx.measure({ phase: 'warm', repetition, expect: 'warm', params })
      repetition++
      records.push(cold.record, warm.record)
      return { samples: usable(cold.record) ? [cold.record.clientTimeUs] : [], invocations: 2, costUsd: (cold.record.costUsd ?? 0) + (warm.record.costUsd ?? 0) }
    }, { budget: ctx.budget })
    assertNoFailures(`${ctx.benchmark} ${ctx.language} ${point.name}`, records)
    const colds = records.filter((r) => r.phase === 'cold' && usable(r)).map(breakdown)
    const median = (xs: number[]) => (xs.length ? computeStatistics(xs).median : undefined)
    const parts = {
      initUs: median(colds.flatMap((b) => (b.initUs !== undefined ? [b.initUs] : []))),
      importUs: median(colds.flatMap((b) => (b.importUs !== undefined ? [b.importUs] : []))),
      handlerUs: median(colds.map((b) => b.handlerUs)),
      transportUs: median(colds.map((b) => b.transportUs)),
      clientUs: median(colds.map((b) => b.clientUs)),
      warmClientUs: median(records.filter((r) => r.phase === 'warm' && usable(r)).map((r) => r.clientTimeUs)),
    }
    const f = (us: number | undefined) => (us === undefined ? 'n/a' : `${(us / 1000).toFixed(2)} ms`)
    return {
      point: point.name,
      records,
      repetitions: outcome,
      data: { ...params, medians: parts, summaryCold: summarizePoint(records.filter((r) => r.phase === 'cold'), ctx.costModel, ctx.priceTable) },
      lines: [
        formatPointLine(`${point.name} (cold)`, summarizePoint(records.filter((r) => r.phase === 'cold'), ctx.costModel, ctx.priceTable)),
        `  medians: init ${f(parts.initUs)}, import ${f(parts.importUs)}, handler ${f(parts.handlerUs)}, transport ${f(parts.transportUs)} = client ${f(parts.clientUs)} (warm client ${f(parts.warmClientUs)})`,
      ],
    }
  },
})
