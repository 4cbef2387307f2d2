"""Isochrone services: the areas reachable from (or reaching) a point or facility, audited.

For planners (where a new base would reach) and dispatchers (where a team reaches in time).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from navigator.decide.coverage import check_targets
from navigator.errors import NotFoundError, ValidationError
from navigator.model import check_lonlat

if TYPE_CHECKING:
    from collections.abc import Sequence

    from shapely.geometry.base import BaseGeometry

    from navigator.config import Settings
    from navigator.decide.coverage import Direction
    from navigator.roads import TravelGraph
    from navigator.store import Store

__all__ = ["ReachableArea", "ReachableAreas", "reachable_areas"]


@dataclass(frozen=True)
class ReachableArea:
    """The area reachable within one time limit."""

    limit_s: float
    #: Hull of the nodes reached, EPSG:4326; None when too few nodes are reached.
    polygon: BaseGeometry | None
    nodes: int


@dataclass(frozen=True, eq=False)
class ReachableAreas:
    """Isochrones around one origin, largest limit first.

    Attributes
    ----------
    lon, lat
        The origin asked about (the facility's location for a facility), EPSG:4326.
    node
        The graph node nearest the origin's on-road point (the nearer end of its edge).
    direction
        ``"from"`` the origin (a team driving out) or ``"to"`` it (people travelling there).
    facility_id
        The facility asked about, if any.
    areas
        One per time limit, largest first.
    """

    lon: float
    lat: float
    node: int
    direction: Direction
    facility_id: str | None
    areas: tuple[ReachableArea, ...]

    def to_geojson(self) -> dict[str, Any]:
        """Return the non-empty areas as an RFC 7946 FeatureCollection (``minutes``, ``nodes``)."""
        import shapely

        return {"type": "FeatureCollection", "features": [
            {"type": "Feature", "geometry": shapely.geometry.mapping(a.polygon),
             "properties": {"minutes": a.limit_s / 60.0, "nodes": a.nodes}}
            for a in self.areas if a.polygon is not None and not a.polygon.is_empty]}


def reachable_areas(store: Store, graph: TravelGraph, settings: Settings, *, actor: str,
                    limits_s: Sequence[float], lon: float | None = None,
                    lat: float | None = None, facility_id: str | None = None,
                    direction: Direction = "from", can_see_confidential: bool = False
                    ) -> ReachableAreas:
    """Return the areas reachable from (or reaching) a point or a facility within each limit.

    Parameters
    ----------
    store, graph, settings
        Where facilities, roads and the snap limit come from.
    actor
        Who asks (audit log).
    limits_s
        Time limits, seconds.
    lon, lat
        The origin, EPSG:4326 degrees; or give ``facility_id``.
    facility_id
        A resource whose location is the origin.
    direction
        ``"from"`` the origin (default) or ``"to"`` it.
    can_see_confidential
        Whether the role may see confidential (DV) sites' location; without it such a
        facility is not found (an isochrone would reveal where it is).

    Raises
    ------
    ValidationError
        Neither or both of a point and a facility, or a bad limit or direction.
    NotFoundError
        An unknown (or, without access, confidential) facility.
    UnreachableError
        The origin is farther than ``settings.max_snap_m`` from a road.
    """
    from navigator.roads import point_isochrone, snap_to_edges

    if direction not in ("from", "to"):
        msg = f"direction must be 'from' or 'to', got {direction!r}"
        raise ValidationError(msg)
    limits = check_targets(limits_s)
    point = lon is not None or lat is not None
    if facility_id is not None and not point:
        try:
            res = store.resource(facility_id)
        except NotFoundError:
            res = None
        if res is None or (res.confidential and not can_see_confidential):
            msg = f"no facility {facility_id!r}"
            raise NotFoundError(msg) from None
        origin_lon, origin_lat = res.lon, res.lat
    elif facility_id is None and lon is not None and lat is not None:
        check_lonlat("origin", lon, lat)
        origin_lon, origin_lat = lon, lat
    else:
        msg = "give either lon and lat, or a facility_id"
        raise ValidationError(msg)
    # On-road point (issue 14): the origin snaps to its nearest edge, the partial edge time
    # counts; ``node`` reports the nearer end of that edge.
    spot = snap_to_edges(graph, [origin_lon], [origin_lat], max_snap_m=settings.max_snap_m)
    e = int(spot.edge[0])
    tails, heads = graph.road_ends()
    node = int(heads[e] if spot.fraction[0] >= 0.5 else tails[e])
    areas = []
    for limit in limits[::-1]:
        iso = point_isochrone(graph, spot, float(limit), direction=direction)
        areas.append(ReachableArea(float(limit), iso.polygon, int(iso.nodes.size)))
    result = ReachableAreas(float(origin_lon), float(origin_lat), node, direction, facility_id,
                            tuple(areas))
    origin = ({"facility_id": facility_id} if facility_id is not None
              else {"lon": lon, "lat": lat})
    store.record("isochrone", actor=actor, subject=facility_id or "",
                 inputs={**origin, "limits_s": [float(t) for t in limits],
                         "direction": direction},
                 result={"areas": [{"limit_s": a.limit_s, "nodes": a.nodes} for a in areas]})
    return result
