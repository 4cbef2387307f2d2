"""Travel-time queries between on-road points: places snapped to the nearest edge.

A point snapped with :func:`~navigator.roads.snap_to_edges` lies at ``fraction`` of its edge
``u -> v``. Driving away from it reaches ``v`` after ``(1 - fraction)`` of the edge's travel
time, and ``u`` after ``fraction`` of the opposite edge's time where the road is two-way (the
edge ``v -> u`` with the same geometry, its *twin*); arriving works the other way round. A
point is thus two weighted sources (or targets) for the node searches of
:mod:`~navigator.roads.routing`, and two points on the same road also connect directly along
it. The partial time is the length fraction of the edge's travel time (an edge's speed is
taken as uniform along it). A point exactly at a node gives the node's own times.

Use these where a place may lie on a long road far from any node: snapping to the nearest
*node* put such a point 1.1 km away (issue 14); its distance to the road is the edge distance.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt

from navigator.errors import UnreachableError, ValidationError
from navigator.roads import _search, _workspace, turns
from navigator.roads._search import Direction
from navigator.roads._workspace import Method
from navigator.roads._workspace import check_hull as _check_hull
from navigator.roads._workspace import cutoff_arg as _cutoff
from navigator.roads._workspace import node_array as _nodes
from navigator.roads.osm import great_circle_m
from navigator.roads.routing import Isochrone, NearestFacility, Route, hull_polygon
from navigator.roads.snapping import EdgeSnap, edge_vertices

if TYPE_CHECKING:
    from navigator.roads.graph import TravelGraph

__all__ = [
    "nearest_point_facility",
    "point_isochrone",
    "point_travel_time_matrix",
    "points_along",
    "route_between_points",
    "travel_times_from_point",
    "travel_times_to_point",
]


def edge_twins(tg: TravelGraph) -> npt.NDArray[np.int64]:
    """Return, per edge ``u -> v``, the edge ``v -> u`` along the same road, or -1.

    The twin has the same length and the same shape points in reverse order (a two-way road);
    a one-way edge, or a return edge along another road, has none. Kept in the graph's memo.
    """
    return tg.cached(_twins)


def _twins(tg: TravelGraph) -> npt.NDArray[np.int64]:
    n = np.int64(tg.n_nodes)
    tails, heads = tg.road_ends()  # intersections: a split one's parts count as one
    heads = heads.astype(np.int64)
    road = tg.is_road_edge()  # a ghost has its road's ends: never anyone's twin
    key = np.where(road, tails * n + heads, -1)
    rev = np.where(road, heads * n + tails, -2)
    order = np.argsort(key, kind="stable")  # CSR order: already sorted unless split
    pos = order[np.minimum(np.searchsorted(key[order], rev), len(key) - 1)]
    ok = (key[pos] == rev) & road
    cnt = np.diff(tg.geom_ptr)
    ok &= np.isclose(tg.length, tg.length[pos], rtol=1e-9, atol=1e-6) & (cnt == cnt[pos])
    # same shape points reversed: compare the first inner point with the twin's last one
    has = ok & (cnt > 0)
    first = tg.geom_ptr[:-1][has]
    last = tg.geom_ptr[1:][pos[has]] - 1
    same = (tg.geom_lon[first] == tg.geom_lon[last]) & (tg.geom_lat[first] == tg.geom_lat[last])
    ok[np.flatnonzero(has)[~same]] = False
    return np.where(ok, pos, -1).astype(np.int64)


def _check(tg: TravelGraph, pts: EdgeSnap, what: str, *, one: bool = False) -> None:
    if not isinstance(pts, EdgeSnap):
        msg = f"{what} must be an EdgeSnap (from snap_to_edges), got {type(pts).__name__}"
        raise ValidationError(msg)
    if one and len(pts.edge) != 1:
        msg = f"{what} must hold exactly one point, got {len(pts.edge)}"
        raise ValidationError(msg)
    bad = (pts.edge < 0) | (pts.edge >= tg.n_edges)
    bad[~bad] = ~tg.is_road_edge()[pts.edge[~bad]]
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        msg = f"{what}: point {i} is not on the road network (edge {int(pts.edge[i])})"
        raise ValidationError(msg)
    f = pts.fraction
    if not np.all((f >= 0) & (f <= 1)):
        msg = f"{what}: fractions must lie in [0, 1]"
        raise ValidationError(msg)


def _part(share: npt.ArrayLike, time_s: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Return ``share * time_s``, 0 where the share is 0 (a closed edge's ``inf`` included)."""
    share, time_s = np.broadcast_arrays(np.asarray(share, dtype=np.float64),
                                        np.asarray(time_s, dtype=np.float64))
    return np.multiply(share, time_s, out=np.zeros(share.shape), where=share > 0)


