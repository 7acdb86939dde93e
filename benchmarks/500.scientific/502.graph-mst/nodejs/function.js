'use strict'
/**
 * 502.graph-mst: minimum spanning tree of a seeded, weighted Barabási–Albert
 * graph. graphology holds the graph; it has no spanning-tree algorithm, so
 * the tree comes from kruskal-mst (Kruskal with a disjoint-set forest).
 */
const Graph = require('graphology')
const { kruskal } = require('kruskal-mst')
// graph-generator.cjs is in ../_graph/nodejs (config.json "shared"): the package builder puts it beside this file.
const { barabasiAlbert, edgeWeights } = require('./graph-generator.cjs')

function elapsedUs(begin, end) {
  return Number((end - begin) / 1000n)
}

function toGraphology(generated, weights) {
  const graph = new Graph({ type: 'undirected', multi: false, allowSelfLoops: false })
  for (let v = 0; v < generated.n; v++) graph.addNode(v)
  const ends = generated.ends
  for (let i = 0; i < generated.edgeCount; i++) {
    graph.addUndirectedEdgeWithKey(i, ends[2 * i], ends[2 * i + 1], { weight: weights[i] })
  }
  return graph
}

exports.handler = async function (event) {
  const size = event.size
  const seed = event.seed === undefined ? 42 : event.seed

  const graphBegin = process.hrtime.bigint()
  const generated = barabasiAlbert(size, seed)
  // Distinct weights 1..E make the tree unique, so every language and the
  // validator must find the same one.
  const weights = edgeWeights(generated)
  const graph = toGraphology(generated, weights)
  const graphEnd = process.hrtime.bigint()

  const computeBegin = process.hrtime.bigint()
  const edges = []
  graph.forEachEdge((key, attributes, source, target) => {
    edges.push({ from: source, to: target, weight: attributes.weight, id: key })
  })
  const tree = kruskal(edges)
  const computeEnd = process.hrtime.bigint()

  let weight = 0
  let edgeIdSum = 0
  for (const edge of tree) {
    weight += edge.weight
    edgeIdSum += Number(edge.id)
  }
  return {
    result: { n: size, edges: tree.length, weight, edge_id_sum: edgeIdSum },
    measurement: {
      graph_generating_time: elapsedUs(graphBegin, graphEnd),
      compute_time: elapsedUs(computeBegin, computeEnd),
    },
  }
}
