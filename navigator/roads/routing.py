"""Travel-time queries on a TravelGraph; times in seconds, ``inf`` where unreachable.

Public API
----------
- :func:`travel_times_from` - one source to all nodes or to given targets (bounded search).
- :func:`travel_times_to` - given sources to one target (reverse graph: teams drive *to* it).
- :func:`k_nearest` - the k nearest of candidate nodes from (or to) a node, bounded search.
- :func:`nearest_facility` - time to the nearest facility for every node (multi-source).
- :func:`travel_time_matrix` - many-to-many, one bounded search per row or column.
- :func:`isochrone` - nodes within a time limit and a polygon around them (EPSG:4326).
- :func:`route` - fastest route with its geometry (EPSG:4326), for display.

Node arguments are node indices of the graph (see :func:`navigator.network.snap`). Searches are
binary-heap Dijkstra kernels compiled with numba (:mod:`navigator._kernels`) or PHAST sweeps of
the graph's contraction hierarchy (:mod:`navigator._ch`); networkx is the reference they are
tested against.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt

from navigator.errors import UnreachableError, ValidationError
from navigator.roads import _ch, _kernels
from navigator.roads.graph import TravelGraph
from navigator.roads.snapping import edge_vertices

if TYPE_CHECKING:
    from shapely import LineString, Polygon

Direction = Literal["from", "to"]
#: Up to this many targets a sweep restricted to what they need (RPHAST) beats a full sweep.
_RPHAST_MAX_TARGETS = 2000
Method = Literal["auto", "phast", "dijkstra"]

__all__ = [
    "Isochrone",
    "NearestFacility",
    "Route",
    "isochrone",
    "k_nearest",
    "nearest_facility",
    "route",
    "travel_time_matrix",
    "travel_times_from",
    "travel_times_to",
]


def _nodes(tg: TravelGraph, nodes: npt.ArrayLike, what: str) -> npt.NDArray[np.int64]:
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


def _node(tg: TravelGraph, node: int | np.integer, what: str) -> int:
    if isinstance(node, bool) or not isinstance(node, int | np.integer):
        msg = f"{what} must be one integer node index, got {node!r}"
        raise ValidationError(msg)
    return int(_nodes(tg, node, what)[0])


def _cutoff(cutoff_s: float | None) -> float:
    if cutoff_s is None:
        return np.inf
    c = float(cutoff_s)
    if np.isnan(c) or c < 0:
        msg = f"cutoff_s must be a non-negative number of seconds, got {cutoff_s!r}"
        raise ValidationError(msg)
    return c


def _csr(tg: TravelGraph, direction: Direction) -> tuple[
    npt.NDArray[np.int64], npt.NDArray[np.int32], npt.NDArray[np.float64]
]:
    if direction == "from":
        return tg.indptr, tg.indices, tg.travel_time
    if direction == "to":
        return tg.rindptr, tg.rindices, tg.rtravel_time
    msg = f"direction must be 'from' or 'to', got {direction!r}"
    raise ValidationError(msg)


def _search(tg: TravelGraph, sources: npt.NDArray[np.int64], direction: Direction, *,
            targets: npt.NDArray[np.int64] | None = None, n_stop: int | None = None,
            cutoff: float = np.inf) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64],
                                             npt.NDArray[np.int64]]:
    indptr, indices, weight = _csr(tg, direction)
    is_target = np.zeros(tg.n_nodes if targets is not None else 0, dtype=np.bool_)
    stop = 0
    if targets is not None:
        is_target[targets] = True
        stop = int(is_target.sum()) if n_stop is None else n_stop
    return _kernels.dijkstra(indptr, indices, weight, sources, np.zeros(len(sources)),
                             is_target, stop, cutoff)


def _phast(tg: TravelGraph, nodes: npt.NDArray[np.int64], direction: Direction, *,
           wanted: npt.NDArray[np.int64] | None = None, origin: bool = True
           ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """Return times from (``"from"``) or to (``"to"``) ``nodes`` by a PHAST sweep.

    Gives times and nearest-source positions for ``wanted`` nodes (all nodes when None).
    """
    _csr(tg, direction)  # validates direction
    up = (tg.up_indptr, tg.up_indices, tg.up_weight)
    dn = (tg.dn_indptr, tg.dn_indices, tg.dn_weight)
    first, second = (up, dn) if direction == "from" else (dn, up)
    dist, nearest = _ch.phast(*first, *second, tg.ch_pos[nodes], np.zeros(len(nodes)),
                                   origin)
    pos = tg.ch_pos if wanted is None else tg.ch_pos[wanted]
    return dist[pos], nearest[pos]


def _use_phast(method: Method, cutoff: float, n_wanted: int | None) -> bool:
    if method not in ("auto", "phast", "dijkstra"):
        msg = f"method must be 'auto', 'phast' or 'dijkstra', got {method!r}"
        raise ValidationError(msg)
    if method != "auto":
        return method == "phast"
    # a sweep costs one pass over the graph; a bounded search wins when it stops early
    return not np.isfinite(cutoff) and (n_wanted is None or n_wanted > 2)


def travel_times_from(
    tg: TravelGraph,
    source_node: int,
    targets: npt.ArrayLike | None = None,
    *,
    cutoff_s: float | None = None,
    method: Method = "auto",
) -> npt.NDArray[np.float64]:
    """Return fastest travel times, seconds, from one node.

    Parameters
    ----------
    tg
        The graph.
    source_node
        Node index to start from.
    targets
        Node indices wanted; the search stops once all are settled. None: every node.
    cutoff_s
        Stop at this many seconds; farther nodes are ``inf``.
    method
        ``"dijkstra"``: a search that stops once all targets are settled or at the cutoff;
        ``"phast"``: one sweep over the contraction hierarchy (fixed cost, fast for many or
        far targets); ``"auto"``: Dijkstra with a cutoff or at most two targets, else PHAST.

    Returns
    -------
    numpy.ndarray
        Seconds per target (or per node), ``inf`` where unreachable or beyond the cutoff.
    """
    return _one(tg, source_node, targets, cutoff_s, "from", method)


def travel_times_to(
    tg: TravelGraph,
    target_node: int,
    sources: npt.ArrayLike | None = None,
    *,
    cutoff_s: float | None = None,
    method: Method = "auto",
) -> npt.NDArray[np.float64]:
    """Return fastest travel times, seconds, from each source to one node (reverse search).

    Use it to rank teams driving to an incident: ``travel_times_to(tg, incident, teams)``.

    Parameters
    ----------
    tg
        The graph.
    target_node
        Node index to reach.
    sources
        Node indices to start from; the search stops once all are settled. None: every node.
    cutoff_s
        Stop at this many seconds; farther sources are ``inf``.
    method
        As in :func:`travel_times_from`.

    Returns
    -------
    numpy.ndarray
        Seconds per source (or per node), ``inf`` where the target cannot be reached.
    """
    return _one(tg, target_node, sources, cutoff_s, "to", method)


def _one(tg: TravelGraph, node: int, others: npt.ArrayLike | None, cutoff_s: float | None,
         direction: Direction, method: Method) -> npt.NDArray[np.float64]:
    start = np.array([_node(tg, node, "node")], dtype=np.int64)
    cutoff = _cutoff(cutoff_s)
    wanted = None
    if others is not None:
        wanted = _nodes(tg, others, "targets" if direction == "from" else "sources")
        if wanted.size == 0:
            return np.zeros(0)
    if _use_phast(method, cutoff, None if wanted is None else wanted.size):
        if wanted is not None and wanted.size <= _RPHAST_MAX_TARGETS:
            up = (tg.up_indptr, tg.up_indices, tg.up_weight)
            dn = (tg.dn_indptr, tg.dn_indices, tg.dn_weight)
            first, second = (up, dn) if direction == "from" else (dn, up)
            dist = _ch.rphast(*first, *second, tg.ch_pos[start], tg.ch_pos[wanted])
        else:
            dist = _phast(tg, start, direction, wanted=wanted, origin=False)[0]
        if np.isfinite(cutoff):
            dist[dist > cutoff] = np.inf
        return dist
    dist = _search(tg, start, direction, targets=wanted, cutoff=cutoff)[0]
    return dist if wanted is None else dist[wanted]


def k_nearest(
    tg: TravelGraph,
    node: int,
    candidates: npt.ArrayLike,
    *,
    k: int,
    direction: Direction = "from",
    cutoff_s: float | None = None,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Return the k candidates nearest in time to (or from) a node, nearest first.

    The search stops when the k-th distinct candidate node is settled.

    Parameters
    ----------
    tg
        The graph.
    node
        Node index of the point.
    candidates
        Node indices of the candidates (e.g. facilities; repeats allowed).
    k
        How many to return (fewer when fewer are reachable).
    direction
        ``"from"``: travel from ``node`` to the candidates; ``"to"``: from candidates to it.
    cutoff_s
        Ignore candidates farther than this, seconds.

    Returns
    -------
    index : numpy.ndarray
        Positions in ``candidates``, nearest first (ties by position).
    time_s : numpy.ndarray
        Their travel times, seconds.
    """
    if k < 1:
        msg = f"k must be at least 1, got {k}"
        raise ValidationError(msg)
    start = np.array([_node(tg, node, "node")], dtype=np.int64)
    cand = _nodes(tg, candidates, "candidates")
    dist = _search(tg, start, direction, targets=cand, n_stop=k, cutoff=_cutoff(cutoff_s))[0]
    t = dist[cand]
    order = np.lexsort((np.arange(len(cand)), t))
    order = order[np.isfinite(t[order])][:k]
    return order.astype(np.int64), t[order]


