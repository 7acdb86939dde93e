import { describe, expect, it } from 'vitest'
import type { Size } from '../../../core/types.ts'
import { barabasiAlbert, edgeWeights, minimumSpanningTree } from '../_graph/generator.ts'
import { bucketsCount, generateInput, validateOutput } from './input.ts'

function inputFor(size: Size): Record<string, unknown> {
  return generateInput({ dataDir: '/nonexistent', size, bucket: 'b', inputPrefixes: [], outputPrefixes: [], upload: async () => '' })
}

function rightOutput(n: number) {
  const graph = barabasiAlbert(n, 42)
  const mst = minimumSpanningTree(graph, edgeWeights(graph))
  return { n, edges: mst.edges, weight: mst.weight, edge_id_sum: mst.edgeIdSum }
}

function validate(size: Size, output: unknown): string | undefined {
  return validateOutput({ dataDir: '/nonexistent', size, language: 'nodejs', input: inputFor(size), output }) as string | undefined
}

describe('502.graph-mst input', () => {
  it('uses no buckets and scales the graph with the size', () => {
    expect(bucketsCount()).toEqual([0, 0])
    expect([inputFor('test'), inputFor('small'), inputFor('large')]).toEqual([
      { size: 10, seed: 42 },
      { size: 10_000, seed: 42 },
      { size: 100_000, seed: 42 },
    ])
  })

  it('accepts the reference tree', () => {
    expect(validate('test', rightOutput(10))).toBeUndefined()
    expect(validate('small', rightOutput(10_000))).toBeUndefined()
  })

  it('rejects wrong trees with a message naming what differs', () => {
    const right = rightOutput(10_000)
    expect(validate('small', null)).toMatch(/expected an object/)
    expect(validate('small', { ...right, n: 10 })).toMatch(/n is 10/)
    expect(validate('small', { ...right, edges: 10_000 })).toMatch(/10000 edges, expected n - 1 = 9999/)
    expect(validate('small', { ...right, weight: right.weight + 1 })).toMatch(/weighs .*, expected/)
    expect(validate('small', { ...right, weight: String(right.weight) })).toMatch(/weighs/)
    expect(validate('small', { ...right, edge_id_sum: right.edge_id_sum - 1 })).toMatch(/different tree of equal weight/)
    expect(validate('small', { ...right, edge_id_sum: undefined })).toMatch(/edge ids sum/)
  })
})
