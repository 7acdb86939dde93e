"""501.graph-pagerank: PageRank of a seeded Barabasi-Albert graph with igraph."""
import heapq
import time

import igraph

# graph_generator.py is in ../_graph/python (config.json "shared"): the package builder puts it beside this file.
try:
    from . import graph_generator
except ImportError:  # imported as a top-level module (e.g. run beside graph_generator.py)
    import graph_generator

#: How many of the highest-ranked vertices the result lists.
TOP = 5


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
    ranks = graph.pagerank()
    compute_end = time.perf_counter()

    top = heapq.nsmallest(TOP, range(size), key=lambda v: (-ranks[v], v))
    return {
        "result": {
            "n": size,
            "edges": generated.edge_count,
            "sum": sum(ranks),
            "first": ranks[0],
            "top": [[v, ranks[v]] for v in top],
        },
        "measurement": {
            "graph_generating_time": _elapsed_us(graph_begin, graph_end),
            "compute_time": _elapsed_us(compute_begin, compute_end),
        },
    }
