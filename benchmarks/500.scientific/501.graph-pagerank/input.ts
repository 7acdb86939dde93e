/**
 * 501.graph-pagerank: the event is `{size: n, seed}`; both languages build
 * the same seeded Barabási–Albert graph (../_graph) and return
 * `{n, edges, sum, first, top: [[vertex, rank] ×5]}`. The validator checks
 * the ranks against its own power-iteration PageRank of the same graph.
 */
import type { GenerateInputContext, ValidateOutputContext } from '../../../core/benchmark-input.ts'
import { edgeCount } from '../_graph/generator.ts'
import { eventOf, goldenPagerank, graphEvent, isRecord } from '../_graph/graph-input.ts'

/** Relative tolerance on each rank: igraph's PRPACK and graphology's power iteration both land far closer. */
export const RANK_TOLERANCE = 1e-6
/** The ranks are a probability distribution. */
export const SUM_TOLERANCE = 1e-6
export const TOP = 5

export function bucketsCount(): [number, number] {
  return [0, 0]
}

export function generateInput(ctx: GenerateInputContext): Record<string, unknown> {
  return { ...graphEvent(ctx) }
}

function close(actual: number, expected: number): boolean {
  return Math.abs(actual - expected) <= RANK_TOLERANCE * Math.abs(expected)
}

export function validateOutput(ctx: ValidateOutputContext): string | undefined {
  const event = eventOf(ctx.input)
  if (typeof event === 'string') return event
  const out = ctx.output
  if (!isRecord(out)) return `expected an object {n, edges, sum, first, top}, got ${JSON.stringify(out)}`
  if (out.n !== event.size) return `n is ${JSON.stringify(out.n)}, expected ${event.size}`
  const edges = edgeCount(event.size)
  if (out.edges !== edges) return `the graph has ${JSON.stringify(out.edges)} edges, expected ${edges}`
  if (typeof out.sum !== 'number' || Math.abs(out.sum - 1) > SUM_TOLERANCE) {
    return `the ranks sum to ${JSON.stringify(out.sum)}, expected 1 ± ${SUM_TOLERANCE}`
  }
  const golden = goldenPagerank(event)
  if (typeof out.first !== 'number' || !close(out.first, golden[0])) {
    return `rank of vertex 0 is ${JSON.stringify(out.first)}, expected ${golden[0]} (relative tolerance ${RANK_TOLERANCE})`
  }
  const expectedTop = Array.from(golden)
    .sort((a, b) => b - a)
    .slice(0, TOP)
  if (!Array.isArray(out.top) || out.top.length !== expectedTop.length) {
    return `top should list ${expectedTop.length} [vertex, rank] pairs, got ${JSON.stringify(out.top)}`
  }
  const seen = new Set<number>()
  for (const [i, entry] of out.top.entries()) {
    if (!Array.isArray(entry) || entry.length !== 2 || !Number.isInteger(entry[0]) || typeof entry[1] !== 'number') {
      return `top[${i}] should be [vertex, rank], got ${JSON.stringify(entry)}`
    }
    const [vertex, rank] = entry as [number, number]
    if (vertex < 0 || vertex >= event.size || seen.has(vertex)) return `top[${i}] names vertex ${vertex}: out of range or repeated`
    seen.add(vertex)
    if (!close(rank, golden[vertex])) return `top[${i}]: rank of vertex ${vertex} is ${rank}, expected ${golden[vertex]}`
    // Compared by position rather than by vertex: tied ranks may come in either order.
    if (!close(rank, expectedTop[i])) {
      return `top[${i}] (vertex ${vertex}, rank ${rank}) is not the ${i + 1}. highest rank ${expectedTop[i]}`
    }
  }
  return undefined
}