_Entries = tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.int64]]


def _leaving(tg: TravelGraph, pts: EdgeSnap) -> _Entries:
    """Return ``(node, seconds, point)`` entries: the nodes a drive from each point reaches."""
    e, f = pts.edge, pts.fraction
    tw = edge_twins(tg)[e]
    tails, heads = tg.road_ends()
    idx = np.arange(len(e))
    back = (tw >= 0) | (f == 0)  # driving back along the twin, or standing at the tail
    # the twin's head is the tail arrived at from this road; a point at a node is the node
    ahead = np.where(f == 1, heads[e], tg.indices[e]).astype(np.int64)
    behind = np.where(f == 0, tails[e], tg.indices[np.maximum(tw, 0)])[back]
    node = np.concatenate([ahead, behind.astype(np.int64)])
    t_back = np.where(tw >= 0, _part(f, tg.travel_time[np.maximum(tw, 0)]), 0.0)[back]
    sec = np.concatenate([_part(1 - f, tg.travel_time[e]), t_back])
    return node, sec, np.concatenate([idx, idx[back]])


def _arriving(tg: TravelGraph, pts: EdgeSnap) -> _Entries:
    """Return ``(node, seconds, point)`` entries: the nodes a drive to each point comes from."""
    e, f = pts.edge, pts.fraction
    tw = edge_twins(tg)[e]
    tails, heads = tg.road_ends()
    search_tails = tg.cached(_search.tails)
    idx = np.arange(len(e))
    back = (tw >= 0) | (f == 1)  # arriving along the twin, or the point is the head
    # a point at a node is reached by any arrival there (its sink when the node is split)
    behind = np.where(f == 0, tg.target_node[tails[e]], search_tails[e])
    ahead = np.where(f == 1, tg.target_node[heads[e]], search_tails[np.maximum(tw, 0)])[back]
    node = np.concatenate([behind, ahead.astype(np.int64)])
    t_back = np.where(tw >= 0, _part(1 - f, tg.travel_time[np.maximum(tw, 0)]), 0.0)[back]
    sec = np.concatenate([_part(f, tg.travel_time[e]), t_back])
    return node, sec, np.concatenate([idx, idx[back]])


def _direct(tg: TravelGraph, a: EdgeSnap, b: EdgeSnap) -> npt.NDArray[np.float64]:
    """Return ``(len(a), len(b))`` seconds along the road itself (inf: not on one road)."""
    tw = edge_twins(tg)
    ea, fa = a.edge[:, None], a.fraction[:, None]
    eb, fb = b.edge[None, :], b.fraction[None, :]
    same = ea == eb
    opposite = (tw[ea] == eb) & (tw[ea] >= 0)
    fb_on_a = np.where(same, fb, 1 - fb)
    on_road = same | opposite
    ahead = on_road & (fb_on_a >= fa)
    behind = on_road & ~ahead & (tw[ea] >= 0)
    tt = tg.travel_time
    out = np.full(on_road.shape, np.inf)
    fwd = _part(fb_on_a - fa, tt[ea])
    bwd = _part(fa - fb_on_a, tt[np.maximum(tw[ea], 0)])
    out[ahead] = np.broadcast_to(fwd, out.shape)[ahead]
    out[behind] = np.broadcast_to(bwd, out.shape)[behind]
    return out


