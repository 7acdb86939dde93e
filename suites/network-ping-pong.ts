/**
 * network-ping-pong: UDP round trips between the harness and a function.
 * The harness runs a UDP echo server (clock.ts); the function (the
 * 920.network protocol: SeBS's 020.network-benchmark) sends `rounds`
 * datagrams and returns every exchange's four timestamps. RTT = client
 * round trip minus the server's own time, so neither clock offset nor the
 * server's processing enters it. Reported: p50/p75/p95/p99/p99.9, mean,
 * std, CV and a histogram (SeBS's `process` step, which is broken there).
 *
 * The function must reach the harness: on the local provider that is
 * 127.0.0.1; elsewhere set `address` (and `bindAddress`) to an address the
 * function can reach.
 */
import { z } from 'zod'
import { SebsError } from '../core/errors.ts'
import type { InvocationRecord } from '../core/types.ts'
import { computeStatistics, histogram, tailPercentiles } from '../analysis/statistics.ts'
import { roundTripTimes, startUdpEchoServer, type Exchange } from './clock.ts'
import { usable } from './context.ts'
import { assertNoFailures, defineExperiment, formatPointLine, ownOptions, parseOptions, summarizePoint } from './experiment.ts'

const optionsSchema = z
  .object({
    invocations: z.number().int().min(1).max(10_000).optional(),
    rounds: z.number().int().min(1).max(100_000).optional(),
    address: z.string().min(1).optional(),
    bindAddress: z.string().min(1).optional(),
    bins: z.number().int().min(1).max(1000).optional(),
    timeoutMs: z.number().int().min(1).optional(),
  })
  .strict()

export interface PingPongPoint {
  name: string
}

/** The exchanges a 920.network-style function returned, or undefined when its result has none. */
export function exchangesOf(result: unknown): Exchange[] | undefined {
  const ex = (result as { exchanges?: unknown } | null)?.exchanges
  if (!Array.isArray(ex)) return undefined
  return ex.filter((e): e is Exchange => Array.isArray(e) && e.length === 4 && e.every((v) => typeof v === 'number'))
}

export const networkPingPong = defineExperiment<PingPongPoint>({
  name: 'network-ping-pong',
  options: optionsSchema,
  description: 'UDP round trips between the harness and a function (920.network protocol): p50/p75/p95/p99/p99.9 and a histogram',
  settings: {
    invocations: 'function invocations (default 3)',
    rounds: 'round trips per invocation (default 200)',
    address: 'the harness address the function sends to (default 127.0.0.1: local provider only)',
    bindAddress: 'the address the harness’s UDP echo server listens on (default 127.0.0.1)',
    timeoutMs: 'the function’s wait for each UDP answer, ms (default 1000)',
    bins: 'histogram bins (default: Sturges)',
  },
  plan(settings, target) {
    const o = parseOptions('network-ping-pong', optionsSchema, ownOptions(settings.options))
    // Functions elsewhere cannot reach an echo server on loopback.
    if (!target.functionsOnThisMachine && !o.address) {
      throw new SebsError(
        'NOT_SUPPORTED',
        `network-ping-pong on '${target.provider}' needs an address the function can send UDP to: set experiments['network-ping-pong'].address (and bindAddress).`,
      )
    }
    return [{ name: 'ping-pong' }]
  },
  async run(ctx, point, settings) {
    const o = parseOptions('network-ping-pong', optionsSchema, ownOptions(settings.options))
    await ctx.ensureMemory(settings.memory[0] ?? ctx.memory)
    const server = await startUdpEchoServer({ host: o.bindAddress ?? '127.0.0.1' })
    const records: InvocationRecord[] = []
    const rtts: number[] = []
    let lost = 0
    try {
      const invocations = o.invocations ?? 3
      const rounds = o.rounds ?? 200
      for (let i = 0; i < invocations; i++) {
        const payload = { ...ctx.payload, mode: 'ping-pong', address: o.address ?? server.address, port: server.port, rounds, timeout_ms: o.timeoutMs ?? 1000 }
        const m = await ctx.measure({
          phase: 'ping-pong',
          repetition: i,
          payload,
          params: { rounds },
          annotate: ({ result }) => {
            const ex = result.state === 'ok' ? exchangesOf(result.envelope.result) : undefined
            if (!ex) return undefined
            const r = roundTripTimes(ex)
            return { exchanges: ex.length, lost: (result.state === 'ok' && (result.envelope.result as { lost?: number }).lost) || 0, rttMedianUs: r.length ? computeStatistics(r).median : undefined }
          },
        })
        records.push(m.record)
        if (m.result.state === 'ok' && usable(m.record)) {
          const ex = exchangesOf(m.result.envelope.result)
          if (!ex) {
            throw new SebsError('OUTPUT_INVALID', `${ctx.benchmark} does not speak the ping-pong protocol (no result.exchanges); use a function like test/fixtures/experiments/…/920.network`)
          }
          rtts.push(...roundTripTimes(ex))
          lost += Number((m.result.envelope.result as { lost?: number }).lost ?? 0)
        }
      }
    } finally {
      await server.close()
    }
    assertNoFailures(`${ctx.benchmark} ${ctx.language} ${point.name}`, records)
    const summary = summarizePoint(records, ctx.costModel, ctx.priceTable)
    if (rtts.length === 0) throw new SebsError('OUTPUT_INVALID', `${point.name}: no round trip came back (${lost} lost)`)
    const stats = computeStatistics(rtts)
    const tails = tailPercentiles(rtts)
    const hist = histogram(rtts, o.bins)
    const f = (us: number) => `${(us / 1000).toFixed(3)} ms`
    return {
      point: point.name,
      records,
      data: { rttUs: { n: rtts.length, lost, mean: stats.mean, std: stats.std, cv: stats.cv, min: stats.min, max: stats.max, ...tails }, histogramUs: hist, summary },
      lines: [
        formatPointLine(point.name, summary),
        `  UDP RTT over ${rtts.length} round trips (${lost} lost): p50 ${f(tails.p50)}, p75 ${f(tails.p75)}, p95 ${f(tails.p95)}, p99 ${f(tails.p99)}, p99.9 ${f(tails.p999)}; mean ${f(stats.mean)}, CV ${stats.cv.toFixed(1)} %`,
        `  histogram (ms): ${hist.counts.map((c, i) => `[${(hist.edges[i]! / 1000).toFixed(3)}, ${(hist.edges[i + 1]! / 1000).toFixed(3)}${i === hist.counts.length - 1 ? ']' : ')'} ${c}`).join('  ')}`,
      ],
    }
  },
})
