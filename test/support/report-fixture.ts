/**
 * A hand-built run for the report tests (not used at run time): what each
 * plot of report.html should show is known from its construction.
 *
 * - 110.dynamic-html, nodejs and python × test/small/large, 256 MB: one cold
 *   and 10 warm invocations per case → 6 cold + 6 warm cases, 3 sizes.
 * - 210.thumbnailer, python small, memory sweep 128/256/512/1024 MB: one cold
 *   and 8 warm invocations each, with costUsd → 4 cold + 4 warm cases.
 * - one failed invocation of 210.thumbnailer (an error shown in the summary).
 */
import type { InvocationRecord, Language, Size } from '../../core/types.ts'
import { makeRecord, normalSamples } from './test-records.ts'

export const FIXTURE_T0 = Date.UTC(2024, 4, 1, 12, 0, 0)

/** Records of one run; `slowdown` scales every time (1 = the reference run). */
export function fixtureRecords(runId: string, options: { slowdown?: number; t0?: number; only110nodejs?: boolean } = {}): InvocationRecord[] {
  const k = options.slowdown ?? 1
  let t = options.t0 ?? FIXTURE_T0
  let seed = 1
  const out: InvocationRecord[] = []
  const sizes: Size[] = ['test', 'small', 'large']
  const languages: Language[] = options.only110nodejs ? ['nodejs'] : ['nodejs', 'python']
  for (const language of languages) {
    for (const [si, size] of sizes.entries()) {
      const base = (language === 'python' ? 14 : 10) * 4 ** si // ms: 10, 40, 160 (nodejs)
      const common = { runId, benchmark: '110.dynamic-html', language, size, memory: 256 }
      out.push(makeRecord({ ...common, phase: 'cold', isCold: true, clientTimeUs: Math.round(base * 30 * 1000 * k), functionTimeUs: Math.round(base * 10 * 1000 * k), startedAt: t++ }))
      normalSamples(seed++, 10, base * 1000 * k, base * 40).forEach((v, i) =>
        out.push(makeRecord({ ...common, phase: 'warm', repetition: i, clientTimeUs: v, functionTimeUs: Math.round(v * 0.6), rssPeakKb: 40_000 + i * 100, startedAt: t++ })),
      )
    }
  }
  if (options.only110nodejs) return out
  for (const memory of [128, 256, 512, 1024]) {
    // More memory, more CPU: faster, but the price per ms grows with memory.
    const base = (120 * 128) / Math.min(memory, 512) + 20 // ms
    const common = { runId, benchmark: '210.thumbnailer', language: 'python' as const, size: 'small' as const, memory }
    const price = (ms: number) => (memory / 1024) * (ms / 1000) * 0.0000166667
    const cold = Math.round(base * 8 * 1000 * k)
    out.push(makeRecord({ ...common, phase: 'cold', isCold: true, clientTimeUs: cold, functionTimeUs: cold - 5000, costUsd: price(cold / 1000), startedAt: t++ }))
    normalSamples(seed++, 8, base * 1000 * k, base * 30).forEach((v, i) =>
      out.push(
        makeRecord({
          ...common,
          phase: 'warm',
          repetition: i,
          clientTimeUs: v,
          functionTimeUs: v - 3000,
          billedTimeMs: Math.ceil((v - 3000) / 1000),
          memoryUsedMb: 60 + memory / 20,
          costUsd: price(Math.ceil((v - 3000) / 1000)),
          startedAt: t++,
        }),
      ),
    )
  }
  out.push(
    makeRecord({ runId, benchmark: '210.thumbnailer', language: 'python', size: 'small', memory: 128, phase: 'warm', state: 'error', error: 'MemoryError: <out of memory> & "quotes"', startedAt: t++ }),
  )
  return out
}
