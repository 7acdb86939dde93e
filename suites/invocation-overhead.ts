/**
 * invocation-overhead: the time from the client's send to the function's
 * first instruction (the wrapper's `begin`), corrected for the offset
 * between the harness's and the function's clocks, over a sweep of payload
 * sizes, warm and cold.
 *
 * The clock offset is estimated once per case, before the first point, from
 * a few timestamp round trips over the function's own trigger (no public IP
 * needed; SeBS issue #239): each invocation is an exchange (client send,
 * wrapper begin, wrapper end, client receive) and the minimum-delay exchange
 * gives the offset (clock.ts). Those invocations are recorded as phase
 * `clock-sync`, discarded. On loopback both clocks are the same, so the
 * estimate must come out near 0, or near a deliberate skew
 * (SEBS_CLOCK_SKEW_US) when one is set.
 *
 * The sweep is over payload sizes (SeBS's `type: payload`), code package
 * sizes (`type: code`: before each size the function is redeployed with its
 * own package plus `sebs-padding.bin` of that many random bytes, through
 * the provider's `updateCode`), or both, payload points first.
 */
import { z } from 'zod'
import type { InvocationRecord } from '../core/types.ts'
import { estimateClockOffset, fromFunctionSide, startUdpEchoServer, type ClockEstimate, type Exchange } from './clock.ts'
import { exchangesOf } from './network-ping-pong.ts'
import { SebsError } from '../core/errors.ts'
import type { ExperimentContext, Measured } from './context.ts'
import { usable } from './context.ts'
import { assertNoFailures, defineExperiment, formatPointLine, ownOptions, parseOptions, summarizePoint } from './experiment.ts'
import { repetitionPolicy, runRepetitions } from './repetitions.ts'
import { computeStatistics } from '../analysis/statistics.ts'

/**
 * Code padding sizes, bytes: unique whole numbers. The bound is the
 * harness's; each provider also checks its platform's own limit (Lambda:
 * 250 MB unzipped, 50 MB inline, bigger zips go through S3).
 */
export const codeSizesSchema = z
  .array(z.number().int().min(0).max(512 * 1024 * 1024))
  .min(1)
  .refine((xs) => new Set(xs).size === xs.length, 'sizes must not repeat')

const optionsSchema = z
  .object({
    sweep: z.enum(['payload', 'code', 'both']).optional(),
    payloadSizes: z.array(z.number().int().min(0).max(256 * 1024 * 1024)).min(1).optional(),
    codeSizes: codeSizesSchema.optional(),
    phases: z.array(z.enum(['warm', 'cold'])).min(1).optional(),
    clockSync: z.enum(['trigger', 'udp', 'none']).optional(),
    syncRounds: z.number().int().min(1).max(1000).optional(),
  })
  .strict()
  .superRefine((o, issue) => {
    // A size list the chosen sweep would ignore is a mistake worth saying.
    if (o.sweep === 'payload' && o.codeSizes) issue.addIssue({ code: 'custom', path: ['codeSizes'], message: "is set but sweep is 'payload'; use sweep 'code' or 'both'" })
    if (o.sweep === 'code' && o.payloadSizes) issue.addIssue({ code: 'custom', path: ['payloadSizes'], message: "is set but sweep is 'code'; use sweep 'payload' or 'both'" })
  })

export const DEFAULT_PAYLOAD_SIZES = [1024, 65_536, 1_048_576]
export const DEFAULT_CODE_SIZES = [0, 1_048_576, 10_485_760]

export interface OverheadPoint {
  name: string
  sweep: 'payload' | 'code'
  /** Bytes of payload padding (0 for code points). */
  payloadBytes: number
  /** Bytes of code padding (code points only). */
  codePaddingBytes?: number
  phase: 'warm' | 'cold'
}

/**
 * Which sweep runs: the `sweep` setting; without it, the size lists that
 * are set (codeSizes alone → code, both lists → both), else payload.
 */
export function overheadSweep(o: { sweep?: 'payload' | 'code' | 'both'; payloadSizes?: number[]; codeSizes?: number[] }): 'payload' | 'code' | 'both' {
  if (o.sweep) return o.sweep
  if (o.codeSizes) return o.payloadSizes ? 'both' : 'code'
  return 'payload'
}