def travel_times_from_point(
    tg: TravelGraph,
    origin: EdgeSnap,
    targets: npt.ArrayLike | None = None,
    *,
    cutoff_s: float | None = None,
    method: Method = "auto",
) -> npt.NDArray[np.float64]:
    """Return fastest travel times, seconds, from one on-road point to nodes.

    Parameters
    ----------
    tg
        The graph.
    origin
        One point from :func:`~navigator.roads.snap_to_edges`.
    targets
        Node indices wanted (None: every node).
    cutoff_s, method
        As in :func:`~navigator.roads.travel_times_from`.

    Returns
    -------
    numpy.ndarray
        Seconds per target (or per node), ``inf`` where unreachable or beyond the cutoff.
    """
    _check(tg, origin, "origin", one=True)
    node, sec, _ = _leaving(tg, origin)
    wanted = None if targets is None else _nodes(tg, targets, "targets")
    return _search.times_between(tg, node, sec, wanted, _cutoff(cutoff_s), "from", method)


def travel_times_to_point(
    tg: TravelGraph,
    destination: EdgeSnap,
    sources: npt.ArrayLike | None = None,
    *,
    cutoff_s: float | None = None,
    method: Method = "auto",
) -> npt.NDArray[np.float64]:
    """Return fastest travel times, seconds, from nodes to one on-road point.

    Parameters are those of :func:`travel_times_from_point`, the other way round.

    Returns
    -------
    numpy.ndarray
        Seconds per source (or per node), ``inf`` where the point cannot be reached.
    """
    _check(tg, destination, "destination", one=True)
    node, sec, _ = _arriving(tg, destination)
    wanted = None if sources is None else _nodes(tg, sources, "sources")
    return _search.times_between(tg, node, sec, wanted, _cutoff(cutoff_s), "to", method)


def point_travel_time_matrix(
    tg: TravelGraph,
    origins: EdgeSnap,
    destinations: EdgeSnap,
    *,
    cutoff_s: float | None = None,
) -> npt.NDArray[np.float64]:
    """Return the fastest travel time, seconds, between every pair of on-road points.

    Contraction hierarchy buckets over both ends of every point's edge, and the drive along
    the road itself where two points share one. Use it for one-to-many too: a client to
    every open bed, every team to one incident.

    Returns
    -------
    numpy.ndarray
        ``(len(origins), len(destinations))`` seconds, ``inf`` where unreachable or beyond
        the cutoff.
    """
    _check(tg, origins, "origins")
    _check(tg, destinations, "destinations")
    cutoff = _cutoff(cutoff_s)
    n_o, n_d = len(origins.edge), len(destinations.edge)
    if n_o == 0 or n_d == 0:
        return np.zeros((n_o, n_d))
    s, s_sec, s_own = _leaving(tg, origins)
    t, t_sec, t_own = _arriving(tg, destinations)
    out = _search.many_to_many(tg, s, s_sec, s_own, n_o, t, t_sec, t_own, n_d, cutoff)
    direct = _direct(tg, origins, destinations)
    direct[direct > cutoff] = np.inf
    return np.minimum(out, direct)


def nearest_point_facility(
    tg: TravelGraph,
    facilities: EdgeSnap,
    *,
    direction: Direction = "from",
    cutoff_s: float | None = None,
    method: Method = "auto",
) -> NearestFacility:
    """Return each node's time to its nearest on-road facility, by one multi-source search.

    As :func:`~navigator.roads.nearest_facility`, with facilities snapped to edges;
    ``facility`` is the position in ``facilities``.
    """
    _check(tg, facilities, "facilities")
    if len(facilities.edge) == 0:
        msg = "facilities is empty"
        raise ValidationError(msg)
    _search.csr(tg, direction)
    _workspace.check_method(method)
    node, sec, owner = (_leaving if direction == "from" else _arriving)(tg, facilities)
    dist, origin = _search.nearest(tg, node, sec, direction, _cutoff(cutoff_s), method)
    return NearestFacility(time_s=dist, facility=np.where(origin >= 0, owner[origin], -1))


