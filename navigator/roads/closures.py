"""Road closures on a TravelGraph (stand-in until the engine branch lands its exact version)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

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
    return dataclasses.replace(tg, closed_edges=closed, travel_time=tt, rtravel_time=rtt,
                               _memo={}, **ch)
