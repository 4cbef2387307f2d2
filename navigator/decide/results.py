"""What decisions share: response-time targets per area (JSON forms are navigator.jsonsafe)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from navigator.errors import ValidationError

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry


__all__ = ["ResponseTargets"]






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
