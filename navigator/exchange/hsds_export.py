"""Export resources and hotlines as Open Referral HSDS 3.0 (tabular package or JSON).

Mapping (a record becomes one organization, one service and, for places, one location and
one service_at_location): location ``latitude``/``longitude``, ``addresses.address_1``,
``phones`` (``voice``; hotlines also ``text``), ``schedules`` from the OSM opening hours
(weekday rules, 24/7, overnight), ``languages``, ``accessibility`` (wheelchair),
``service.eligibility_description`` + ``minimum_age``/``maximum_age``, hotline
``service_areas`` (GeoJSON extent; "nationwide" when national; none when the area is
unknown). Navigator's extras (kind, beds,
exact opening hours, genders, families, walk-in, pets, services, channels, synthetic flag,
source) are ``attributes`` rows whose ``taxonomy_term`` belongs to the ``navigator``
taxonomy; its term ``code`` names the field, ``value`` holds it. Confidential sites are
never exported.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from navigator.config import DATA_DIR
from navigator.errors import ValidationError
from navigator.exchange.languages import language_name
from navigator.exchange.schedule import schedule_rows
from navigator.model import Bundle, Hotline, Resource

if TYPE_CHECKING:
    from navigator.store.base import Store

#: Namespace of the deterministic UUIDs Navigator gives HSDS objects.
HSDS_NAMESPACE = uuid.UUID("6f1c3a52-5d0e-4b7a-9d1e-2c6f0b8a4e11")
#: ``location.external_identifier_type`` marking a Navigator resource id.
NAVIGATOR_ID_TYPE = "navigator_id"
#: Taxonomy holding the Navigator extension terms (see module docstring).
NAVIGATOR_TAXONOMY = "navigator"
#: HSDS tables Navigator writes, with their file names in the HSDS 3.0 data package.
HSDS_TABLES = {
    "organization": "organizations.csv", "service": "services.csv",
    "location": "locations.csv", "service_at_location": "service_at_location.csv",
    "address": "addresses.csv", "phone": "phones.csv", "schedule": "schedules.csv",
    "language": "languages.csv", "accessibility": "accessibility.csv",
    "service_area": "service_areas.csv", "attribute": "attributes.csv",
    "taxonomy": "taxonomies.csv", "taxonomy_term": "taxonomy_terms.csv",
}
def hsds_uuid(*parts: str) -> str:
    """Return a deterministic UUID (string) for an HSDS object named by ``parts``."""
    return str(uuid.uuid5(HSDS_NAMESPACE, ":".join(parts)))


def _term(code: str) -> dict[str, Any]:
    return {"id": hsds_uuid("term", code), "code": code, "name": code.replace("_", " "),
            "description": f"Navigator field {code} (value in attribute.value)",
            "taxonomy": NAVIGATOR_TAXONOMY, "taxonomy_id": hsds_uuid("taxonomy")}


def _attributes(link_id: str, link_entity: str, values: dict[str, str]) -> list[dict[str, Any]]:
    return [{"id": hsds_uuid("attribute", link_id, code), "link_id": link_id,
             "link_type": NAVIGATOR_TAXONOMY, "link_entity": link_entity,
             "taxonomy_term_id": hsds_uuid("term", code), "value": value,
             "taxonomy_term": _term(code)} for code, value in values.items()]


def _schedules(opening_hours: str, key: str, **links: str) -> list[dict[str, Any]]:
    rows, skipped = schedule_rows(opening_hours)
    notes = "Closed on public holidays" if "PH off" in skipped else ""
    return [{"id": hsds_uuid("schedule", key, str(i)), **links, **row, "interval": 1,
             "notes": notes} for i, row in enumerate(rows)]


def _languages(codes: Iterable[str], key: str, **links: str) -> list[dict[str, Any]]:
    return [{"id": hsds_uuid("language", key, code), **links,
             "name": language_name(code), "code": code} for code in codes]


def _eligibility_text(r: Resource) -> str:
    e = r.eligibility
    parts = []
    if e.genders:
        parts.append("Serves " + " and ".join(e.genders))
    if e.min_age is not None or e.max_age is not None:
        parts.append(f"ages {e.min_age if e.min_age is not None else 0}"
                     + (f"-{e.max_age}" if e.max_age is not None else "+"))
    parts.append("families with children welcome" if e.families else "no families with children")
    return "; ".join(parts)


def resource_service(r: Resource) -> dict[str, Any]:
    """Return one public resource as an HSDS 3.0 service object (service_full style).

    Raises
    ------
    ValidationError
        If the resource is confidential: its place must never leave the store.
    """
    if r.confidential:
        msg = f"resource {r.id!r} is confidential and is never exported to HSDS"
        raise ValidationError(msg)
    svc, loc, sal = (hsds_uuid(t, r.id) for t in ("service", "location", "sal"))
    org = hsds_uuid("organization", r.id)
    extras = {"kind": r.kind.value, "opening_hours": r.opening_hours,
              "services": ";".join(r.services), "walk_in": str(r.walk_in).lower(),
              "pets": str(r.pets).lower(), "genders": ";".join(r.eligibility.genders),
              "families": str(r.eligibility.families).lower(),
              "synthetic": str(r.synthetic).lower(), "source": r.source}
    for b in r.beds:
        extras[f"beds_{b.bed_type.value}"] = f"{b.capacity}/{b.free}"
    location: dict[str, Any] = {
        "id": loc, "location_type": "physical", "organization_id": org, "name": r.name,
        "latitude": r.lat, "longitude": r.lon,
        "external_identifier": r.id, "external_identifier_type": NAVIGATOR_ID_TYPE,
        "languages": _languages(r.languages, loc, location_id=loc),
        "addresses": [{"id": hsds_uuid("address", r.id), "location_id": loc,
                       "address_1": r.address, "city": "", "state_province": "",
                       "postal_code": "", "country": "", "address_type": "physical"}]
        if r.address else [],
        "accessibility": [{"id": hsds_uuid("accessibility", r.id), "location_id": loc,
                           "description": "Wheelchair accessible"}] if r.wheelchair else [],
    }
    phones = [{"id": hsds_uuid("phone", r.id), "service_id": svc, "location_id": loc,
               "service_at_location_id": sal, "number": r.phone, "type": "voice"}
              ] if r.phone else []
    service: dict[str, Any] = {
        "id": svc, "organization_id": org, "name": r.name,
        "description": f"{r.kind.value.replace('_', ' ')} ({r.source or 'Navigator'})",
        "status": "active", "eligibility_description": _eligibility_text(r),
        "phones": phones,
        "schedules": _schedules(r.opening_hours, r.id, service_id=svc, location_id=loc,
                                service_at_location_id=sal),
        "languages": _languages(r.languages, svc, service_id=svc),
        "organization": {"id": org, "name": r.name,
                         "description": f"Provider of {r.name} (exported by Navigator)"},
        "attributes": _attributes(svc, "service", extras),
        "service_at_locations": [{"id": sal, "service_id": svc, "location_id": loc,
                                  "location": location}],
    }
    for age in ("min_age", "max_age"):
        value = getattr(r.eligibility, age)
        if value is not None:
            service["minimum_age" if age == "min_age" else "maximum_age"] = value
    return service


def hotline_service(h: Hotline) -> dict[str, Any]:
    """Return a hotline as an HSDS 3.0 service object with phones and a service area."""
    import shapely

    svc, org = hsds_uuid("service", h.id), hsds_uuid("organization", h.id)
    phones = [{"id": hsds_uuid("phone", h.id), "service_id": svc, "number": h.phone,
               "type": "voice"}]
    if h.text_number:
        phones.append({"id": hsds_uuid("phone", h.id, "text"), "service_id": svc,
                       "number": h.text_number, "type": "text"})
    # A line whose area is unknown gets no service area: importers must not read it as
    # nationwide (its source keeps the "area unknown" mark for Navigator's own import).
    areas = [] if not h.area_known else [
        {"id": hsds_uuid("service_area", h.id), "service_id": svc,
         "name": "Nationwide (United States)", "description": "nationwide"}
        if h.area is None else
        {"id": hsds_uuid("service_area", h.id), "service_id": svc, "name": "Service area",
         "extent": shapely.to_geojson(h.area), "extent_type": "geojson"}]
    extras = {"kind": "hotline", "navigator_id": h.id,
              "channels": ";".join(c.value for c in h.channels),
              "opening_hours": h.opening_hours, "synthetic": str(h.synthetic).lower(),
              "source": h.source}
    service: dict[str, Any] = {
        "id": svc, "organization_id": org, "name": h.name,
        "description": f"hotline ({h.source or 'Navigator'})", "status": "active",
        "phones": phones, "schedules": _schedules(h.opening_hours, h.id, service_id=svc),
        "languages": _languages(h.languages, svc, service_id=svc), "service_areas": areas,
        "organization": {"id": org, "name": h.name,
                         "description": f"Provider of {h.name} (exported by Navigator)"},
        "attributes": _attributes(svc, "service", extras),
    }
    if h.chat_url:
        service["url"] = h.chat_url
    return service


def hsds_services(bundle: Bundle) -> list[dict[str, Any]]:
    """Return the public resources and hotlines of ``bundle`` as HSDS service objects.

    Confidential resources are left out (their name, place and address appear nowhere).
    """
    return ([resource_service(r) for r in bundle.resources if not r.confidential]
            + [hotline_service(h) for h in bundle.hotlines])


def hsds_json(bundle: Bundle) -> str:
    """Return HSDS JSON: a list of service_full-style objects (public records only)."""
    return json.dumps(hsds_services(bundle), indent=1, ensure_ascii=False, sort_keys=True)


def hsds_schema_errors(services: Sequence[dict[str, Any]], *,
                       schema_dir: Path = DATA_DIR / "hsds" / "schema") -> list[str]:
    """Return messages for every way ``services`` break the HSDS 3.0 ``service`` JSON schema."""
    from jsonschema import Draft202012Validator
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012

    schemas = {p.name: json.loads(p.read_text(encoding="utf-8"))
               for p in schema_dir.glob("*.json") if p.name != "openapi.json"}
    # The schemas refer to each other by file name ("phone.json") and declare no $id.
    registry: Registry = Registry().with_resources(
        (name, DRAFT202012.create_resource(s)) for name, s in schemas.items())
    validator = Draft202012Validator(schemas["service.json"], registry=registry,
                                     format_checker=Draft202012Validator.FORMAT_CHECKER)
    return [f"service {s.get('id')}: {'/'.join(map(str, e.absolute_path))}: {e.message}"
            for s in services for e in validator.iter_errors(s)]


def hsds_tables(services: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Return HSDS table rows (table name -> rows) for nested service objects.

    Foreign keys (``service_id``, ``location_id``, ...) are filled in from the nesting;
    rows are deduplicated by ``id``.
    """
    tables: dict[str, dict[str, dict[str, Any]]] = {t: {} for t in HSDS_TABLES}

    def put(table: str, obj: dict[str, Any], **links: str) -> None:
        row = {k: v for k, v in obj.items() if not isinstance(v, dict | list)}
        row.update({k: v for k, v in links.items() if v and not row.get(k)})
        if table in tables and row.get("id"):
            tables[table].setdefault(str(row["id"]), row)

    def put_attributes(obj: dict[str, Any], entity: str) -> None:
        for a in obj.get("attributes") or []:
            term = a.get("taxonomy_term")
            if isinstance(term, dict):
                put("taxonomy_term", term)
                if term.get("taxonomy_id"):
                    put("taxonomy", {"id": term["taxonomy_id"], "name": term.get("taxonomy")
                                     or NAVIGATOR_TAXONOMY, "description": "taxonomy"})
            put("attribute", a, link_id=obj.get("id", ""), link_entity=entity)

    def put_location(loc: dict[str, Any], sal_id: str = "") -> None:
        lid = str(loc.get("id") or "")
        put("location", loc)
        for a in loc.get("addresses") or []:
            put("address", a, location_id=lid)
        for a in loc.get("accessibility") or []:
            put("accessibility", a, location_id=lid)
        for lang in loc.get("languages") or []:
            put("language", lang, location_id=lid)
        for p in loc.get("phones") or []:
            put("phone", p, location_id=lid)
        for s in loc.get("schedules") or []:
            put("schedule", s, location_id=lid)
        put_attributes(loc, "location")

    for svc in services:
        sid = str(svc.get("id") or "")
        org = svc.get("organization")
        if isinstance(org, dict):
            put("organization", org)
        put("service", svc, organization_id=str((org or {}).get("id") or ""))
        for p in svc.get("phones") or []:
            put("phone", p, service_id=sid)
        for s in svc.get("schedules") or []:
            put("schedule", s, service_id=sid)
        for lang in svc.get("languages") or []:
            put("language", lang, service_id=sid)
        for a in svc.get("service_areas") or []:
            put("service_area", a, service_id=sid)
        put_attributes(svc, "service")
        for sal in svc.get("service_at_locations") or []:
            loc = sal.get("location") if isinstance(sal.get("location"), dict) else {}
            put("service_at_location", sal, service_id=sid, location_id=loc.get("id", ""))
            if loc:
                put_location(loc, str(sal.get("id") or ""))
            for p in sal.get("phones") or []:
                put("phone", p, service_at_location_id=sal.get("id", ""), service_id=sid)
            for s in sal.get("schedules") or []:
                put("schedule", s, service_at_location_id=sal.get("id", ""), service_id=sid)
    return {t: list(rows.values()) for t, rows in tables.items()}


