"""Resources from OpenStreetMap POIs: a derived GeoJSON file or an .osm.pbf extract."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from difflib import SequenceMatcher
from pathlib import Path
from typing import TYPE_CHECKING, Any

from navigator.errors import ValidationError
from navigator.exchange.area import checked_area, clipped_resources
from navigator.model import Bundle, Resource, ResourceKind

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

#: Attribution every OSM-derived record and map carries.
OSM_CREDIT = "© OpenStreetMap contributors, ODbL 1.0"
#: ``healthcare=*`` values that are not a place to send someone in crisis.
OSM_HEALTHCARE_EXCLUDED = frozenset({
    "pharmacy", "laboratory", "dentist", "optometrist", "sample_collection", "blood_donation",
    "audiologist", "podiatrist",
})
#: ``healthcare`` / ``healthcare:speciality`` values and the service each names.
OSM_SERVICES = {"psychiatry": "psychiatric", "psychotherapist": "psychiatric",
                "counselling": "counselling", "addiction": "detox", "substance_abuse": "detox",
                "gynaecology": "womens_health", "paediatrics": "pediatrics",
                "general": "primary_care", "doctor": "primary_care"}
#: Radius in metres within which a same-kind, similar-name OSM POI duplicates a city POI.
#: Hospitals are campuses: OSM's point is the building's centroid, the city's the entrance.
DEDUPE_RADIUS_M = {ResourceKind.HOSPITAL: 300.0}
DEFAULT_DEDUPE_RADIUS_M = 75.0
_NAME_NOISE = frozenset({"the", "of", "and", "hospital", "hosp", "medical", "center", "centre",
                         "ohiohealth", "health", "clinic", "station", "dept", "department",
                         "columbus", "inc"})
_NAME_SYNONYMS = {"mt": "mount", "st": "saint", "nw": "nationwide", "ctr": "center"}


def osm_kind(tags: Mapping[str, str]) -> ResourceKind | None:
    """Return the resource kind OSM ``tags`` describe, or None if Navigator does not use it.

    ``social_facility=shelter`` is a shelter; ``amenity=shelter`` (a weather or bus shelter)
    never is. Hospitals, clinics, doctors and ``healthcare=*`` (minus
    :data:`OSM_HEALTHCARE_EXCLUDED`) are care sites; fire stations and police are team bases.
    """
    amenity = tags.get("amenity", "")
    healthcare = tags.get("healthcare", "")
    if tags.get("social_facility") == "shelter":
        return ResourceKind.SHELTER
    if amenity == "hospital" or healthcare == "hospital":
        return ResourceKind.HOSPITAL
    if amenity in {"clinic", "doctors"} or (healthcare and
                                            healthcare not in OSM_HEALTHCARE_EXCLUDED):
        return ResourceKind.CLINIC
    if amenity in {"fire_station", "police"}:
        return ResourceKind.TEAM_BASE
    return None


def osm_resource(tags: Mapping[str, Any], osm_type: str, osm_id: int, lon: float, lat: float,
                 ) -> Resource | None:
    """Return the resource one OSM object describes (real values only), or None if unused."""
    kind = osm_kind(tags)
    if kind is None or "(historical)" in str(tags.get("name") or ""):
        return None  # OSM marks closed places "(historical)" in the name
    ref = f"{osm_type}/{osm_id}"
    name = str(tags.get("name") or "").strip() or f"Unnamed {kind.value} (OSM {ref})"
    street = " ".join(str(tags[k]) for k in ("addr:housenumber", "addr:street") if tags.get(k))
    address = ", ".join(p for p in (street, str(tags.get("addr:city") or "")) if p)
    services: list[str] = []
    for key in ("healthcare", "healthcare:speciality"):
        for value in str(tags.get(key) or "").split(";"):
            service = OSM_SERVICES.get(value.strip())
            if service and service not in services:
                services.append(service)
    return Resource(
        id=f"osm-{osm_type}-{osm_id}", kind=kind, name=name, lon=round(float(lon), 7),
        lat=round(float(lat), 7), address=address, phone=str(tags.get("phone") or "").strip(),
        opening_hours=str(tags.get("opening_hours") or "").strip(), services=tuple(services),
        walk_in=kind is ResourceKind.HOSPITAL and tags.get("emergency") == "yes",
        wheelchair=tags.get("wheelchair") == "yes", source=f"OSM {ref} ({OSM_CREDIT})",
    )


def _geojson_resources(data: Any, where: str) -> list[Resource]:
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        msg = f"{where}: not a GeoJSON FeatureCollection"
        raise ValidationError(msg)
    out: list[Resource] = []
    for i, feature in enumerate(data.get("features") or []):
        props = feature.get("properties") or {}
        geom = feature.get("geometry") or {}
        label = f"{where}: feature {i} (OSM {props.get('osm_type')}/{props.get('osm_id')})"
        if osm_kind(props) is None:
            continue
        if geom.get("type") != "Point":
            msg = f"{label}: geometry must be a Point, got {geom.get('type')!r}"
            raise ValidationError(msg)
        try:
            osm_type, osm_id = str(props["osm_type"]), int(props["osm_id"])
            lon, lat = geom["coordinates"][:2]
        except (KeyError, TypeError, ValueError) as e:
            msg = f"{label}: needs osm_type, osm_id and Point coordinates ({e})"
            raise ValidationError(msg) from e
        resource = osm_resource(props, osm_type, osm_id, lon, lat)
        if resource is not None:
            out.append(resource)
    return out


def _pbf_resources(path: Path) -> list[Resource]:
    import osmium
    from shapely.geometry import MultiPoint, Polygon

    processor = (osmium.FileProcessor(str(path)).with_locations()
                 .with_filter(osmium.filter.KeyFilter("amenity", "healthcare",
                                                      "social_facility")))
    out: list[Resource] = []
    obj: Any
    for obj in processor:
        if obj.is_relation():
            continue  # Relations are skipped, as in the derived GeoJSON files.
        tags = dict(obj.tags)
        if osm_kind(tags) is None:
            continue
        if obj.is_node():
            lon, lat = obj.location.lon, obj.location.lat
            out_type = "node"
        else:
            coords = [(n.location.lon, n.location.lat) for n in obj.nodes
                      if n.location.valid()]
            if not coords:
                continue
            closed = len(coords) >= 4 and coords[0] == coords[-1]
            shape = Polygon(coords) if closed else MultiPoint(coords)
            lon, lat = shape.centroid.x, shape.centroid.y
            out_type = "way"
        resource = osm_resource(tags, out_type, obj.id, lon, lat)
        if resource is not None:
            out.append(resource)
    return out


def osm_resources(path_or_geojson: str | Path | Mapping[str, Any], *,
                  area: BaseGeometry | None = None) -> Bundle:
    """Return shelters, hospitals, clinics and team bases from OSM POIs.

    Parameters
    ----------
    path_or_geojson
        A ``.geojson`` FeatureCollection of points (the shipped ``*_osm_pois.geojson``), an
        ``.osm.pbf``/``.osm`` extract (nodes, and ways reduced to their centroid), or an
        already parsed GeoJSON mapping.
    area
        Polygon (EPSG:4326) to keep; default the Columbus drive network's bbox.

    Returns
    -------
    Bundle
        Real values only (``synthetic=False``), each ``source`` naming the OSM object and
        crediting OpenStreetMap contributors; ``notes`` say what was clipped.
    """
    area = checked_area(area)
    if isinstance(path_or_geojson, Mapping):
        where = "GeoJSON"
        resources = _geojson_resources(dict(path_or_geojson), where)
    else:
        path = Path(path_or_geojson)
        where = path.name
        if not path.is_file():
            msg = f"OSM POI file {str(path)!r} does not exist"
            raise ValidationError(msg)
        if path.suffix.lower() in {".geojson", ".json"}:
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as e:
                msg = f"{where}: not valid JSON: {e}"
                raise ValidationError(msg) from e
            resources = _geojson_resources(data, where)
        else:
            try:
                resources = _pbf_resources(path)
            except RuntimeError as e:
                msg = f"{where}: cannot read OSM data: {e}"
                raise ValidationError(msg) from e
    label = f"OpenStreetMap POIs ({where}; {OSM_CREDIT})"
    kept, notes = clipped_resources(resources, area, label=label)
    return Bundle(resources=kept, notes=notes)


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Return the great-circle distance in metres between two EPSG:4326 points."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(min(1.0, math.sqrt(h)))


def _name_tokens(name: str) -> set[str]:
    words = re.findall(r"[a-z0-9]+", name.lower().replace("'s", ""))
    return {_NAME_SYNONYMS.get(w, w) for w in words} - _NAME_NOISE


def similar_names(a: str, b: str) -> bool:
    """Return whether two place names plausibly name the same place.

    False when both names hold numbers and they differ. Otherwise true when the significant
    words (generic ones such as "hospital" and "center" dropped)
    of one name are all in the other, or the names' character similarity is at least 0.8.
    """
    ta, tb = _name_tokens(a), _name_tokens(b)
    numbers_a, numbers_b = {t for t in ta if t.isdigit()}, {t for t in tb if t.isdigit()}
    if numbers_a != numbers_b and numbers_a and numbers_b:
        return False  # "Fire Station 3" is not "Fire Station 30"
    if ta and tb and (ta <= tb or tb <= ta):
        return True
    return SequenceMatcher(None, a.lower(), b.lower()).ratio() >= 0.8


def deduplicated_resources(primary: Sequence[Resource], others: Iterable[Resource]
                           ) -> tuple[tuple[Resource, ...], tuple[str, ...]]:
    """Return ``primary`` plus the ``others`` that duplicate none of them, and notes.

    An other record duplicates a primary one when it is of the same kind, lies within
    :data:`DEDUPE_RADIUS_M` (default :data:`DEFAULT_DEDUPE_RADIUS_M`) and has a similar name;
    the primary (e.g. city) record is kept.
    """
    kept = list(primary)
    dropped: list[str] = []
    for other in others:
        radius = DEDUPE_RADIUS_M.get(other.kind, DEFAULT_DEDUPE_RADIUS_M)
        match = next((p for p in primary if p.kind is other.kind
                      and distance_m(p.lon, p.lat, other.lon, other.lat) <= radius
                      and similar_names(p.name, other.name)), None)
        if match is None:
            kept.append(other)
        else:
            dropped.append(f"{other.name} ({other.source.split(' (')[0]}) = {match.name} "
                           f"({match.source})")
    notes = (f"dropped {len(dropped)} duplicate(s), keeping the first source: "
             + "; ".join(dropped),) if dropped else ()
    return tuple(kept), notes
