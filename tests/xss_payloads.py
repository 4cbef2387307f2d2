"""The XSS payload corpus, records that carry it, import files that carry it, HTML checks.

Every payload sets ``window.__pwned`` if it ever runs (``admin_takeover`` also tries to add
an admin account with the viewer's session and CSRF token, quote-free, as in the issue).
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from navigator.model import (
    Beds,
    BedType,
    Bundle,
    Channel,
    CrisisType,
    Hotline,
    Incident,
    Resource,
    ResourceKind,
    Team,
)

FLAG = "__pwned"
TAKEOVER_USER = "pwned_admin"
#: The one payload the older tests use by name (a shelter's name, typed incident notes).
XSS = '<img src=x onerror="window.__pwned=0">'

PAYLOADS: dict[str, str] = {
    "template_literal": "${window.__pwned=1}",
    "backtick": "a`;window.__pwned=2;`b",
    "backtick_call": "`)+(window.__pwned=3)+(`",
    "single_quote": "O'Brien';window.__pwned=4;'",
    "double_quote": 'Say "hi";window.__pwned=5;"',
    "script_close": "</script><script>window.__pwned=6</script>",
    "img_onerror": "<img src=x onerror=window.__pwned=7>",
    "svg_onload": "<svg onload=window.__pwned=8>",
    "attribute": '" autofocus onfocus="window.__pwned=9" x="',
    "javascript_url": "javascript:window.__pwned=10",
    "unicode_escapes": "\\u0060\\u003cimg src=x onerror=window.__pwned=11\\u003e\\u0060",
    "line_separators": "a\u2028b\u2029c${window.__pwned=12}",
    "html_comment": "<!--<script>window.__pwned=13//",
    "admin_takeover": (
        "${fetch(`/api/users`,{method:`POST`,credentials:`same-origin`,headers:{[`Content-Type`]"
        ":`application/json`,[`X-CSRFToken`]:document.querySelector(`meta[name=csrf-token]`)"
        f".content}},body:JSON.stringify({{username:`{TAKEOVER_USER}`,role:`admin`,password:"
        "`pwned-password-1`})}),window.__pwned=14}"),
}

#: Ids travel into popups, data attributes, option values and API paths: no ``/`` in them.
ID_PAYLOADS: dict[str, str] = {
    "id_img": "xss-<img src=x onerror=window.__pwned=15>",
    "id_template": "xss-${window.__pwned=16}'\"`",
}

#: The import paths of :func:`navigator.exchange.formats.read_bundle`.
IMPORT_FORMATS = ("csv", "geojson", "hsds-json", "hsds-package")


def spread_points(lon: Sequence[float], lat: Sequence[float], n: int, *, seed: int,
                  centre: tuple[float, float] | None = None, radius_deg: float = 0.03,
                  min_deg: float = 0.0) -> list[tuple[float, float]]:
    """Return ``n`` distinct road-node positions ``min_deg`` to ``radius_deg`` from ``centre``."""
    x, y = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    cx, cy = centre or (float(np.median(x)), float(np.median(y)))
    d = np.hypot(x - cx, y - cy)
    near = np.flatnonzero((d < radius_deg) & (d >= min_deg))
    pick = np.random.default_rng(seed).choice(near, size=n, replace=False)
    return [(float(x[i]), float(y[i])) for i in pick]


def payload_resources(prefix: str, points: Sequence[tuple[float, float]], *,
                      open_shelters: bool = False) -> list[Resource]:
    """Return one resource per payload with the payload in every text field.

    ``open_shelters``: 24/7 shelters with free ``single_men`` beds (they appear in bed
    searches); else clinics whose opening hours are the payload too (unreadable hours).
    """
    out = []
    for (key, text), (lon, lat) in zip(PAYLOADS.items(), points, strict=False):
        out.append(Resource(
            id=f"{prefix}-{key}", kind=ResourceKind.SHELTER if open_shelters
            else ResourceKind.CLINIC, name=text, lon=lon, lat=lat, address=text, phone=text,
            opening_hours="24/7" if open_shelters else text,
            beds=(Beds(BedType.SINGLE_MEN, 10, 5),) if open_shelters else (),
            services=(text,), languages=("en", text), source=text))
    return out


def payload_bundle(base_id: str, points: Sequence[tuple[float, float]], *,
                   now: datetime | None = None) -> Bundle:
    """Return teams, incidents (payload notes and ids) and a payload hotline for the store.

    ``points`` needs ``2 * len(PAYLOADS) + len(ID_PAYLOADS)`` positions.
    """
    now = now or datetime.now(UTC)
    k = len(PAYLOADS)
    teams = [Team(id=f"team-xss-{key}", name=text, base_id=base_id, lon=lon, lat=lat,
                  skills=(text,), languages=("en", text), shift_start=now - timedelta(hours=1),
                  shift_end=now + timedelta(hours=8), source=text)
             for (key, text), (lon, lat) in zip(PAYLOADS.items(), points[:k], strict=True)]
    ids = [f"inc-xss-{key}" for key in PAYLOADS] + list(ID_PAYLOADS.values())
    notes = [*PAYLOADS.values(), *ID_PAYLOADS.values()]
    incidents = [Incident(id=i, lon=lon, lat=lat, crisis_type=CrisisType.WELFARE_CHECK,
                          priority=3, needed_languages=(), notes=note, created_at=now)
                 for i, note, (lon, lat) in zip(ids, notes, points[k:], strict=True)]
    hotlines = (Hotline(id="hotline-xss", name=PAYLOADS["script_close"],
                        phone=PAYLOADS["img_onerror"], channels=(Channel.CALL, Channel.CHAT),
                        chat_url=PAYLOADS["javascript_url"], source=PAYLOADS["backtick"]),)
    return Bundle(teams=tuple(teams), incidents=tuple(incidents), hotlines=hotlines)


def _csv_row(r: Resource) -> dict[str, Any]:
    return {"id": r.id, "kind": r.kind.value, "name": r.name, "lon": r.lon, "lat": r.lat,
            "address": r.address, "phone": r.phone, "opening_hours": r.opening_hours,
            "services": ";".join(r.services), "languages": ";".join(r.languages),
            "source": r.source}


def write_imports(resources: Mapping[str, Sequence[Resource]], folder: Path) -> dict[str, Path]:
    """Write each format's resources as the file a partner would send; return the paths.

    Keys of ``resources`` are :data:`IMPORT_FORMATS`: a CSV table, a GeoJSON
    FeatureCollection, HSDS JSON and an HSDS CSV package (zip).
    """
    from navigator.exchange.hsds_export import hsds_json, write_hsds_package

    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    rows = [_csv_row(r) for r in resources["csv"]]
    paths["csv"] = folder / "partner.csv"
    with paths["csv"].open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    paths["geojson"] = folder / "partner.geojson"
    paths["geojson"].write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [r.lon, r.lat]},
         "properties": {**_csv_row(r), "services": list(r.services),
                        "languages": list(r.languages)}}
        for r in resources["geojson"]]}), encoding="utf-8")
    paths["hsds-json"] = folder / "partner-hsds.json"
    paths["hsds-json"].write_text(hsds_json(Bundle(resources=tuple(resources["hsds-json"]))),
                                  encoding="utf-8")
    paths["hsds-package"] = write_hsds_package(
        Bundle(resources=tuple(resources["hsds-package"])), folder / "partner-hsds.zip")
    return paths


def plant(store: Any, graph: Any, folder: Path, *, near: tuple[float, float],
          seed: int = 11) -> list[str]:
    """Load the corpus into ``store`` directly and through every importer; return resource ids.

    Directly: open payload shelters around ``near`` (bed searches find them), payload
    clinics, teams, incidents and a hotline, loaded by an actor named with a payload (the
    audit log). Imported: payload clinics written as each of :data:`IMPORT_FORMATS` and
    read back by :func:`navigator.exchange.formats.read_bundle`.
    """
    from navigator.exchange.formats import read_bundle

    k = len(PAYLOADS)
    shelters = payload_resources("xss-shelter", spread_points(
        graph.lon, graph.lat, k, seed=seed, centre=near, radius_deg=0.012, min_deg=0.004),
        open_shelters=True)
    n_other = k * (2 + len(IMPORT_FORMATS)) + len(ID_PAYLOADS)
    pts = spread_points(graph.lon, graph.lat, n_other + k, seed=seed + 1)
    clinics = payload_resources("xss-clinic", pts[:k])
    base = str(store.resources(kinds=[ResourceKind.TEAM_BASE])["id"].iloc[0])
    store.load(Bundle(resources=(*shelters, *clinics)), actor=PAYLOADS["img_onerror"])
    store.load(payload_bundle(base, pts[k:3 * k + len(ID_PAYLOADS)]), actor=PAYLOADS["svg_onload"])
    rest = pts[3 * k + len(ID_PAYLOADS):]
    by_format = {fmt: payload_resources(f"xss-{fmt}", rest[i * k:(i + 1) * k])
                 for i, fmt in enumerate(IMPORT_FORMATS)}
    ids = [r.id for r in (*shelters, *clinics)]
    for fmt, path in write_imports(by_format, folder).items():
        bundle = read_bundle(path)
        store.load(bundle, actor=f"import {fmt}")
        ids += [r.id for r in bundle.resources]
    return ids


_SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.S | re.I)


def json_blocks(html: str) -> list[Any]:
    """Return the parsed ``<script type="application/json">`` blocks of a page."""
    return [json.loads(body) for attrs, body in _SCRIPT.findall(html)
            if "application/json" in attrs]


def without_json_blocks(html: str) -> str:
    """Return ``html`` with its JSON data blocks cut out (what a browser may run or show)."""
    return _SCRIPT.sub(lambda m: "" if "application/json" in m.group(1) else m.group(0), html)


def strings(data: Any) -> set[str]:
    """Return every string (keys too) in parsed JSON."""
    if isinstance(data, str):
        return {data}
    if isinstance(data, Mapping):
        return set().union(*(strings(k) | strings(v) for k, v in data.items()))
    if isinstance(data, list | tuple):
        return set().union(*(strings(v) for v in data)) if data else set()
    return set()


def texts_of(records: Iterable[Any], *fields: str) -> set[str]:
    """Return the non-empty text values of ``fields`` over records (rows or dataclasses)."""
    out = set()
    for r in records:
        for f in fields:
            value = getattr(r, f, None)
            if isinstance(value, str) and value:
                out.add(value)
    return out
