"""Peer engines on Navigator's exact graph for bench_peers.py: scipy, networkit, pandana.

Each ``<engine>_queries(tg, inst)`` returns ``{query: fn(i)}`` answering the same query as
Navigator on instance ``i % K`` (``routing_queries.instances``); a query an engine has no
method for is left out. Graph building happens here, outside every timed call.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable

import numpy as np
import shapely
from routing_queries import K

Query = Callable[[int], object]
_EDGE_KEYS: dict[int, np.ndarray] = {}  # per graph: tail * n + head of every edge, ascending


def path_edges(tg, nodes) -> np.ndarray:
    """Edge ids (CSR positions) of a node path, vectorised (rows of the CSR are sorted)."""
    key = _EDGE_KEYS.get(id(tg))
    if key is None:
        key = _EDGE_KEYS[id(tg)] = tg.edge_sources() * np.int64(tg.n_nodes) + tg.indices
    nodes = np.asarray(nodes, dtype=np.int64)
    return np.searchsorted(key, nodes[:-1] * np.int64(tg.n_nodes) + nodes[1:])


def path_line(tg, nodes) -> shapely.LineString:
    """The road geometry of a node path, as Navigator's ``route`` returns it."""
    from navigator.roads import snapping

    return shapely.LineString(snapping.edge_vertices(tg, path_edges(tg, nodes))[0])


def predecessor_path(pred: np.ndarray, a: int, b: int) -> list[int]:
    out = [b]
    while out[-1] != a:
        out.append(int(pred[out[-1]]))
    return out[::-1]


# -- scipy.sparse.csgraph ------------------------------------------------------------------

def scipy_queries(tg, inst) -> dict[str, Query]:
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra
    from scipy.spatial import cKDTree

    from navigator.roads import snapping

    n = tg.n_nodes
    G = csr_matrix((tg.travel_time, tg.indices, tg.indptr), shape=(n, n))
    GT = G.T.tocsr()
    tree = cKDTree(snapping.local_xy(tg, tg.lon, tg.lat))  # ``snap``'s local-metre frame
    inc, teams, f500 = inst["incidents"], inst["teams"], inst["facilities500"]
    f200, origins, pairs = inst["facilities200"], inst["origins"], inst["pairs"]

    def r(i):
        a, b = (int(v) for v in pairs[i % K])
        d, pred = dijkstra(G, indices=a, return_predecessors=True)
        return d[b], path_line(tg, predecessor_path(pred, a, b))

    def snap(i):
        j = slice(i % K, i % K + 1)
        return tree.query(snapping.local_xy(tg, inst["plon"][j], inst["plat"][j]))[1]

    return {
        "Q1": lambda i: dijkstra(GT, indices=int(inc[i % K]))[teams[i % K]],
        "Q2": lambda i: np.sort(dijkstra(G, indices=int(inc[i % K]))[f500[i % K]])[:5],
        "Q3": lambda i: dijkstra(G, indices=f200, min_only=True),
        "Q4": lambda i: dijkstra(GT, indices=f200)[:, origins].T,
        "Q5": lambda i: np.flatnonzero(dijkstra(G, indices=int(inc[i % K]), limit=900.0)
                                       <= 900.0),
        "R": r,
        "N": snap,
    }


# -- networkit ------------------------------------------------------------------------------

def _nk_graph(n, u, v, w):
    import networkit as nk

    G = nk.Graph(n, weighted=True, directed=True)
    G.addEdges((np.asarray(w, dtype=np.float64), (np.asarray(u), np.asarray(v))))
    return G


