"""Snapping points (EPSG:4326) to a road network's nodes or to the nearest point on its edges.

Distances are computed in local metres (equirectangular around the graph's median point); the
KD-trees are built on first use and kept in the graph's memo (:meth:`TravelGraph.cached`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from navigator.errors import UnreachableError, ValidationError
from navigator.roads.osm import EARTH_RADIUS_M, great_circle_m

if TYPE_CHECKING:
    from navigator.roads.graph import TravelGraph

__all__ = ["EdgeSnap", "Snap", "edge_vertices", "snap", "snap_to_edges"]

#: Metres per degree of latitude on the mean Earth radius.
_M_PER_DEG = np.pi / 180 * EARTH_RADIUS_M


@dataclass(frozen=True)
class Snap:
    """Points snapped to graph nodes.

    Attributes
    ----------
    node
        Node index per point (-1 where farther than ``max_snap_m`` with ``strict=False``).
    distance_m
        Great-circle distance from each point to its node, metres.
    """

    node: npt.NDArray[np.int64]
    distance_m: npt.NDArray[np.float64]


@dataclass(frozen=True)
class EdgeSnap:
    """Points snapped to the nearest point on an edge.

    Attributes
    ----------
    edge
        Edge id per point (-1 where too far with ``strict=False``).
    distance_m
        Distance from each point to the road, metres.
    lon, lat
        The nearest point on the edge, degrees, EPSG:4326.
    fraction
        Position of that point along the edge's length, 0 at its tail, 1 at its head.

    The on-road point queries of :mod:`navigator.roads.points` take these as origins and
    destinations; :meth:`take` picks some of the points.
    """

    edge: npt.NDArray[np.int64]
    distance_m: npt.NDArray[np.float64]
    lon: npt.NDArray[np.float64]
    lat: npt.NDArray[np.float64]
    fraction: npt.NDArray[np.float64]

    def __len__(self) -> int:
        """Return the number of points."""
        return int(self.edge.shape[0])

    def take(self, index: npt.ArrayLike) -> EdgeSnap:
        """Return the points at ``index`` (an integer gives a one-point EdgeSnap)."""
        i = np.atleast_1d(np.asarray(index, dtype=np.int64))
        return EdgeSnap(edge=self.edge[i], distance_m=self.distance_m[i], lon=self.lon[i],
                        lat=self.lat[i], fraction=self.fraction[i])


def _check_points(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[
    npt.NDArray[np.float64], npt.NDArray[np.float64]
]:
    x = np.atleast_1d(np.asarray(lon, dtype=np.float64))
    y = np.atleast_1d(np.asarray(lat, dtype=np.float64))
    if x.shape != y.shape or x.ndim != 1:
        msg = f"lon and lat must be 1-d arrays of one length, got {x.shape} and {y.shape}"
        raise ValidationError(msg)
    ok = (np.abs(x) <= 180) & (np.abs(y) <= 90)  # NaN and inf compare False: refused too
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        msg = f"point {i} (lon={x[i]}, lat={y[i]}) is not a valid EPSG:4326 coordinate"
        raise ValidationError(msg)
    return x, y


def local_xy(tg: TravelGraph, lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64]
             ) -> npt.NDArray[np.float64]:
    """Return points (EPSG:4326) in the graph's local metres (equirectangular, an affine map)."""
    lon0, lat0, cos0 = tg.cached(_frame)
    k = _M_PER_DEG
    out = np.empty((len(lon), 2))
    out[:, 0] = (lon - lon0) * k * cos0
    out[:, 1] = (lat - lat0) * k
    return out


def _centre(tg: TravelGraph) -> tuple[float, float]:
    """Return the graph's median node (lon, lat): the origin of local metres."""
    return float(np.median(tg.lon)), float(np.median(tg.lat))


def _frame(tg: TravelGraph) -> tuple[float, float, np.float64]:
    """Return the origin of local metres and the cosine of its latitude (computed once)."""
    lon0, lat0 = tg.cached(_centre)
    return lon0, lat0, np.cos(np.deg2rad(lat0))


def _open_nodes(tg: TravelGraph) -> npt.NDArray[np.int64] | None:
    """Return the nodes touching an open edge when roads are closed (None: every node)."""
    if not tg.closures_in_effect:
        return None
    ok = np.isfinite(tg.travel_time)
    touched = np.zeros(tg.n_nodes, dtype=bool)
    tails, heads = tg.road_ends()
    touched[tails[ok]] = True
    touched[heads[ok]] = True
    return np.flatnonzero(touched).astype(np.int64)


def _node_tree(tg: TravelGraph) -> tuple[Any, npt.NDArray[np.int64] | None]:
    from scipy.spatial import cKDTree

    ids = _open_nodes(tg)
    if ids is not None and ids.size == 0:
        return None, ids
    nodes = slice(None) if ids is None else ids
    return cKDTree(local_xy(tg, tg.lon[nodes], tg.lat[nodes])), ids