const CLOCK_KEY = 'clock'
export const CLOCK_SYNC_REASON = 'clock synchronisation exchange'

/** The exchange of one measured invocation: client send, wrapper begin, wrapper end, client receive. */
export function exchangeOf(m: Measured): Exchange | undefined {
  if (m.result.state !== 'ok') return undefined
  const { begin, end } = m.result.envelope
  return [m.sendUs, begin, end, m.recvUs]
}

/** Estimates the function's clock offset (function − harness) from `rounds` invocations over the trigger. */
export async function syncClockOverTrigger(ctx: ExperimentContext, rounds: number): Promise<ClockEstimate> {
  const exchanges: Exchange[] = []
  // The first call may be a cold start: its delay is large and the estimator ignores it anyway.
  for (let i = 0; i < rounds; i++) {
    const m = await ctx.measure({ phase: 'clock-sync', repetition: i, discard: CLOCK_SYNC_REASON })
    const e = exchangeOf(m)
    if (e) exchanges.push(e)
  }
  return estimateClockOffset(exchanges)
}

/**
 * SeBS's protocol: the function sends UDP datagrams to the harness until
 * `stableRounds` round trips in a row did not improve the minimum RTT (the
 * 920.network protocol); the estimate is turned into function − harness.
 */
export async function syncClockOverUdp(ctx: ExperimentContext, options: { rounds?: number; stableRounds?: number; address?: string } = {}): Promise<ClockEstimate> {
  const server = await startUdpEchoServer()
  try {
    const m = await ctx.measure({
      phase: 'clock-sync',
      repetition: 0,
      discard: CLOCK_SYNC_REASON,
      payload: { ...ctx.payload, mode: 'clock-sync', address: options.address ?? server.address, port: server.port, rounds: options.rounds ?? 100, stable_rounds: options.stableRounds ?? 20 },
    })
    const exchanges = m.result.state === 'ok' ? exchangesOf(m.result.envelope.result) : undefined
    if (!exchanges || exchanges.length === 0) {
      throw new SebsError('OUTPUT_INVALID', `UDP clock synchronisation got no exchanges from ${ctx.benchmark} (${m.record.state === 'ok' ? 'its result has no exchanges: it must speak the 920.network protocol' : m.record.error})`)
    }
    return fromFunctionSide(estimateClockOffset(exchanges))
  } finally {
    await server.close()
  }
}

/** A payload padded with `bytes` of base64 text (SeBS: `input.data = base64(zeros)`). */
export function paddedPayload(payload: Record<string, unknown>, bytes: number): Record<string, unknown> {
  if (bytes === 0) return payload
  // base64 of n zero bytes is ⌈n/3⌉·4 characters of 'A'; we want `bytes` characters on the wire.
  return { ...payload, 'sebs-padding': 'A'.repeat(bytes) }
}

