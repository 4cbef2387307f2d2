"""JSON forms of Navigator's values: the one converter, and the one GeoJSON feature builder.

Every edge (the web API, the CLI's ``--json``, exports) turns results into JSON here, so
``inf``/NaN become null (unreachable is never shown as a number), enums their value, dates
ISO 8601, and a GeoDataFrame an RFC 7946 FeatureCollection in EPSG:4326.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import fields, is_dataclass
from datetime import date, datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

import numpy as np

from navigator.errors import ValidationError

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["feature_collection", "json_safe"]


def json_safe(value: Any) -> Any:
    """Return ``value`` as plain JSON types: ``inf``/NaN/NaT become None, enums their value.

    Dataclasses become dicts (through their ``to_dict`` when they have one, so a route is a
    GeoJSON Feature), tuples and arrays lists, datetimes ISO 8601 strings, numpy scalars
    Python numbers, shapely geometries GeoJSON geometries.

    Raises
    ------
    ValidationError
        For a value with no JSON form.
    """
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
        return json_safe(value.item())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, int):
        return int(value)
    if kind.__name__ in ("NaTType", "NAType"):  # pandas' missing time / value
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
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
    geo = getattr(value, "__geo_interface__", None)  # a shapely geometry: GeoJSON
    if isinstance(geo, Mapping):
        return json_safe(geo)
    msg = f"cannot turn {type(value).__name__} into JSON"
    raise ValidationError(msg)


def feature_collection(gdf: gpd.GeoDataFrame, *, drop: Iterable[str] = (),
                       id_column: str | None = "id", simplify_deg: float | None = None,
                       bbox: bool = False) -> dict[str, Any]:
    """Return rows as an RFC 7946 FeatureCollection (EPSG:4326; properties through json_safe).

    Parameters
    ----------
    gdf
        Any geometry type; reprojected to EPSG:4326 when it has another CRS.
    drop
        Columns left out of the properties.
    id_column
        Column whose value is each feature's ``id`` (kept in the properties too); None: none.
    simplify_deg
        Simplify outlines to this tolerance, degrees (for polygons drawn on a page).
    bbox
        Give each feature its ``bbox``.
    """
    import shapely

    if gdf.crs is not None and gdf.crs.to_epsg() != 4326:
        gdf = gdf.to_crs(4326)
    skip = {gdf.geometry.name, *drop}
    cols = [c for c in gdf.columns if c not in skip]
    geoms = gdf.geometry.to_numpy()
    if simplify_deg:
        geoms = shapely.simplify(geoms, simplify_deg)
    out = []
    for geom, values in zip(geoms, gdf[cols].itertuples(index=False, name=None), strict=True):
        props = {c: json_safe(v) for c, v in zip(cols, values, strict=True)}
        feature: dict[str, Any] = {"type": "Feature"}
        if id_column is not None and props.get(id_column) is not None:
            feature["id"] = props[id_column]
        feature["geometry"] = None if geom is None else json_safe(
            shapely.geometry.mapping(geom))
        feature["properties"] = props
        if bbox and geom is not None:
            feature["bbox"] = [float(v) for v in geom.bounds]
        out.append(feature)
    return {"type": "FeatureCollection", "features": out}
