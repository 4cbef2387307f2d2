"""Import Open Referral HSDS (1.x, 2.x, 3.x tabular packages, or 3.0 JSON) into a Bundle.

Nothing is invented:

- a service at a location becomes a :class:`~navigator.model.Resource` only where the
  location has coordinates (or the optional geocoder placed its address); otherwise the
  import stops naming the file, row and location, or, with ``skip_unlocated``, leaves the
  service out and reports it;
- a service with phones but no location becomes a :class:`~navigator.model.Hotline` whose
  area is its GeoJSON service area, nationwide only when its service area says so, and
  *unknown* otherwise (``area_known=False``: never offered for a place);
- no schedule means hours unknown (``""``), never ``24/7``; no recognised language means
  languages unknown (``()``), never English;
- the kind comes from AIRS/211 codes, taxonomy terms or whole-phrase keywords, and is
  ``other`` when nothing fits.

Every reference between tables is checked and every required field is present before any
record is built; errors name the package, CSV file, row, record id and field.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from navigator.errors import ValidationError
from navigator.exchange.accessibility import wheelchair_accessible
from navigator.exchange.hsds_export import HSDS_TABLES, NAVIGATOR_ID_TYPE, hsds_tables
from navigator.exchange.languages import language_codes
from navigator.exchange.report import ImportReport, ReportBuilder
from navigator.exchange.schedule import opening_hours_from_rows
from navigator.exchange.taxonomy import classify_service
from navigator.model import (
    Beds,
    BedType,
    Bundle,
    Channel,
    Eligibility,
    Hotline,
    Resource,
    ResourceKind,
)

if TYPE_CHECKING:
    from navigator.exchange.geocode import Geocoder

#: Most errors listed in one message (the count of the rest is given).
MAX_ERRORS = 20
#: Service ``status`` values that mean "not offered now" (HSDS 3.0 enum and 1.x/2.x usage).
INACTIVE = frozenset({"inactive", "defunct", "closed", "temporarily closed"})
# A service area that says it covers the whole country (Navigator's own exports write
# "Nationwide (United States)" / "nationwide").
_NATIONWIDE = re.compile(r"^\s*(?:nation\s*-?\s*wide|national(?:ly)?|(?:the\s+)?united\s+states"
                         r"|usa|u\.s\.a?\.?|entire\s+(?:country|us|u\.s\.))\b", re.IGNORECASE)
# Reference columns checked per table: column -> table it names.
_REFS: dict[str, tuple[tuple[str, str], ...]] = {
    "service": (("organization_id", "organization"),),
    "location": (("organization_id", "organization"),),
    "service_at_location": (("service_id", "service"), ("location_id", "location")),
    "address": (("location_id", "location"),),
    "phone": (("service_id", "service"), ("location_id", "location"),
              ("service_at_location_id", "service_at_location"),
              ("organization_id", "organization")),
    "schedule": (("service_id", "service"), ("location_id", "location"),
                 ("service_at_location_id", "service_at_location")),
    "language": (("service_id", "service"), ("location_id", "location"),
                 ("phone_id", "phone")),
    "accessibility": (("location_id", "location"),),
    "service_area": (("service_id", "service"),),
    "attribute": (("taxonomy_term_id", "taxonomy_term"),),
    "taxonomy_term": (("taxonomy_id", "taxonomy"),),
}
# Fields a row cannot lack (besides id).
_REQUIRED: dict[str, tuple[str, ...]] = {
    "service": ("name",), "organization": ("name",),
    "service_at_location": ("service_id", "location_id"), "phone": ("number",),
    "address": ("location_id",), "accessibility": ("location_id",),
    "service_area": ("service_id",),
}
_ENTITY_TABLE = {"service": "service", "location": "location", "organization": "organization",
                 "service_at_location": "service_at_location"}


def _text(value: object) -> str:
    if value.__class__ is str:  # the common case, first (called millions of times)
        return value.strip()  # type: ignore[attr-defined, no-any-return]
    return "" if value is None else str(value).strip()


def _at(row: Mapping[str, Any], table: str) -> str:
    """Return where a row is: ``services.csv row 4`` (tabular), or ``""`` (JSON)."""
    if "_file" in row:
        return f"{row['_file']} row {row['_row']}"
    return ""


def _label(row: Mapping[str, Any], table: str) -> str:
    at = _at(row, table)
    return f"{at + ': ' if at else ''}{table} {_text(row.get('id')) or '(no id)'!r}"


def _number(value: object, label: str, field: str) -> float | None:
    text = _text(value)
    if not text:
        return None
    try:
        return float(text)
    except ValueError as e:
        msg = f"{label}: {field}={text!r} is not a number"
        raise ValidationError(msg) from e


def _age(value: object, label: str, field: str) -> int | None:
    number = _number(value, label, field)
    if number is None:
        return None
    if not number.is_integer():
        msg = f"{label}: {field}={number} must be a whole number of years"
        raise ValidationError(msg)
    return int(number)


def _bool(value: str, default: bool) -> bool:
    return {"true": True, "false": False}.get(value.lower(), default) if value else default


def _index(rows: Iterable[dict[str, Any]], key: str) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        value = _text(row.get(key))
        if value:
            out[value].append(row)
    return out


@lru_cache(maxsize=4096)
def _hours_of(rows: tuple[tuple[str, str, str, str], ...]) -> str:
    # Directories repeat a few schedules thousands of times: parse each shape once.
    return opening_hours_from_rows({"freq": f, "byday": d, "opens_at": o, "closes_at": c}
                                   for f, d, o, c in rows)


def integrity_errors(tables: Mapping[str, list[dict[str, Any]]]) -> list[str]:
    """Return a message for every missing id or required field, duplicate id and bad reference.

    A reference is checked when its column is filled in; a table that the package does not
    have at all cannot be referred to (an ``organization_id`` with no ``organizations.csv``
    is an error), except organizations in HSDS JSON, which may come without them. A taxonomy
    term's ``parent_id`` is not a reference Navigator follows (exports list the terms in
    use, not the whole vocabulary): see :func:`missing_parents`.
    """
    errors: list[str] = []
    ids: dict[str, dict[str, dict[str, Any]]] = {}
    for table, rows in tables.items():
        seen: dict[str, dict[str, Any]] = {}
        for row in rows:
            rid = _text(row.get("id"))
            if not rid:
                at = _at(row, table)
                errors.append(f"{at + ': ' if at else ''}{table} has no id (field id is "
                              "required)")
                continue
            if rid in seen:
                errors.append(f"{_label(row, table)}: field id repeats "
                              f"{_at(seen[rid], table) or 'an earlier row'} (duplicated id)")
                continue
            seen[rid] = row
            for name in _REQUIRED.get(table, ()):
                if not _text(row.get(name)):
                    errors.append(f"{_label(row, table)}: field {name} is required but empty")
        ids[table] = seen
    tabular = any("_file" in r for rows in tables.values() for r in rows[:1])
    for table, rows in tables.items():
        refs = [(column, target, ids.get(target, {})) for column, target in _REFS.get(table, ())]
        for row in rows:
            for column, target, known in refs:
                value = row.get(column)
                if value is None:
                    continue
                ref = _text(value)
                if not ref or ref in known:
                    continue
                if target == "organization" and not tabular and not ids.get("organization"):
                    continue
                if target == "taxonomy" and not ids.get("taxonomy"):
                    continue  # 3.0 terms may name a taxonomy by URI only
                target_rows = tables.get(target) or []
                where = (target_rows[0]["_file"] if target_rows and "_file" in target_rows[0]
                         else HSDS_TABLES.get(target, f"{target}s.csv"))
                errors.append(f"{_label(row, table)}: field {column} {ref!r} names no row of "
                              f"{where}")
            if table == "attribute":
                entity = _ENTITY_TABLE.get(_text(row.get("link_entity")))
                link = _text(row.get("link_id"))
                if entity and link and link not in ids.get(entity, {}):
                    errors.append(f"{_label(row, table)}: field link_id {link!r} names no "
                                  f"{entity}")
    return errors


def missing_parents(tables: Mapping[str, list[dict[str, Any]]]) -> int:
    """Return how many taxonomy terms name a parent term the package does not hold."""
    terms = tables.get("taxonomy_term") or []
    ids = {_text(r.get("id")) for r in terms}
    return sum(1 for r in terms if _text(r.get("parent_id")) and
               _text(r.get("parent_id")) not in ids)


def _raise_errors(errors: list[str], where: str) -> None:
    if not errors:
        return
    shown = "\n  ".join(errors[:MAX_ERRORS])
    more = f"\n  ... and {len(errors) - MAX_ERRORS} more" if len(errors) > MAX_ERRORS else ""
    msg = (f"{where}: {errors[0]}" if len(errors) == 1 else
           f"{where}: {len(errors)} problems; nothing was imported:\n  {shown}{more}")
    raise ValidationError(msg)


def _service_area(areas: list[dict[str, Any]], label: str) -> tuple[Any, bool, str]:
    """Return (area polygon or None, area known, why) for a service's service_area rows."""
    import shapely

    for a in areas:
        if _text(a.get("extent_type")).lower() == "geojson" and _text(a.get("extent")):
            try:
                area = shapely.from_geojson(_text(a["extent"]))
            except shapely.errors.GEOSException as e:
                msg = f"{label}: {_label(a, 'service_area')}: field extent is not GeoJSON: {e}"
                raise ValidationError(msg) from e
            return area, True, "service area from its GeoJSON extent"
    for a in areas:
        if any(_NATIONWIDE.match(_text(a.get(k))) for k in ("name", "description")):
            return None, True, "nationwide (its service area says so)"
    if areas:
        named = "; ".join(_text(a.get("name")) or _text(a.get("description")) or "?"
                          for a in areas[:3])
        return None, False, f"area unknown: service area {named!r} has no geometry"
    return None, False, "area unknown: no location and no service area"


