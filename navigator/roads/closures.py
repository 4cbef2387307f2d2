"""Road closures on a TravelGraph (stand-in until the engine branch lands its exact version)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from navigator.roads import snapping
from navigator.roads.build import contraction_hierarchy
from navigator.roads.snapping import edge_vertices

if TYPE_CHECKING:
    import shapely

    from navigator.roads.graph import TravelGraph


def edges_in_area(tg: TravelGraph, geometry: shapely.Geometry, *,
                  tolerance_m: float = 5.0) -> npt.NDArray[np.int64]:
    """Return the ids of edges a closure geometry (EPSG:4326) takes out of use.

    A Polygon/MultiPolygon closes every edge it intersects; a LineString/MultiLineString
    every edge within ``tolerance_m`` metres of it (both directions of a road).
    """
    import shapely

    verts, owner = edge_vertices(tg)
    lines = shapely.linestrings(verts, indices=owner)
    if geometry.geom_type in ("Polygon", "MultiPolygon"):
        hit = shapely.intersects(lines, geometry)
    else:
        deg = tolerance_m / 111_320.0
        hit = shapely.dwithin(lines, geometry, deg)
    return np.flatnonzero(hit).astype(np.int64)


def with_closures(tg: TravelGraph, closed_edges: npt.ArrayLike) -> TravelGraph:
    """Return ``tg`` with ``closed_edges`` unusable (``tg`` itself when there are none)."""
    closed = np.unique(np.asarray(closed_edges, dtype=np.int64))
    if closed.shape[0] == 0:
        return tg
    tt = tg.travel_time.copy()
    tt[closed] = np.inf
    rtt = tg.rtravel_time.copy()
    rtt[np.isin(tg.redge, closed)] = np.inf
    ch = contraction_hierarchy(tg.indptr, tg.indices, tt)  # exact, if slow (stand-in)
    out = dataclasses.replace(tg, closed_edges=closed, travel_time=tt, rtravel_time=rtt,
                              _memo={}, **ch)
    out._memo[(snapping._segment_index, ())] = _open_segments(tg, closed)
    out._memo[(snapping._node_tree, ())] = _open_nodes(tg, tt)
    return out


class _NodeSubTree:
    """KD-tree over the nodes still on an open road, answering in node ids."""

    def __init__(self, tree: object, nodes: npt.NDArray[np.int64]) -> None:
        self.tree, self.nodes = tree, nodes

    def query(self, p: npt.NDArray[np.float64]) -> tuple[object, npt.NDArray[np.int64]]:
        d, i = self.tree.query(p)  # type: ignore[attr-defined]
        return d, self.nodes[np.asarray(i, dtype=np.int64)]


def _open_nodes(tg: TravelGraph, tt: npt.NDArray[np.float64]) -> _NodeSubTree:
    from scipy.spatial import cKDTree

    open_edge = np.isfinite(tt)
    tails = tg.edge_sources()
    out_ok = np.bincount(tails[open_edge], minlength=tg.n_nodes) > 0
    in_ok = np.bincount(tg.indices[open_edge], minlength=tg.n_nodes) > 0
    nodes = np.flatnonzero(out_ok & in_ok).astype(np.int64)
    xy = snapping._local_xy(tg, tg.lon[nodes], tg.lat[nodes])
    return _NodeSubTree(cKDTree(xy), nodes)


def _open_segments(tg: TravelGraph, closed: npt.NDArray[np.int64]) -> tuple[object, ...]:
    """Return the base graph's segment index without the closed edges' pieces (snapping)."""
    from scipy.spatial import cKDTree

    index, a, b, seg_edge, seg_start, edge_total = tg.cached(snapping._segment_index)
    keep = ~np.isin(seg_edge[index.owner], closed)
    tree = snapping._PieceTree(cKDTree(index.tree.data[keep]), index.owner[keep])
    return tree, a, b, seg_edge, seg_start, edge_total
