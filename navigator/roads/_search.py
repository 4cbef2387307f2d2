"""Search primitives shared by the node and on-road point queries: kernels, method choice.

Kernels run on the per-thread workspaces of :mod:`~navigator.roads._workspace`. On a graph
with road closures (:func:`navigator.roads.with_closures`) the contraction hierarchy is the
one built before the closures until a re-contracted one is swapped in (:func:`ch_graph`);
meanwhile every query answers exactly by Dijkstra, and point-to-point paths keep the old
hierarchy where its path avoids every closed edge.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from navigator.errors import ValidationError
from navigator.roads import _ch, _kernels
from navigator.roads._workspace import (
    Method,
    Workspace,
    check_method,
    workspace,
)
from navigator.roads.turns import Direction, answer_ids, ends

if TYPE_CHECKING:
    from navigator.roads.graph import TravelGraph

#: Up to this many targets a sweep restricted to what they need (RPHAST) beats a full sweep.
RPHAST_MAX_TARGETS = 2000
#: Up to this many targets, point-to-point CH queries beat any sweep.
CH_QUERY_MAX_TARGETS = 4
#: Cost of one Dijkstra settle in units of one PHAST node sweep (measured on Porto, 50k nodes:
#: bounded isochrones break even at ~10 % of nodes settled, e.g. Porto 600 s: 17 %
#: settled, Dijkstra 0.98 ms vs PHAST 0.57 ms; 300 s: 4 %, 0.19 ms vs 0.56 ms;
#: see benchmarks/README.md "method choice"). Dijkstra is chosen when the estimated settled
#: fraction times this is below 1.
DIJKSTRA_SETTLE_COST = 10.0


def csr(tg: TravelGraph, direction: Direction) -> tuple[
    npt.NDArray[np.int64], npt.NDArray[np.int32], npt.NDArray[np.float64]
]:
    if direction == "from":
        return tg.indptr, tg.indices, tg.travel_time
    if direction == "to":
        return tg.rindptr, tg.rindices, tg.rtravel_time
    msg = f"direction must be 'from' or 'to', got {direction!r}"
    raise ValidationError(msg)


class Contracted:
    """Slot for a contraction hierarchy built for a graph's own (closed) travel times.

    Kept in the graph's memo; ``graph`` is set (by :mod:`~navigator.roads.closures`) to a
    graph with the same nodes, edges and travel times whose CH is exact for them. Pickles as
    an empty slot (the graph then answers by Dijkstra until re-contracted).
    """

    graph: TravelGraph | None = None

    def __reduce__(self) -> tuple[type[Contracted], tuple[()]]:
        return (Contracted, ())


def contracted(tg: TravelGraph) -> Contracted:
    """Return the graph's :class:`Contracted` slot (one per graph, in its memo)."""
    return Contracted()


def ch_graph(tg: TravelGraph) -> TravelGraph | None:
    """Return the graph whose CH arrays are exact for ``tg``'s travel times, or None.

    ``tg`` itself when it has no closures; for a graph with closures the re-contracted one
    once ready, else None: its CH arrays are those of the graph before the closures, a lower
    bound only (closing only raises travel times).
    """
    if not tg.closures_in_effect:
        return tg
    return tg.cached(contracted).graph


def _exact_ch(tg: TravelGraph) -> TravelGraph:
    h = ch_graph(tg)
    if h is None:  # callers check first; never sweep a stale hierarchy
        msg = "the contraction hierarchy does not hold for this graph's closures"
        raise RuntimeError(msg)
    return h


def ch_sides(tg: TravelGraph, direction: Direction) -> tuple[tuple[npt.NDArray, ...],
                                                             tuple[npt.NDArray, ...]]:
    """Return the (upward-search, sweep) CH lists for searches from (or to) sources."""
    csr(tg, direction)  # validates direction
    up = (tg.up_indptr, tg.up_indices, tg.up_weight)
    dn = (tg.dn_indptr, tg.dn_indices, tg.dn_weight)
    return (up, dn) if direction == "from" else (dn, up)


# -- kernels on the workspace ---------------------------------------------------------------

