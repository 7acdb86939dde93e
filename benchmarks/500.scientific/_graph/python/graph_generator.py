"""Seeded Barabasi-Albert graph generator shared by 501.graph-pagerank,
502.graph-mst and 503.graph-bfs.

SeBS seeds igraph's own RNG, so its graphs cannot be rebuilt from another
language. This generator is written three times (this file,
graph-generator.cjs and the validator's generator.ts) with the same 32-bit
integer arithmetic, so Python, Node and the validator build the very same
edge list from the same (n, seed). The benchmarks' config.json lists this
folder under "shared", so the package builder puts this file next to their
function.py.
"""
from array import array

#: Edges each new vertex brings (igraph's ``m``, as in SeBS's ``Barabasi(n, 10)``).
EDGES_PER_VERTEX = 10

_MASK = 0xFFFFFFFF


class Mulberry32:
    """mulberry32 returning unsigned 32-bit integers.

    Python integers are unbounded, so every step is masked to 32 bits to
    mirror JavaScript's ``>>> 0`` and ``Math.imul``.
    """

    __slots__ = ("state",)

    def __init__(self, seed):
        self.state = seed & _MASK

    def next_u32(self):
        self.state = (self.state + 0x6D2B79F5) & _MASK
        t = self.state
        t = ((t ^ (t >> 15)) * (t | 1)) & _MASK
        t ^= (t + (((t ^ (t >> 7)) * (t | 61)) & _MASK)) & _MASK
        return (t ^ (t >> 14)) & _MASK

    def below(self, bound):
        """floor(u32 * bound / 2**32): uniform-ish integer in [0, bound)."""
        return (self.next_u32() * bound) >> 32


def edge_count(n, m=EDGES_PER_VERTEX):
    """Number of edges barabasi_albert(n, m) produces."""
    if n <= m + 1:
        return n * (n - 1) // 2
    return m * (m + 1) // 2 + m * (n - m - 1)


class Graph:
    """Edge list of a generated graph; edge i is (ends[2i], ends[2i+1])."""

    __slots__ = ("n", "ends", "edge_count", "rng")

    def __init__(self, n, ends, rng):
        self.n = n
        self.ends = ends
        self.edge_count = len(ends) // 2
        self.rng = rng

    def edges(self):
        """The edges as a list of (v, target) pairs (what igraph.Graph takes)."""
        ends = self.ends
        return list(zip(ends[0::2], ends[1::2]))


def barabasi_albert(n, seed, m=EDGES_PER_VERTEX):
    """Undirected preferential-attachment graph on vertices 0..n-1.

    Vertices 1..m connect to every earlier vertex (in ascending order); each
    later vertex v draws m distinct targets, each draw picking a uniformly
    random endpoint of the existing edges (so proportional to degree),
    re-drawing duplicates, and keeping the targets in draw order. The new
    edges join the pool only after all of v's targets are chosen.
    """
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError("graph size must be a positive integer, got %r" % (n,))
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ValueError("graph seed must be an integer, got %r" % (seed,))
    rng = Mulberry32(seed)
    next_u32 = rng.next_u32
    ends = array("i")
    append = ends.append
    for v in range(1, min(n, m + 1)):
        for t in range(v):
            append(v)
            append(t)
    for v in range(m + 1, n):
        filled = len(ends)
        chosen = []
        while len(chosen) < m:
            t = ends[(next_u32() * filled) >> 32]
            if t not in chosen:
                chosen.append(t)
        for t in chosen:
            append(v)
            append(t)
    return Graph(n, ends, rng)


def edge_weights(graph):
    """Distinct integer weights 1..E for the edges (a Fisher-Yates shuffle
    that continues the generator's stream), so the minimum spanning tree is
    unique and sums of weights are exact in every language."""
    e = graph.edge_count
    weights = list(range(1, e + 1))
    next_u32 = graph.rng.next_u32
    for i in range(e - 1, 0, -1):
        j = (next_u32() * (i + 1)) >> 32
        weights[i], weights[j] = weights[j], weights[i]
    return weights
