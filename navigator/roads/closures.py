"""Road closures: find the edges a closure geometry takes out, and derive a graph without them.

Public API
----------
- :func:`edges_in_area` - forward edge ids closed by a polygon or by picked road segments.
- :func:`with_closures` - a graph with the same node and edge ids in which those edges cannot
  be used (travel time ``inf``); every query of :mod:`navigator.roads` answers exactly on it.

How the queries stay exact: the derived graph keeps the contraction hierarchy (CH) of the
graph it came from, which is a lower bound once roads close. Until a CH built for the closed
travel times is swapped in (re-contracted in a background thread by default, seconds on a
city), sweeps and matrices run bounded Dijkstra searches, and point-to-point routes keep the
old CH's path when it avoids every closed edge (closing only raises times, so it is still the
fastest) and search by Dijkstra otherwise. Snapping on the derived graph never lands on a
closed edge: a point inside a closed area snaps to the nearest open road, and its
``distance_m`` says how far that is.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt

from navigator.errors import ValidationError
from navigator.roads import _search
from navigator.roads.snapping import edge_vertices, local_xy

if TYPE_CHECKING:
    import shapely

    from navigator.roads.graph import TravelGraph

log = logging.getLogger(__name__)

__all__ = ["Contract", "edges_in_area", "with_closures"]

#: When :func:`with_closures` re-contracts the hierarchy for the closed travel times.
Contract = Literal["background", "now", "never"]
_CONTRACT = ("background", "now", "never")


def _edge_tree(tg: TravelGraph) -> shapely.STRtree:
    """Return an STRtree of every edge's drawn shape in local metres (tree index = edge id)."""
    import shapely

    verts, owner = edge_vertices(tg)
    xy = local_xy(tg, verts[:, 0], verts[:, 1])
    return shapely.STRtree(shapely.linestrings(xy, indices=owner))


def edges_in_area(tg: TravelGraph, geometry: shapely.Geometry, *,
                  tolerance_m: float = 5.0) -> npt.NDArray[np.int64]:
    """Return the forward edge ids a closure geometry closes, sorted and unique.

    Parameters
    ----------
    tg
        The graph.
    geometry
        EPSG:4326. A ``Polygon`` / ``MultiPolygon`` (a closed area) closes every edge whose
        drawn shape (end nodes and shape points) intersects it. A ``LineString`` /
        ``MultiLineString`` (picked road segments) closes every edge whose whole shape lies
        within ``tolerance_m`` of it: both directions of a two-way road, not the cross
        streets that merely touch it.
    tolerance_m
        Metres, for lines.

    Returns
    -------
    numpy.ndarray
        Edge ids of roads (empty when the geometry misses the network); the turn edges inside
        intersections split by turn restrictions are never closed.

    Raises
    ------
    ValidationError
        If the geometry is of another type, empty, invalid, not finite or outside EPSG:4326,
        or the tolerance is negative.
    """
    import shapely

    if not isinstance(geometry, shapely.Polygon | shapely.MultiPolygon | shapely.LineString
                      | shapely.MultiLineString):
        msg = ("a closure must be a Polygon, MultiPolygon, LineString or MultiLineString, got "
               f"{type(geometry).__name__}")
        raise ValidationError(msg)
    if geometry.is_empty:
        msg = "the closure geometry is empty"
        raise ValidationError(msg)
    coords = shapely.get_coordinates(geometry)
    if not (np.isfinite(coords).all() and (np.abs(coords[:, 0]) <= 180).all()
            and (np.abs(coords[:, 1]) <= 90).all()):
        msg = "the closure geometry has coordinates outside EPSG:4326 (lon, lat in degrees)"
        raise ValidationError(msg)
    if not shapely.is_valid(geometry):
        msg = f"the closure geometry is invalid: {shapely.is_valid_reason(geometry)}"
        raise ValidationError(msg)
    tol = float(tolerance_m)
    if not np.isfinite(tol) or tol < 0:
        msg = f"tolerance_m must be a non-negative number of metres, got {tolerance_m!r}"
        raise ValidationError(msg)
    local = shapely.transform(geometry, lambda c: local_xy(tg, c[:, 0], c[:, 1]))
    tree = tg.cached(_edge_tree)
    if isinstance(local, shapely.Polygon | shapely.MultiPolygon):
        hits = tree.query(local, predicate="intersects")
    else:
        hits = tree.query(shapely.buffer(local, max(tol, 1e-6)), predicate="covers")
    hits = np.unique(np.asarray(hits, dtype=np.int64))
    return hits[tg.is_road_edge()[hits]]  # roads only: turns inside a junction stay open


