"""Road closures: create, lift and list them, and the road graph every query uses while active.

A closure is stored once (:meth:`navigator.store.base.Store.add_closure`); each process keeps
the base graph with the active closures applied (:func:`effective_graph`), asks the store for
:meth:`~navigator.store.base.Store.closures_version` at most every ``refresh_s`` seconds and
rebuilds only when the set of closures in force changed, so a closure written by one web
worker holds in every worker within a few seconds, and start and expiry times take effect on
their own.
"""

from __future__ import annotations

import math
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from navigator.errors import ForbiddenError, ValidationError
from navigator.exchange.closures import MAX_IMPORT_BYTES, closure_geometries, read_closure_file
from navigator.model import Closure, Role
from navigator.roads import edges_in_area, with_closures

if TYPE_CHECKING:
    import numpy.typing as npt

    from navigator.roads import TravelGraph
    from navigator.store import Store

#: Roles that may close and reopen roads.
CLOSING_ROLES = (Role.DISPATCHER, Role.ADMIN)
__all__ = ["CLOSING_ROLES", "MAX_CLOSED_SHARE", "MAX_IMPORT_BYTES", "ClosureState",
           "CreatedClosures", "closure_dict", "closure_geometries", "closure_state",
           "closure_summary", "closures_geojson", "create_closure", "effective_graph",
           "lift_closure", "list_closures", "read_closure_file", "road_segment_at"]
#: A closure (with those already in force) closing this share of the edges or more is refused.
MAX_CLOSED_SHARE = 0.9


@dataclass(frozen=True)
class ClosureState:
    """The closures in force at one moment and the graph with them applied."""

    graph: TravelGraph
    closures: tuple[Closure, ...]

    def summary(self) -> dict[str, Any]:
        """Return what routing answers say about closures (``closures_in_effect`` etc.)."""
        return {"closures_in_effect": bool(self.closures),
                "closures_count": len(self.closures),
                "closed_edges": int(self.graph.closed_edges.shape[0])}


@dataclass(frozen=True)
class CreatedClosures:
    """Closures just stored, with the number of road edges each closes."""

    closures: tuple[Closure, ...]
    closed_edges: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form (GeoJSON geometries)."""
        return {"closures": [closure_dict(c) | {"closed_edges": n} for c, n
                             in zip(self.closures, self.closed_edges, strict=True)]}


@dataclass
class _Cache:
    """One process's view of the closures of one store on one base graph."""

    base: weakref.ref[TravelGraph]
    lock: threading.Lock = field(default_factory=threading.Lock)
    checked_at: float = -math.inf
    version: str | None = None
    closures: list[Closure] = field(default_factory=list)
    edges: dict[str, npt.NDArray[np.int64]] = field(default_factory=dict)
    states: dict[frozenset[str], ClosureState] = field(default_factory=dict)


_CACHES: dict[tuple[str, int], _Cache] = {}
_CACHES_LOCK = threading.Lock()


def _cache(store: Store, base_graph: TravelGraph) -> _Cache:
    key = (store.url, id(base_graph))
    with _CACHES_LOCK:
        found = _CACHES.get(key)
        if found is None or found.base() is not base_graph:
            found = _CACHES[key] = _Cache(base=weakref.ref(base_graph))
        return found


def _closed_by(cache: _Cache, base_graph: TravelGraph, closure: Closure
               ) -> npt.NDArray[np.int64]:
    found = cache.edges.get(closure.id)
    if found is None:
        found = cache.edges[closure.id] = edges_in_area(base_graph, closure.geometry)
    return found


def closure_state(store: Store, base_graph: TravelGraph, now: datetime | None = None, *,
                  refresh_s: float = 2.0,
                  clock: Callable[[], float] = time.monotonic) -> ClosureState:
    """Return the closures in force at ``now`` and ``base_graph`` with them applied.

    Parameters
    ----------
    store
        Where closures are kept (read at most every ``refresh_s`` seconds: one cheap
        version read, and the closures themselves only when it changed).
    base_graph
        The road network as built.
    now
        The moment (aware; default the current time) whose closures are in force.
    refresh_s
        Seconds between version reads.
    clock
        Monotonic seconds (tests pass one they move).

    Returns
    -------
    ClosureState
        The same object (and graph) while the set of closures in force is unchanged.
    """
    at = now or datetime.now(UTC)
    cache = _cache(store, base_graph)
    with cache.lock:
        tick = clock()
        if tick - cache.checked_at >= refresh_s:
            version = store.closures_version()
            if version != cache.version:
                cache.closures = store.closures()
                cache.version = version
            cache.checked_at = tick
        active = tuple(c for c in cache.closures if c.active_at(at))
        key = frozenset(c.id for c in active)
        state = cache.states.get(key)
        if state is None:
            closed = [_closed_by(cache, base_graph, c) for c in active]
            merged = np.unique(np.concatenate(closed)) if closed else np.empty(0, np.int64)
            state = ClosureState(graph=with_closures(base_graph, merged), closures=active)
            if len(cache.states) >= 8:  # a few recent sets; old ones are not coming back
                cache.states.pop(next(iter(cache.states)))
            cache.states[key] = state
        return state


