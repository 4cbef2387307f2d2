"""The area records are clipped to: the default Columbus extent, checks, clipping with notes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import shapely
from shapely.geometry import box

from navigator.errors import ValidationError

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

    from navigator.model import Resource

#: Bounding box of Columbus's drive network (lon_min, lat_min, lon_max, lat_max; EPSG:4326).
COLUMBUS_DRIVE_BBOX = (-83.245, 39.877, -82.788, 40.105)
#: Where Columbus's road extract is dense (lon_min, lat_min, lon_max, lat_max; EPSG:4326).
COLUMBUS_CORE_BBOX = (-83.15, 39.90, -82.86, 40.04)


def columbus_area() -> BaseGeometry:
    """Return the default service area: the Columbus drive network's bbox (EPSG:4326)."""
    return box(*COLUMBUS_DRIVE_BBOX)


def checked_area(area: BaseGeometry | None) -> BaseGeometry:
    """Return ``area`` (or the Columbus default) after checking it is a usable polygon.

    Raises
    ------
    ValidationError
        If ``area`` is not a non-empty valid Polygon or MultiPolygon in lon/lat degrees.
    """
    if area is None:
        return columbus_area()
    geom_type = getattr(area, "geom_type", None)
    if geom_type not in {"Polygon", "MultiPolygon"}:
        msg = f"area must be a shapely Polygon or MultiPolygon, got {geom_type or type(area)!r}"
        raise ValidationError(msg)
    if area.is_empty or not area.is_valid:
        msg = "area is empty or not a valid polygon"
        raise ValidationError(msg)
    minx, miny, maxx, maxy = area.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        msg = f"area bounds {area.bounds} are not lon/lat degrees (EPSG:4326)"
        raise ValidationError(msg)
    return area


def clipped_resources(resources: Sequence[Resource], area: BaseGeometry, *, label: str
                      ) -> tuple[tuple[Resource, ...], tuple[str, ...]]:
    """Return the resources inside ``area`` and notes naming those left out.

    Parameters
    ----------
    resources
        Records to clip.
    area
        Polygon in EPSG:4326; points on its boundary count as inside.
    label
        Name of the source used in the notes (e.g. ``"City of Columbus POI"``).
    """
    if not resources:
        return (), ()
    points = shapely.points([r.lon for r in resources], [r.lat for r in resources])
    inside = shapely.covers(area, points)
    kept = tuple(r for r, ok in zip(resources, inside, strict=True) if ok)
    dropped = [r for r, ok in zip(resources, inside, strict=True) if not ok]
    if not dropped:
        return kept, (f"{label}: all {len(kept)} resources lie inside the network area",)
    names = "; ".join(f"{r.name} ({r.kind}, {r.source})" for r in dropped)
    note = (f"{label}: {len(dropped)} of {len(resources)} resources lie outside the network area "
            f"{tuple(round(b, 3) for b in area.bounds)} and were clipped: {names}")
    return kept, (note,)
