/**
 * What the three graph benchmarks' `input.ts` files share: the event per
 * size and the golden values, computed once per (n, seed) from the
 * TypeScript generator and reference algorithms in generator.ts.
 */
import type { GenerateInputContext } from '../../../core/benchmark-input.ts'
import {
  GRAPH_SEED,
  GRAPH_SIZES,
  barabasiAlbert,
  bfsLayers,
  edgeWeights,
  minimumSpanningTree,
  pagerank,
  type GeneratedGraph,
} from './generator.ts'

export interface GraphEvent {
  size: number
  seed: number
}

/** SeBS's event: `{size: n, seed: 42}` with n = 10 / 10,000 / 100,000. */
export function graphEvent(ctx: Pick<GenerateInputContext, 'size'>): GraphEvent {
  const size = GRAPH_SIZES[ctx.size]
  if (size === undefined) throw new Error(`unknown size '${String(ctx.size)}'; expected one of ${Object.keys(GRAPH_SIZES).join(', ')}`)
  return { size, seed: GRAPH_SEED }
}

/** Reads `{size, seed}` back from the event the function was invoked with. */
export function eventOf(input: Record<string, unknown>): GraphEvent | string {
  const { size, seed } = input
  if (!Number.isInteger(size) || (size as number) < 1) return `input event has no positive integer 'size' (got ${JSON.stringify(size)})`
  if (!Number.isInteger(seed)) return `input event has no integer 'seed' (got ${JSON.stringify(seed)})`
  return { size: size as number, seed: seed as number }
}

function memo<T>(compute: (graph: GeneratedGraph) => T): (event: GraphEvent) => T {
  // One entry: a validation run repeats the same (n, seed) for every invocation.
  let last: { key: string; value: T } | undefined
  return (event) => {
    const key = `${event.size}:${event.seed}`
    if (last?.key !== key) last = { key, value: compute(barabasiAlbert(event.size, event.seed)) }
    return last.value
  }
}

export const goldenPagerank = memo((graph) => pagerank(graph))
export const goldenSpanningTree = memo((graph) => minimumSpanningTree(graph, edgeWeights(graph)))
export const goldenBfsLayers = memo((graph) => bfsLayers(graph, 0))

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
