'use strict'
/**
 * Seeded Barabási–Albert graph generator shared by 501.graph-pagerank,
 * 502.graph-mst and 503.graph-bfs.
 *
 * SeBS seeds igraph's own RNG, so its graphs cannot be rebuilt from another
 * language. This generator is written three times (this file,
 * graph_generator.py and the validator's generator.ts) with the same 32-bit
 * integer arithmetic, so Node, Python and the validator build the very same
 * edge list from the same (n, seed). The benchmarks' config.json lists this
 * folder under "shared", so the package builder puts this file next to their
 * function.js. `.cjs`: CommonJS wherever it lies, also inside this
 * repository (an ES-module package) when the tests require it directly.
 */

/** Edges each new vertex brings (igraph's `m`, as in SeBS's `Barabasi(n, 10)`). */
const EDGES_PER_VERTEX = 10

/** mulberry32 returning unsigned 32-bit integers (same stream as benchmarks/_lib/data.ts createRng). */
function createRng(seed) {
  let state = seed >>> 0
  return function nextU32() {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (t ^ (t >>> 14)) >>> 0
  }
}

/**
 * floor(u32 * bound / 2^32), exact for any bound < 2^32. The product can
 * exceed 2^53, so it is split into 16-bit halves (Python does `(u * bound) >> 32`).
 */
function below(nextU32, bound) {
  const u = nextU32()
  const hi = u >>> 16
  const lo = u & 0xffff
  return Math.floor((hi * bound + Math.floor((lo * bound) / 65536)) / 65536)
}

/** Number of edges barabasiAlbert(n, m) produces. */
function edgeCount(n, m) {
  if (n <= m + 1) return (n * (n - 1)) / 2
  return (m * (m + 1)) / 2 + m * (n - m - 1)
}

/**
 * Undirected preferential-attachment graph on vertices 0..n-1.
 * Vertices 1..m connect to every earlier vertex (in ascending order); each
 * later vertex v draws m distinct targets, each draw picking a uniformly
 * random endpoint of the existing edges (so proportional to degree),
 * re-drawing duplicates, and keeping the targets in draw order. The new edges
 * join the pool only after all of v's targets are chosen.
 * Returns the edges flat: edge i is (ends[2i], ends[2i+1]) = (v, target).
 */
function barabasiAlbert(n, seed, m = EDGES_PER_VERTEX) {
  if (!Number.isInteger(n) || n < 1) throw new Error(`graph size must be a positive integer, got ${n}`)
  if (!Number.isInteger(seed)) throw new Error(`graph seed must be an integer, got ${seed}`)
  const nextU32 = createRng(seed)
  const total = edgeCount(n, m)
  const ends = new Int32Array(2 * total)
  let filled = 0 // endpoints written so far (2 per edge)
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

/**
 * Distinct integer weights 1..E for the edges (a Fisher–Yates shuffle that
 * continues the generator's stream), so the minimum spanning tree is unique
 * and sums of weights are exact in every language.
 */
function edgeWeights(graph) {
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

module.exports = { EDGES_PER_VERTEX, createRng, below, edgeCount, barabasiAlbert, edgeWeights }
