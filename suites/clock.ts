/**
 * Clock synchronisation between the harness and a function, for measuring
 * the time from the client's send to the function's first instruction.
 *
 * An exchange is four timestamps, each on its own side's clock (µs):
 *   t0 the client sends, t1 the server receives, t2 the server answers,
 *   t3 the client receives.
 * NTP's (and Cristian's) estimator: offset θ = ((t1 − t0) + (t2 − t3)) / 2
 * is the server clock minus the client clock, exact when both directions
 * take equally long; delay δ = (t3 − t0) − (t2 − t1) is the round trip
 * without the server's own time, and |error| ≤ δ / 2. The exchange with the
 * smallest δ is the most trustworthy, so the estimate is taken from it.
 *
 * Two ways to get exchanges:
 *  - `trigger` (no public IP needed; SeBS issue #239): invoke the function a
 *    few times over its own trigger; t1/t2 are the wrapper's `begin`/`end`.
 *  - `udp` (SeBS's protocol): the function sends datagrams to a UDP server
 *    of the harness (`startUdpEchoServer`) until the minimum RTT stops
 *    improving; there the function is the client and the sign flips.
 */
import dgram from 'node:dgram'
import { epochUs } from './context.ts'

export type Exchange = [t0: number, t1: number, t2: number, t3: number]

export interface ClockEstimate {
  /** Server clock minus client clock, µs. */
  offsetUs: number
  /** Round trip of the exchange used, without the server's time, µs. */
  delayUs: number
  /** Bound on |true offset − estimate|: delay / 2, µs. */
  errorUs: number
  /** Exchanges considered. */
  exchanges: number
  /** Mean and std of the per-exchange offsets (SeBS reports these). */
  meanOffsetUs: number
  stdOffsetUs: number
}

/** Offset and delay of one exchange. */
export function exchangeOffset([t0, t1, t2, t3]: Exchange): { offsetUs: number; delayUs: number } {
  return { offsetUs: (t1 - t0 + (t2 - t3)) / 2, delayUs: t3 - t0 - (t2 - t1) }
}

/** The minimum-delay estimate of the server's clock offset. Throws on no exchanges. */
export function estimateClockOffset(exchanges: readonly Exchange[]): ClockEstimate {
  if (exchanges.length === 0) throw new RangeError('estimateClockOffset: no exchanges; the function answered none of the round trips')
  const each = exchanges.map(exchangeOffset)
  let best = each[0]!
  for (const e of each) if (e.delayUs < best.delayUs) best = e
  const mean = each.reduce((s, e) => s + e.offsetUs, 0) / each.length
  const std = each.length > 1 ? Math.sqrt(each.reduce((s, e) => s + (e.offsetUs - mean) ** 2, 0) / (each.length - 1)) : 0
  return {
    offsetUs: best.offsetUs,
    delayUs: best.delayUs,
    errorUs: Math.max(0, best.delayUs) / 2,
    exchanges: exchanges.length,
    meanOffsetUs: mean,
    stdOffsetUs: std,
  }
}

/**
 * For exchanges where the function was the client (the UDP protocol), the
 * estimate is harness − function; this turns it into function − harness,
 * the same sign as the trigger method's.
 */
export function fromFunctionSide(estimate: ClockEstimate): ClockEstimate {
  return { ...estimate, offsetUs: -estimate.offsetUs, meanOffsetUs: -estimate.meanOffsetUs }
}

export interface UdpEchoServer {
  address: string
  port: number
  /** Datagrams answered so far. */
  readonly received: number
  close(): Promise<void>
}

/**
 * A UDP server that answers each datagram `{ i, … }` with `{ i, t1, t2 }`
 * (its receive and send times, epoch µs). Binds 127.0.0.1 unless told
 * otherwise, on a random port.
 */
export async function startUdpEchoServer(options: { host?: string; port?: number } = {}): Promise<UdpEchoServer> {
  const socket = dgram.createSocket('udp4')
  let received = 0
  socket.on('message', (msg, rinfo) => {
    const t1 = epochUs()
    let i: unknown
    try {
      i = (JSON.parse(msg.toString('utf8')) as { i?: unknown }).i
    } catch {
      return // not ours
    }
    received++
    const t2 = epochUs()
    socket.send(JSON.stringify({ i, t1, t2 }), rinfo.port, rinfo.address)
  })
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject)
    socket.bind(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      socket.off('error', reject)
      resolve()
    })
  })
  const { address, port } = socket.address()
  return {
    address,
    port,
    get received() {
      return received
    },
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  }
}

/** Round-trip times of exchanges without the server's time, µs. */
export function roundTripTimes(exchanges: readonly Exchange[]): number[] {
  return exchanges.map((e) => exchangeOffset(e).delayUs)
}