@dataclass(frozen=True)
class NearestFacility:
    """Time to the nearest facility for every node.

    Attributes
    ----------
    time_s
        Seconds per node (``inf`` where no facility is reachable).
    facility
        Position in ``facility_nodes`` of the nearest facility per node (-1 if none).
    """

    time_s: npt.NDArray[np.float64]
    facility: npt.NDArray[np.int64]


def nearest_facility(
    tg: TravelGraph,
    facility_nodes: npt.ArrayLike,
    *,
    direction: Direction = "from",
    cutoff_s: float | None = None,
) -> NearestFacility:
    """Return each node's time to its nearest facility by one multi-source search.

    Parameters
    ----------
    tg
        The graph.
    facility_nodes
        Node indices of the facilities.
    direction
        ``"from"``: travel from the facility to the node (a team leaving its base);
        ``"to"``: from the node to the facility (a person going to a shelter).
    cutoff_s
        Stop at this many seconds.

    Returns
    -------
    NearestFacility
    """
    fac = _nodes(tg, facility_nodes, "facility_nodes")
    if fac.size == 0:
        msg = "facility_nodes is empty"
        raise ValidationError(msg)
    cutoff = _cutoff(cutoff_s)
    if np.isfinite(cutoff):
        dist, _, origin = _search(tg, fac, direction, cutoff=cutoff)
    else:
        dist, origin = _phast(tg, fac, direction)
    return NearestFacility(time_s=dist, facility=origin)