def with_closures(tg: TravelGraph, closed_edges: npt.ArrayLike, *,
                  contract: Contract = "background") -> TravelGraph:
    """Return a graph in which ``closed_edges`` cannot be used; same node and edge ids.

    Closed edges get travel time ``inf`` in ``travel_time`` and ``rtravel_time`` (lengths are
    unchanged); ``closed_edges`` of the result is the sorted union with those already closed
    on ``tg``, and ``closures_in_effect`` is True. Node and edge ids snapped or stored for
    ``tg`` stay valid. Every routing and point query is exact on the result (see the module
    docstring for how the contraction hierarchy is kept honest).

    Parameters
    ----------
    tg
        The graph (as built, or itself derived).
    closed_edges
        Edge ids to close (repeats allowed); empty: ``tg`` itself is returned.
    contract
        ``"background"`` (default): answer at once by Dijkstra where the old hierarchy could
        be wrong, and build a hierarchy for the closed travel times in a daemon thread, used by
        every query once ready (seconds on the 50k-node Porto graph, see
        ``benchmarks/README.md``); ``"now"``: build it
        before returning; ``"never"``: Dijkstra fallbacks only.

    Returns
    -------
    TravelGraph

    Raises
    ------
    ValidationError
        If an id is not an integer edge id of ``tg`` or ``contract`` is unknown.
    """
    if contract not in _CONTRACT:
        msg = f"contract must be one of {', '.join(_CONTRACT)}, got {contract!r}"
        raise ValidationError(msg)
    ids = np.atleast_1d(np.asarray(closed_edges))
    if ids.ndim != 1 or (ids.size and not np.issubdtype(ids.dtype, np.integer)):
        msg = "closed_edges must be a 1-d array of integer edge ids"
        raise ValidationError(msg)
    ids = ids.astype(np.int64)
    bad = (ids < 0) | (ids >= tg.n_edges)
    if bad.any():
        msg = f"closed_edges: edge {int(ids[bad][0])} is not in the graph (0..{tg.n_edges - 1})"
        raise ValidationError(msg)
    if ids.size == 0:
        return tg
    closed = np.union1d(tg.closed_edges, ids).astype(np.int64)
    travel_time = tg.travel_time.copy()
    travel_time[closed] = np.inf
    travel_time[tg.ghost_edge[np.isin(tg.ghost_road, closed)]] = np.inf  # a road's duplicates
    derived = dataclasses.replace(tg, travel_time=travel_time,
                                  rtravel_time=travel_time[tg.redge], closed_edges=closed,
                                  _memo={})
    slot = derived.cached(_search.contracted)
    if contract == "now":
        slot.graph = recontracted(derived)
    elif contract == "background":
        threading.Thread(target=_contract_into, args=(derived, slot), daemon=True,
                         name="navigator-recontract").start()
    return derived


def recontracted(tg: TravelGraph) -> TravelGraph:
    """Return ``tg`` with a contraction hierarchy built for its own (closed) travel times.

    The closed edges are left out and the nodes are contracted in the order of the graph as
    built (``ch_pos``), which skips choosing an order (about 3x faster than a fresh build).
    """
    from navigator.roads.build import contraction_hierarchy

    open_ = np.isfinite(tg.travel_time)
    counts = np.bincount(tg.edge_sources()[open_], minlength=tg.n_search_nodes)
    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    ch = contraction_hierarchy(indptr, tg.indices[open_], tg.travel_time[open_],
                               ch_pos=tg.ch_pos)
    out = dataclasses.replace(tg, **ch, _memo={})
    out.cached(_search.contracted).graph = out
    return out


def _contract_into(tg: TravelGraph, slot: _search.Contracted) -> None:
    try:
        slot.graph = recontracted(tg)
    except Exception:  # the graph stays exact on Dijkstra; say why it stays slower
        log.exception("re-contracting the road network for closures failed")