class _Reader:
    """One pass over HSDS 3.0-shaped tables; builds records and fills the report."""

    def __init__(self, tables: Mapping[str, list[dict[str, Any]]], *, where: str,
                 skip_unlocated: bool, geocoder: Geocoder | None,
                 report: ReportBuilder) -> None:
        t = {name: list(tables.get(name) or []) for name in HSDS_TABLES}
        self.t, self.where, self.report = t, where, report
        self.skip_unlocated, self.geocoder = skip_unlocated, geocoder
        self.terms = {_text(r.get("id")): r for r in t["taxonomy_term"]}
        self.locations = {_text(r.get("id")): r for r in t["location"]}
        self.attrs_by_link = _index(t["attribute"], "link_id")
        self.phones_by = {k: _index(t["phone"], k) for k in (
            "service_id", "location_id", "service_at_location_id")}
        self.schedules_by = {k: _index(t["schedule"], k) for k in (
            "service_id", "location_id", "service_at_location_id")}
        self.langs_by = {k: _index(t["language"], k) for k in ("service_id", "location_id")}
        self.addresses = _index(t["address"], "location_id")
        self.access = _index(t["accessibility"], "location_id")
        self.areas = _index(t["service_area"], "service_id")
        self.sals = _index(t["service_at_location"], "service_id")
        self.resources: list[Resource] = []
        self.hotlines: list[Hotline] = []
        self.errors: list[str] = []

    def _languages(self, rows: list[dict[str, Any]], kind: str, example: str
                   ) -> tuple[str, ...] | None:
        if not rows:
            return None
        found: list[str] = []
        for row in rows:
            codes, unknown = language_codes(_text(row.get("code")) or _text(row.get("name")))
            if not codes and _text(row.get("code")) and _text(row.get("name")):
                codes, unknown = language_codes(_text(row.get("name")))
            found.extend(c for c in codes if c not in found)
            for u in unknown:
                self.report.add(kind, "defaulted", f"language {u!r} is not an ISO 639 name "
                                "or code (left out)", example)
        return tuple(found)

    def _hours(self, attrs: dict[str, str], schedules: list[dict[str, Any]], kind: str,
               example: str) -> str:
        if "opening_hours" in attrs:
            return attrs["opening_hours"]
        hours = _hours_of(tuple((_text(r.get("freq")), _text(r.get("byday")),
                                 _text(r.get("opens_at")), _text(r.get("closes_at")))
                                for r in schedules))
        if not hours:
            self.report.add(kind, "defaulted", "hours unknown (no weekly schedule)", example)
        return hours

    def _address(self, lid: str) -> str:
        rows = self.addresses.get(lid, [])
        rows = [a for a in rows if _text(a.get("address_type")).lower() in ("", "physical")] \
            or rows
        return ", ".join(p for a in rows[:1] for p in (
            _text(a.get(k)) for k in ("address_1", "address_2", "city", "state_province",
                                      "postal_code")) if p)

    def service(self, svc: dict[str, Any]) -> None:
        sid = _text(svc.get("id"))
        name = _text(svc.get("name"))
        at = _at(svc, "service")
        label = f"{at + ': ' if at else ''}service {sid} ({name!r})"
        example = f"{at} {sid}".strip()
        status = _text(svc.get("status")).lower()
        if status in INACTIVE:
            self.report.add("service", "skipped", f"status {status!r}", example)
            return
        attrs: dict[str, str] = {}
        codes: list[str] = []
        term_names: list[str] = []
        for a in self.attrs_by_link.get(sid, []):
            term = self.terms.get(_text(a.get("taxonomy_term_id")), {})
            if _text(term.get("taxonomy")) == "navigator" or \
                    _text(a.get("link_type")) == "navigator":
                attrs[_text(term.get("code"))] = _text(a.get("value"))
                continue
            codes.extend(c for c in (_text(term.get("code")), _text(term.get("id")),
                                     _text(a.get("value"))) if c)
            term_names.append(_text(term.get("name")))
        codes.extend(c.strip() for c in _text(svc.get("taxonomy_ids")).split(",") if c.strip())
        try:
            self._service(svc, sid, name, label, example, attrs, codes, term_names)
        except ValidationError as e:
            self.errors.append(str(e) if str(e).startswith(label) else f"{label}: {e}")
        except ValueError as e:  # a bad enum value or bed count in the navigator attributes
            self.errors.append(f"{label}: bad Navigator attribute value: {e}")

    def _service(self, svc: dict[str, Any], sid: str, name: str, label: str, example: str,
                 attrs: dict[str, str], codes: list[str], term_names: list[str]) -> None:
        source = attrs.get("source") or f"HSDS service {sid}"
        min_age = _age(svc.get("minimum_age"), label, "minimum_age")
        max_age = _age(svc.get("maximum_age"), label, "maximum_age")
        synthetic = _bool(attrs.get("synthetic", ""), False)
        sals = self.sals.get(sid, [])
        phones = self.phones_by["service_id"].get(sid, [])
        if attrs.get("kind") == "hotline" or not sals:
            if not phones:
                self.report.add("service", "skipped", "no location and no phone", example)
                return
            area, known, why = _service_area(self.areas.get(sid, []), label)
            if not known:
                self.report.add("hotline", "defaulted", why + " (never offered for a place)",
                                example)
            languages = self._languages(self.langs_by["service_id"].get(sid, []), "hotline",
                                        example)
            if not languages:
                self.report.add("hotline", "defaulted", "languages unknown", example)
            self.hotlines.append(self._hotline(
                svc, attrs, phones, self.schedules_by["service_id"].get(sid, []), area, known,
                languages or (), source, synthetic, example))
            self.report.imported["hotline"] += 1
            return
        match = None
        if attrs.get("kind"):
            kind = ResourceKind(attrs["kind"])
        else:
            match = classify_service(codes=codes, terms=term_names, name=name,
                                     description=_text(svc.get("description")))
            kind = match.kind
        service_langs = self.langs_by["service_id"].get(sid, [])
        for sal in sals:
            sal_id, lid = _text(sal.get("id")), _text(sal.get("location_id"))
            loc = self.locations[lid]  # checked by integrity_errors
            where_loc = f"{label}, service_at_location {sal_id}, {_label(loc, 'location')}"
            sal_example = f"{_at(loc, 'location')} {lid}".strip()
            lon = _number(loc.get("longitude"), where_loc, "longitude")
            lat = _number(loc.get("latitude"), where_loc, "latitude")
            address = self._address(lid)
            if lon is None or lat is None:
                hit = self.geocoder.geocode(address) if self.geocoder and address else None
                if hit is not None:
                    lon, lat = hit.lon, hit.lat
                    self.report.add(kind.value, "located", f"coordinates from the OSM "
                                    f"address geocoder (score >= {self.geocoder.min_score:g})",  # type: ignore[union-attr]
                                    f"{sal_example} -> {hit.matched}")
                elif self.skip_unlocated:
                    why = "location has no coordinates" + (
                        " and the geocoder found no match for its address" if
                        self.geocoder and address else "")
                    self.report.add(kind.value, "skipped", why, sal_example)
                    continue
                else:
                    msg = (f"{where_loc}: fields latitude and longitude are empty"
                           + (f" and the geocoder matched no address for {address!r}"
                              if self.geocoder and address else "")
                           + " (add coordinates, or import with --skip-unlocated)")
                    raise ValidationError(msg)
            if match is not None:
                self.report.add(kind.value, "classified", {
                    "airs": "kind from an AIRS/211 taxonomy code",
                    "taxonomy": "kind from a taxonomy term",
                    "keywords": "kind from words in the service name or description",
                    "none": "kind other: no taxonomy term or keyword names a Navigator kind",
                }[match.basis], f"{sal_example} ({match.evidence})" if match.evidence
                    else sal_example)
            ours = _text(loc.get("external_identifier_type")) == NAVIGATOR_ID_TYPE
            rid = _text(loc.get("external_identifier")) if ours else f"hsds-{sal_id}"
            full_name, loc_name = name, _text(loc.get("name"))
            if loc_name and loc_name != name and not ours:
                full_name = f"{name} ({loc_name})"
            phone_rows = (self.phones_by["service_at_location_id"].get(sal_id)
                          or self.phones_by["location_id"].get(lid) or phones)
            schedules = (self.schedules_by["service_at_location_id"].get(sal_id)
                         or self.schedules_by["location_id"].get(lid)
                         or self.schedules_by["service_id"].get(sid) or [])
            hours = self._hours(attrs, schedules, kind.value, sal_example)
            languages = (self._languages(self.langs_by["location_id"].get(lid, []),
                                         kind.value, sal_example)
                         or self._languages(service_langs, kind.value, sal_example))
            if not languages:
                self.report.add(kind.value, "defaulted", "languages unknown", sal_example)
            access = self.access.get(lid, [])
            wheelchair = wheelchair_accessible(
                f"{_text(a.get('description'))} {_text(a.get('details'))}" for a in access)
            beds = tuple(Beds(BedType(code[5:]), *(int(v) for v in value.split("/")))
                         for code, value in attrs.items() if code.startswith("beds_"))
            try:
                resource = Resource(
                    id=rid, kind=kind, name=full_name, lon=lon, lat=lat, address=address,
                    phone=_text(phone_rows[0].get("number")).strip('"') if phone_rows else "",
                    opening_hours=hours, beds=beds,
                    services=tuple(s for s in attrs.get("services", "").split(";") if s),
                    walk_in=_bool(attrs.get("walk_in", ""), False),
                    eligibility=Eligibility(
                        genders=tuple(g for g in attrs.get("genders", "").split(";") if g),
                        min_age=min_age, max_age=max_age,
                        families=_bool(attrs.get("families", ""), True)),
                    languages=languages or (), wheelchair=wheelchair,
                    pets=_bool(attrs.get("pets", ""), False), synthetic=synthetic,
                    source=source)
            except ValidationError as e:
                msg = f"{where_loc}: {e}"
                raise ValidationError(msg) from e
            self.resources.append(resource)
            self.report.imported[kind.value] += 1

    def _hotline(self, svc: dict[str, Any], attrs: dict[str, str],
                 phones: list[dict[str, Any]], schedules: list[dict[str, Any]], area: Any,
                 known: bool, languages: tuple[str, ...], source: str, synthetic: bool,
                 example: str) -> Hotline:
        voice = [p for p in phones if _text(p.get("type")).lower() in ("", "voice", "cell",
                                                                       "hotline")] or phones
        text = [p for p in phones if _text(p.get("type")).lower() in ("text", "sms")]
        if attrs.get("channels"):
            channels = tuple(Channel(c) for c in attrs["channels"].split(";") if c)
        else:
            channels = (Channel.CALL, *((Channel.TEXT,) if text else ()))
        return Hotline(
            id=attrs.get("navigator_id") or f"hsds-{_text(svc.get('id'))}",
            name=_text(svc.get("name")),
            phone=_text(voice[0].get("number")).strip('"') if voice else "",
            channels=channels, languages=languages,
            opening_hours=self._hours(attrs, schedules, "hotline", example),
            area=area, area_known=known,
            text_number=_text(text[0].get("number")) if text else "",
            chat_url=_text(svc.get("url")) if Channel.CHAT in channels else "",
            synthetic=synthetic, source=source)


