/**
 * The graph benchmarks stand on one claim: Python, Node and the TypeScript
 * validator build the same graph from the same (n, seed). These tests run
 * the real Python and Node generators (python/ and nodejs/ here, which the
 * benchmarks' packages take through config.json `shared`) and compare
 * edge-list hashes, weight streams and the reference algorithms with igraph's.
 */
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { createRng } from '../../_lib/data.ts'
import { runCommand, runPython } from '../../_lib/testing/run-function.ts'
import {
  barabasiAlbert,
  below,
  bfsLayers,
  createU32Rng,
  edgeCount,
  edgeListHash,
  edgeWeights,
  minimumSpanningTree,
  pagerank,
} from './generator.ts'

const HERE = dirname(fileURLToPath(import.meta.url))
const GROUP = dirname(HERE)
const SIZES = [1, 2, 10, 11, 12, 1000]

describe('TypeScript generator', () => {
  it('draws the same stream as benchmarks/_lib createRng', () => {
    const floats = createRng(42)
    const ints = createU32Rng(42)
    for (let i = 0; i < 1000; i++) expect(ints() / 4294967296).toBe(floats())
  })

  it('below() is floor(u * bound / 2^32) exactly, also where the product exceeds 2^53', () => {
    const bounds = [1, 2, 3, 10, 65535, 65536, 1_999_890, 2 ** 21 + 7, 2 ** 31 + 11, 2 ** 32 - 1]
    const source = createU32Rng(7)
    for (const bound of bounds) {
      for (let i = 0; i < 200; i++) {
        const u = source()
        const expected = Number((BigInt(u) * BigInt(bound)) >> 32n)
        expect(below(() => u, bound)).toBe(expected)
      }
    }
  })

  it('builds a simple connected graph with the expected edge count', () => {
    for (const n of SIZES) {
      const graph = barabasiAlbert(n, 42)
      expect(graph.edgeCount).toBe(edgeCount(n))
      const seen = new Set<string>()
      for (let i = 0; i < graph.ends.length; i += 2) {
        const [a, b] = [graph.ends[i], graph.ends[i + 1]]
        expect(a).toBeGreaterThan(b) // every edge goes from the new vertex to an earlier one
        const key = `${a}-${b}`
        expect(seen.has(key)).toBe(false)
        seen.add(key)
      }
      expect(bfsLayers(graph).reduce((x, y) => x + y, 0)).toBe(n)
    }
    expect(edgeCount(100_000)).toBe(999_945)
  })

  it('is deterministic in the seed and differs between seeds', () => {
    expect(edgeListHash(barabasiAlbert(1000, 42).ends)).toBe(edgeListHash(barabasiAlbert(1000, 42).ends))
    expect(edgeListHash(barabasiAlbert(1000, 42).ends)).not.toBe(edgeListHash(barabasiAlbert(1000, 43).ends))
  })

  it('gives the first vertices degree proportional attachment (hubs)', () => {
    const graph = barabasiAlbert(10_000, 42)
    const degree = new Int32Array(graph.n)
    for (const v of graph.ends) degree[v]++
    const early = Array.from(degree.slice(0, 20)).reduce((a, b) => a + b, 0) / 20
    const late = Array.from(degree.slice(-2000)).reduce((a, b) => a + b, 0) / 2000
    expect(early).toBeGreaterThan(5 * late)
    expect(Math.min(...degree)).toBe(10)
  })

  it('edge weights are a permutation of 1..E', () => {
    const graph = barabasiAlbert(1000, 42)
    const weights = Array.from(edgeWeights(graph)).sort((a, b) => a - b)
    expect(weights).toEqual(Array.from({ length: graph.edgeCount }, (_, i) => i + 1))
  })

  it('reference algorithms are right on a graph small enough to check by hand', () => {
    // n = 3: the triangle 1-0, 2-0, 2-1.
    const triangle = barabasiAlbert(3, 42)
    expect(Array.from(triangle.ends)).toEqual([1, 0, 2, 0, 2, 1])
    expect(Array.from(pagerank(triangle))).toEqual([1 / 3, 1 / 3, 1 / 3].map((x) => expect.closeTo(x, 15)))
    expect(bfsLayers(triangle)).toEqual([1, 2])
    const mst = minimumSpanningTree(triangle, new Float64Array([3, 1, 2]))
    expect(mst).toEqual({ edges: 2, weight: 3, edgeIdSum: 3 }) // edges 1 (w 1) and 2 (w 2)
    // One vertex: no edges, all rank on it.
    const single = barabasiAlbert(1, 42)
    expect(Array.from(pagerank(single))).toEqual([1])
    expect(minimumSpanningTree(single, edgeWeights(single))).toEqual({ edges: 0, weight: 0, edgeIdSum: 0 })
  })

  it('rejects sizes and seeds that are not integers', () => {
    expect(() => barabasiAlbert(0, 42)).toThrow(/positive integer/)
    expect(() => barabasiAlbert(2.5, 42)).toThrow(/positive integer/)
    expect(() => barabasiAlbert(10, 0.5)).toThrow(/seed/)
  })
})

