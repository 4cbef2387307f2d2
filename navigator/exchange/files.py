"""Resources from GeoJSON and CSV files; resources to GeoJSON (RFC 7946) and GeoPackage.

File fields are :class:`~navigator.model.Resource` fields. List fields (``services``,
``languages``, ``eligibility_genders``) are JSON lists in GeoJSON or ``;``-separated text;
eligibility is either an ``eligibility`` object or flat ``eligibility_genders``,
``eligibility_min_age``, ``eligibility_max_age``, ``eligibility_families`` columns; beds are
``beds_<bed_type>_capacity`` and ``beds_<bed_type>_free`` columns (or a ``beds`` list of
``{"bed_type", "capacity", "free"}`` objects in GeoJSON).
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from navigator.errors import ValidationError
from navigator.jsonsafe import json_safe
from navigator.model import Beds, BedType, Bundle, Eligibility, Resource

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

_LON_NAMES = ("lon", "longitude", "x")
_LAT_NAMES = ("lat", "latitude", "y")
_REQUIRED = ("id", "kind", "name")
_TRUE = {"true", "yes", "1", "y", "t"}
_FALSE = {"false", "no", "0", "n", "f", ""}
_TEXT_FIELDS = ("address", "phone", "opening_hours", "intake_phone", "source")
_BOOL_FIELDS = ("walk_in", "wheelchair", "pets", "confidential", "synthetic")


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or (
        isinstance(value, str) and not value.strip())


def _bool(value: object, field: str) -> bool:
    if isinstance(value, bool):
        return value
    text = "" if _blank(value) else str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    msg = f"{field}={value!r} is not true/false"
    raise ValidationError(msg)


def _number(value: object, field: str) -> float | None:
    if _blank(value):
        return None
    if isinstance(value, bool):
        msg = f"{field}={value!r} is not a number"
        raise ValidationError(msg)
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as e:
        msg = f"{field}={value!r} is not a number"
        raise ValidationError(msg) from e


def _int(value: object, field: str) -> int | None:
    number = _number(value, field)
    if number is None:
        return None
    if not math.isfinite(number) or not number.is_integer():
        msg = f"{field}={value!r} is not a whole number"
        raise ValidationError(msg)
    return int(number)


def _strings(value: object, field: str) -> tuple[str, ...]:
    if _blank(value):
        return ()
    if isinstance(value, list | tuple):
        return tuple(str(v).strip() for v in value)
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(";") if v.strip())
    msg = f"{field}={value!r} is not a list or ;-separated text"
    raise ValidationError(msg)


def _beds(fields: Mapping[str, Any]) -> tuple[Beds, ...]:
    beds: list[Beds] = []
    if isinstance(fields.get("beds"), list):
        for i, b in enumerate(fields["beds"]):
            if not isinstance(b, dict):
                msg = f"beds[{i}] is not an object"
                raise ValidationError(msg)
            beds.append(Beds(_enum_bed(b.get("bed_type"), f"beds[{i}].bed_type"),
                             _int(b.get("capacity"), f"beds[{i}].capacity"),  # type: ignore[arg-type]
                             _int(b.get("free"), f"beds[{i}].free")))  # type: ignore[arg-type]
    for bed_type in BedType:
        cap_key, free_key = f"beds_{bed_type.value}_capacity", f"beds_{bed_type.value}_free"
        capacity, free = _int(fields.get(cap_key), cap_key), _int(fields.get(free_key), free_key)
        if capacity is None and free is None:
            continue
        if capacity is None or free is None:
            msg = f"{cap_key} and {free_key} must both be given"
            raise ValidationError(msg)
        beds.append(Beds(bed_type, capacity, free))
    return tuple(beds)


def _enum_bed(value: object, field: str) -> BedType:
    try:
        return BedType(str(value) if isinstance(value, str) else "")
    except ValueError as e:
        msg = f"{field}={value!r} is not one of {', '.join(b.value for b in BedType)}"
        raise ValidationError(msg) from e


def resource_from_fields(fields: Mapping[str, Any], lon: object, lat: object) -> Resource:
    """Return the resource a file row or feature describes (see the module docstring).

    Raises
    ------
    ValidationError
        Naming the field of the first bad value.
    """
    missing = [f for f in _REQUIRED if _blank(fields.get(f))]
    if missing:
        msg = f"missing required field(s) {', '.join(missing)}"
        raise ValidationError(msg)
    elig = fields.get("eligibility")
    if isinstance(elig, str) and elig.strip():
        try:
            elig = json.loads(elig)
        except json.JSONDecodeError as e:
            msg = f"eligibility={elig!r} is not a JSON object"
            raise ValidationError(msg) from e
    if isinstance(elig, dict):
        eligibility = Eligibility(
            genders=_strings(elig.get("genders"), "eligibility.genders"),
            min_age=_int(elig.get("min_age"), "eligibility.min_age"),
            max_age=_int(elig.get("max_age"), "eligibility.max_age"),
            families=_bool(elig.get("families", True), "eligibility.families"))
    else:
        families = fields.get("eligibility_families")
        eligibility = Eligibility(
            genders=_strings(fields.get("eligibility_genders"), "eligibility_genders"),
            min_age=_int(fields.get("eligibility_min_age"), "eligibility_min_age"),
            max_age=_int(fields.get("eligibility_max_age"), "eligibility_max_age"),
            families=True if _blank(families) else _bool(families, "eligibility_families"))
    extra: dict[str, Any] = {f: ("" if _blank(fields.get(f)) else str(fields[f]).strip())
                             for f in _TEXT_FIELDS}
    extra.update({f: _bool(fields.get(f), f) for f in _BOOL_FIELDS})
    for f in ("meeting_point_lon", "meeting_point_lat"):
        extra[f] = _number(fields.get(f), f)
    languages = _strings(fields.get("languages"), "languages") or ("en",)
    return Resource(id=str(fields["id"]).strip(), kind=fields["kind"],
                    name=str(fields["name"]).strip(),
                    lon=_number(lon, "lon"), lat=_number(lat, "lat"),  # type: ignore[arg-type]
                    beds=_beds(fields), services=_strings(fields.get("services"), "services"),
                    eligibility=eligibility, languages=languages, **extra)


def _bundle(resources: list[Resource], where: str) -> Bundle:
    seen: set[str] = set()
    for r in resources:
        if r.id in seen:
            msg = f"{where}: id {r.id!r} appears more than once"
            raise ValidationError(msg)
        seen.add(r.id)
    return Bundle(resources=tuple(resources),
                  notes=(f"{where}: {len(resources)} resources imported",))


def read_resources_geojson(source: str | Path | Mapping[str, Any]) -> Bundle:
    """Return the resources in a GeoJSON FeatureCollection of Points (EPSG:4326); all or none.

    Raises
    ------
    ValidationError
        On bad JSON, a non-Point geometry or any bad value, naming the feature index, its id
        and the field.
    """
    where, data = "GeoJSON", source
    if not isinstance(source, Mapping):
        where = Path(source).name
        try:
            data = json.loads(Path(source).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            msg = f"{where}: cannot read GeoJSON: {e}"
            raise ValidationError(msg) from e
    if not isinstance(data, Mapping) or data.get("type") != "FeatureCollection" \
            or not isinstance(data.get("features"), list):
        msg = f"{where}: not a GeoJSON FeatureCollection"
        raise ValidationError(msg)
    resources = []
    for i, feature in enumerate(data["features"]):
        props = (feature.get("properties") if isinstance(feature, dict) else None) or {}
        label = f"{where}: feature {i} (id {props.get('id')!r})"
        geom = feature.get("geometry") if isinstance(feature, dict) else None
        if not isinstance(geom, dict) or geom.get("type") != "Point":
            got = geom.get("type") if isinstance(geom, dict) else geom
            msg = f"{label}: geometry must be a Point, got {got!r}"
            raise ValidationError(msg)
        coords = geom.get("coordinates")
        if not isinstance(coords, list) or len(coords) < 2:
            msg = f"{label}: Point coordinates must be [lon, lat], got {coords!r}"
            raise ValidationError(msg)
        try:
            resources.append(resource_from_fields(props, coords[0], coords[1]))
        except ValidationError as e:
            msg = f"{label}: {e}"
            raise ValidationError(msg) from e
    return _bundle(resources, where)


def read_resources_csv(source: str | Path) -> Bundle:
    """Return the resources in a CSV file with ``lon``/``lat`` columns (EPSG:4326); all or none.

    ``longitude``/``latitude`` or ``x``/``y`` are accepted as column names too.

    Raises
    ------
    ValidationError
        On missing columns or any bad value, naming the line, the row's id and the field.
    """
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        msg = f"{path.name}: cannot read CSV: {e}"
        raise ValidationError(msg) from e
    reader = csv.DictReader(io.StringIO(text))
    columns = {c.strip().lower(): c for c in reader.fieldnames or []}
    lon_col = next((columns[n] for n in _LON_NAMES if n in columns), None)
    lat_col = next((columns[n] for n in _LAT_NAMES if n in columns), None)
    missing = [n for n in _REQUIRED if n not in columns]
    missing += [] if lon_col else ["lon"]
    missing += [] if lat_col else ["lat"]
    if missing:
        msg = f"{path.name}: missing column(s) {', '.join(missing)}"
        raise ValidationError(msg)
    resources = []
    for row in reader:
        fields = {k.strip().lower(): v for k, v in row.items() if k is not None}
        label = f"{path.name}: line {reader.line_num} (id {fields.get('id')!r})"
        if None in row:
            msg = f"{label}: more values than columns"
            raise ValidationError(msg)
        try:
            resources.append(resource_from_fields(fields, row[lon_col], row[lat_col]))
        except ValidationError as e:
            msg = f"{label}: {e}"
            raise ValidationError(msg) from e
    return _bundle(resources, path.name)


def resources_frame(resources: Sequence[Resource]) -> gpd.GeoDataFrame:
    """Return records as a GeoDataFrame shaped like ``Store.resources()`` plus bed columns.

    Columns are :data:`~navigator.store.base.RESOURCE_COLUMNS`, then
    ``beds_<bed_type>_capacity``/``_free`` for every bed type present; EPSG:4326 points.
    """
    import geopandas as gpd
    from shapely.geometry import Point

    from navigator.store.base import RESOURCE_COLUMNS

    rows = []
    for r in resources:
        row: dict[str, Any] = {c: getattr(r, c) for c in RESOURCE_COLUMNS}
        row["kind"] = r.kind.value
        row["eligibility"] = r.eligibility.to_dict()
        for b in r.beds:
            row[f"beds_{b.bed_type.value}_capacity"] = b.capacity
            row[f"beds_{b.bed_type.value}_free"] = b.free
        row["geometry"] = Point(r.lon, r.lat)
        rows.append(row)
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")


def _export_frame(gdf: gpd.GeoDataFrame, beds: pd.DataFrame | None,
                  include_confidential: bool) -> gpd.GeoDataFrame:
    out = gdf if gdf.crs is None or gdf.crs.to_epsg() == 4326 else gdf.to_crs(4326)
    if gdf.crs is None:
        msg = "resources GeoDataFrame has no CRS; expected EPSG:4326"
        raise ValidationError(msg)
    if not include_confidential and "confidential" in out.columns:
        out = out[~out["confidential"].astype(bool)]
    out = out.copy()
    if beds is not None and len(beds):
        for row in beds.itertuples(index=False):
            bed_type = str(getattr(row.bed_type, "value", row.bed_type))
            for part in ("capacity", "free"):
                column = f"beds_{bed_type}_{part}"
                if column not in out.columns:
                    out[column] = None
                out.loc[out["id"] == row.resource_id, column] = int(getattr(row, part))
    return out




def resources_geojson(gdf: gpd.GeoDataFrame, *, beds: pd.DataFrame | None = None,
                      include_confidential: bool = False) -> str:
    """Return resources as an RFC 7946 GeoJSON FeatureCollection (EPSG:4326 lon/lat).

    Parameters
    ----------
    gdf
        ``Store.resources()`` output or :func:`resources_frame` output.
    beds
        Optional ``Store.beds()`` output, added as ``beds_<type>_capacity``/``_free``.
    include_confidential
        Keep confidential sites (default: leave them out).
    """
    out = _export_frame(gdf, beds, include_confidential)
    props = [c for c in out.columns if c != out.geometry.name]
    features = []
    for geom, values in zip(out.geometry, out[props].itertuples(index=False), strict=True):
        properties = {k: json_safe(v) for k, v in zip(props, values, strict=True)}
        properties = {k: v for k, v in properties.items()
                      if not (k.startswith("beds_") and v is None)}
        features.append({"type": "Feature", "properties": properties,
                         "geometry": {"type": "Point",
                                      "coordinates": [float(geom.x), float(geom.y)]}})
    return json.dumps({"type": "FeatureCollection", "features": features},
                      ensure_ascii=False, allow_nan=False)


def write_resources_geojson(gdf: gpd.GeoDataFrame, path: str | Path, *,
                            beds: pd.DataFrame | None = None,
                            include_confidential: bool = False) -> Path:
    """Write :func:`resources_geojson` output to ``path`` (UTF-8) and return the path."""
    out = Path(path)
    out.write_text(resources_geojson(gdf, beds=beds, include_confidential=include_confidential),
                   encoding="utf-8")
    return out


def write_resources_gpkg(gdf: gpd.GeoDataFrame, path: str | Path, *, layer: str = "resources",
                         beds: pd.DataFrame | None = None,
                         include_confidential: bool = False) -> Path:
    """Write resources to a GeoPackage layer (EPSG:4326) that QGIS opens; return the path.

    List columns become ``;``-separated text and ``eligibility`` becomes the flat
    ``eligibility_*`` columns, the same layout :func:`read_resources_csv` reads.
    """
    out = _export_frame(gdf, beds, include_confidential)
    flat = out.copy()
    for column in flat.columns:
        if column == flat.geometry.name:
            continue
        if column == "eligibility":
            elig = [e if isinstance(e, dict) else {} for e in flat[column]]
            flat["eligibility_genders"] = [";".join(e.get("genders") or ()) for e in elig]
            flat["eligibility_min_age"] = [e.get("min_age") for e in elig]
            flat["eligibility_max_age"] = [e.get("max_age") for e in elig]
            flat["eligibility_families"] = [bool(e.get("families", True)) for e in elig]
        elif flat[column].map(lambda v: isinstance(v, tuple | list)).any():
            flat[column] = [";".join(map(str, v)) if isinstance(v, tuple | list) else v
                            for v in flat[column]]
    flat = flat.drop(columns=["eligibility"], errors="ignore")
    for column in flat.columns:
        if column.startswith(("beds_", "eligibility_m")):
            flat[column] = flat[column].astype("Int64")
        elif column.startswith("meeting_point"):
            flat[column] = flat[column].astype("Float64")
    target = Path(path)
    flat.to_file(target, layer=layer, driver="GPKG", engine="pyogrio")
    return target
