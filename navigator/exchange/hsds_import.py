"""Import Open Referral HSDS 3.0 (tabular package or JSON) into a Bundle."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from navigator.errors import ValidationError
from navigator.exchange.hsds_export import (
    HSDS_TABLES,
    LANGUAGE_NAMES,
    NAVIGATOR_ID_TYPE,
    hsds_tables,
)
from navigator.exchange.schedule import opening_hours_from_rows
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

_CODES_BY_NAME = {name.lower(): code for code, name in LANGUAGE_NAMES.items()}
# Words in a foreign service's name, description or taxonomy terms that give its kind.
_KIND_WORDS = ((ResourceKind.CRISIS_UNIT, ("crisis stabilization", "crisis unit")),
               (ResourceKind.SHELTER, ("shelter", "emergency housing")),
               (ResourceKind.HOSPITAL, ("hospital", "emergency department")))


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


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


def _index(rows: list[dict[str, Any]], key: str) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        if _text(row.get(key)):
            out[_text(row[key])].append(row)
    return out


def _languages(rows: list[dict[str, Any]]) -> tuple[str, ...]:
    codes: list[str] = []
    for row in rows:
        code = _text(row.get("code")).lower() or _CODES_BY_NAME.get(
            _text(row.get("name")).lower(), "")
        if code and code not in codes:
            codes.append(code)
    return tuple(codes)


def _guess_kind(texts: list[str]) -> tuple[ResourceKind, bool]:
    joined = " ".join(texts).lower()
    for kind, words in _KIND_WORDS:
        if any(w in joined for w in words):
            return kind, False
    return ResourceKind.CLINIC, True


def bundle_from_hsds_tables(tables: Mapping[str, list[dict[str, Any]]], *, where: str = "HSDS"
                            ) -> Bundle:
    """Return the resources and hotlines HSDS tables describe; all or nothing.

    A service at a location becomes a :class:`Resource`; a service with phones but no
    location becomes a :class:`Hotline`. Navigator's own exports round-trip exactly through
    their ``navigator`` attributes; for other HSDS data the kind is read from taxonomy
    terms or guessed from the name (clinic when nothing fits, said in the notes).

    Raises
    ------
    ValidationError
        Naming the table, row id and field of the first bad value.
    """
    t = {name: list(tables.get(name) or []) for name in HSDS_TABLES}
    terms = {_text(r.get("id")): r for r in t["taxonomy_term"]}
    locations = {_text(r.get("id")): r for r in t["location"]}
    attrs_by_link = _index(t["attribute"], "link_id")
    phones_by = {k: _index(t["phone"], k) for k in ("service_id", "location_id",
                                                     "service_at_location_id")}
    schedules_by = {k: _index(t["schedule"], k) for k in ("service_id", "location_id",
                                                          "service_at_location_id")}
    langs_by = {k: _index(t["language"], k) for k in ("service_id", "location_id")}
    addresses = _index(t["address"], "location_id")
    access = _index(t["accessibility"], "location_id")
    areas = _index(t["service_area"], "service_id")
    sals = _index(t["service_at_location"], "service_id")
    resources: list[Resource] = []
    hotlines: list[Hotline] = []
    notes: list[str] = []
    for svc in t["service"]:
        sid = _text(svc.get("id"))
        label = f"{where}: service {sid or '?'} ({_text(svc.get('name'))!r})"
        attrs: dict[str, str] = {}
        term_names: list[str] = []
        for a in attrs_by_link.get(sid, []):
            term = terms.get(_text(a.get("taxonomy_term_id")), {})
            if _text(term.get("taxonomy")) == "navigator" or _text(a.get("link_type")) == \
                    "navigator":
                attrs[_text(term.get("code"))] = _text(a.get("value"))
            else:
                term_names.append(f"{_text(term.get('name'))} {_text(a.get('value'))}")
        source = attrs.get("source") or f"HSDS service {sid}"
        min_age = _age(svc.get("minimum_age"), label, "minimum_age")
        max_age = _age(svc.get("maximum_age"), label, "maximum_age")
        synthetic = _bool(attrs.get("synthetic", ""), False)
        languages = _languages(langs_by["service_id"].get(sid, [])) or ("en",)
        try:
            if attrs.get("kind") == "hotline" or (not sals.get(sid) and
                                                   phones_by["service_id"].get(sid)):
                hotlines.append(_hotline(svc, attrs, phones_by["service_id"].get(sid, []),
                                         schedules_by["service_id"].get(sid, []),
                                         areas.get(sid, []), languages, source, synthetic))
                continue
            if not sals.get(sid):
                notes.append(f"{label}: no location and no phone; skipped")
                continue
            for sal in sals[sid]:
                sal_id, lid = _text(sal.get("id")), _text(sal.get("location_id"))
                loc = locations.get(lid)
                where_sal = f"{label}, service_at_location {sal_id}"
                if loc is None:
                    msg = f"{where_sal}: location_id {lid!r} names no row of locations"
                    raise ValidationError(msg)
                ours = _text(loc.get("external_identifier_type")) == NAVIGATOR_ID_TYPE
                rid = _text(loc.get("external_identifier")) if ours else f"hsds-{sal_id}"
                if attrs.get("kind"):
                    kind, guessed = ResourceKind(attrs["kind"]), False
                else:
                    kind, guessed = _guess_kind([_text(svc.get("name")),
                                                 _text(svc.get("description")), *term_names])
                if guessed:
                    notes.append(f"{where_sal}: kind not given, taken as clinic")
                lon = _number(loc.get("longitude"), f"{where_sal}, location {lid}", "longitude")
                lat = _number(loc.get("latitude"), f"{where_sal}, location {lid}", "latitude")
                if lon is None or lat is None:
                    msg = f"{where_sal}, location {lid}: latitude and longitude are required"
                    raise ValidationError(msg)
                name, loc_name = _text(svc.get("name")), _text(loc.get("name"))
                if loc_name and loc_name != name and not ours:
                    name = f"{name} ({loc_name})"
                address = ", ".join(
                    p for a in addresses.get(lid, [])[:1]
                    for p in (_text(a.get(k)) for k in ("address_1", "address_2", "city",
                                                         "state_province", "postal_code"))
                    if p)
                phones = (phones_by["service_at_location_id"].get(sal_id)
                          or phones_by["location_id"].get(lid)
                          or phones_by["service_id"].get(sid) or [])
                schedules = (schedules_by["service_at_location_id"].get(sal_id)
                             or schedules_by["location_id"].get(lid)
                             or schedules_by["service_id"].get(sid) or [])
                hours = (attrs["opening_hours"] if "opening_hours" in attrs
                         else opening_hours_from_rows(schedules))
                wheelchair = any("wheelchair" in f"{_text(a.get('description'))} "
                                 f"{_text(a.get('details'))}".lower()
                                 and not re.search(r"\b(no|not)\b.{0,20}wheelchair",
                                                   _text(a.get("description")).lower())
                                 for a in access.get(lid, []))
                beds = tuple(Beds(BedType(code[5:]), *(int(v) for v in value.split("/")))
                             for code, value in attrs.items() if code.startswith("beds_"))
                try:
                    resource = Resource(
                        id=rid, kind=kind, name=name, lon=lon, lat=lat, address=address,
                        phone=_text(phones[0].get("number")).strip('"') if phones else "",
                        opening_hours=hours, beds=beds,
                        services=tuple(s for s in attrs.get("services", "").split(";") if s),
                        walk_in=_bool(attrs.get("walk_in", ""), False),
                        eligibility=Eligibility(
                            genders=tuple(g for g in attrs.get("genders", "").split(";") if g),
                            min_age=min_age, max_age=max_age,
                            families=_bool(attrs.get("families", ""), True)),
                        languages=_languages(langs_by["location_id"].get(lid, [])) or languages,
                        wheelchair=wheelchair, pets=_bool(attrs.get("pets", ""), False),
                        synthetic=synthetic, source=source)
                except ValidationError as e:
                    msg = f"{where_sal}, location {lid}: {e}"
                    raise ValidationError(msg) from e
                resources.append(resource)
        except ValidationError as e:
            if str(e).startswith(where):
                raise
            msg = f"{label}: {e}"
            raise ValidationError(msg) from e
        except ValueError as e:  # a bad enum value or bed count in the navigator attributes
            msg = f"{label}: bad Navigator attribute value: {e}"
            raise ValidationError(msg) from e
    notes.insert(0, f"{where}: {len(resources)} resources and {len(hotlines)} hotlines "
                    f"from {len(t['service'])} HSDS services")
    return Bundle(resources=tuple(resources), hotlines=tuple(hotlines), notes=tuple(notes))


def _hotline(svc: dict[str, Any], attrs: dict[str, str], phones: list[dict[str, Any]],
             schedules: list[dict[str, Any]], areas: list[dict[str, Any]],
             languages: tuple[str, ...], source: str, synthetic: bool) -> Hotline:
    import shapely

    voice = [p for p in phones if _text(p.get("type")) in ("", "voice")] or phones
    text = [p for p in phones if _text(p.get("type")) in ("text", "sms")]
    if attrs.get("channels"):
        channels = tuple(Channel(c) for c in attrs["channels"].split(";") if c)
    else:
        channels = (Channel.CALL, *((Channel.TEXT,) if text else ()))
    extents = [a for a in areas if _text(a.get("extent_type")).lower() == "geojson"
               and _text(a.get("extent"))]
    area = None
    if extents:
        try:
            area = shapely.from_geojson(_text(extents[0]["extent"]))
        except shapely.errors.GEOSException as e:
            msg = f"service_area {extents[0].get('id')}: extent is not GeoJSON: {e}"
            raise ValidationError(msg) from e
    return Hotline(
        id=attrs.get("navigator_id") or f"hsds-{_text(svc.get('id'))}",
        name=_text(svc.get("name")),
        phone=_text(voice[0].get("number")).strip('"') if voice else "",
        channels=channels, languages=languages,
        opening_hours=(attrs["opening_hours"] if "opening_hours" in attrs
                       else opening_hours_from_rows(schedules) or "24/7"),
        area=area, text_number=_text(text[0].get("number")) if text else "",
        chat_url=_text(svc.get("url")) if Channel.CHAT in channels else "",
        synthetic=synthetic, source=source)


def read_hsds_package(path: str | Path) -> Bundle:
    """Return the Bundle in an HSDS tabular package (folder or .zip of CSVs).

    Table files are found by their HSDS 3.0 names (``services.csv``; the singular
    ``service.csv`` is accepted too); missing tables are empty.
    """
    path = Path(path)
    texts: dict[str, str] = {}
    try:
        if path.suffix.lower() == ".zip":
            with zipfile.ZipFile(path) as zf:
                texts = {Path(n).name: zf.read(n).decode("utf-8-sig") for n in zf.namelist()
                         if n.endswith(".csv")}
        elif path.is_dir():
            texts = {p.name: p.read_text(encoding="utf-8-sig") for p in path.glob("*.csv")}
        else:
            msg = f"HSDS package {str(path)!r} is neither a folder nor a .zip file"
            raise ValidationError(msg)
    except (OSError, zipfile.BadZipFile, UnicodeDecodeError) as e:
        msg = f"cannot read HSDS package {str(path)!r}: {e}"
        raise ValidationError(msg) from e
    tables: dict[str, list[dict[str, Any]]] = {}
    for table, filename in HSDS_TABLES.items():
        text = texts.get(filename) or texts.get(f"{table}.csv")
        if text is not None:
            tables[table] = list(csv.DictReader(io.StringIO(text)))
    if not tables.get("service"):
        msg = f"HSDS package {path.name}: no services.csv rows"
        raise ValidationError(msg)
    return bundle_from_hsds_tables(tables, where=path.name)


def read_hsds_json(source: str | Path | Any) -> Bundle:
    """Return the Bundle in HSDS JSON.

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
            data = json.loads(Path(source).read_text(encoding="utf-8"))
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
    return bundle_from_hsds_tables(hsds_tables(services), where=where)