export const invocationOverhead = defineExperiment<OverheadPoint>({
  name: 'invocation-overhead',
  options: optionsSchema,
  description:
    "time from the client's send to the function's first instruction, clock-drift corrected, over a payload-size and/or code-package-size sweep, cold and warm",
  settings: {
    sweep: "'payload' (default), 'code' (default when only codeSizes is set) or 'both' (default when both lists are set): SeBS's type",
    payloadSizes: 'payload sizes in bytes (default [1024, 65536, 1048576])',
    codeSizes: 'code sweep: bytes of random padding added to the code package, redeployed before each size (default [0, 1048576, 10485760])',
    phases: "default ['warm', 'cold']",
    clockSync: "'trigger' (timestamp round trips over the function's own trigger; default), 'udp' (SeBS's protocol; the function must speak 920.network's) or 'none'",
    syncRounds: 'round trips for the clock-offset estimate (default 10)',
  },
  plan(settings) {
    const o = parseOptions('invocation-overhead', optionsSchema, ownOptions(settings.options))
    const sweep = overheadSweep(o)
    const phases = o.phases ?? ['warm', 'cold']
    const points: OverheadPoint[] = []
    if (sweep !== 'code') {
      for (const payloadBytes of o.payloadSizes ?? DEFAULT_PAYLOAD_SIZES) {
        for (const phase of phases) points.push({ name: `payload ${payloadBytes}B ${phase}`, sweep: 'payload', payloadBytes, phase })
      }
    }
    if (sweep !== 'payload') {
      for (const codePaddingBytes of o.codeSizes ?? DEFAULT_CODE_SIZES) {
        for (const phase of phases) points.push({ name: `code ${codePaddingBytes}B ${phase}`, sweep: 'code', payloadBytes: 0, codePaddingBytes, phase })
      }
    }
    return points
  },
  async run(ctx, point, settings, state) {
    const o = parseOptions('invocation-overhead', optionsSchema, ownOptions(settings.options))
    await ctx.ensureMemory(settings.memory[0] ?? ctx.memory)
    // Code points run on the padded package; payload points on the function's own.
    if (point.codePaddingBytes !== undefined) await ctx.setCodePadding(point.codePaddingBytes)
    else await ctx.restoreCode()
    const sizeParams: Record<string, unknown> =
      point.sweep === 'code' ? { codePaddingBytes: ctx.codePaddingBytes, ...(ctx.codePackageBytes !== undefined ? { codePackageBytes: ctx.codePackageBytes } : {}) } : { payloadBytes: point.payloadBytes }
    let clock = state.get(CLOCK_KEY) as ClockEstimate | undefined
    if (!clock) {
      const method = o.clockSync ?? 'trigger'
      clock =
        method === 'trigger'
          ? await syncClockOverTrigger(ctx, o.syncRounds ?? 10)
          : method === 'udp'
            ? await syncClockOverUdp(ctx, { rounds: o.syncRounds ?? 100 })
            : { offsetUs: 0, delayUs: 0, errorUs: 0, exchanges: 0, meanOffsetUs: 0, stdOffsetUs: 0 }
      state.set(CLOCK_KEY, clock)
      ctx.log(`clock offset (function − harness): ${(clock.offsetUs / 1000).toFixed(3)} ms ± ${(clock.errorUs / 1000).toFixed(3)} ms from ${clock.exchanges} exchange(s)`)
    }
    const payload = paddedPayload(ctx.payload, point.payloadBytes)
    const records: InvocationRecord[] = []
    const overheads: number[] = []
    let repetition = 0
    if (point.phase === 'warm') {
      // One call to make sure an instance is warm, as SeBS does before a warm pass.
      records.push((await ctx.measure({ phase: 'warm', repetition: repetition++, payload, discard: 'warm-up call', params: sizeParams })).record)
    }
    const outcome = await runRepetitions(
      repetitionPolicy(settings, 1, 1),
      1,
      async () => {
        if (point.phase === 'cold') await ctx.forceColdStart()
        const m = await ctx.measure({
          phase: point.phase,
          repetition: repetition++,
          expect: point.phase,
          payload,
          params: { ...sizeParams, clockOffsetUs: Math.round(clock!.offsetUs), clockErrorUs: Math.round(clock!.errorUs) },
          // Send → first instruction, on the harness clock.
          annotate: ({ result, sendUs }) =>
            result.state === 'ok' ? { invocationOverheadUs: Math.round(result.envelope.begin - clock!.offsetUs - sendUs) } : undefined,
        })
        const record = m.record
        if (usable(record) && typeof record.params?.invocationOverheadUs === 'number') overheads.push(record.params.invocationOverheadUs)
        records.push(record)
        return { samples: usable(record) ? [record.clientTimeUs] : [], invocations: 1, costUsd: record.costUsd ?? 0 }
      },
      { budget: ctx.budget },
    )
    assertNoFailures(`${ctx.benchmark} ${ctx.language} ${point.name}`, records)
    const summary = summarizePoint(records, ctx.costModel, ctx.priceTable)
    const overhead = overheads.length > 0 ? computeStatistics(overheads) : undefined
    return {
      point: point.name,
      records,
      repetitions: outcome,
      data: { ...sizeParams, phase: point.phase, clock, invocationOverheadUs: overhead, summary },
      lines: [
        formatPointLine(point.name, summary),
        `  ${point.name}: send → first instruction median ${overhead ? (overhead.median / 1000).toFixed(3) : '?'} ms (clock offset ${(clock.offsetUs / 1000).toFixed(3)} ± ${(clock.errorUs / 1000).toFixed(3)} ms)`,
      ],
    }
  },
})
