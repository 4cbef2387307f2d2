"""The area a road network covers: its outline and its time zone (offline)."""

from __future__ import annotations

import math
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import shapely

from navigator.errors import ValidationError

if TYPE_CHECKING:
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