def effective_graph(store: Store, base_graph: TravelGraph, now: datetime | None = None, *,
                    refresh_s: float = 2.0,
                    clock: Callable[[], float] = time.monotonic) -> TravelGraph:
    """Return ``base_graph`` with every closure in force at ``now`` applied (cached).

    Every query goes through this graph. Parameters are those of :func:`closure_state`; the
    base graph itself comes back while no closure is in force.
    """
    return closure_state(store, base_graph, now, refresh_s=refresh_s, clock=clock).graph


def closure_summary(graph: TravelGraph, *, points: tuple[tuple[float, float], ...] = ()
                    ) -> dict[str, Any]:
    """Return what an answer computed on ``graph`` says about road closures.

    Parameters
    ----------
    graph
        A graph from :func:`effective_graph` (or a plain one: nothing in effect).
    points
        ``(lon, lat)`` the answer started from (an incident, a client): each inside an area
        closure gets a note that it was snapped to the nearest open road.

    Returns
    -------
    dict
        ``closures_in_effect``, ``closures_count``, ``closed_edges`` and ``closure_notes``.
    """
    state = _state_of(graph)
    if state is None:
        return {"closures_in_effect": False, "closures_count": 0, "closed_edges": 0,
                "closure_notes": []}
    import shapely

    notes = []
    for lon, lat in points:
        point = shapely.Point(lon, lat)
        for c in state.closures:
            if c.geometry.geom_type in ("Polygon", "MultiPolygon") and \
                    c.geometry.covers(point):
                notes.append(f"({lon:.5f}, {lat:.5f}) lies inside road closure {c.id} "
                             f"({c.reason}): routed from the nearest open road")
                break
    return {**state.summary(), "closure_notes": notes}


def _state_of(graph: TravelGraph) -> ClosureState | None:
    if not graph.closures_in_effect:
        return None
    with _CACHES_LOCK:
        caches = list(_CACHES.values())
    for cache in caches:
        for state in list(cache.states.values()):
            if state.graph is graph:
                return state
    return None


def _forget(store: Store) -> None:
    """Make this process re-read the store's closures at the next query (after a write)."""
    with _CACHES_LOCK:
        for (url, _), cache in _CACHES.items():
            if url == store.url:
                cache.checked_at = -math.inf


def road_segment_at(graph: TravelGraph, lon: float, lat: float, *,
                    max_snap_m: float = 500.0) -> dict[str, Any]:
    """Return the road segment nearest a point as a GeoJSON Feature to close (EPSG:4326).

    The segment runs between two junctions; closing its line closes that road in both
    directions, not the crossing roads that touch its ends. ``UnreachableError`` if no road
    lies within ``max_snap_m`` metres.
    """
    from shapely.geometry import LineString, mapping

    from navigator.roads import edge_vertices, snap_to_edges

    found = snap_to_edges(graph, [lon], [lat], max_snap_m=max_snap_m)
    edge = int(found.edge[0])
    verts, _ = edge_vertices(graph, [edge])
    line = LineString([(round(float(x), 7), round(float(y), 7)) for x, y in verts])
    return {"type": "Feature", "geometry": mapping(line),
            "properties": {"edge": edge, "length_m": round(float(graph.length[edge]), 1),
                           "distance_m": round(float(found.distance_m[0]), 1)}}


# -- decisions ---------------------------------------------------------------------------------

def _check_role(role: Role | str | None) -> None:
    if role is not None and Role(role) not in CLOSING_ROLES:
        msg = "only a dispatcher or an admin may close or reopen roads"
        raise ForbiddenError(msg)


