/**
 * 502.graph-mst: the event is `{size: n, seed}`; both languages build the
 * same seeded Barabási–Albert graph with distinct weights 1..E (../_graph)
 * and return `{n, edges, weight, edge_id_sum}` of its minimum spanning tree.
 * The distinct weights make the tree unique, so the validator compares all
 * three numbers exactly with its own Kruskal on the same graph.
 */
import type { GenerateInputContext, ValidateOutputContext } from '../../../core/benchmark-input.ts'
import { eventOf, goldenSpanningTree, graphEvent, isRecord } from '../_graph/graph-input.ts'

export function bucketsCount(): [number, number] {
  return [0, 0]
}

export function generateInput(ctx: GenerateInputContext): Record<string, unknown> {
  return { ...graphEvent(ctx) }
}

export function validateOutput(ctx: ValidateOutputContext): string | undefined {
  const event = eventOf(ctx.input)
  if (typeof event === 'string') return event
  const out = ctx.output
  if (!isRecord(out)) return `expected an object {n, edges, weight, edge_id_sum}, got ${JSON.stringify(out)}`
  if (out.n !== event.size) return `n is ${JSON.stringify(out.n)}, expected ${event.size}`
  // The generated graph is connected, so the tree spans it with n - 1 edges.
  if (out.edges !== event.size - 1) return `the spanning tree has ${JSON.stringify(out.edges)} edges, expected n - 1 = ${event.size - 1}`
  const golden = goldenSpanningTree(event)
  if (out.weight !== golden.weight) return `the spanning tree weighs ${JSON.stringify(out.weight)}, expected ${golden.weight}`
  if (out.edge_id_sum !== golden.edgeIdSum) {
    return `the tree's edge ids sum to ${JSON.stringify(out.edge_id_sum)}, expected ${golden.edgeIdSum}: a different tree of equal weight`
  }
  return undefined
}