def bundle_from_hsds_tables(tables: Mapping[str, list[dict[str, Any]]], *,
                            where: str = "HSDS", skip_unlocated: bool = False,
                            geocoder: Geocoder | None = None,
                            report: ReportBuilder | None = None,
                            progress: bool = False) -> Bundle:
    """Return the resources and hotlines HSDS 3.0-shaped tables describe; all or nothing.

    Parameters
    ----------
    tables
        Table name -> rows (as from :func:`navigator.exchange.hsds_tables.read_package_tables`
        or :func:`navigator.exchange.hsds_export.hsds_tables`).
    where
        The package name used in messages.
    skip_unlocated
        Leave out (and report) services at locations without coordinates instead of
        refusing the whole package.
    geocoder
        Places locations that have an address but no coordinates (see
        :mod:`navigator.exchange.geocode`); unmatched addresses stay unlocated.
    report
        Filled with counts per kind (imported, skipped, defaulted, located, classified).
    progress
        Show a progress bar over the services (stderr).

    Raises
    ------
    ValidationError
        Listing every missing id or required field, duplicated id and broken reference
        (file, row, record id, field), or the first bad value of a record.
    """
    report = report if report is not None else ReportBuilder()
    _raise_errors(integrity_errors({k: v for k, v in tables.items() if k in HSDS_TABLES}),
                  where)
    if n := missing_parents(tables):
        report.notes.append(f"{where}: {n} taxonomy term(s) name a parent term not in the "
                            "package (the hierarchy is not used; each term is read alone)")
    reader = _Reader(tables, where=where, skip_unlocated=skip_unlocated, geocoder=geocoder,
                     report=report)
    services: Iterable[dict[str, Any]] = reader.t["service"]
    if progress:
        from tqdm import tqdm

        services = tqdm(services, desc=f"reading {where}", unit=" services", leave=False)
    for svc in services:
        reader.service(svc)
        if len(reader.errors) > MAX_ERRORS:
            break
    _raise_errors(reader.errors, where)
    seen: dict[str, str] = {}
    for r in reader.resources:
        if r.id in seen:
            reader.errors.append(f"resource id {r.id!r} is given to two records "
                                 f"({seen[r.id]} and {r.name!r})")
        seen[r.id] = r.name
    _raise_errors(reader.errors, where)
    notes = [f"{where}: {len(reader.resources)} resources and {len(reader.hotlines)} hotlines "
             f"from {len(reader.t['service'])} HSDS services"]
    return Bundle(resources=tuple(reader.resources), hotlines=tuple(reader.hotlines),
                  notes=tuple(notes))