def point_isochrone(
    tg: TravelGraph,
    origin: EdgeSnap,
    limit_s: float,
    *,
    direction: Direction = "from",
    hull: Literal["concave", "convex"] | None = "concave",
    ratio: float = 0.2,
    method: Method = "auto",
) -> Isochrone:
    """Return the nodes reachable from (or reaching) an on-road point within ``limit_s``.

    As :func:`~navigator.roads.isochrone`; the hull also covers the point itself.
    """
    _check(tg, origin, "origin", one=True)
    _search.csr(tg, direction)
    _workspace.check_method(method)
    _check_hull(hull)
    limit = _cutoff(limit_s)
    node, sec, _ = (_leaving if direction == "from" else _arriving)(tg, origin)
    nodes, time_s = _search.reached(tg, node, sec, limit, direction, method)
    polygon = None
    if hull is not None:
        polygon = hull_polygon(np.append(tg.lon[nodes], origin.lon),
                               np.append(tg.lat[nodes], origin.lat), hull, ratio)
    return Isochrone(nodes=nodes, time_s=time_s, polygon=polygon)


def points_along(tg: TravelGraph, edges: npt.ArrayLike, fractions: npt.ArrayLike) -> EdgeSnap:
    """Return on-road points at length ``fractions`` of ``edges``, placed on their geometry.

    The inverse of :func:`~navigator.roads.snap_to_edges` for points already on the road
    (``distance_m`` 0); lon/lat in EPSG:4326.
    """
    e = np.atleast_1d(np.asarray(edges, dtype=np.int64))
    f = np.atleast_1d(np.asarray(fractions, dtype=np.float64))
    pts = EdgeSnap(edge=e, distance_m=np.zeros(len(e)), lon=np.zeros(len(e)),
                   lat=np.zeros(len(e)), fraction=f)
    _check(tg, pts, "points")
    for i, (a, b) in enumerate(zip(e.tolist(), f.tolist(), strict=True)):
        pts.lon[i], pts.lat[i] = _piece(tg, a, b, b)[0]
    return pts


#: Edge polylines one graph keeps for :func:`_piece` (forgotten all at once beyond it).
_LINES_MAX = 65536


def _lines(tg: TravelGraph) -> dict[int, tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]]:
    return {}


