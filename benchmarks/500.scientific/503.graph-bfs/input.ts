/**
 * 503.graph-bfs: the event is `{size: n, seed}`; both languages build the
 * same seeded Barabási–Albert graph (../_graph), search it breadth-first
 * from vertex 0 and return `{n, layers: [vertices per depth], reached}`. The
 * layer sizes do not depend on neighbour order, so the validator compares
 * them exactly with its own BFS of the same graph.
 */
import type { GenerateInputContext, ValidateOutputContext } from '../../../core/benchmark-input.ts'
import { eventOf, goldenBfsLayers, graphEvent, isRecord } from '../_graph/graph-input.ts'

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
  if (!isRecord(out)) return `expected an object {n, layers, reached}, got ${JSON.stringify(out)}`
  if (out.n !== event.size) return `n is ${JSON.stringify(out.n)}, expected ${event.size}`
  const { layers, reached } = out
  if (!Array.isArray(layers) || !layers.every((size) => Number.isInteger(size) && size > 0)) {
    return `layers should be a list of positive layer sizes, got ${JSON.stringify(layers)}`
  }
  const total = (layers as number[]).reduce((a, b) => a + b, 0)
  if (reached !== total) return `reached is ${JSON.stringify(reached)} but the layers hold ${total} vertices`
  // The generated graph is connected: the search reaches every vertex.
  if (total !== event.size) return `the layers hold ${total} vertices, expected all n = ${event.size}`
  const golden = goldenBfsLayers(event)
  if (JSON.stringify(layers) !== JSON.stringify(golden)) {
    return `layer sizes ${JSON.stringify(layers)} differ from the reference BFS ${JSON.stringify(golden)}`
  }
  return undefined
}
