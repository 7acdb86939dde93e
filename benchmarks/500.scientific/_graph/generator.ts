/**
 * The graph benchmarks' generator and reference algorithms in TypeScript,
 * used by the validators of 501.graph-pagerank, 502.graph-mst and
 * 503.graph-bfs to derive golden values.
 *
 * The generator is the third rendering of `nodejs/graph-generator.cjs` and
 * `python/graph_generator.py` (same mulberry32 stream, same 32-bit integer
 * arithmetic, same draw order), so all three build the same edge list; the
 * graph tests check that by hashing the edges each one produces. The
 * algorithms (power-iteration PageRank, Kruskal, BFS) are written from their
 * textbook definitions, independent of igraph and graphology, so agreement
 * with both is evidence that the benchmarks compute what they claim.
 */
import { createHash } from 'node:crypto'

/** Edges each new vertex brings (igraph's `m`, as in SeBS's `Barabasi(n, 10)`). */
export const EDGES_PER_VERTEX = 10
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
export function createU32Rng(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (t ^ (t >>> 14)) >>> 0
  }
}

/** floor(u32 * bound / 2^32) without leaving exact double arithmetic (bound < 2^32). */
export function below(nextU32: () => number, bound: number): number {
  const u = nextU32()
  const hi = u >>> 16
  const lo = u & 0xffff
  return Math.floor((hi * bound + Math.floor((lo * bound) / 65536)) / 65536)
}

export function edgeCount(n: number, m = EDGES_PER_VERTEX): number {
  if (n <= m + 1) return (n * (n - 1)) / 2
  return (m * (m + 1)) / 2 + m * (n - m - 1)
}

/** Seeded Barabási–Albert graph; see graph-generator.cjs for the construction. */
export function barabasiAlbert(n: number, seed: number, m = EDGES_PER_VERTEX): GeneratedGraph {
  if (!Number.isInteger(n) || n < 1) throw new Error(`graph size must be a positive integer, got ${n}`)
  if (!Number.isInteger(seed)) throw new Error(`graph seed must be an integer, got ${seed}`)
  const nextU32 = createU32Rng(seed)
  const total = edgeCount(n, m)
  const ends = new Int32Array(2 * total)
  let filled = 0
  const chosen = new Int32Array(m)
  for (let v = 1; v < n; v++) {
    if (v <= m) {
      for (let t = 0; t < v; t++) {
        ends[filled++] = v
        ends[filled++] = t
      }
      continue
    }
    let count = 0
    while (count < m) {
      const t = ends[below(nextU32, filled)]
      let duplicate = false
      for (let k = 0; k < count; k++) {
        if (chosen[k] === t) {
          duplicate = true
          break
        }
      }
      if (!duplicate) chosen[count++] = t
    }
    for (let k = 0; k < m; k++) {
      ends[filled++] = v
      ends[filled++] = chosen[k]
    }
  }
  return { n, ends, edgeCount: total, nextU32 }
}

/** Distinct integer weights 1..E (Fisher–Yates continuing the generator's stream). */
export function edgeWeights(graph: GeneratedGraph): Float64Array {
  const e = graph.edgeCount
  const weights = new Float64Array(e)
  for (let i = 0; i < e; i++) weights[i] = i + 1
  for (let i = e - 1; i > 0; i--) {
    const j = below(graph.nextU32, i + 1)
    const tmp = weights[i]
    weights[i] = weights[j]
    weights[j] = tmp
  }
  return weights
}

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
