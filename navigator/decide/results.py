"""Shared pieces of decision results: JSON-safe dicts, routes for display, response targets."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, is_dataclass
from datetime import date, datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from navigator.errors import ValidationError

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

    from navigator.roads import Route

__all__ = ["ResponseTargets", "json_safe", "route_dict"]


def route_dict(route: Route | None) -> dict[str, Any] | None:
    """Return a route as a GeoJSON Feature (EPSG:4326) with seconds and metres, or None."""
    if route is None:
        return None
    coords = [[round(float(x), 7), round(float(y), 7)] for x, y in route.geometry.coords]
    return {"type": "Feature", "geometry": {"type": "LineString", "coordinates": coords},
            "properties": {"travel_time_s": json_safe(route.travel_time_s),
                           "length_m": json_safe(route.length_m)}}


def json_safe(value: Any) -> Any:
    """Return ``value`` as plain JSON types: ``inf``/NaN become None, enums their value.

    Dataclasses become dicts (through their ``to_dict`` when they have one), tuples lists,
    datetimes ISO 8601 strings, numpy scalars Python numbers, routes GeoJSON features.
    """
    from navigator.roads import Route

    # Fast paths first: results are mostly plain floats, strings and lists of them.
    kind = type(value)
    if value is None or kind is str or kind is bool or kind is int:
        return value
    if kind is float:
        return value if math.isfinite(value) else None
    if kind is list or kind is tuple:
        return [json_safe(v) for v in value]
    if kind is dict:
        return {k if type(k) is str else str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, bool | str):
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, int):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Route):
        return route_dict(value)
    if is_dataclass(value) and not isinstance(value, type):
        to_dict = getattr(value, "to_dict", None)
        if callable(to_dict):
            return to_dict()
        return {f.name: json_safe(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return [json_safe(v) for v in value.tolist()]
    if isinstance(value, Sequence | set | frozenset):
        return [json_safe(v) for v in value]
    msg = f"cannot turn {type(value).__name__} into JSON"
    raise ValidationError(msg)


@dataclass(frozen=True)
class ResponseTargets:
    """Response-time targets: a default and optional areas with their own.

    Attributes
    ----------
    default_s
        Target, seconds, where no zone applies (``Settings.response_target_s``).
    zones
        ``(name, polygon in EPSG:4326, target seconds)``; the first zone covering a point wins
        (e.g. ``("rural", polygon, 7200.0)``).
    """

    default_s: float
    zones: tuple[tuple[str, BaseGeometry, float], ...] = ()

    def __post_init__(self) -> None:
        for name, target in [("default", self.default_s), *((z[0], z[2]) for z in self.zones)]:
            if not (isinstance(target, int | float) and 0 < target < math.inf):
                msg = f"response target {name!r} must be positive finite seconds, got {target!r}"
                raise ValidationError(msg)

    def at(self, lon: npt.ArrayLike, lat: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Return the target, seconds, at each point (EPSG:4326 degrees)."""
        import shapely

        x = np.atleast_1d(np.asarray(lon, dtype=np.float64))
        y = np.atleast_1d(np.asarray(lat, dtype=np.float64))
        out = np.full(x.shape, float(self.default_s))
        todo = np.ones(x.shape, dtype=bool)
        if self.zones:
            points = shapely.points(x, y)
            for _, polygon, target in self.zones:
                inside = shapely.covers(polygon, points) & todo
                out[inside] = float(target)
                todo &= ~inside
        return out

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe summary (zone names and targets, not their polygons)."""
        return {"default_s": self.default_s,
                "zones": [{"name": n, "target_s": t} for n, _, t in self.zones]}