def _drop_far(ids: npt.NDArray[np.int64], x: npt.NDArray[np.float64], y: npt.NDArray[np.float64],
              distance_m: npt.NDArray[np.float64], *, max_snap_m: float, strict: bool) -> None:
    """Set ``ids`` to -1 where ``distance_m`` exceeds ``max_snap_m``, or raise if ``strict``."""
    far = distance_m > max_snap_m
    if far.any():
        if strict:
            i = int(np.flatnonzero(far)[0])
            msg = (f"point {i} (lon={x[i]:.6f}, lat={y[i]:.6f}) is {distance_m[i]:.0f} m from "
                   f"the road network, more than max_snap_m={max_snap_m:g}")
            raise UnreachableError(msg)
        ids[far] = -1


def snap(
    tg: TravelGraph,
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
    *,
    max_snap_m: float = 500.0,
    strict: bool = True,
) -> Snap:
    """Snap points (EPSG:4326) to their nearest graph nodes.

    A KD-tree of the nodes in local metres (equirectangular around the graph's median point) is
    built on first use and kept with the graph; distances are great-circle metres. On a
    simplified graph the nodes are intersections and dead ends, not every shape point.
    On a graph with road closures (:func:`~navigator.roads.with_closures`) only nodes touching
    an open road are candidates; ``distance_m`` tells how far the point moved.

    Parameters
    ----------
    tg
        The graph.
    lon, lat
        Point coordinates, degrees, EPSG:4326 (1-d arrays of one length).
    max_snap_m
        Largest accepted distance, metres (``Settings.max_snap_m``).
    strict
        Raise for a point that is too far (default) or return node -1 for it.

    Returns
    -------
    Snap

    Raises
    ------
    ValidationError
        If a coordinate is NaN or outside lon [-180, 180], lat [-90, 90].
    UnreachableError
        If ``strict`` and a point is farther than ``max_snap_m`` from every node.
    """
    x, y = _check_points(lon, lat)
    tree, ids = tg.cached(_node_tree)
    if tree is None:  # every road closed
        _drop_far(np.zeros(len(x), dtype=np.int64), x, y, np.full(len(x), np.inf),
                  max_snap_m=max_snap_m, strict=strict)
        return Snap(node=np.full(len(x), -1, dtype=np.int64), distance_m=np.full(len(x), np.inf))
    _, node = tree.query(local_xy(tg, x, y))
    node = np.asarray(node, dtype=np.int64).reshape(-1)
    if ids is not None:
        node = ids[node]
    dist = np.asarray(great_circle_m(y, x, tg.lat[node], tg.lon[node]), dtype=np.float64)
    _drop_far(node, x, y, dist, max_snap_m=max_snap_m, strict=strict)
    return Snap(node=node, distance_m=dist)


_PIECE_M = 50.0  # edges are indexed in pieces no longer than this


def snap_to_edges(
    tg: TravelGraph,
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
    *,
    max_snap_m: float = 500.0,
    strict: bool = True,
) -> EdgeSnap:
    """Snap points (EPSG:4326) to the nearest point on any edge's geometry.

    Distances are exact in local metres: edge segments are indexed by the midpoints of pieces at
    most 50 m long, and every segment that could be nearer than the best candidate is checked.
    On a graph with road closures only open edges are indexed: a point on a closed road or
    inside a closed area snaps to the nearest open road, ``distance_m`` telling how far.
    Parameters and errors are those of :func:`snap`.

    Returns
    -------
    EdgeSnap
    """
    x, y = _check_points(lon, lat)
    tree, a, b, seg_edge, seg_start_m, edge_len = tg.cached(_segment_index)
    if tree is None:  # every road closed
        far = np.full(len(x), np.inf)
        _drop_far(np.zeros(len(x), dtype=np.int64), x, y, far, max_snap_m=max_snap_m,
                  strict=strict)
        return EdgeSnap(edge=np.full(len(x), -1, dtype=np.int64), distance_m=far, lon=x.copy(),
                        lat=y.copy(), fraction=np.zeros(len(x)))
    p = local_xy(tg, x, y)
    d0, _ = tree.query(p)
    out_edge = np.full(len(x), -1, dtype=np.int64)
    out_d = np.empty(len(x))
    out_xy = np.empty((len(x), 2))
    out_f = np.empty(len(x))
    for i, cands in enumerate(tree.query_ball_point(p, np.asarray(d0) + _PIECE_M + 1e-6)):
        c = np.asarray(cands, dtype=np.int64)
        ac = a[c]
        ab = b[c] - ac
        ax, ay = ab[:, 0], ab[:, 1]
        pa = p[i] - ac
        ll = ax * ax + ay * ay
        t = np.clip((pa[:, 0] * ax + pa[:, 1] * ay) / np.where(ll > 0, ll, 1), 0, 1)
        q = ac + t[:, None] * ab
        d = np.hypot(*(q - p[i]).T)
        j = int(np.argmin(d))
        e = seg_edge[c[j]]
        out_edge[i], out_d[i], out_xy[i] = e, d[j], q[j]
        along = seg_start_m[c[j]] + t[j] * np.sqrt(ll[j])
        total = edge_len[e]
        out_f[i] = min(1.0, along / total) if total > 0 else 0.0
    lon0, lat0, cos0 = tg.cached(_frame)
    k = _M_PER_DEG
    plon = lon0 + out_xy[:, 0] / (k * cos0)
    plat = lat0 + out_xy[:, 1] / k
    _drop_far(out_edge, x, y, out_d, max_snap_m=max_snap_m, strict=strict)
    return EdgeSnap(edge=out_edge, distance_m=out_d, lon=plon, lat=plat, fraction=out_f)


