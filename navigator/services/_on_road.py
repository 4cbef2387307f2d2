"""On-road places (issue 14): points snapped to the nearest edge, as points, columns or keys.

Every decision path snaps places to the nearest point on an edge, never to the nearest node,
so a place on a long road is accepted where it is and its travel times include the partial
edge time (:mod:`navigator.roads.points`). A *place key* is one int64 per on-road point
(the edge id and the position along it to a millionth of its length) for decisions that
index places by integer, like the simulator's travel-time matrix.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import geopandas as gpd
    import numpy.typing as npt
    import pandas as pd

    from navigator.roads import EdgeSnap, TravelGraph

#: Snaps one graph remembers for :func:`snap_sites` (forgotten all at once beyond it).
SITE_MEMO_MAX = 4096
#: Sweeps one graph remembers for :func:`sweeps_from` (forgotten all at once beyond it).
SWEEP_MEMO_MAX = 64
#: Bits of a place key holding the position along the edge.
_KEY_BITS = 20
_KEY_STEPS = (1 << _KEY_BITS) - 1


def snap_places(graph: TravelGraph, places: gpd.GeoDataFrame, *, max_snap_m: float
                ) -> EdgeSnap:
    """Snap places (point geometry, EPSG:4326) to their nearest edge (``edge`` -1: too far)."""
    from navigator.roads import snap_to_edges

    return snap_to_edges(graph, places.geometry.x.to_numpy(), places.geometry.y.to_numpy(),
                         max_snap_m=max_snap_m, strict=False)


class _Memory:
    """Answers one graph remembers (kept by ``graph.cached``), forgotten all at once when full."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.items: dict[Hashable, Any] = {}

    def keep(self, fresh: dict[Hashable, Any], limit: int) -> None:
        """Remember ``fresh``, forgetting the rest first if both exceed ``limit`` items.

        ``fresh`` alone over ``limit`` is not remembered (and the rest is forgotten anyway).
        """
        with self.lock:
            if len(self.items) + len(fresh) > limit:
                self.items.clear()
            if len(fresh) <= limit:
                self.items.update(fresh)


def _site_snaps(graph: TravelGraph) -> _Memory:
    """``(lon, lat, max_snap_m)`` -> the EdgeSnap fields."""
    return _Memory()


def snap_sites(graph: TravelGraph, lon: npt.ArrayLike, lat: npt.ArrayLike, *,
               max_snap_m: float) -> EdgeSnap:
    """Snap sites (EPSG:4326) to their nearest edge (``edge`` -1: too far), remembered per graph.

    The same answer as ``snap_to_edges(graph, lon, lat, max_snap_m=max_snap_m, strict=False)``.
    A point's snap depends on nothing but the graph and the point, so a remembered one is
    never stale: a site that moves has other coordinates, and a graph with road closures is
    another graph with its own memory (``graph.cached``). Searches snap the same shelters and
    clinics on every request; at most :data:`SITE_MEMO_MAX` points are kept per graph.
    """
    from navigator.roads import EdgeSnap, snap_to_edges

    x = np.atleast_1d(np.asarray(lon, dtype=np.float64))
    y = np.atleast_1d(np.asarray(lat, dtype=np.float64))
    memo = graph.cached(_site_snaps)
    keys = [(a, b, float(max_snap_m)) for a, b in zip(x.tolist(), y.tolist(), strict=True)]
    got = [memo.items.get(k) for k in keys]
    miss = [i for i, g in enumerate(got) if g is None]
    if miss:
        s = snap_to_edges(graph, x[miss], y[miss], max_snap_m=max_snap_m, strict=False)
        fresh = list(zip(s.edge.tolist(), s.distance_m.tolist(), s.lon.tolist(),
                         s.lat.tolist(), s.fraction.tolist(), strict=True))
        for i, snap in zip(miss, fresh, strict=True):
            got[i] = snap
        memo.keep({keys[i]: got[i] for i in miss}, SITE_MEMO_MAX)
    cols = list(zip(*got, strict=True)) if got else [(), (), (), (), ()]
    return EdgeSnap(edge=np.array(cols[0], dtype=np.int64),
                    distance_m=np.array(cols[1], dtype=np.float64),
                    lon=np.array(cols[2], dtype=np.float64),
                    lat=np.array(cols[3], dtype=np.float64),
                    fraction=np.array(cols[4], dtype=np.float64))