def dijkstra(tg: TravelGraph, sources: npt.NDArray[np.int64], init: npt.NDArray[np.float64],
             direction: Direction, *, targets: npt.NDArray[np.int64] | None = None,
             n_stop: int = -1, cutoff: float = np.inf) -> tuple[Workspace, int, int]:
    """Run a bounded Dijkstra; return ``(workspace, version, settled count)``."""
    indptr, indices, weight = csr(tg, direction)
    ws = workspace(tg)
    ver = ws.bump()
    tg_ = targets if targets is not None else sources[:0]
    count = _kernels.dijkstra_ws(indptr, indices, weight, sources, init, tg_, n_stop, cutoff,
                                 ws.dist, ws.pred, ws.origin, ws.pos, ws.stamp, ws.tmark,
                                 ws.heap, ws.settled, ver)
    return ws, ver, int(count)


def dijkstra_at(tg: TravelGraph, nodes: npt.NDArray[np.int64], ws: Workspace,
                ver: int) -> npt.NDArray[np.float64]:
    """Return settled times of ``nodes`` after :func:`dijkstra` (``inf`` elsewhere)."""
    return _kernels.settled_times(nodes, ws.dist, ws.pos, ws.stamp, ver)  # type: ignore[no-any-return]


def dijkstra_all(tg: TravelGraph, ws: Workspace, count: int
                 ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """Return per-node times and origins after :func:`dijkstra` (``inf``/-1 if unsettled)."""
    s = ws.settled[:count]
    dist = np.full(tg.n_search_nodes, np.inf)
    origin = np.full(tg.n_search_nodes, -1, dtype=np.int64)
    dist[s] = ws.dist[s]
    origin[s] = ws.origin[s]
    return dist, origin


def phast(tg: TravelGraph, sources: npt.NDArray[np.int64], init: npt.NDArray[np.float64],
          direction: Direction, *, wanted: npt.NDArray[np.int64] | None = None,
          origin: bool = True) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """Return times from (``"from"``) or to (``"to"``) node sources by a PHAST sweep.

    Gives times and nearest-source indices for ``wanted`` nodes (all nodes when None).
    """
    tg = _exact_ch(tg)
    first, second = ch_sides(tg, direction)
    hk, hv = workspace(tg).heaps(len(sources))
    dist, nearest = _ch.phast_ws(*first, *second, tg.ch_pos[sources], init, origin, hk, hv)  # type: ignore[call-arg]
    pos = tg.ch_pos if wanted is None else tg.ch_pos[wanted]
    return dist[pos], nearest[pos]


def rphast(tg: TravelGraph, sources: npt.NDArray[np.int64], init: npt.NDArray[np.float64],
           direction: Direction, wanted: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """Return times between node sources and ``wanted`` nodes by a restricted sweep."""
    tg = _exact_ch(tg)
    first, second = ch_sides(tg, direction)
    ws = workspace(tg)
    hk, hv = ws.heaps(len(sources))
    ver = ws.bump()
    return _ch.rphast_ws(*first, *second, tg.ch_pos, sources, init, wanted,  # type: ignore[call-arg, no-any-return]
                         ws.dist, ws.dist2, ws.stamp2, ws.bits, ver, hk, hv, ws.settled)


def ch_distance(tg: TravelGraph, s: npt.NDArray[np.int64], s_init: npt.NDArray[np.float64],
                t: npt.NDArray[np.int64], t_init: npt.NDArray[np.float64]
                ) -> tuple[float, int, Workspace]:
    """Return ``(seconds, meeting position, workspace)`` of a bidirectional CH query."""
    ws = workspace(tg)
    hk, hv = ws.heaps(len(s))
    ver = ws.bump()
    d, meet = _ch.ch_query(tg.up_indptr, tg.up_indices, tg.up_weight, tg.dn_indptr,
                           tg.dn_indices, tg.dn_weight, tg.ch_pos[s], s_init, tg.ch_pos[t],
                           t_init, ws.dist, ws.stamp, ws.pred, ws.dist2, ws.stamp2, ws.pred2,
                           ver, hk, hv, ws.hk2, ws.hv2)
    return float(d), int(meet), ws


def ch_path_edges(tg: TravelGraph, meet: int, ws: Workspace) -> npt.NDArray[np.int64]:
    """Return the road edges (CSR ids, in order) of the CH path found by :func:`ch_distance`."""
    up_src, dn_dst, node_of_pos = tg.cached(ch_index)
    k = _ch.ch_path(tg.up_indptr, tg.up_indices, tg.up_mid, tg.dn_indptr, tg.dn_indices,
                    tg.dn_mid, up_src, dn_dst, meet, ws.pred, ws.pred2, node_of_pos, tg.indptr,
                    tg.indices, ws.settled, ws.stack)
    return ws.settled[:k].copy()


def ch_index(tg: TravelGraph) -> tuple[npt.NDArray[np.int64], ...]:
    n = tg.n_search_nodes
    up_src = np.repeat(np.arange(n, dtype=np.int64), np.diff(tg.up_indptr))
    dn_dst = np.repeat(np.arange(n, dtype=np.int64), np.diff(tg.dn_indptr))
    node_of_pos = np.empty(n, dtype=np.int64)
    node_of_pos[tg.ch_pos] = np.arange(n)
    return up_src, dn_dst, node_of_pos


def many_to_many(tg: TravelGraph, s: npt.NDArray[np.int64], s_init: npt.NDArray[np.float64],
                 s_owner: npt.NDArray[np.int64], n_rows: int, t: npt.NDArray[np.int64],
                 t_init: npt.NDArray[np.float64], t_owner: npt.NDArray[np.int64], n_cols: int,
                 cutoff: float) -> npt.NDArray[np.float64]:
    """Return the ``(n_rows, n_cols)`` matrix by CH buckets (entries may share rows/columns).

    With closures and no re-contracted hierarchy yet: one bounded Dijkstra per row (or per
    column, whichever side is smaller) instead.
    """
    h = ch_graph(tg)
    if h is None:
        return _matrix_by_dijkstra(tg, s, s_init, s_owner, n_rows, t, t_init, t_owner, n_cols,
                                   cutoff)
    tg = h
    ws = workspace(tg)
    hk, hv = ws.heaps(0)
    base = ws.bump(len(s) + len(t) + 1)
    return _ch.ch_many_to_many(  # type: ignore[no-any-return]
        tg.up_indptr, tg.up_indices, tg.up_weight, tg.dn_indptr, tg.dn_indices, tg.dn_weight,
        tg.ch_pos[s], s_init, s_owner, n_rows, tg.ch_pos[t], t_init, t_owner, n_cols, cutoff,
        ws.dist, ws.stamp, base, hk, hv, ws.settled)


def _matrix_by_dijkstra(tg: TravelGraph, s: npt.NDArray[np.int64],
                       s_init: npt.NDArray[np.float64], s_owner: npt.NDArray[np.int64],
                       n_rows: int, t: npt.NDArray[np.int64], t_init: npt.NDArray[np.float64],
                       t_owner: npt.NDArray[np.int64], n_cols: int, cutoff: float
                       ) -> npt.NDArray[np.float64]:
    if n_cols < n_rows:  # search backwards from each column, then transpose
        return _rows_by_dijkstra(tg, t, t_init, t_owner, n_cols, s, s_init, s_owner, n_rows,
                                 cutoff, "to").T
    return _rows_by_dijkstra(tg, s, s_init, s_owner, n_rows, t, t_init, t_owner, n_cols,
                             cutoff, "from")


def _rows_by_dijkstra(tg: TravelGraph, s: npt.NDArray[np.int64], s_init: npt.NDArray[np.float64],
                      s_owner: npt.NDArray[np.int64], n_rows: int, t: npt.NDArray[np.int64],
                      t_init: npt.NDArray[np.float64], t_owner: npt.NDArray[np.int64],
                      n_cols: int, cutoff: float, direction: Direction
                      ) -> npt.NDArray[np.float64]:
    out = np.full((n_rows, n_cols), np.inf)
    order = np.argsort(s_owner, kind="stable")
    bounds = np.searchsorted(s_owner[order], np.arange(n_rows + 1))
    for r in range(n_rows):
        pick = order[bounds[r]:bounds[r + 1]]
        ws, ver, _ = dijkstra(tg, s[pick], s_init[pick], direction, targets=t, cutoff=cutoff)
        np.minimum.at(out[r], t_owner, dijkstra_at(tg, t, ws, ver) + t_init)
    out[out > cutoff] = np.inf
    return out


def shortest_path(tg: TravelGraph, s: npt.NDArray[np.int64], s_init: npt.NDArray[np.float64],
                  t: npt.NDArray[np.int64], t_init: npt.NDArray[np.float64]
                  ) -> tuple[float, npt.NDArray[np.int64], int]:
    """Return ``(seconds, road edges in order, first node)`` of a fastest path s -> t.

    Between weighted node sets (a source entry costs its ``s_init`` to start from, a target
    its ``t_init`` to finish at); ``(inf, [], -1)`` when none. A bidirectional CH query; on a
    graph with closures and a stale hierarchy, its path is kept when it avoids every closed
    edge (closing only raises times, so it is still fastest), else a Dijkstra answers.
    """
    h = ch_graph(tg)
    g = tg if h is None else h
    time_s, meet, ws = ch_distance(g, s, s_init, t, t_init)
    if meet < 0 or not np.isfinite(time_s):  # unreachable even before the closures
        return np.inf, np.zeros(0, dtype=np.int64), -1
    path = ch_path_edges(g, meet, ws)
    if h is not None or np.isfinite(tg.travel_time[path]).all():
        first = int(tg.cached(tails)[path[0]]) if len(path) else int(g.cached(ch_index)[2][meet])
        return time_s, path, first
    ws, ver, _ = dijkstra(tg, s, s_init, "from", targets=t)
    end = dijkstra_at(tg, t, ws, ver) + t_init
    best = int(np.argmin(end))
    if not np.isfinite(end[best]):
        return np.inf, np.zeros(0, dtype=np.int64), -1
    back, x, tail = [], int(t[best]), tg.cached(tails)
    while ws.pred[x] >= 0:
        back.append(int(ws.pred[x]))
        x = int(tail[ws.pred[x]])
    return float(end[best]), np.array(back[::-1], dtype=np.int64), x


def path_coords(tg: TravelGraph, edges: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """Return the (lon, lat) vertices along consecutive road edges, repeats dropped."""
    tail, head = tg.road_ends()
    return _kernels.path_coords(edges, tail, head, tg.lon, tg.lat,  # type: ignore[no-any-return]
                                tg.geom_ptr, tg.geom_lon, tg.geom_lat)


def tails(tg: TravelGraph) -> npt.NDArray[np.int64]:
    return tg.edge_sources()


# -- method choice --------------------------------------------------------------------------

def _reach_profile(tg: TravelGraph) -> tuple[npt.NDArray[np.float64], float]:
    """Return 257 quantiles of finite one-to-all times over 8 seeded sources, and their share."""
    rng = np.random.default_rng(0)
    src = rng.choice(tg.n_nodes, min(8, tg.n_nodes), replace=False).astype(np.int64)
    times = [phast(tg, src[i:i + 1], np.zeros(1), "from", origin=False)[0]
             for i in range(len(src))]
    pooled = np.concatenate(times)
    finite = pooled[np.isfinite(pooled)]
    return np.quantile(finite, np.linspace(0, 1, 257)), finite.size / pooled.size


def settled_fraction(tg: TravelGraph, cutoff: float, n_sources: int = 1) -> float:
    """Estimate the share of nodes a search bounded by ``cutoff`` seconds settles.

    From the graph's reach profile (computed once, in the memo): the share of nodes within
    ``cutoff`` of a random node, combined over ``n_sources`` as if they were independent.
    """
    if not math.isfinite(cutoff):
        return 1.0
    q, share = tg.cached(_reach_profile)
    f = share * float(np.searchsorted(q, cutoff, side="right")) / len(q)
    return 1.0 - (1.0 - f) ** max(1, n_sources)


def use_phast(tg: TravelGraph, method: Method, cutoff: float, *, n_sources: int = 1) -> bool:
    """Return True to sweep (PHAST), False for a bounded Dijkstra: the measured cost rule."""
    if method not in ("auto", "phast", "dijkstra"):
        msg = f"method must be 'auto', 'phast' or 'dijkstra', got {method!r}"
        raise ValidationError(msg)
    if ch_graph(tg) is None:  # closures, stale hierarchy: Dijkstra is the exact one
        return False
    if method != "auto":
        return method == "phast"
    return settled_fraction(tg, cutoff, n_sources) * DIJKSTRA_SETTLE_COST >= 1.0


def times_between(tg: TravelGraph, sources: npt.NDArray[np.int64],
                  init: npt.NDArray[np.float64], wanted: npt.NDArray[np.int64] | None,
                  cutoff: float, direction: Direction, method: Method
                  ) -> npt.NDArray[np.float64]:
    """Return times from (or to) weighted node sources to ``wanted`` nodes (all when None).

    The engine behind :func:`travel_times_from` and the on-road point queries: a few targets
    get point-to-point CH queries, more an RPHAST or PHAST sweep, a tight cutoff a bounded
    Dijkstra (:func:`use_phast`).
    """
    check_method(method)
    csr(tg, direction)
    if wanted is not None and wanted.size == 0:
        return np.zeros(0)
    wanted = answer_ids(tg, wanted, direction)
    h = ch_graph(tg)
    if (method == "auto" and h is not None and wanted is not None
            and wanted.size <= CH_QUERY_MAX_TARGETS):
        out = np.empty(wanted.size)
        for i, w in enumerate(wanted):
            one = np.array([w], dtype=np.int64)
            if direction == "from":
                out[i] = ch_distance(h, sources, init, one, np.zeros(1))[0]
            else:
                out[i] = ch_distance(h, one, np.zeros(1), sources, init)[0]
        out[out > cutoff] = np.inf
        return out
    if use_phast(tg, method, cutoff, n_sources=len(sources)):
        if wanted is not None and wanted.size <= RPHAST_MAX_TARGETS:
            dist = rphast(tg, sources, init, direction, wanted)
        else:
            dist = phast(tg, sources, init, direction, wanted=wanted, origin=False)[0]
        if math.isfinite(cutoff):
            dist[dist > cutoff] = np.inf
        return dist
    ws, ver, count = dijkstra(tg, sources, init, direction, targets=wanted, cutoff=cutoff)
    if wanted is None:
        return dijkstra_all(tg, ws, count)[0]
    return dijkstra_at(tg, wanted, ws, ver)


def reached(tg: TravelGraph, sources: npt.NDArray[np.int64], init: npt.NDArray[np.float64],
            limit: float, direction: Direction, method: Method
            ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Return the nodes within ``limit`` seconds of (or to) the sources and their times."""
    if use_phast(tg, method, limit, n_sources=len(sources)):
        dist = phast(tg, sources, init, direction, wanted=answer_ids(tg, None, direction),
                     origin=False)[0]
        nodes = np.flatnonzero(dist <= limit).astype(np.int64)
        return nodes, dist[nodes]
    ws, _, count = dijkstra(tg, sources, init, direction, cutoff=limit)
    settled = np.sort(ws.settled[:count])
    if not tg.turn_restricted:
        return settled, ws.dist[settled]
    real = tg.original_node[settled]
    settled = settled[ends(tg, real, direction) == settled]  # one answering node each
    order = np.argsort(tg.original_node[settled])
    return tg.original_node[settled][order], ws.dist[settled][order]


def nearest(tg: TravelGraph, sources: npt.NDArray[np.int64], init: npt.NDArray[np.float64],
            direction: Direction, cutoff: float, method: Method = "auto"
            ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """Return per-node times to the nearest source and that source's index."""
    ids = answer_ids(tg, None, direction)
    if use_phast(tg, method, cutoff, n_sources=len(sources)):
        dist, origin = phast(tg, sources, init, direction, wanted=ids)
        if np.isfinite(cutoff):
            far = dist > cutoff
            dist[far] = np.inf
            origin[far] = -1
        return dist, origin
    ws, _, count = dijkstra(tg, sources, init, direction, cutoff=cutoff)
    dist, origin = dijkstra_all(tg, ws, count)
    return (dist, origin) if ids is None else (dist[ids], origin[ids])