/** igraph is in its requirements.txt; runPython puts its shared folder (python/ here) on the path. */
const PYTHON_BENCHMARK = join(GROUP, '501.graph-pagerank')
const NODE_GENERATOR = join(HERE, 'nodejs', 'graph-generator.cjs')

describe('Python, Node and TypeScript build the same graph', () => {
  it('edge lists and weight streams hash the same for several sizes', async () => {
    const pyOut = await runPython(
      PYTHON_BENCHMARK,
      [
        'import hashlib, json, graph_generator as g',
        'out = {}',
        `for n in ${JSON.stringify(SIZES)}:`,
        '    gr = g.barabasi_albert(n, 42)',
        '    edges = "".join("%d %d\\n" % e for e in gr.edges())',
        '    weights = g.edge_weights(gr)',
        '    out[n] = [hashlib.sha256(edges.encode()).hexdigest(), gr.edge_count, weights[:20], sum(w * i for i, w in enumerate(weights))]',
        'print(json.dumps(out))',
      ].join('\n'),
    )
    const nodeScript = `
      const crypto = require('crypto')
      const g = require(${JSON.stringify(NODE_GENERATOR)})
      const out = {}
      for (const n of ${JSON.stringify(SIZES)}) {
        const gr = g.barabasiAlbert(n, 42)
        let text = ''
        for (let i = 0; i < gr.ends.length; i += 2) text += gr.ends[i] + ' ' + gr.ends[i + 1] + '\\n'
        const w = g.edgeWeights(gr)
        let dot = 0
        for (let i = 0; i < w.length; i++) dot += w[i] * i
        out[n] = [crypto.createHash('sha256').update(text).digest('hex'), gr.edgeCount, Array.from(w.slice(0, 20)), dot]
      }
      console.log(JSON.stringify(out))`
    const { stdout: nodeOut } = await runCommand(process.execPath, ['-e', nodeScript], { timeoutMs: 60_000 })
    const python = JSON.parse(pyOut) as Record<string, [string, number, number[], number]>
    const node = JSON.parse(nodeOut) as typeof python
    for (const n of SIZES) {
      const graph = barabasiAlbert(n, 42)
      const weights = edgeWeights(graph)
      const dot = Array.from(weights).reduce((acc, w, i) => acc + w * i, 0)
      const ts: [string, number, number[], number] = [edgeListHash(graph.ends), graph.edgeCount, Array.from(weights.slice(0, 20)), dot]
      expect(python[n], `python n=${n}`).toEqual(ts)
      expect(node[n], `node n=${n}`).toEqual(ts)
    }
  })

  it("the reference algorithms agree with igraph's on the n = 1000 graph", async () => {
    const pyOut = await runPython(
      PYTHON_BENCHMARK,
      [
        'import json, igraph, graph_generator as g',
        'gr = g.barabasi_albert(1000, 42)',
        'G = igraph.Graph(n=1000, edges=gr.edges())',
        'w = g.edge_weights(gr)',
        'tree = G.spanning_tree(weights=w, return_tree=False)',
        'vids, starts, parents = G.bfs(0)',
        'print(json.dumps({"pr": G.pagerank(), "mst": [len(tree), sum(w[e] for e in tree), sum(tree)],',
        '  "layers": [starts[i + 1] - starts[i] for i in range(len(starts) - 1)]}))',
      ].join('\n'),
    )
    const igraph = JSON.parse(pyOut) as { pr: number[]; mst: [number, number, number]; layers: number[] }
    const graph = barabasiAlbert(1000, 42)
    const ranks = pagerank(graph)
    let worst = 0
    for (let v = 0; v < graph.n; v++) worst = Math.max(worst, Math.abs(ranks[v] - igraph.pr[v]) / igraph.pr[v])
    expect(worst).toBeLessThan(1e-9)
    const mst = minimumSpanningTree(graph, edgeWeights(graph))
    expect([mst.edges, mst.weight, mst.edgeIdSum]).toEqual(igraph.mst)
    expect(bfsLayers(graph)).toEqual(igraph.layers)
  })
})
