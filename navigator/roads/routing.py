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

Node arguments are node indices of the graph (see :func:`navigator.roads.snap`); for points
on the road (snapped to edges) see :mod:`navigator.roads.points`. Searches are numba kernels
(:mod:`~navigator.roads._kernels`, :mod:`~navigator.roads._ch`): bidirectional contraction
hierarchy (CH) queries for one or a few targets, CH buckets for matrices, PHAST/RPHAST sweeps
for many targets, and bounded Dijkstra where a cutoff keeps the search small (a measured
rule, :func:`navigator.roads._search.use_phast`). Every query runs on a per-thread workspace
(nothing graph-sized is allocated per query). networkx is the reference they are tested
against.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

from navigator.errors import UnreachableError, ValidationError
from navigator.roads import _search, _workspace, turns
from navigator.roads._search import Direction
from navigator.roads._workspace import Method

if TYPE_CHECKING:
    from shapely import LineString, Polygon

    from navigator.roads.graph import TravelGraph

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


_nodes = _workspace.node_array
_node = _workspace.node_arg
_cutoff = _workspace.cutoff_arg


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
        far targets); ``"auto"``: point-to-point CH queries for up to four targets, else
        bounded Dijkstra where the cutoff keeps the expected search below a sweep's cost
        (estimated from the graph's reach profile), else PHAST (RPHAST for up to 2000
        targets). All give equal times. On a graph with road closures whose hierarchy is
        not re-contracted yet, every method runs the (exact) Dijkstra.

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
    start = turns.start_of(tg, _node(tg, node, "node"), direction)
    cutoff = _cutoff(cutoff_s)
    wanted = None
    if others is not None:
        wanted = _nodes(tg, others, "targets" if direction == "from" else "sources")
    # times_between checks direction and method
    return _search.times_between(tg, start, np.zeros(1), wanted, cutoff, direction, method)


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
    _search.csr(tg, direction)
    start = turns.starts(tg, np.array([_node(tg, node, "node")], dtype=np.int64), direction)
    cand = turns.ends(tg, _nodes(tg, candidates, "candidates"), direction)
    ws, ver, _ = _search.dijkstra(tg, start, np.zeros(1), direction, targets=cand, n_stop=k,
                                  cutoff=_cutoff(cutoff_s))
    t = _search.dijkstra_at(tg, cand, ws, ver)
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
    method: Method = "auto",
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
    method
        ``"dijkstra"`` (bounded by the cutoff), ``"phast"`` (one sweep) or ``"auto"``: the
        one expected to be faster for this cutoff and number of facilities.

    Returns
    -------
    NearestFacility
    """
    fac = _nodes(tg, facility_nodes, "facility_nodes")
    if fac.size == 0:
        msg = "facility_nodes is empty"
        raise ValidationError(msg)
    _workspace.check_method(method)
    _search.csr(tg, direction)
    dist, origin = _search.nearest(tg, turns.starts(tg, fac, direction), np.zeros(len(fac)),
                                   direction, _cutoff(cutoff_s), method)
    return NearestFacility(time_s=dist, facility=origin)


def travel_time_matrix(
    tg: TravelGraph,
    origins: npt.ArrayLike,
    destinations: npt.ArrayLike,
    *,
    cutoff_s: float | None = None,
) -> npt.NDArray[np.float64]:
    """Return the fastest travel time, seconds, from every origin to every destination.

    Many-to-many contraction hierarchy buckets: one upward search per destination leaves its
    distances in buckets, one upward search per origin scans them (single-threaded).

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
    return _search.many_to_many(tg, o, np.zeros(o.size), np.arange(o.size), o.size,
                                tg.target_node[d], np.zeros(d.size), np.arange(d.size), d.size,
                                cutoff)


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
    method: Method = "auto",
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
    method
        ``"dijkstra"`` (bounded by ``limit_s``), ``"phast"`` (a whole-graph sweep) or
        ``"auto"``: the one expected to be faster for this limit on this graph.

    Returns
    -------
    Isochrone
    """
    _search.csr(tg, direction)
    start = turns.starts(tg, np.array([_node(tg, node, "node")], dtype=np.int64), direction)
    limit = _cutoff(limit_s)
    _workspace.check_method(method)
    _check_hull(hull)
    nodes, time_s = _search.reached(tg, start, np.zeros(1), limit, direction, method)
    polygon = None if hull is None else hull_polygon(tg.lon[nodes], tg.lat[nodes], hull, ratio)
    return Isochrone(nodes=nodes, time_s=time_s, polygon=polygon)


_check_hull = _workspace.check_hull


#: Grid resolution of isochrone hulls: cells per side of the reached extent.
_HULL_CELLS = 40


def hull_polygon(x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], kind: str,
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
        Edge ids travelled (road edges; no turn edges).
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

    def to_dict(self) -> dict[str, Any]:
        """Return the route as a GeoJSON Feature (EPSG:4326) with seconds and metres."""
        coords = [[round(float(x), 7), round(float(y), 7)] for x, y in self.geometry.coords]
        finite = [v if math.isfinite(v) else None for v in (self.travel_time_s, self.length_m)]
        return {"type": "Feature", "geometry": {"type": "LineString", "coordinates": coords},
                "properties": {"travel_time_s": finite[0], "length_m": finite[1]}}


def route(tg: TravelGraph, orig: int, dest: int) -> Route:
    """Return the fastest route from ``orig`` to ``dest`` with its geometry.

    A bidirectional contraction hierarchy query; its shortcuts are unpacked into road edges
    and the geometry is assembled by a compiled kernel. With road closures and no
    re-contracted hierarchy, the CH path is kept when it avoids every closed edge, else a
    Dijkstra search answers.

    Raises
    ------
    UnreachableError
        If ``dest`` cannot be reached from ``orig``.
    """
    import shapely

    o = _node(tg, orig, "orig")
    d = _node(tg, dest, "dest")
    one = np.zeros(1)
    time_s, path_edges, _ = _search.shortest_path(tg, np.array([o], dtype=np.int64), one,
                                                  tg.target_node[[d]], one)
    if not np.isfinite(time_s):
        msg = f"node {d} cannot be reached from node {o} by road"
        raise UnreachableError(msg)
    nodes = turns.intersections(
        tg, np.concatenate([[o], tg.indices[path_edges]]).astype(np.int64))
    path_edges = turns.road_edges(tg, path_edges)
    if len(path_edges):
        coords = _search.path_coords(tg, path_edges)
    else:
        coords = np.array([[tg.lon[o], tg.lat[o]]])
    if len(coords) < 2:
        coords = np.vstack([coords, coords])
    return Route(
        nodes=nodes,
        edges=path_edges,
        geometry=shapely.LineString(coords),
        travel_time_s=time_s,
        length_m=float(tg.length[path_edges].sum()),
    )