def create_closure(store: Store, graph: TravelGraph, *, geojson: Any, reason: str | None,
                   actor: str, role: Role | str | None = None,
                   starts_at: datetime | None = None, expires_at: datetime | None = None,
                   now: datetime | None = None) -> CreatedClosures:
    """Close roads: one closure per GeoJSON feature, all checked before any is written.

    Parameters
    ----------
    store, graph
        Records and the base road network (as built).
    geojson
        Geometry, Feature or FeatureCollection (EPSG:4326): polygons close every road they
        touch, lines the roads along them. A feature's ``reason`` property is used when
        ``reason`` is empty.
    reason, starts_at, expires_at
        Why, from when (default now) and until when (default: until reopened).
    actor, role
        Who closes (audited); a role other than dispatcher or admin is refused.
    now
        The current time (aware; default now).

    Returns
    -------
    CreatedClosures

    Raises
    ------
    ValidationError
        An invalid geometry, a closure that closes no road (outside the network) or, with
        those in force, at least :data:`MAX_CLOSED_SHARE` of it; a missing or too long
        reason; an expiry not after the start. Nothing is written.
    ForbiddenError
        ``role`` may not close roads.
    """
    from navigator.store.closures import check_closure_geometry

    _check_role(role)
    at = now or datetime.now(UTC)
    parts = closure_geometries(geojson)
    already = closure_state(store, graph, at, refresh_s=0.0).graph.closed_edges
    plans = []
    for i, (geometry, props) in enumerate(parts, 1):
        where = f"closure feature {i}" if len(parts) > 1 else "closure"
        check_closure_geometry(geometry)
        why = (reason or "").strip() or str(props.get("reason") or "").strip()
        if not why:
            msg = f"{where}: a reason is required"
            raise ValidationError(msg)
        edges = edges_in_area(graph, geometry)
        if edges.shape[0] == 0:
            msg = f"{where}: closes no road (it lies outside the road network)"
            raise ValidationError(msg)
        share = np.union1d(edges, already).shape[0] / max(graph.n_road_edges, 1)
        if share >= MAX_CLOSED_SHARE:
            msg = (f"{where}: would close {share:.0%} of the road network (at most "
                   f"{MAX_CLOSED_SHARE:.0%} may be closed); close a smaller area")
            raise ValidationError(msg)
        plans.append((geometry, why, edges))
    made = []
    for geometry, why, edges in plans:
        made.append(store.add_closure(geometry, reason=why, actor=actor, starts_at=starts_at,
                                      expires_at=expires_at, now=at,
                                      details={"closed_edges": int(edges.shape[0])}))
    _forget(store)
    return CreatedClosures(closures=tuple(made),
                           closed_edges=tuple(int(e.shape[0]) for _, _, e in plans))


def lift_closure(store: Store, *, closure_id: str, actor: str,
                 role: Role | str | None = None, now: datetime | None = None) -> Closure:
    """Reopen a closure's roads now (audited); ``ConflictError`` if already reopened."""
    _check_role(role)
    lifted = store.lift_closure(closure_id, actor=actor, now=now)
    _forget(store)
    return lifted


def list_closures(store: Store, *, now: datetime | None = None,
                  include_inactive: bool = False) -> list[Closure]:
    """Return the closures in force at ``now`` (with ``include_inactive``: every closure)."""
    if include_inactive:
        return store.closures()
    return store.closures(active_at=now or datetime.now(UTC))


def closure_dict(closure: Closure) -> dict[str, Any]:
    """Return a closure as JSON data: fields, and ``geometry`` as GeoJSON."""
    from shapely.geometry import mapping

    from navigator.jsonsafe import json_safe

    return {"id": closure.id, "reason": closure.reason,
            "starts_at": json_safe(closure.starts_at),
            "expires_at": json_safe(closure.expires_at),
            "created_by": closure.created_by, "created_at": json_safe(closure.created_at),
            "lifted_at": json_safe(closure.lifted_at), "lifted_by": closure.lifted_by,
            "geometry": mapping(closure.geometry)}


def closures_geojson(closures: list[Closure]) -> dict[str, Any]:
    """Return closures as a GeoJSON FeatureCollection (EPSG:4326), properties as data."""
    features = []
    for c in closures:
        props = closure_dict(c)
        geometry = props.pop("geometry")
        features.append({"type": "Feature", "id": c.id, "geometry": geometry,
                         "properties": props})
    return {"type": "FeatureCollection", "features": features}
