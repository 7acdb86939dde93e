/**
 * The graph benchmarks' generator and reference algorithms in TypeScript,
 * used by the validators of 501.graph-pagerank, 502.graph-mst and
 * 503.graph-bfs to derive golden values.
 *
 * The generator is `nodejs/graph-generator.cjs` (below); `python/graph_generator.py`
 * renders it again (same mulberry32 stream, same 32-bit integer arithmetic,
 * same draw order), and the graph tests check that both build the same edge
 * list by hashing it. The
 * algorithms (power-iteration PageRank, Kruskal, BFS) are written from their
 * textbook definitions, independent of igraph and graphology, so agreement
 * with both is evidence that the benchmarks compute what they claim.
 */
import { createHash } from 'node:crypto'
import { createRequire } from 'node:module'

/**
 * The generator itself is the one the Node.js functions run
 * (`nodejs/graph-generator.cjs`), loaded here with types: one JavaScript
 * rendering instead of two. The Python rendering stays independent, and the
 * graph tests compare the two by hashing their edge lists.
 */
const generator = createRequire(import.meta.url)('./nodejs/graph-generator.cjs') as {
  EDGES_PER_VERTEX: number
  createRng(seed: number): () => number
  below(nextU32: () => number, bound: number): number
  edgeCount(n: number, m: number): number
  barabasiAlbert(n: number, seed: number, m?: number): GeneratedGraph
  edgeWeights(graph: GeneratedGraph): Float64Array
}

/** Edges each new vertex brings (igraph's `m`, as in SeBS's `Barabasi(n, 10)`). */
export const EDGES_PER_VERTEX: number = generator.EDGES_PER_VERTEX
/** The vertex counts per size, as in SeBS. */
export const GRAPH_SIZES = { test: 10, small: 10_000, large: 100_000 } as const
/** SeBS's seed for every size. */
export const GRAPH_SEED = 42

export interface GeneratedGraph {
  n: number
  /** Edge i is (ends[2i], ends[2i+1]). */
  ends: Int32Array
  edgeCount: number
  /** The generator's stream, positioned after the last draw (edge weights continue it). */
  nextU32: () => number
}

/** mulberry32 returning unsigned 32-bit integers (the stream of benchmarks/_lib/data.ts createRng). */
export const createU32Rng: (seed: number) => () => number = generator.createRng
/** floor(u32 * bound / 2^32) without leaving exact double arithmetic (bound < 2^32). */
export const below: (nextU32: () => number, bound: number) => number = generator.below
/** Number of edges barabasiAlbert(n, m) produces. */
export function edgeCount(n: number, m = EDGES_PER_VERTEX): number {
  return generator.edgeCount(n, m)
}
/** Seeded Barabási–Albert graph; see graph-generator.cjs for the construction. */
export function barabasiAlbert(n: number, seed: number, m = EDGES_PER_VERTEX): GeneratedGraph {
  return generator.barabasiAlbert(n, seed, m)
}
/** Distinct integer weights 1..E (Fisher–Yates continuing the generator's stream). */
export const edgeWeights: (graph: GeneratedGraph) => Float64Array = generator.edgeWeights

/** SHA-256 of the edge list as text lines `v t`, comparable across languages. */
export function edgeListHash(ends: ArrayLike<number>): string {
  const lines: string[] = []
  for (let i = 0; i < ends.length; i += 2) lines.push(`${ends[i]} ${ends[i + 1]}\n`)
  return createHash('sha256').update(lines.join('')).digest('hex')
}

/** Compressed adjacency (CSR) of the undirected graph. */
function adjacency(graph: GeneratedGraph): { offsets: Int32Array; neighbours: Int32Array } {
  const { n, ends } = graph
  const offsets = new Int32Array(n + 1)
  for (let i = 0; i < ends.length; i++) offsets[ends[i] + 1]++
  for (let v = 0; v < n; v++) offsets[v + 1] += offsets[v]
  const cursor = offsets.slice(0, n)
  const neighbours = new Int32Array(ends.length)
  for (let i = 0; i < ends.length; i += 2) {
    const a = ends[i]
    const b = ends[i + 1]
    neighbours[cursor[a]++] = b
    neighbours[cursor[b]++] = a
  }
  return { offsets, neighbours }
}

/**
 * PageRank by power iteration with damping 0.85 (igraph's default); a
 * dangling vertex's rank is spread uniformly over all vertices, as igraph's
 * PRPACK does. Iterates until the L1 change is below 1e-13.
 */
export function pagerank(graph: GeneratedGraph, damping = 0.85): Float64Array {
  const { n } = graph
  const { offsets, neighbours } = adjacency(graph)
  let rank = new Float64Array(n).fill(1 / n)
  let next = new Float64Array(n)
  for (let iteration = 0; iteration < 10_000; iteration++) {
    let dangling = 0
    for (let v = 0; v < n; v++) if (offsets[v + 1] === offsets[v]) dangling += rank[v]
    const base = (1 - damping) / n + (damping * dangling) / n
    next.fill(base)
    for (let v = 0; v < n; v++) {
      const degree = offsets[v + 1] - offsets[v]
      if (degree === 0) continue
      const share = (damping * rank[v]) / degree
      for (let k = offsets[v]; k < offsets[v + 1]; k++) next[neighbours[k]] += share
    }
    let change = 0
    for (let v = 0; v < n; v++) change += Math.abs(next[v] - rank[v])
    ;[rank, next] = [next, rank]
    if (change < 1e-13) return rank
  }
  throw new Error(`reference pagerank did not converge for n=${n}`)
}

/** Kruskal's minimum spanning forest; weights are the distinct 1..E from edgeWeights. */
export function minimumSpanningTree(graph: GeneratedGraph, weights: Float64Array): { edges: number; weight: number; edgeIdSum: number } {
  const { n, ends, edgeCount: e } = graph
  // Weights are a permutation of 1..E, so the sorted order is their inverse permutation.
  const byWeight = new Int32Array(e)
  for (let i = 0; i < e; i++) byWeight[weights[i] - 1] = i
  const parent = new Int32Array(n)
  for (let v = 0; v < n; v++) parent[v] = v
  const find = (v: number): number => {
    while (parent[v] !== v) {
      parent[v] = parent[parent[v]]
      v = parent[v]
    }
    return v
  }
  let edges = 0
  let weight = 0
  let edgeIdSum = 0
  for (let k = 0; k < e && edges < n - 1; k++) {
    const id = byWeight[k]
    const a = find(ends[2 * id])
    const b = find(ends[2 * id + 1])
    if (a === b) continue
    parent[a] = b
    edges++
    weight += weights[id]
    edgeIdSum += id
  }
  return { edges, weight, edgeIdSum }
}

/** Sizes of the BFS layers from `root` (layer 0 is the root itself). */
export function bfsLayers(graph: GeneratedGraph, root = 0): number[] {
  const { n } = graph
  const { offsets, neighbours } = adjacency(graph)
  const depth = new Int32Array(n).fill(-1)
  const queue = new Int32Array(n)
  let head = 0
  let tail = 0
  depth[root] = 0
  queue[tail++] = root
  const layers: number[] = []
  while (head < tail) {
    const v = queue[head++]
    layers[depth[v]] = (layers[depth[v]] ?? 0) + 1
    for (let k = offsets[v]; k < offsets[v + 1]; k++) {
      const w = neighbours[k]
      if (depth[w] === -1) {
        depth[w] = depth[v] + 1
        queue[tail++] = w
      }
    }
  }
  return layers
}
