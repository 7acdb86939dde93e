"""502.graph-mst: minimum spanning tree of a seeded, weighted Barabasi-Albert graph with igraph."""
import time

import igraph

# graph_generator.py is in ../_graph/python (config.json "shared"): the package builder puts it beside this file.
try:
    from . import graph_generator
except ImportError:  # imported as a top-level module (e.g. run beside graph_generator.py)
    import graph_generator


def _elapsed_us(begin, end):
    return int(round((end - begin) * 1_000_000))


def handler(event):
    size = event.get("size")
    seed = event.get("seed", 42)

    graph_begin = time.perf_counter()
    generated = graph_generator.barabasi_albert(size, seed)
    # Distinct weights 1..E make the tree unique, so every language and the
    # validator must find the same one.
    weights = graph_generator.edge_weights(generated)
    graph = igraph.Graph(n=size, edges=generated.edges())
    graph_end = time.perf_counter()

    compute_begin = time.perf_counter()
    tree = graph.spanning_tree(weights=weights, return_tree=False)
    compute_end = time.perf_counter()

    return {
        "result": {
            "n": size,
            "edges": len(tree),
            "weight": sum(weights[e] for e in tree),
            "edge_id_sum": sum(tree),
        },
        "measurement": {
            "graph_generating_time": _elapsed_us(graph_begin, graph_end),
            "compute_time": _elapsed_us(compute_begin, compute_end),
        },
    }
