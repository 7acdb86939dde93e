'use strict'
/** 503.graph-bfs: breadth-first search from vertex 0 of a seeded Barabási–Albert graph with graphology. */
const Graph = require('graphology')
const { bfsFromNode } = require('graphology-traversal')
// graph-generator.cjs is in ../_graph/nodejs (config.json "shared"): the package builder puts it beside this file.
const { barabasiAlbert } = require('./graph-generator.cjs')

function elapsedUs(begin, end) {
  return Number((end - begin) / 1000n)
}

function toGraphology(generated) {
  const graph = new Graph({ type: 'undirected', multi: false, allowSelfLoops: false })
  for (let v = 0; v < generated.n; v++) graph.addNode(v)
  const ends = generated.ends
  for (let i = 0; i < generated.edgeCount; i++) graph.addUndirectedEdgeWithKey(i, ends[2 * i], ends[2 * i + 1])
  return graph
}

exports.handler = async function (event) {
  const size = event.size
  const seed = event.seed === undefined ? 42 : event.seed

  const graphBegin = process.hrtime.bigint()
  const generated = barabasiAlbert(size, seed)
  const graph = toGraphology(generated)
  const graphEnd = process.hrtime.bigint()

  const computeBegin = process.hrtime.bigint()
  const layers = []
  let reached = 0
  bfsFromNode(graph, '0', (_node, _attributes, depth) => {
    layers[depth] = (layers[depth] || 0) + 1
    reached++
  })
  const computeEnd = process.hrtime.bigint()

  return {
    result: { n: size, layers, reached },
    measurement: {
      graph_generating_time: elapsedUs(graphBegin, graphEnd),
      compute_time: elapsedUs(computeBegin, computeEnd),
    },
  }
}
