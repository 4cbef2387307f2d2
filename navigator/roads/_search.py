"""Search primitives shared by the node and on-road point queries: workspaces, method choice.

Every query kernel takes its scratch arrays from a per-thread :class:`Workspace` kept in the
graph's memo, with versioned labels, so no query allocates or resets graph-sized arrays (the
web app answers from several threads; each gets its own workspace).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt

from navigator.errors import ValidationError
from navigator.roads import _ch, _kernels

if TYPE_CHECKING:
    from navigator.roads.graph import TravelGraph

Direction = Literal["from", "to"]
Method = Literal["auto", "phast", "dijkstra"]
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


class Workspace:
    """Scratch arrays for one thread's queries on one graph (labels valid while stamped)."""

    def __init__(self, tg: TravelGraph) -> None:
        n = tg.n_nodes
        self.dist = np.empty(n)
        self.pred = np.empty(n, dtype=np.int64)
        self.origin = np.empty(n, dtype=np.int64)
        self.pos = np.empty(n, dtype=np.int64)
        self.stamp = np.zeros(n, dtype=np.int64)
        self.tmark = np.zeros(n, dtype=np.int64)
        self.heap = np.empty(n, dtype=np.int64)
        self.settled = np.empty(n, dtype=np.int64)
        self.order = np.empty(n, dtype=np.int64)
        self.dist2 = np.empty(n)
        self.stamp2 = np.zeros(n, dtype=np.int64)
        self.pred2 = np.empty(n, dtype=np.int64)
        m = self.heap_base = max(tg.up_indices.shape[0], tg.dn_indices.shape[0]) + 64
        self.hk = np.empty(m)
        self.hv = np.empty(m, dtype=np.int64)
        self.hk2 = np.empty(m)
        self.hv2 = np.empty(m, dtype=np.int64)
        self.stack = np.empty(4 * n + 8, dtype=np.int64)
        self.ver = 0

    def bump(self, k: int = 1) -> int:
        """Reserve ``k`` fresh label versions; return the first."""
        self.ver += k
        return self.ver - k + 1

    def heaps(self, extra: int) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
        """Return the lazy heap, grown when ``extra`` start entries do not fit its slack."""
        need = self.heap_base + extra
        if self.hk.shape[0] < need:
            self.hk, self.hv = np.empty(need), np.empty(need, dtype=np.int64)
        return self.hk, self.hv


class _PerThread(threading.local):
    """Per-thread slot for a workspace; pickles as an empty one (the graph ships to workers)."""

    ws: Workspace | None = None

    def __reduce__(self) -> tuple[type[_PerThread], tuple[()]]:
        return (_PerThread, ())


def _thread_local(tg: TravelGraph) -> _PerThread:
    return _PerThread()


def workspace(tg: TravelGraph) -> Workspace:
    """Return this thread's workspace for ``tg`` (built on first use)."""
    local = tg.cached(_thread_local)
    ws = local.ws
    if ws is None:
        ws = local.ws = Workspace(tg)
    return ws


def node_array(tg: TravelGraph, nodes: npt.ArrayLike, what: str) -> npt.NDArray[np.int64]:
    arr = np.atleast_1d(np.asarray(nodes))
    if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):
        msg = f"{what} must be a 1-d array of integer node indices"
        raise ValidationError(msg)
    arr = arr.astype(np.int64)
    bad = (arr < 0) | (arr >= tg.n_nodes)
    if bad.any():
        msg = f"{what}: node {int(arr[bad][0])} is not in the graph (0..{tg.n_nodes - 1})"
        raise ValidationError(msg)
    return arr


def node_arg(tg: TravelGraph, node: int | np.integer, what: str) -> int:
    if isinstance(node, bool) or not isinstance(node, int | np.integer):
        msg = f"{what} must be one integer node index, got {node!r}"
        raise ValidationError(msg)
    return int(node_array(tg, node, what)[0])


def cutoff_arg(cutoff_s: float | None) -> float:
    if cutoff_s is None:
        return np.inf
    c = float(cutoff_s)
    if np.isnan(c) or c < 0:
        msg = f"cutoff_s must be a non-negative number of seconds, got {cutoff_s!r}"
        raise ValidationError(msg)
    return c


def check_hull(hull: str | None) -> None:
    """Raise ValidationError unless ``hull`` is "concave", "convex" or None."""
    if hull not in ("concave", "convex", None):
        msg = f"hull must be 'concave', 'convex' or None, got {hull!r}"
        raise ValidationError(msg)


def csr(tg: TravelGraph, direction: Direction) -> tuple[
    npt.NDArray[np.int64], npt.NDArray[np.int32], npt.NDArray[np.float64]
]:
    if direction == "from":
        return tg.indptr, tg.indices, tg.travel_time
    if direction == "to":
        return tg.rindptr, tg.rindices, tg.rtravel_time
    msg = f"direction must be 'from' or 'to', got {direction!r}"
    raise ValidationError(msg)


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
    dist = np.full(tg.n_nodes, np.inf)
    origin = np.full(tg.n_nodes, -1, dtype=np.int64)
    dist[s] = ws.dist[s]
    origin[s] = ws.origin[s]
    return dist, origin


def phast(tg: TravelGraph, sources: npt.NDArray[np.int64], init: npt.NDArray[np.float64],
          direction: Direction, *, wanted: npt.NDArray[np.int64] | None = None,
          origin: bool = True) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """Return times from (``"from"``) or to (``"to"``) node sources by a PHAST sweep.

    Gives times and nearest-source indices for ``wanted`` nodes (all nodes when None).
    """
    first, second = ch_sides(tg, direction)
    hk, hv = workspace(tg).heaps(len(sources))
    dist, nearest = _ch.phast_ws(*first, *second, tg.ch_pos[sources], init, origin, hk, hv)  # type: ignore[call-arg]
    pos = tg.ch_pos if wanted is None else tg.ch_pos[wanted]
    return dist[pos], nearest[pos]