def _csv_text(rows: list[dict[str, Any]], fields: list[str]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return buf.getvalue()


def write_hsds_package(bundle: Bundle, path: str | Path, *,
                       hsds_dir: Path = DATA_DIR / "hsds") -> Path:
    """Write the public records of ``bundle`` as an HSDS 3.0 tabular data package.

    Parameters
    ----------
    bundle
        Records to export; confidential resources are left out.
    path
        A folder (created) or a ``.zip`` file to write the CSVs and ``datapackage.json`` to.
    hsds_dir
        The shipped HSDS specification (its ``datapackage.json`` gives the columns).

    Returns
    -------
    Path
        ``path``.
    """
    spec = json.loads((hsds_dir / "datapackage.json").read_text(encoding="utf-8"))
    by_name = {r["name"]: r for r in spec["resources"]}
    tables = hsds_tables(hsds_services(bundle))
    files = {HSDS_TABLES[t]: _csv_text(rows, [f["name"] for f in
                                              by_name[t]["schema"]["fields"]])
             for t, rows in tables.items()}
    package = {k: v for k, v in spec.items() if k != "resources"}
    package.update(name="navigator_hsds_export",
                   description=("Navigator resources and hotlines in HSDS 3.0. Navigator "
                                "fields without an HSDS column are attributes rows in the "
                                "'navigator' taxonomy. Records derived from OpenStreetMap are "
                                "(c) OpenStreetMap contributors, ODbL 1.0."),
                   resources=[by_name[t] for t in HSDS_TABLES])
    files["datapackage.json"] = json.dumps(package, indent=1, ensure_ascii=False)
    out = Path(path)
    if out.suffix.lower() == ".zip":
        out.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for name, text in files.items():
                zf.writestr(name, text)
    else:
        out.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (out / name).write_text(text, encoding="utf-8")
    return out


def store_public_bundle(store: Store) -> Bundle:
    """Return a store's public resources (with beds) and hotlines as a Bundle for export."""
    from navigator.model import Channel

    ids = store.resources(include_confidential=False)["id"].tolist()
    resources = tuple(r for r in (store.resource(i) for i in ids) if not r.confidential)
    hotlines = []
    for row in store.hotlines().itertuples(index=False):
        area = row.geometry if row.geometry is not None and not row.geometry.is_empty else None
        hotlines.append(Hotline(
            id=row.id, name=row.name, phone=row.phone,
            channels=tuple(Channel(c) for c in row.channels), languages=tuple(row.languages),
            opening_hours=row.opening_hours, area=area, text_number=row.text_number or "",
            chat_url=row.chat_url or "", synthetic=bool(row.synthetic), source=row.source or ""))
    return Bundle(resources=resources, hotlines=tuple(hotlines))