def travel_time_matrix(
    tg: TravelGraph,
    origins: npt.ArrayLike,
    destinations: npt.ArrayLike,
    *,
    cutoff_s: float | None = None,
) -> npt.NDArray[np.float64]:
    """Return the fastest travel time, seconds, from every origin to every destination.

    Runs one PHAST sweep per origin (forward) or per destination (reverse), whichever is
    fewer, in parallel threads (numba ``prange``).

    Returns
    -------
    numpy.ndarray
        ``(len(origins), len(destinations))`` seconds, ``inf`` where unreachable.
    """
    o = _nodes(tg, origins, "origins")
    d = _nodes(tg, destinations, "destinations")
    cutoff = _cutoff(cutoff_s)
    if o.size == 0 or d.size == 0:
        return np.zeros((o.size, d.size))
    up = (tg.up_indptr, tg.up_indices, tg.up_weight)
    dn = (tg.dn_indptr, tg.dn_indices, tg.dn_weight)
    if d.size < o.size:
        return _ch.phast_many(*dn, *up, tg.ch_pos[d], tg.ch_pos[o], cutoff).T
    return _ch.phast_many(*up, *dn, tg.ch_pos[o], tg.ch_pos[d], cutoff)


@dataclass(frozen=True)
class Isochrone:
    """Area reachable within a time limit.

    Attributes
    ----------
    nodes
        Node indices reached within the limit.
    time_s
        Their travel times, seconds.
    polygon
        Hull around those nodes, EPSG:4326 (None when not asked for).
    """

    nodes: npt.NDArray[np.int64]
    time_s: npt.NDArray[np.float64]
    polygon: Polygon | None


