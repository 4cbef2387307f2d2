"""Area incidents: check an intake area, ETAs over its road nodes, refine it to a point.

988's georouting gives the area a caller is in, not a point: a polygon, or a centre and a
radius. The incident keeps the area (a MultiPolygon, EPSG:4326) and, as its point, the area's
centre, so every point code path keeps working. Teams are ranked by their *expected* ETA over
the area's road nodes, **uniform-weighted** (each road node inside the area counts once: the
caller is taken to be equally likely near any of them), with the best and worst ETA as the
spread; the route drawn goes to the area's *centre node* (the area's road node nearest its
centre). The dispatcher later refines the incident to the exact point (:func:`locate_incident`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from navigator.errors import UnreachableError, ValidationError
from navigator.exchange.polygons import read_polygon
from navigator.model import Incident, check_lonlat

if TYPE_CHECKING:
    from collections.abc import Mapping

    from shapely.geometry.base import BaseGeometry

    from navigator.config import Settings
    from navigator.roads import EdgeSnap, TravelGraph
    from navigator.store import Store

__all__ = ["MAX_AREA_WIDTH_M", "MAX_RADIUS_M", "WEIGHTING", "AreaSpread", "area_incident",
           "area_spread", "locate_incident"]

#: Widest area accepted, metres across (its minimum bounding circle's diameter).
MAX_AREA_WIDTH_M = 50_000.0
#: Largest radius accepted, metres (a circle :data:`MAX_AREA_WIDTH_M` across).
MAX_RADIUS_M = MAX_AREA_WIDTH_M / 2
#: How the expected ETA weighs the area's road nodes (said wherever it is shown).
WEIGHTING = "uniform"


def _checked(geom: BaseGeometry) -> BaseGeometry:
    """Raise unless ``geom`` is at most the widest area across; return it as a MultiPolygon."""
    from shapely.geometry import MultiPolygon

    from navigator.roads import area_width_m

    width = area_width_m(geom)
    if not width <= MAX_AREA_WIDTH_M:
        msg = (f"area: {width / 1000:.1f} km across, more than the "
               f"{MAX_AREA_WIDTH_M / 1000:g} km accepted")
        raise ValidationError(msg)
    return geom if geom.geom_type == "MultiPolygon" else MultiPolygon([geom])


def area_incident(graph: TravelGraph, settings: Settings, fields: Mapping[str, Any], *,
                  radius_m: float | None = None, area: Any = None) -> Incident:
    """Return the incident of intake ``fields`` with its area checked and its point set.

    Parameters
    ----------
    graph, settings
        Roads and defaults (``max_snap_m``: how far the centre may lie from a road).
    fields
        :class:`~navigator.model.Incident` fields; ``lon``/``lat`` are the circle's centre
        with ``radius_m`` and are not needed with ``area``.
    radius_m
        A circle of this radius, metres (0 < radius <= :data:`MAX_RADIUS_M`), built in a
        local metric CRS around ``lon``/``lat``.
    area
        A GeoJSON Polygon or MultiPolygon (text, a geometry, a Feature, or a
        FeatureCollection of one feature), EPSG:4326, at most :data:`MAX_AREA_WIDTH_M` across.
        Its point becomes its centroid, or a point inside it when the centroid lies outside.
        A centre farther than ``settings.max_snap_m`` from a road is replaced, as the
        incident's point, by the area's road node nearest it (the circle keeps its radius).

    Raises
    ------
    ValidationError
        Both or neither of ``radius_m`` and ``area``; a bad radius; malformed, NaN,
        self-intersecting, too small (< 3 points) or too wide an area.
    UnreachableError
        The area holds no road node (it misses the network, or is smaller than a block).
    """
    from navigator.roads import area_nodes, circle_area, snap_to_edges

    values = dict(fields)
    if (radius_m is None) == (area is None):
        msg = "an area incident needs either radius_m (with lon/lat) or an area, not both"
        raise ValidationError(msg)
    if radius_m is not None:
        if isinstance(radius_m, bool) or not isinstance(radius_m, int | float) or not (
                math.isfinite(radius_m) and 0 < radius_m <= MAX_RADIUS_M):
            msg = (f"radius_m={radius_m!r} must be more than 0 and at most "
                   f"{MAX_RADIUS_M:g} metres")
            raise ValidationError(msg)
        check_lonlat("area centre", values.get("lon"), values.get("lat"))
        lon, lat = float(values["lon"]), float(values["lat"])
        circle = circle_area(lon, lat, float(radius_m))
        if circle.is_empty or circle.area == 0:  # a radius of 1e-300 m: no circle at all
            msg = f"radius_m={radius_m!r} is too small to make an area"
            raise ValidationError(msg)
        geom = _checked(circle)
    else:
        geom = _checked(read_polygon(area, label="area"))
        centre = geom.centroid if geom.contains(geom.centroid) else geom.representative_point()
        lon, lat = float(centre.x), float(centre.y)
    nodes = area_nodes(graph, geom)
    if nodes.size == 0:
        msg = ("the area holds no road node of the loaded network (it misses the network or "
               "is smaller than a street block); nothing stored")
        raise UnreachableError(msg)
    if snap_to_edges(graph, [lon], [lat], max_snap_m=settings.max_snap_m,
                     strict=False).edge[0] < 0:
        # a centre off the roads (a lake, a park): the incident's point is the centre node
        c = _centre_node(graph, nodes, lon, lat)
        lon, lat = float(graph.lon[c]), float(graph.lat[c])
    values.update(lon=lon, lat=lat, area=geom,
                  area_radius_m=None if radius_m is None else float(radius_m))
    return Incident(**values)


def _centre_node(graph: TravelGraph, nodes: npt.NDArray[np.int64], lon: float,
                 lat: float) -> int:
    """Return the node of ``nodes`` nearest a point (local equirectangular metres)."""
    scale = math.cos(math.radians(lat))
    d2 = ((graph.lon[nodes] - lon) * scale) ** 2 + (graph.lat[nodes] - lat) ** 2
    return int(nodes[int(np.argmin(d2))])


@dataclass(frozen=True)
class AreaSpread:
    """Travel times from origins over an area's road nodes, seconds, uniform-weighted.

    Attributes
    ----------
    best_s, expected_s, worst_s
        Per origin: the minimum, mean and maximum travel time to the area's road nodes it
        reaches (``inf`` when it reaches none).
    unreachable
        Per origin, how many of the area's nodes it cannot reach (road closures: a node cut
        off is left out of the three figures, and counted here).
    nodes
        The area's road nodes.
    centre
        The on-road point at the area's centre node (where routes are drawn to).
    """

    best_s: npt.NDArray[np.float64]
    expected_s: npt.NDArray[np.float64]
    worst_s: npt.NDArray[np.float64]
    unreachable: npt.NDArray[np.int64]
    nodes: npt.NDArray[np.int64]
    centre: EdgeSnap


def area_spread(graph: TravelGraph, incident: Incident, origins: EdgeSnap) -> AreaSpread:
    """Return each origin's best, expected and worst travel time over the incident's area.

    Parameters
    ----------
    graph
        Roads.
    incident
        An area incident (``incident.area`` set).
    origins
        On-road points (``edge`` -1: too far from a road, every time ``inf``).
    """
    from navigator.roads import area_nodes, snap_to_edges, travel_times_from_point

    nodes = area_nodes(graph, incident.area)
    if nodes.size == 0:
        msg = f"incident {incident.id!r}: its area holds no road node of this network"
        raise UnreachableError(msg)
    n = len(origins)
    best, mean, worst = np.full(n, np.inf), np.full(n, np.inf), np.full(n, np.inf)
    missing = np.full(n, nodes.size, dtype=np.int64)
    for i in np.flatnonzero(origins.edge >= 0):
        t = travel_times_from_point(graph, origins.take(int(i)), nodes)
        ok = np.isfinite(t)
        missing[i] = int((~ok).sum())
        if ok.any():
            best[i], mean[i], worst[i] = t[ok].min(), t[ok].mean(), t[ok].max()
    # the centre node is the area's node nearest its centre that an open road touches (a
    # closure around the nearest one left it more than 1 m from any road: ranking failed)
    on_road = snap_to_edges(graph, graph.lon[nodes], graph.lat[nodes], max_snap_m=1.0,
                            strict=False)
    open_ = on_road.edge >= 0
    if not open_.any():
        msg = (f"incident {incident.id!r}: every road of its area is closed; set the exact "
               "point or lift a closure")
        raise UnreachableError(msg)
    c = _centre_node(graph, nodes[open_], incident.lon, incident.lat)
    centre = on_road.take(int(np.flatnonzero(nodes == c)[0]))
    return AreaSpread(best_s=best, expected_s=mean, worst_s=worst, unreachable=missing,
                      nodes=nodes, centre=centre)


def locate_incident(store: Store, graph: TravelGraph, settings: Settings, *, incident_id: str,
                    lon: float, lat: float, actor: str) -> Incident:
    """Refine an incident to its exact point: the area (if any) is cleared, audited.

    The point must lie within ``settings.max_snap_m`` of a road (else ``UnreachableError``,
    nothing written); the audit entry names the actor, the time and the area replaced.
    Resolved or cancelled incidents are refused (``ConflictError``).
    """
    from navigator.roads import snap_to_edges

    check_lonlat(f"incident {incident_id!r}", lon, lat)
    store.incident(incident_id)  # NotFoundError first
    snap_to_edges(graph, [lon], [lat], max_snap_m=settings.max_snap_m)
    return store.set_incident_location(incident_id, lon=float(lon), lat=float(lat),
                                       actor=actor)
