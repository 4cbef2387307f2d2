"""Road closures as GeoJSON: read a Geometry, Feature or FeatureCollection (EPSG:4326)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from navigator.errors import ValidationError
from navigator.model import CLOSURE_GEOMETRY_TYPES

if TYPE_CHECKING:
    from pathlib import Path

    from shapely.geometry.base import BaseGeometry

#: Largest GeoJSON closure import, in bytes.
MAX_IMPORT_BYTES = 5_000_000


def closure_geometries(data: Any, *, what: str = "closure",
                       types: tuple[str, ...] = CLOSURE_GEOMETRY_TYPES
                       ) -> list[tuple[BaseGeometry, Mapping[str, Any]]]:
    """Return the geometries (and feature properties) of a GeoJSON closure (EPSG:4326).

    ``data`` is a Geometry, a Feature or a FeatureCollection (one closure per feature).
    ``ValidationError`` for anything else, unreadable coordinates or a geometry type not in
    ``types``; messages name ``what`` (other GeoJSON imports, e.g. compliance areas, reuse
    this reader).
    """
    import shapely.geometry

    if not isinstance(data, Mapping):
        msg = f"{what}: GeoJSON must be an object (Geometry, Feature or FeatureCollection)"
        raise ValidationError(msg)
    kind = data.get("type")
    if kind == "FeatureCollection":
        features = data.get("features")
        if not isinstance(features, list) or not features:
            msg = f"{what}: the FeatureCollection has no features"
            raise ValidationError(msg)
    elif kind == "Feature":
        features = [data]
    else:
        features = [{"type": "Feature", "geometry": data, "properties": {}}]
    out = []
    for i, feature in enumerate(features, 1):
        where = f"{what} feature {i}" if len(features) > 1 else what
        geometry = feature.get("geometry") if isinstance(feature, Mapping) else None
        if not isinstance(geometry, Mapping) or \
                geometry.get("type") not in types:
            got = geometry.get("type") if isinstance(geometry, Mapping) else geometry
            msg = (f"{where}: geometry type {got!r} is not one of "
                   f"{', '.join(types)}")
            raise ValidationError(msg)
        try:
            shape = shapely.geometry.shape(geometry)
        except Exception as e:
            msg = f"{where}: unreadable coordinates ({e})"
            raise ValidationError(msg) from e
        props = feature.get("properties") if isinstance(feature, Mapping) else None
        out.append((shape, props if isinstance(props, Mapping) else {}))
    return out


def read_closure_file(path: Path) -> Any:
    """Return the parsed GeoJSON of a closure file; ``ValidationError`` if unreadable."""
    try:
        if path.stat().st_size > MAX_IMPORT_BYTES:
            msg = f"{path}: larger than {MAX_IMPORT_BYTES // 1_000_000} MB"
            raise ValidationError(msg)
        return json.loads(path.read_text(encoding="utf-8"))
    except RecursionError as e:
        msg = f"{path}: not a readable GeoJSON file (nested too deeply)"
        raise ValidationError(msg) from e
    except (OSError, ValueError) as e:  # also not UTF-8, not JSON, a 5,000-digit number
        msg = f"{path}: not a readable GeoJSON file ({e})"
        raise ValidationError(msg) from e
