"""One GeoJSON polygon (an evacuation zone, a caller's area) read and checked, EPSG:4326."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from navigator.errors import ValidationError

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

__all__ = ["MAX_POLYGON_POINTS", "read_polygon"]

#: Most points accepted in one polygon's rings (a pasted or uploaded area).
MAX_POLYGON_POINTS = 10_000


#: Deepest nesting of coordinate lists read: a MultiPolygon's is 4 (polygons, rings, points,
#: numbers); deeper input is refused before it can exhaust the interpreter's stack.
_MAX_DEPTH = 4


def _leaves(value: Any, *, limit: int) -> list[Any] | None:
    """Return the leaves of nested GeoJSON coordinate lists; None when nested too deep.

    Iterative, and stops after ``limit`` leaves: hostile input (thousands of nested lists,
    millions of numbers) costs neither a ``RecursionError`` nor the time to read it all.
    """
    leaves: list[Any] = []
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack and len(leaves) <= limit:
        item, depth = stack.pop()
        if isinstance(item, list | tuple):
            if depth >= _MAX_DEPTH:
                return None
            stack.extend((v, depth + 1) for v in reversed(item))
        else:
            leaves.append(item)
    return leaves


def _finite(value: Any) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value))


def read_polygon(data: Mapping[str, Any] | str, *, label: str = "zone") -> BaseGeometry:
    """Return the Polygon or MultiPolygon (EPSG:4326) of a GeoJSON geometry, Feature or collection.

    Parameters
    ----------
    data
        GeoJSON text, or its object: a Polygon / MultiPolygon geometry, a Feature holding
        one, or a FeatureCollection of exactly one such Feature.
    label
        What the polygon is, for messages (``"zone: invalid polygon (...)"``).

    Raises
    ------
    ValidationError
        Not JSON, not a (Multi)Polygon, NaN or non-numeric coordinates, more than
        :data:`MAX_POLYGON_POINTS` points, invalid (self-intersecting, too few points),
        empty, without area, or outside longitude/latitude bounds; the message says which.
    """
    import shapely
    from shapely.geometry import shape

    if isinstance(data, str):
        try:
            data = json.loads(data)
        except json.JSONDecodeError as e:
            msg = f"{label}: not GeoJSON ({e.msg} at character {e.pos})"
            raise ValidationError(msg) from e
        except (RecursionError, ValueError) as e:  # nested too deep; a 5,000-digit number
            why = "nested too deeply" if isinstance(e, RecursionError) else str(e)
            msg = f"{label}: not GeoJSON ({why})"
            raise ValidationError(msg) from e
    if not isinstance(data, Mapping):
        msg = f"{label}: give a GeoJSON Polygon, MultiPolygon, Feature or FeatureCollection"
        raise ValidationError(msg)
    if data.get("type") == "FeatureCollection":
        features = data.get("features") or []
        if not isinstance(features, list) or len(features) != 1:
            count = len(features) if isinstance(features, list) else "no list of"
            msg = f"{label}: a FeatureCollection needs exactly one feature, it has {count}"
            raise ValidationError(msg)
        data = features[0]
    if isinstance(data, Mapping) and data.get("type") == "Feature":
        data = data.get("geometry") or {}
    if not isinstance(data, Mapping) or data.get("type") not in ("Polygon", "MultiPolygon"):
        got = data.get("type") if isinstance(data, Mapping) else type(data).__name__
        msg = f"{label}: the geometry must be a Polygon or MultiPolygon, got {got!r}"
        raise ValidationError(msg)
    coords = data.get("coordinates")
    leaves = _leaves(coords, limit=3 * MAX_POLYGON_POINTS) if isinstance(
        coords, list | tuple) else []
    if leaves is None:
        msg = f"{label}: coordinates nested deeper than a MultiPolygon's"
        raise ValidationError(msg)
    if len(leaves) > 2 * MAX_POLYGON_POINTS:
        msg = f"{label}: more than {MAX_POLYGON_POINTS} points; simplify it first"
        raise ValidationError(msg)
    if not all(_finite(v) for v in leaves):  # before shapely, which warns on NaN
        msg = f"{label}: coordinates must be finite numbers (no NaN or Infinity)"
        raise ValidationError(msg)
    try:
        geom = shape(data)
    except (ValueError, TypeError, AttributeError, IndexError, KeyError,
            shapely.errors.GEOSException) as e:
        msg = f"{label}: malformed {data.get('type')} coordinates ({e})"
        raise ValidationError(msg) from e
    if geom.is_empty:
        msg = f"{label}: the polygon is empty"
        raise ValidationError(msg)
    minx, miny, maxx, maxy = geom.bounds
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        msg = f"{label}: coordinates must be longitude/latitude degrees (EPSG:4326, lon first)"
        raise ValidationError(msg)
    if not geom.is_valid:
        msg = f"{label}: invalid polygon ({shapely.is_valid_reason(geom)})"
        raise ValidationError(msg)
    if geom.area == 0:
        msg = f"{label}: the polygon has no area"
        raise ValidationError(msg)
    return geom