def read_hsds_package(path: str | Path, *, skip_unlocated: bool = False,
                      geocoder: Geocoder | None = None, encoding: str | None = None) -> Bundle:
    """Return the Bundle in an HSDS tabular package (1.x, 2.x or 3.x; folder or .zip)."""
    return read_hsds(path, skip_unlocated=skip_unlocated, geocoder=geocoder,
                     encoding=encoding)[0]


def read_hsds(path: str | Path, *, skip_unlocated: bool = False,
              geocoder: Geocoder | None = None, encoding: str | None = None,
              progress: bool = False) -> tuple[Bundle, ImportReport]:
    """Return the Bundle in an HSDS package or JSON file, and the import report.

    A folder or ``.zip`` is a tabular package of any supported version (detected from
    ``datapackage.json`` and the table and column names, see
    :func:`~navigator.exchange.hsds_tables.detect_version`); a ``.json`` file is HSDS 3.0
    JSON (see :func:`read_hsds_json`).
    """
    from navigator.exchange.hsds_tables import read_package_tables

    path = Path(path)
    report = ReportBuilder()
    if path.is_dir() or path.suffix.lower() == ".zip":
        package = read_package_tables(path, encoding=encoding, progress=progress)
        report.notes.extend(package.notes)
        bundle = bundle_from_hsds_tables(package.tables, where=package.name,
                                         skip_unlocated=skip_unlocated, geocoder=geocoder,
                                         report=report, progress=progress)
        version = package.version
    else:
        bundle = read_hsds_json(path, skip_unlocated=skip_unlocated, geocoder=geocoder,
                                report=report)
        version = "3.x"
    report.notes.extend(bundle.notes)
    return bundle, report.build(str(path), "hsds", version)


