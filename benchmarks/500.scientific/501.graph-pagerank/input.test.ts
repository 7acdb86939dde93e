import { describe, expect, it } from 'vitest'
import type { ValidateOutputContext } from '../../../core/benchmark-input.ts'
import type { Size } from '../../../core/types.ts'
import { barabasiAlbert, edgeCount, pagerank } from '../_graph/generator.ts'
import { bucketsCount, generateInput, validateOutput } from './input.ts'

function inputFor(size: Size): Record<string, unknown> {
  return generateInput({ dataDir: '/nonexistent', size, bucket: 'b', inputPrefixes: [], outputPrefixes: [], upload: async () => '' })
}

/** A right answer built from the reference implementation. */
function rightOutput(n: number) {
  const ranks = pagerank(barabasiAlbert(n, 42))
  const order = Array.from(ranks.keys()).sort((a, b) => ranks[b] - ranks[a] || a - b)
  return {
    n,
    edges: edgeCount(n),
    sum: ranks.reduce((a, b) => a + b, 0),
    first: ranks[0],
    top: order.slice(0, 5).map((v) => [v, ranks[v]]),
  }
}

function validate(size: Size, output: unknown): string | undefined {
  const ctx: ValidateOutputContext = { dataDir: '/nonexistent', size, language: 'python', input: inputFor(size), output }
  return validateOutput(ctx) as string | undefined
}

describe('501.graph-pagerank input', () => {
  it('uses no buckets and scales the graph with the size (SeBS: 10 / 10,000 / 100,000, seed 42)', () => {
    expect(bucketsCount()).toEqual([0, 0])
    expect(inputFor('test')).toEqual({ size: 10, seed: 42 })
    expect(inputFor('small')).toEqual({ size: 10_000, seed: 42 })
    expect(inputFor('large')).toEqual({ size: 100_000, seed: 42 })
    expect(inputFor('small')).toEqual(inputFor('small'))
  })

  it('accepts the reference ranks, also with tiny numeric noise and tied vertices reordered', () => {
    expect(validate('test', rightOutput(10))).toBeUndefined()
    const small = rightOutput(10_000)
    expect(validate('small', small)).toBeUndefined()
    const noisy = { ...small, first: small.first * (1 + 1e-9), top: small.top.map(([v, r]) => [v, r * (1 - 1e-9)]) }
    expect(validate('small', noisy)).toBeUndefined()
    // K10: every vertex ranks 0.1, so any five distinct vertices are a right top list.
    const k10 = rightOutput(10)
    expect(validate('test', { ...k10, top: [9, 7, 5, 3, 1].map((v) => [v, 0.1]) })).toBeUndefined()
  })

  it('rejects wrong outputs with a message naming what differs', () => {
    const right = rightOutput(10_000)
    expect(validate('small', 'html')).toMatch(/expected an object/)
    expect(validate('small', { ...right, n: 10 })).toMatch(/n is 10, expected 10000/)
    expect(validate('small', { ...right, edges: 99_944 })).toMatch(/99944 edges, expected 99945/)
    expect(validate('small', { ...right, sum: 0.99 })).toMatch(/sum to 0.99/)
    expect(validate('small', { ...right, first: right.first * 1.001 })).toMatch(/rank of vertex 0/)
    expect(validate('small', { ...right, top: right.top.slice(0, 4) })).toMatch(/top should list 5/)
    const swapped = [right.top[1], right.top[0], ...right.top.slice(2)]
    expect(validate('small', { ...right, top: swapped })).toMatch(/top\[0\].*not the 1\. highest/)
    const wrongVertex = [[123, right.top[0][1]], ...right.top.slice(1)]
    expect(validate('small', { ...right, top: wrongVertex })).toMatch(/rank of vertex 123 is/)
    const repeated = [right.top[0], right.top[0], ...right.top.slice(2)]
    expect(validate('small', { ...right, top: repeated })).toMatch(/repeated/)
    expect(validate('small', { ...right, top: [[0], ...right.top.slice(1)] })).toMatch(/should be \[vertex, rank\]/)
  })
})