def rphast(tg: TravelGraph, sources: npt.NDArray[np.int64], init: npt.NDArray[np.float64],
           direction: Direction, wanted: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """Return times between node sources and ``wanted`` nodes by a restricted sweep."""
    first, second = ch_sides(tg, direction)
    ws = workspace(tg)
    hk, hv = ws.heaps(len(sources))
    ver = ws.bump()
    return _ch.rphast_ws(*first, *second, tg.ch_pos[sources], init, tg.ch_pos[wanted],  # type: ignore[call-arg, no-any-return]
                         ws.dist, ws.stamp, ws.tmark, ver, hk, hv, ws.settled, ws.order)


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
    n = tg.n_nodes
    up_src = np.repeat(np.arange(n, dtype=np.int64), np.diff(tg.up_indptr))
    dn_dst = np.repeat(np.arange(n, dtype=np.int64), np.diff(tg.dn_indptr))
    node_of_pos = np.empty(n, dtype=np.int64)
    node_of_pos[tg.ch_pos] = np.arange(n)
    return up_src, dn_dst, node_of_pos


def many_to_many(tg: TravelGraph, s: npt.NDArray[np.int64], s_init: npt.NDArray[np.float64],
                 s_owner: npt.NDArray[np.int64], n_rows: int, t: npt.NDArray[np.int64],
                 t_init: npt.NDArray[np.float64], t_owner: npt.NDArray[np.int64], n_cols: int,
                 cutoff: float) -> npt.NDArray[np.float64]:
    """Return the ``(n_rows, n_cols)`` matrix by CH buckets (entries may share rows/columns)."""
    ws = workspace(tg)
    hk, hv = ws.heaps(0)
    base = ws.bump(len(s) + len(t) + 1)
    return _ch.ch_many_to_many(  # type: ignore[no-any-return]
        tg.up_indptr, tg.up_indices, tg.up_weight, tg.dn_indptr, tg.dn_indices, tg.dn_weight,
        tg.ch_pos[s], s_init, s_owner, n_rows, tg.ch_pos[t], t_init, t_owner, n_cols, cutoff,
        ws.dist, ws.stamp, base, hk, hv, ws.settled)


def path_coords(tg: TravelGraph, edges: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """Return the (lon, lat) vertices along consecutive road edges, repeats dropped."""
    tail = tg.cached(tails)
    return _kernels.path_coords(edges, tail, tg.indices, tg.lon, tg.lat,  # type: ignore[no-any-return]
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
    if not np.isfinite(cutoff):
        return 1.0
    q, share = tg.cached(_reach_profile)
    f = share * float(np.searchsorted(q, cutoff, side="right")) / len(q)
    return 1.0 - (1.0 - f) ** max(1, n_sources)


def use_phast(tg: TravelGraph, method: Method, cutoff: float, *, n_sources: int = 1) -> bool:
    """Return True to sweep (PHAST), False for a bounded Dijkstra: the measured cost rule."""
    if method not in ("auto", "phast", "dijkstra"):
        msg = f"method must be 'auto', 'phast' or 'dijkstra', got {method!r}"
        raise ValidationError(msg)
    if method != "auto":
        return method == "phast"
    return settled_fraction(tg, cutoff, n_sources) * DIJKSTRA_SETTLE_COST >= 1.0


def check_method(method: Method) -> None:
    if method not in ("auto", "phast", "dijkstra"):
        msg = f"method must be 'auto', 'phast' or 'dijkstra', got {method!r}"
        raise ValidationError(msg)


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
    if (method == "auto" and wanted is not None and wanted.size <= CH_QUERY_MAX_TARGETS):
        out = np.empty(wanted.size)
        for i, w in enumerate(wanted):
            one = np.array([w], dtype=np.int64)
            if direction == "from":
                out[i] = ch_distance(tg, sources, init, one, np.zeros(1))[0]
            else:
                out[i] = ch_distance(tg, one, np.zeros(1), sources, init)[0]
        out[out > cutoff] = np.inf
        return out
    if use_phast(tg, method, cutoff, n_sources=len(sources)):
        if wanted is not None and wanted.size <= RPHAST_MAX_TARGETS:
            dist = rphast(tg, sources, init, direction, wanted)
        else:
            dist = phast(tg, sources, init, direction, wanted=wanted, origin=False)[0]
        if np.isfinite(cutoff):
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
        dist = phast(tg, sources, init, direction, origin=False)[0]
        nodes = np.flatnonzero(dist <= limit).astype(np.int64)
        return nodes, dist[nodes]
    ws, _, count = dijkstra(tg, sources, init, direction, cutoff=limit)
    nodes = np.sort(ws.settled[:count])
    return nodes, ws.dist[nodes]


def nearest(tg: TravelGraph, sources: npt.NDArray[np.int64], init: npt.NDArray[np.float64],
            direction: Direction, cutoff: float, method: Method = "auto"
            ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """Return per-node times to the nearest source and that source's index."""
    if use_phast(tg, method, cutoff, n_sources=len(sources)):
        dist, origin = phast(tg, sources, init, direction)
        if np.isfinite(cutoff):
            far = dist > cutoff
            dist[far] = np.inf
            origin[far] = -1
        return dist, origin
    ws, _, count = dijkstra(tg, sources, init, direction, cutoff=cutoff)
    return dijkstra_all(tg, ws, count)