def networkit_queries(tg, inst) -> dict[str, Query]:
    import networkit as nk

    nk.setNumberOfThreads(1)  # like every other engine here (2 cores, shared)
    n = tg.n_nodes
    u = tg.edge_sources()
    v = tg.indices.astype(np.int64)
    G = _nk_graph(n, u, v, tg.travel_time)
    GR = _nk_graph(n, v, u, tg.travel_time)
    inc, teams, f500 = inst["incidents"], inst["teams"], inst["facilities500"]
    f200, origins, pairs = inst["facilities200"], inst["origins"], inst["pairs"]
    # Q3 as one search from a virtual node n with 0-second edges to the 200 facilities
    G3 = _nk_graph(n + 1, np.concatenate([u, np.full(len(f200), n)]),
                   np.concatenate([v, f200]), np.concatenate([tg.travel_time,
                                                              np.zeros(len(f200))]))

    def dists(graph, s):
        d = nk.distance.Dijkstra(graph, int(s), False, False)
        d.run()
        out = np.asarray(d.getDistances(asarray=True))
        return np.where(out > 1e300, np.inf, out)  # networkit's "unreached" is DBL_MAX

    def many_to_one(i):
        m = nk.distance.MultiTargetDijkstra(GR, int(inc[i % K]), teams[i % K].tolist())
        m.run()
        return np.array(m.getDistances())

    def q4(i):
        s = nk.distance.SPSP(GR, f200.tolist())
        s.setTargets(origins.tolist())
        s.run()
        return np.array(s.getDistances()).T

    def q5(i):
        d = dists(G, inc[i % K])
        return np.flatnonzero(d <= 900.0)

    def r(i):
        a, b = (int(x) for x in pairs[i % K])
        q = nk.distance.BidirectionalDijkstra(G, a, b, True)
        q.run()
        return q.getDistance(), path_line(tg, [a, *q.getPath(), b])

    return {
        "Q1": many_to_one,
        "Q2": lambda i: np.sort(dists(G, inc[i % K])[f500[i % K]])[:5],
        "Q3": lambda i: dists(G3, n)[:n],
        "Q4": q4,
        "Q5": q5,
        "R": r,
    }


# -- pandana ------------------------------------------------------------------------------

@contextlib.contextmanager
def _quiet_stdout():
    """pandana's C++ prints progress to file descriptor 1 while contracting."""
    saved = os.dup(1)
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 1)
        try:
            yield
        finally:
            os.dup2(saved, 1)
            os.close(saved)


def pandana_network(tg):
    import pandana
    import pandas as pd

    nodes = pd.RangeIndex(tg.n_nodes)
    with _quiet_stdout():
        net = pandana.Network(pd.Series(tg.lon, index=nodes), pd.Series(tg.lat, index=nodes),
                              pd.Series(tg.edge_sources()), pd.Series(tg.indices.astype(np.int64)),
                              pd.DataFrame({"travel_time": tg.travel_time}), twoway=False)
    return net


def pandana_queries(tg, inst) -> dict[str, Query]:
    net = pandana_network(tg)
    inc, teams, f500 = inst["incidents"], inst["teams"], inst["facilities500"]
    f200, origins, pairs = inst["facilities200"], inst["origins"], inst["pairs"]
    rows = np.repeat(origins, len(f200))
    cols = np.tile(f200, len(origins))

    def spl(a, b):
        return np.asarray(net.shortest_path_lengths(a, b), dtype=np.float64)

    def q5(i):
        df = net.nodes_in_range([int(inc[i % K])], 900.0)
        return np.sort(df["destination"].to_numpy())

    def r(i):
        a, b = (int(x) for x in pairs[i % K])
        nodes = np.asarray(net.shortest_path(a, b), dtype=np.int64)
        return float(net.shortest_path_length(a, b)), path_line(tg, nodes)

    return {
        "Q1": lambda i: spl(teams[i % K], np.full(100, inc[i % K])),
        "Q2": lambda i: np.sort(spl(np.full(500, inc[i % K]), f500[i % K]))[:5],
        "Q4": lambda i: spl(rows, cols).reshape(len(origins), len(f200)),
        "Q5": q5,
        "R": r,
        "N": lambda i: net.get_node_ids(inst["plon"][i % K:i % K + 1],
                                        inst["plat"][i % K:i % K + 1]).to_numpy(),
    }
