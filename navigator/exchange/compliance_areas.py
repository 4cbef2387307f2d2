"""Compliance areas as GeoJSON: polygons with a name, a class and a target per priority.

Each feature's properties::

    {"name": "Downtown", "class": "urban", "targets_s": {"1": 900, "2": 1200, "3": 2400,
     "4": 5400}, "id": "downtown"}

``id`` is optional (one is generated); ``targets_s`` needs every priority 1-4 in seconds.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from navigator.errors import ValidationError
from navigator.exchange.closures import closure_geometries
from navigator.model import AREA_GEOMETRY_TYPES, ComplianceArea

__all__ = ["compliance_areas_from_geojson"]

_ID_MAX = 100


def _area_id(props: Mapping[str, Any], where: str) -> str:
    raw = props.get("id")
    if raw is None or raw == "":
        return f"area-{uuid.uuid4().hex[:12]}"
    if not isinstance(raw, str | int) or isinstance(raw, bool) or not str(raw).strip() or \
            len(str(raw).strip()) > _ID_MAX or not str(raw).isprintable():
        msg = f"{where}: id must be printable text of 1-{_ID_MAX} characters, got {raw!r}"
        raise ValidationError(msg)
    return str(raw).strip()


def compliance_areas_from_geojson(data: Any) -> list[ComplianceArea]:
    """Return the compliance areas of a GeoJSON Feature or FeatureCollection (EPSG:4326).

    Parameters
    ----------
    data
        Parsed GeoJSON; one area per Polygon / MultiPolygon feature.

    Returns
    -------
    list of ComplianceArea
        In file order, not yet stored (geometry validity is checked by the store).

    Raises
    ------
    ValidationError
        Not GeoJSON features, another geometry type, unreadable coordinates, or properties
        without a name, a class or a valid target for each priority 1-4; the message names
        the feature.
    """
    parts = closure_geometries(data, what="compliance area", types=AREA_GEOMETRY_TYPES)
    out = []
    for i, (geometry, props) in enumerate(parts, 1):
        where = f"compliance area feature {i}" if len(parts) > 1 else "compliance area"
        targets = props.get("targets_s")
        if not isinstance(targets, Mapping):
            msg = (f"{where}: properties need targets_s, seconds per priority 1-4, e.g. "
                   '{"1": 900, "2": 1800, "3": 3600, "4": 7200}')
            raise ValidationError(msg)
        try:
            out.append(ComplianceArea(
                id=_area_id(props, where), name=props.get("name"),  # type: ignore[arg-type]
                area_class=props.get("class", props.get("area_class")),  # type: ignore[arg-type]
                geometry=geometry, targets_s=dict(targets)))
        except ValidationError as e:
            if len(parts) == 1:
                raise
            msg = f"{where}: {e}"
            raise ValidationError(msg) from e
    return out