def _sweeps(graph: TravelGraph) -> _Memory:
    """``(edge, fraction, cutoff_s)`` -> seconds per node."""
    return _Memory()


def sweeps_from(graph: TravelGraph, points: EdgeSnap, *, cutoff_s: float
                ) -> npt.NDArray[np.float64]:
    """Return travel times from each on-road point to every node (a row per point), remembered.

    Each row is ``travel_times_from_point(graph, point, cutoff_s=cutoff_s)``; like a snap, it
    depends on nothing but the graph, the point and the cutoff, so a remembered row is never
    stale (a team that moves is another point; closures give another graph). A dispatcher
    ranking teams for incident after incident reuses the coverage sweeps of teams that have
    not moved; at most :data:`SWEEP_MEMO_MAX` rows are kept per graph.
    """
    from navigator.roads import travel_times_from_point

    memo = graph.cached(_sweeps)
    out = np.empty((len(points), graph.n_nodes))
    fresh: dict[Hashable, npt.NDArray[np.float64]] = {}
    for i, (edge, fraction) in enumerate(zip(points.edge.tolist(), points.fraction.tolist(),
                                             strict=True)):
        key = (edge, fraction, float(cutoff_s))
        row = memo.items.get(key)
        if row is None:
            row = fresh.get(key)
        if row is None:
            row = fresh[key] = travel_times_from_point(graph, points.take(i), cutoff_s=cutoff_s)
        out[i] = row
    memo.keep(fresh, SWEEP_MEMO_MAX)
    return out


def on_road_columns(graph: TravelGraph, lon: npt.ArrayLike, lat: npt.ArrayLike, *,
                    max_snap_m: float = 500.0, strict: bool = True) -> dict[str, np.ndarray]:
    """Return columns for points snapped to their nearest edge.

    ``edge``, ``fraction``, ``road_lon``/``road_lat`` (the on-road point) and ``snap_m`` (the
    distance to the road, metres) come from :func:`~navigator.roads.snap_to_edges`; ``node``
    is the nearer end of the edge, -1 where the point is too far from a road
    (``strict=False``). :func:`points_of` turns the columns back into points.
    """
    from navigator.roads import snap_to_edges

    s = snap_to_edges(graph, lon, lat, max_snap_m=max_snap_m, strict=strict)
    e = np.maximum(s.edge, 0)
    tails, heads = graph.road_ends()
    near = np.where(s.fraction >= 0.5, heads[e], tails[e])
    return {"node": np.where(s.edge >= 0, near, -1).astype(np.int64), "edge": s.edge,
            "fraction": s.fraction, "road_lon": s.lon, "road_lat": s.lat,
            "snap_m": s.distance_m}


def points_of(frame: pd.DataFrame) -> EdgeSnap:
    """Return the on-road points of rows with the columns of :func:`on_road_columns`."""
    from navigator.roads import EdgeSnap

    return EdgeSnap(edge=frame["edge"].to_numpy(np.int64),
                    distance_m=frame["snap_m"].to_numpy(float),
                    lon=frame["road_lon"].to_numpy(float), lat=frame["road_lat"].to_numpy(float),
                    fraction=frame["fraction"].to_numpy(float))


def place_keys(points: EdgeSnap) -> npt.NDArray[np.int64]:
    """Return one int64 key per on-road point (-1 where ``edge`` is -1): one place, one key."""
    step = np.rint(np.clip(points.fraction, 0.0, 1.0) * _KEY_STEPS).astype(np.int64)
    return np.where(points.edge >= 0, (points.edge.astype(np.int64) << _KEY_BITS) | step,
                    -1).astype(np.int64)


def key_points(graph: TravelGraph, keys: npt.ArrayLike) -> EdgeSnap:
    """Return the on-road points of place keys (from :func:`place_keys`), on the road."""
    from navigator.roads import points_along

    k = np.asarray(keys, dtype=np.int64)
    return points_along(graph, k >> _KEY_BITS, (k & _KEY_STEPS) / _KEY_STEPS)