def _line(tg: TravelGraph, e: int) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Return edge ``e``'s (lon, lat) vertices and the metres along it at each, kept per graph.

    Searches cut the same few edges (at their sites and clients) on every request.
    """
    lines = tg.cached(_lines)
    found = lines.get(e)
    if found is None:
        verts, _ = edge_vertices(tg, np.array([e], dtype=np.int64))
        seg = great_circle_m(verts[:-1, 1], verts[:-1, 0], verts[1:, 1], verts[1:, 0])
        cum = np.concatenate([[0.0], np.cumsum(seg)])
        verts.setflags(write=False)  # shared by every caller: never handed out, only cut
        cum.setflags(write=False)
        found = (verts, cum)
        if len(lines) >= _LINES_MAX:
            lines.clear()
        lines[e] = found
    return found


def _piece(tg: TravelGraph, e: int, f0: float, f1: float) -> npt.NDArray[np.float64]:
    """Return the (lon, lat) polyline of edge ``e`` between length fractions ``f0 <= f1``."""
    verts, cum = _line(tg, e)
    total = cum[-1]
    if total <= 0:
        return verts[[0, -1]]
    at = np.array([f0, f1]) * total
    inner = (cum > at[0]) & (cum < at[1])
    ends = np.column_stack([np.interp(at, cum, verts[:, 0]), np.interp(at, cum, verts[:, 1])])
    return np.vstack([ends[:1], verts[inner], ends[1:]])


def route_between_points(tg: TravelGraph, origin: EdgeSnap, destination: EdgeSnap) -> Route:
    """Return the fastest route between two on-road points, its geometry cut at both.

    ``edges`` lists every edge driven on, the first and last only partly when the points lie
    inside them; ``nodes`` the graph nodes passed (empty when both points are on one road and
    the route stays on it); ``travel_time_s`` and ``length_m`` include the partial edges.

    Raises
    ------
    UnreachableError
        If the destination cannot be reached from the origin.
    """
    import shapely

    _check(tg, origin, "origin", one=True)
    _check(tg, destination, "destination", one=True)
    s, s_sec, _ = _leaving(tg, origin)
    t, t_sec, _ = _arriving(tg, destination)
    time_s, path, first = _search.shortest_path(tg, s, s_sec, t, t_sec)
    direct = float(_direct(tg, origin, destination)[0, 0])
    tw = edge_twins(tg)
    ea, fa = int(origin.edge[0]), float(origin.fraction[0])
    eb, fb = int(destination.edge[0]), float(destination.fraction[0])
    start = np.array([[origin.lon[0], origin.lat[0]]])
    end = np.array([[destination.lon[0], destination.lat[0]]])
    if direct <= time_s:
        if not np.isfinite(direct):
            msg = "the destination cannot be reached from the origin by road"
            raise UnreachableError(msg)
        fb_on_a = fb if eb == ea else 1 - fb
        e, f0, f1 = (ea, fa, fb_on_a) if fb_on_a >= fa else (int(tw[ea]), 1 - fa, 1 - fb_on_a)
        coords = np.vstack([start, _piece(tg, e, f0, f1)[1:-1], end])
        return _route(shapely, np.zeros(0, dtype=np.int64), np.array([e], dtype=np.int64),
                      coords, direct, (f1 - f0) * float(tg.length[e]))
    if not np.isfinite(time_s):
        msg = "the destination cannot be reached from the origin by road"
        raise UnreachableError(msg)
    last = int(tg.indices[path[-1]]) if len(path) else first
    parts = [start]
    edges: list[npt.NDArray[np.int64]] = []
    length = float(tg.length[path].sum())
    # leaving: along the origin's edge to its head, or back along the twin to its tail
    lead = (ea, fa) if first == int(s[0]) else (int(tw[ea]), 1 - fa)  # s[0]: ahead
    if lead[0] >= 0 and lead[1] < 1:
        parts.append(_piece(tg, lead[0], lead[1], 1.0)[1:])
        edges.append(np.array([lead[0]], dtype=np.int64))
        length += (1 - lead[1]) * float(tg.length[lead[0]])
    nodes = turns.intersections(tg, np.concatenate([[first], tg.indices[path]]).astype(np.int64))
    parts.append(_search.path_coords(tg, path) if len(path) else
                 np.array([[tg.lon[nodes[0]], tg.lat[nodes[0]]]]))
    edges.append(turns.road_edges(tg, path))
    # arriving: along the destination's edge from its tail, or along the twin from its head
    tail_in = (eb, fb) if last == int(t[0]) else (int(tw[eb]), 1 - fb)
    if tail_in[0] >= 0 and tail_in[1] > 0:
        parts.append(_piece(tg, tail_in[0], 0.0, tail_in[1])[:-1])
        edges.append(np.array([tail_in[0]], dtype=np.int64))
        length += tail_in[1] * float(tg.length[tail_in[0]])
    parts.append(end)
    return _route(shapely, nodes, np.concatenate(edges), np.vstack(parts), time_s, length)


def _route(shapely, nodes, edges, coords, time_s, length_m) -> Route:  # type: ignore[no-untyped-def]
    keep = np.ones(len(coords), dtype=bool)
    keep[1:] = np.any(coords[1:] != coords[:-1], axis=1)
    coords = coords[keep]
    if len(coords) < 2:
        coords = np.vstack([coords, coords])
    return Route(nodes=nodes, edges=edges, geometry=shapely.LineString(coords),
                 travel_time_s=float(time_s), length_m=float(length_m))
