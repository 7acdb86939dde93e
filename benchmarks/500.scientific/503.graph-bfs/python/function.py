"""503.graph-bfs: breadth-first search from vertex 0 of a seeded Barabasi-Albert graph with igraph."""
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
    graph = igraph.Graph(n=size, edges=generated.edges())
    graph_end = time.perf_counter()

    compute_begin = time.perf_counter()
    # vids: visit order; starts: index in vids where each layer begins (plus the end).
    vids, starts, _parents = graph.bfs(0)
    compute_end = time.perf_counter()

    return {
        "result": {
            "n": size,
            "layers": [starts[i + 1] - starts[i] for i in range(len(starts) - 1)],
            "reached": len(vids),
        },
        "measurement": {
            "graph_generating_time": _elapsed_us(graph_begin, graph_end),
            "compute_time": _elapsed_us(compute_begin, compute_end),
        },
    }
