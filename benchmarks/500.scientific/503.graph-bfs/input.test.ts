import { describe, expect, it } from 'vitest'
import type { Size } from '../../../core/types.ts'
import { barabasiAlbert, bfsLayers } from '../_graph/generator.ts'
import { bucketsCount, generateInput, validateOutput } from './input.ts'

function inputFor(size: Size): Record<string, unknown> {
  return generateInput({ dataDir: '/nonexistent', size, bucket: 'b', inputPrefixes: [], outputPrefixes: [], upload: async () => '' })
}

function rightOutput(n: number) {
  const layers = bfsLayers(barabasiAlbert(n, 42))
  return { n, layers, reached: n }
}

function validate(size: Size, output: unknown): string | undefined {
  return validateOutput({ dataDir: '/nonexistent', size, language: 'python', input: inputFor(size), output }) as string | undefined
}

describe('503.graph-bfs input', () => {
  it('uses no buckets and scales the graph with the size', () => {
    expect(bucketsCount()).toEqual([0, 0])
    expect([inputFor('test'), inputFor('small'), inputFor('large')]).toEqual([
      { size: 10, seed: 42 },
      { size: 10_000, seed: 42 },
      { size: 100_000, seed: 42 },
    ])
  })

  it('accepts the reference layers', () => {
    expect(validate('test', { n: 10, layers: [1, 9], reached: 10 })).toBeUndefined()
    expect(validate('small', rightOutput(10_000))).toBeUndefined()
  })

  it('rejects wrong layers with a message naming what differs', () => {
    const right = rightOutput(10_000)
    expect(right.layers.length).toBeGreaterThan(2)
    expect(validate('small', [1, 2])).toMatch(/expected an object/)
    expect(validate('small', { ...right, n: 5 })).toMatch(/n is 5/)
    expect(validate('small', { ...right, layers: 'x' })).toMatch(/list of positive layer sizes/)
    expect(validate('small', { ...right, layers: [...right.layers, 0] })).toMatch(/positive layer sizes/)
    expect(validate('small', { ...right, reached: right.reached - 1 })).toMatch(/reached is 9999 but the layers hold 10000/)
    const short = right.layers.slice(0, -1)
    const shortTotal = short.reduce((a, b) => a + b, 0)
    expect(validate('small', { n: 10_000, layers: short, reached: shortTotal })).toMatch(/expected all n = 10000/)
    const moved = [right.layers[0], right.layers[1] + 1, right.layers[2] - 1, ...right.layers.slice(3)]
    expect(validate('small', { ...right, layers: moved })).toMatch(/differ from the reference BFS/)
  })
})