def read_hsds_json(source: str | Path | Any, *, skip_unlocated: bool = False,
                   geocoder: Geocoder | None = None,
                   report: ReportBuilder | None = None) -> Bundle:
    """Return the Bundle in HSDS 3.0 JSON.

    Accepted: service objects (service_full), a paginated list of them (``contents``),
    service_at_location_full objects, or an organization_full object.

    Parameters
    ----------
    source
        A path to a ``.json`` file, or already parsed JSON.
    """
    where = "HSDS JSON"
    data = source
    if isinstance(source, str | Path):
        where = Path(source).name
        try:
            data = json.loads(Path(source).read_text(encoding="utf-8-sig"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            msg = f"cannot read HSDS JSON {str(source)!r}: {e}"
            raise ValidationError(msg) from e
    if isinstance(data, dict) and isinstance(data.get("contents"), list):
        data = data["contents"]
    items = data if isinstance(data, list) else [data]
    services: list[dict[str, Any]] = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            msg = f"{where}: item {i} is not an object"
            raise ValidationError(msg)
        if isinstance(item.get("service"), dict) and "location" in item:  # service_at_location
            svc = dict(item["service"])
            svc["service_at_locations"] = [{k: v for k, v in item.items() if k != "service"}]
            services.append(svc)
        elif "services" in item and "status" not in item:  # organization_full
            for svc in item.get("services") or []:
                services.append({**svc, "organization": {k: v for k, v in item.items()
                                                          if k != "services"}})
        elif "name" in item and "status" in item:
            services.append(item)
        else:
            msg = f"{where}: item {i} is not an HSDS service, service_at_location or organization"
            raise ValidationError(msg)
    return bundle_from_hsds_tables(hsds_tables(services), where=where,
                                   skip_unlocated=skip_unlocated, geocoder=geocoder,
                                   report=report)
