"""Areas on the road network: its outline and time zone, and an area's circles and nodes.

An incident area (a caller's 988 georouting area) is a polygon in EPSG:4326; circles are
built and sizes measured in a local azimuthal equidistant CRS centred on the area (metres).
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from navigator.errors import ValidationError

if TYPE_CHECKING:
    import numpy.typing as npt
    from shapely.geometry.base import BaseGeometry

    from navigator.roads.graph import TravelGraph


def network_area(graph: TravelGraph, *, cell_m: float = 500.0) -> BaseGeometry:
    """Return the area the road network covers: the union of grid cells holding a node.

    Parameters
    ----------
    graph
        Road network.
    cell_m
        Grid cell size, metres (so a point in the area is within about one cell of a road).

    Returns
    -------
    shapely Polygon or MultiPolygon, EPSG:4326.
    """
    lat0 = float(np.mean(graph.lat))
    dlat = cell_m / 111_320.0
    dlon = cell_m / (111_320.0 * math.cos(math.radians(lat0)))
    cells = np.unique(np.stack([np.floor(graph.lon / dlon), np.floor(graph.lat / dlat)],
                               axis=1), axis=0)
    boxes = shapely.box(cells[:, 0] * dlon, cells[:, 1] * dlat,
                        (cells[:, 0] + 1) * dlon, (cells[:, 1] + 1) * dlat)
    return shapely.union_all(boxes).simplify(dlat / 10)


def _median_timezone(graph: TravelGraph) -> str:
    return area_timezone(float(np.median(graph.lon)), float(np.median(graph.lat)))


def network_timezone(graph: TravelGraph) -> str:
    """Return the IANA time zone at a road network's median node (offline; kept per graph).

    A graph loaded from its cache carries it (found once when built); otherwise it is looked
    up and kept in the graph's memo.
    """
    return graph.timezone or graph.cached(_median_timezone)


@lru_cache(maxsize=64)
def area_timezone(lon: float, lat: float) -> str:
    """Return the IANA time zone at a point (e.g. ``"America/New_York"``), offline.

    Parameters
    ----------
    lon, lat
        Point in EPSG:4326 degrees, usually the area's centroid.

    Raises
    ------
    ValidationError
        If no time zone is known at the point (open sea).
    """
    from timezonefinder import TimezoneFinder

    zone = TimezoneFinder().timezone_at(lng=float(lon), lat=float(lat))
    if zone is None:
        msg = f"no time zone is known at lon={lon}, lat={lat}"
        raise ValidationError(msg)
    return str(zone)


def _local_crs(lon: float, lat: float) -> tuple[Any, Any]:
    """Return (to metres, to degrees) transformers of a local equidistant CRS at a point."""
    from pyproj import CRS, Transformer

    local = CRS.from_proj4(f"+proj=aeqd +lat_0={lat:.8f} +lon_0={lon:.8f} +datum=WGS84 "
                           "+units=m +no_defs")
    return (Transformer.from_crs(4326, local, always_xy=True),
            Transformer.from_crs(local, 4326, always_xy=True))


def circle_area(lon: float, lat: float, radius_m: float, *, segments: int = 64) -> BaseGeometry:
    """Return the circle of ``radius_m`` metres around a point as a Polygon, EPSG:4326.

    Built in a local azimuthal equidistant CRS centred on the point, so the radius is true
    in every direction (a buffer in degrees would be an ellipse).
    """
    _, to_deg = _local_crs(lon, lat)
    circle = shapely.Point(0.0, 0.0).buffer(float(radius_m), quad_segs=max(4, segments // 4))
    return shapely.transform(circle, lambda xy: np.column_stack(to_deg.transform(
        xy[:, 0], xy[:, 1])))


def area_width_m(area: BaseGeometry) -> float:
    """Return how far an area reaches across, metres: its minimum bounding circle's diameter."""
    c = area.centroid
    to_m, _ = _local_crs(float(c.x), float(c.y))
    local = shapely.transform(area, lambda xy: np.column_stack(to_m.transform(
        xy[:, 0], xy[:, 1])))
    return 2.0 * float(shapely.minimum_bounding_radius(local))


def area_nodes(graph: TravelGraph, area: BaseGeometry) -> npt.NDArray[np.int64]:
    """Return the ids of the graph nodes inside an area (boundary included), ascending.

    Parameters
    ----------
    graph
        Road network.
    area
        Polygon or MultiPolygon, EPSG:4326.
    """
    minx, miny, maxx, maxy = area.bounds
    near = np.flatnonzero((graph.lon >= minx) & (graph.lon <= maxx)
                          & (graph.lat >= miny) & (graph.lat <= maxy))
    shapely.prepare(area)
    inside = shapely.intersects_xy(area, graph.lon[near], graph.lat[near])
    return near[inside].astype(np.int64)