def isochrone(
    tg: TravelGraph,
    node: int,
    limit_s: float,
    *,
    direction: Direction = "from",
    hull: Literal["concave", "convex"] | None = "concave",
    ratio: float = 0.2,
) -> Isochrone:
    """Return the nodes reachable from (or reaching) a node within ``limit_s`` and a hull.

    Parameters
    ----------
    tg
        The graph.
    node
        Node index of the centre.
    limit_s
        Time limit, seconds.
    direction
        ``"from"`` the node (default) or ``"to"`` it.
    hull
        ``"concave"``: ``shapely.concave_hull`` of the corners of the grid cells (1/40 of the
        reached extent per side) holding reached nodes (about 4 ms for 15 minutes on the
        50k-node Porto graph); ``"convex"``: the convex hull of those corners (about 2 ms);
        None: no polygon (fastest). Both hulls cover every reached node.
    ratio
        ``shapely.concave_hull`` ratio (1 gives the convex hull).

    Returns
    -------
    Isochrone
    """
    start = np.array([_node(tg, node, "node")], dtype=np.int64)
    limit = _cutoff(limit_s)
    dist = _phast(tg, start, direction, origin=False)[0]
    reached = np.flatnonzero(dist <= limit)
    polygon = None if hull is None else _hull(tg.lon[reached], tg.lat[reached], hull, ratio)
    return Isochrone(nodes=reached.astype(np.int64), time_s=dist[reached], polygon=polygon)


#: Grid resolution of isochrone hulls: cells per side of the reached extent.
_HULL_CELLS = 40


def _hull(x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], kind: str,
          ratio: float) -> Polygon:
    import shapely

    if kind not in ("concave", "convex"):
        msg = f"hull must be 'concave', 'convex' or None, got {kind!r}"
        raise ValidationError(msg)
    # corners of the grid cells holding nodes: few points, and a hull of them covers every
    # node (a coarser grid is a faster, rounder hull: 64 cells took ~7 ms on Porto, 40 ~4 ms)
    cells = _HULL_CELLS
    size = max(float(np.ptp(x)), float(np.ptp(y)), 1e-4) / cells
    ix = np.floor((x - x.min()) / size).astype(np.int64)
    iy = np.floor((y - y.min()) / size).astype(np.int64)
    cell = np.unique(ix * (cells + 2) + iy)
    cx, cy = cell // (cells + 2), cell % (cells + 2)
    corner = np.unique(np.concatenate([cx, cx + 1, cx, cx + 1]) * (cells + 3)
                       + np.concatenate([cy, cy, cy + 1, cy + 1]))
    pts = np.column_stack([x.min() + (corner // (cells + 3)) * size,
                           y.min() + (corner % (cells + 3)) * size])
    if kind == "convex":
        from scipy.spatial import ConvexHull

        return shapely.Polygon(pts[ConvexHull(pts).vertices])
    poly = shapely.concave_hull(shapely.multipoints(pts), ratio=ratio)
    if not isinstance(poly, shapely.Polygon):  # degenerate: fall back to the convex hull
        poly = shapely.convex_hull(shapely.multipoints(pts))
    return poly


@dataclass(frozen=True)
class Route:
    """A fastest route between two nodes.

    Attributes
    ----------
    nodes
        Node indices from origin to destination.
    edges
        Edge ids travelled.
    geometry
        The road geometry, EPSG:4326.
    travel_time_s
        Seconds.
    length_m
        Metres.
    """

    nodes: npt.NDArray[np.int64]
    edges: npt.NDArray[np.int64]
    geometry: LineString
    travel_time_s: float
    length_m: float


def route(tg: TravelGraph, orig: int, dest: int) -> Route:
    """Return the fastest route from ``orig`` to ``dest`` with its geometry.

    Raises
    ------
    UnreachableError
        If ``dest`` cannot be reached from ``orig``.
    """
    import shapely

    o = _node(tg, orig, "orig")
    d = _node(tg, dest, "dest")
    dist, pred, _ = _search(tg, np.array([o], dtype=np.int64), "from",
                            targets=np.array([d], dtype=np.int64))
    if not np.isfinite(dist[d]):
        msg = f"node {d} cannot be reached from node {o} by road"
        raise UnreachableError(msg)
    edges: list[int] = []
    x = d
    while x != o:
        e = int(pred[x])
        edges.append(e)
        x = int(np.searchsorted(tg.indptr, e, side="right") - 1)
    path_edges = np.array(edges[::-1], dtype=np.int64)
    nodes = np.concatenate([[o], tg.indices[path_edges]]).astype(np.int64)
    if len(path_edges):
        verts, _ = edge_vertices(tg, path_edges)
        keep = np.ones(len(verts), dtype=bool)
        keep[1:] = np.any(verts[1:] != verts[:-1], axis=1)  # shared end/start vertices
        coords = verts[keep]
    else:
        coords = np.array([[tg.lon[o], tg.lat[o]]])
    if len(coords) < 2:
        coords = np.vstack([coords, coords])
    return Route(
        nodes=nodes,
        edges=path_edges,
        geometry=shapely.LineString(coords),
        travel_time_s=float(dist[d]),
        length_m=float(tg.length[path_edges].sum()),
    )