def _segment_index(tg: TravelGraph) -> tuple[Any, ...]:
    from scipy.spatial import cKDTree

    verts, vert_edge = edge_vertices(tg)
    xy = local_xy(tg, verts[:, 0], verts[:, 1])
    same = vert_edge[1:] == vert_edge[:-1]  # consecutive vertices of one edge form a segment
    a, b, seg_edge = xy[:-1][same], xy[1:][same], vert_edge[:-1][same]
    seg_len = np.hypot(*(b - a).T)
    cum = np.cumsum(seg_len)
    edge_total = np.bincount(seg_edge, weights=seg_len, minlength=tg.n_edges)
    edge_first = np.concatenate([[0.0], cum])[np.searchsorted(seg_edge, seg_edge)]
    seg_start = np.concatenate([[0.0], cum[:-1]]) - edge_first
    if tg.closures_in_effect or tg.turn_restricted:
        # index open roads only: nothing snaps onto a closed edge, a turn edge or a ghost
        keep = np.isfinite(tg.travel_time[seg_edge]) & tg.is_road_edge()[seg_edge]
        a, b, seg_edge, seg_start, seg_len = (a[keep], b[keep], seg_edge[keep],
                                              seg_start[keep], seg_len[keep])
        if not keep.any():
            return None, a, b, seg_edge, seg_start, edge_total
    pieces = np.maximum(1, np.ceil(seg_len / _PIECE_M)).astype(np.int64)
    owner = np.repeat(np.arange(len(a)), pieces)
    k = np.arange(len(owner)) - np.repeat(np.cumsum(pieces) - pieces, pieces)
    frac = (k + 0.5) / pieces[owner]
    mid = a[owner] + frac[:, None] * (b[owner] - a[owner])
    # unbalanced, uncompacted: ~3x quicker to build (a CLI command builds it once), same answers
    tree = cKDTree(mid, balanced_tree=False, compact_nodes=False)
    # the tree indexes pieces; map piece -> segment through owner
    return _PieceTree(tree, owner), a, b, seg_edge, seg_start, edge_total


class _PieceTree:
    """KD-tree over piece midpoints answering in segment numbers."""

    def __init__(self, tree: Any, owner: npt.NDArray[np.int64]) -> None:
        self.tree, self.owner = tree, owner

    def query(self, p: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.float64], Any]:
        d, i = self.tree.query(p)
        return d, self.owner[i]

    def query_ball_point(self, p: npt.NDArray[np.float64], r: npt.NDArray[np.float64]) -> Any:
        return [np.unique(self.owner[np.asarray(c, dtype=np.int64)])
                for c in self.tree.query_ball_point(p, r)]


def edge_vertices(tg: TravelGraph, edges: npt.ArrayLike | None = None) -> tuple[
    npt.NDArray[np.float64], npt.NDArray[np.int64]
]:
    """Return the (lon, lat) vertices of edges in order, and the edge of each vertex.

    Parameters
    ----------
    tg
        The graph.
    edges
        Edge ids (all edges when None).

    Returns
    -------
    vertices : numpy.ndarray
        ``(k, 2)`` degrees, EPSG:4326: tail node, shape points, head node of each edge.
    edge : numpy.ndarray
        Position in ``edges`` of each vertex.
    """
    e = np.arange(tg.n_edges) if edges is None else np.asarray(edges, dtype=np.int64)
    tails, heads = tg.road_ends()
    inner = tg.geom_ptr[e + 1] - tg.geom_ptr[e]
    count = inner + 2
    start = np.concatenate([[0], np.cumsum(count)[:-1]]).astype(np.int64)
    total = int(count.sum())
    owner = np.repeat(np.arange(len(e)), count)
    k = np.arange(total) - start[owner]
    lon = np.empty(total)
    lat = np.empty(total)
    head = k == count[owner] - 1
    tail = k == 0
    mid = ~(head | tail)
    lon[tail], lat[tail] = tg.lon[tails[e]], tg.lat[tails[e]]
    hn = heads[e]
    lon[head], lat[head] = tg.lon[hn], tg.lat[hn]
    gi = tg.geom_ptr[e][owner[mid]] + k[mid] - 1
    lon[mid], lat[mid] = tg.geom_lon[gi], tg.geom_lat[gi]
    return np.column_stack([lon, lat]), owner
