"""Conversion between model records, database rows and GeoDataFrames, shared by both stores.

Rows here hold *logical* values: tuples for list columns, dicts for JSON columns, aware UTC
datetimes, shapely geometries (EPSG:4326) and bools. Each backend encodes them for its driver
on the way in; the decoders accept either backend's raw values on the way out.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from datetime import UTC, datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon, Point

from navigator.errors import ValidationError
from navigator.model import (
    Assignment,
    AssignmentStatus,
    AuditEntry,
    Beds,
    BedType,
    Bundle,
    Eligibility,
    Episode,
    EpisodeState,
    Hold,
    HoldStatus,
    Hotline,
    Incident,
    Resource,
    ResourceKind,
    Team,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from shapely.geometry.base import BaseGeometry

#: Tables ``load(replace=True)`` empties, children first (the audit log is never emptied).
DATA_TABLES = ("road_closures", "assignments", "episodes", "holds", "surge_sites", "bed_sites",
               "beds", "team_checkins", "teams", "incidents", "hotlines", "resources")
#: Tables :meth:`Store.counts` reports.
COUNTED_TABLES = ("resources", "beds", "hotlines", "teams", "incidents", "holds",
                  "assignments", "episodes", "audit")
HOLD_COLUMNS = ("id", "resource_id", "bed_type", "status", "actor", "created_at", "expires_at",
                "updated_at", "idempotency_key", "client_ref", "response", "responded_by",
                "responded_at")
#: Columns of the live registry (:meth:`Store.bed_counts`), one row per site and bed type.
REGISTRY_COLUMNS = ("resource_id", "bed_type", "capacity", "occupied", "out_of_service",
                    "held", "confirmed", "free", "reported_at", "reported_by", "reported_via")
#: Columns of :meth:`Store.bed_sites`.
SITE_COLUMNS = ("resource_id", "status", "note", "fresh_hours", "updated_at", "updated_by")
EPISODE_COLUMNS = ("id", "client_ref", "state", "actor", "created_at", "updated_at", "hold_id",
                   "resource_id", "bed_type", "transport", "eta", "arrived_at", "follow_up_due",
                   "follow_ups_done", "note")
ASSIGNMENT_COLUMNS = ("id", "team_id", "incident_id", "status", "actor", "created_at",
                      "updated_at", "eta_s", "idempotency_key", "override_reason")
AUDIT_COLUMNS = ("id", "at", "actor", "action", "subject", "inputs", "result")


# -- values -----------------------------------------------------------------------------------
def utc_now() -> datetime:
    """Return the current time as an aware UTC datetime, to the millisecond."""
    return to_ms(datetime.now(UTC))


def to_ms(value: datetime) -> datetime:
    """Return an aware datetime in UTC truncated to the millisecond.

    Stores keep times to the millisecond, the GeoPackage DATETIME precision, so both
    backends give back exactly what they were given.
    """
    value = value.astimezone(UTC)
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def to_utc(value: datetime | None) -> datetime | None:
    """Return an aware datetime in UTC to the millisecond (None stays None)."""
    return None if value is None else to_ms(value)


def jsonable(value: Any) -> Any:
    """Return ``value`` as plain JSON types (enums by value, datetimes as ISO 8601 UTC)."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def read_ts(raw: Any) -> datetime | None:
    """Decode a stored timestamp (datetime or ISO 8601 text) as an aware UTC datetime."""
    if raw is None or raw != raw:  # None, NaN, or pandas' NaT (a column with gaps)
        return None
    if isinstance(raw, str):
        raw = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    return raw.astimezone(UTC)


def read_strs(raw: Any) -> tuple[str, ...]:
    """Decode a stored list of strings (array or JSON text) as a tuple."""
    if raw is None:
        return ()
    if isinstance(raw, str):
        raw = json.loads(raw)
    return tuple(raw)


def read_json(raw: Any) -> dict[str, Any]:
    """Decode a stored JSON object (dict or JSON text)."""
    if raw is None:
        return {}
    if isinstance(raw, str | bytes):
        return dict(json.loads(raw))
    return dict(raw)


def read_float(raw: Any) -> float | None:
    """Decode a nullable float column."""
    return None if raw is None else float(raw)


def as_multipolygon(geom: BaseGeometry | None) -> MultiPolygon | None:
    """Return a Polygon as a one-part MultiPolygon (stores keep hotline areas as multi)."""
    if geom is None or geom.geom_type == "MultiPolygon":
        return geom  # type: ignore[return-value]
    return MultiPolygon([geom])  # type: ignore[list-item]


# -- records to rows ----------------------------------------------------------------------------
def resource_row(r: Resource, *, geom: bool = True) -> dict[str, Any]:
    """Return the ``resources`` row of a resource (its beds go to :func:`bed_rows`).

    ``geom=False`` leaves the point out (:func:`resource_rows` makes them in bulk).
    """
    row: dict[str, Any] = {
        "id": r.id, "kind": r.kind.value, "name": r.name, "address": r.address,
        "phone": r.phone, "opening_hours": r.opening_hours, "services": r.services,
        "walk_in": r.walk_in, "eligibility": r.eligibility.to_dict(),
        "languages": r.languages, "wheelchair": r.wheelchair, "pets": r.pets,
        "confidential": r.confidential, "intake_phone": r.intake_phone,
        "meeting_point_lon": r.meeting_point_lon, "meeting_point_lat": r.meeting_point_lat,
        "synthetic": r.synthetic, "source": r.source,
        "lon": r.lon, "lat": r.lat,
    }
    if geom:
        row["geom"] = Point(r.lon, r.lat)
    return row


def resource_rows(resources: Sequence[Resource]) -> list[dict[str, Any]]:
    """Return the ``resources`` rows of many resources, their points made in one call."""
    points = shapely.points([r.lon for r in resources], [r.lat for r in resources])
    out = [resource_row(r, geom=False) for r in resources]
    for row, point in zip(out, points.tolist(), strict=True):
        row["geom"] = point
    return out


def bed_rows(r: Resource, *, held: Mapping[str, int] | None = None, at: datetime | None = None,
             by: str = "") -> list[dict[str, Any]]:
    """Return the ``beds`` rows of a resource, keeping the order it lists them in.

    An imported count is a report as of ``at`` by ``by`` (``reported_via='import'``): its free
    beds are kept, holds still ``held`` (``held`` per bed type) are part of them, and the rest
    of the capacity is occupied.
    """
    out = []
    for i, b in enumerate(r.beds):
        bed_type = b.bed_type.value if isinstance(b.bed_type, Enum) else b.bed_type
        n = min((held or {}).get(bed_type, 0), b.capacity - b.free)
        out.append({"resource_id": r.id, "bed_type": bed_type, "capacity": b.capacity,
                    "free": b.free, "position": i, "occupied": b.capacity - b.free - n,
                    "out_of_service": 0, "held": n, "confirmed": 0, "reported_at": at,
                    "reported_by": by, "reported_via": "import"})
    return out


def hotline_row(h: Hotline) -> dict[str, Any]:
    """Return the ``hotlines`` row of a hotline (area as a MultiPolygon or None)."""
    return {
        "id": h.id, "name": h.name, "phone": h.phone,
        "channels": tuple(c.value for c in h.channels), "languages": h.languages,
        "opening_hours": h.opening_hours, "text_number": h.text_number,
        "chat_url": h.chat_url, "synthetic": h.synthetic, "source": h.source,
        "geom": as_multipolygon(h.area),
    }


def team_row(t: Team, *, updated_at: datetime) -> dict[str, Any]:
    """Return the ``teams`` row of a team."""
    return {
        "id": t.id, "name": t.name, "base_id": t.base_id, "status": t.status.value,
        "skills": t.skills, "languages": t.languages,
        "shift_start": to_utc(t.shift_start), "shift_end": to_utc(t.shift_end),
        "synthetic": t.synthetic, "source": t.source, "updated_at": updated_at,
        "position_at": to_utc(t.position_at),
        "lon": t.lon, "lat": t.lat, "geom": Point(t.lon, t.lat),
    }


def incident_row(i: Incident, *, now: datetime) -> dict[str, Any]:
    """Return the ``incidents`` row of an incident (missing timestamps become ``now``)."""
    return {
        "id": i.id, "crisis_type": i.crisis_type.value, "priority": i.priority,
        "needed_skills": i.needed_skills, "needed_languages": i.needed_languages,
        "status": i.status.value, "created_at": to_utc(i.created_at) or now,
        "updated_at": to_utc(i.updated_at) or now, "notes": i.notes,
        "synthetic": i.synthetic, "lon": i.lon, "lat": i.lat, "geom": Point(i.lon, i.lat),
        "area": as_multipolygon(i.area), "area_radius_m": i.area_radius_m,
    }


# -- rows to records ----------------------------------------------------------------------------
def resource_from_row(row: Mapping[str, Any], beds: Iterable[Mapping[str, Any]]) -> Resource:
    """Build a :class:`Resource` from its row and its ``beds`` rows (in position order)."""
    return Resource(
        id=row["id"], kind=ResourceKind(row["kind"]), name=row["name"],
        lon=float(row["lon"]), lat=float(row["lat"]), address=row["address"],
        phone=row["phone"], opening_hours=row["opening_hours"],
        beds=tuple(Beds(BedType(b["bed_type"]), int(b["capacity"]), int(b["free"]))
                   for b in beds),
        services=read_strs(row["services"]), walk_in=bool(row["walk_in"]),
        eligibility=Eligibility.from_dict(read_json(row["eligibility"])),
        languages=read_strs(row["languages"]), wheelchair=bool(row["wheelchair"]),
        pets=bool(row["pets"]), confidential=bool(row["confidential"]),
        intake_phone=row["intake_phone"],
        meeting_point_lon=read_float(row["meeting_point_lon"]),
        meeting_point_lat=read_float(row["meeting_point_lat"]),
        synthetic=bool(row["synthetic"]), source=row["source"],
    )


def team_from_row(row: Mapping[str, Any]) -> Team:
    """Build a :class:`Team` from its row."""
    return Team(
        id=row["id"], name=row["name"], base_id=row["base_id"], lon=float(row["lon"]),
        lat=float(row["lat"]), status=row["status"], skills=read_strs(row["skills"]),
        languages=read_strs(row["languages"]), shift_start=read_ts(row["shift_start"]),
        shift_end=read_ts(row["shift_end"]), synthetic=bool(row["synthetic"]),
        source=row["source"], position_at=read_ts(row.get("position_at")),
    )


def incident_from_row(row: Mapping[str, Any], area: BaseGeometry | None = None) -> Incident:
    """Build an :class:`Incident` from its row and its decoded area (None: a point)."""
    return Incident(
        id=row["id"], lon=float(row["lon"]), lat=float(row["lat"]),
        crisis_type=row["crisis_type"], priority=int(row["priority"]),
        needed_skills=read_strs(row["needed_skills"]),
        needed_languages=read_strs(row["needed_languages"]), status=row["status"],
        created_at=read_ts(row["created_at"]), updated_at=read_ts(row["updated_at"]),
        notes=row["notes"], synthetic=bool(row["synthetic"]), area=area,
        area_radius_m=read_float(row.get("area_radius_m")),
    )


def hotline_from_row(row: Mapping[str, Any], area: BaseGeometry | None) -> Hotline:
    """Build a :class:`Hotline` from its row and its decoded area."""
    return Hotline(
        id=row["id"], name=row["name"], phone=row["phone"],
        channels=read_strs(row["channels"]),  # type: ignore[arg-type]
        languages=read_strs(row["languages"]), opening_hours=row["opening_hours"],
        area=area, text_number=row["text_number"], chat_url=row["chat_url"],
        synthetic=bool(row["synthetic"]), source=row["source"],
    )


def hold_from_row(row: Mapping[str, Any], *, free_beds: int | None = None) -> Hold:
    """Build a :class:`Hold` from its row (and the free beds of its type, if known)."""
    return Hold(
        id=row["id"], resource_id=row["resource_id"], bed_type=BedType(row["bed_type"]),
        status=HoldStatus(row["status"]), actor=row["actor"],
        created_at=read_ts(row["created_at"]),  # type: ignore[arg-type]
        expires_at=read_ts(row["expires_at"]),  # type: ignore[arg-type]
        updated_at=read_ts(row["updated_at"]),  # type: ignore[arg-type]
        idempotency_key=row["idempotency_key"], client_ref=row["client_ref"],
        response=row.get("response") or "", responded_by=row.get("responded_by") or "",
        responded_at=read_ts(row.get("responded_at")), free_beds=free_beds,
    )


def episode_from_row(row: Mapping[str, Any]) -> Episode:
    """Build an :class:`Episode` from its row."""
    return Episode(
        id=row["id"], client_ref=row["client_ref"], state=EpisodeState(row["state"]),
        actor=row["actor"], created_at=read_ts(row["created_at"]),  # type: ignore[arg-type]
        updated_at=read_ts(row["updated_at"]),  # type: ignore[arg-type]
        hold_id=row["hold_id"], resource_id=row["resource_id"], bed_type=row["bed_type"],
        transport=row["transport"], eta=read_ts(row["eta"]),
        arrived_at=read_ts(row["arrived_at"]), follow_up_due=read_ts(row["follow_up_due"]),
        follow_ups_done=int(row["follow_ups_done"]), note=row["note"],
    )


def assignment_from_row(row: Mapping[str, Any]) -> Assignment:
    """Build an :class:`Assignment` from its row."""
    return Assignment(
        id=row["id"], team_id=row["team_id"], incident_id=row["incident_id"],
        status=AssignmentStatus(row["status"]), actor=row["actor"],
        created_at=read_ts(row["created_at"]),  # type: ignore[arg-type]
        updated_at=read_ts(row["updated_at"]),  # type: ignore[arg-type]
        eta_s=read_float(row["eta_s"]), idempotency_key=row["idempotency_key"],
        override_reason=row.get("override_reason") or "",
    )


def audit_from_row(row: Mapping[str, Any]) -> AuditEntry:
    """Build an :class:`AuditEntry` from its row."""
    return AuditEntry(
        id=int(row["id"]), at=read_ts(row["at"]),  # type: ignore[arg-type]
        actor=row["actor"], action=row["action"], subject=row["subject"],
        inputs=read_json(row["inputs"]), result=read_json(row["result"]),
    )


# -- frames -------------------------------------------------------------------------------------
_DECODERS = {
    "services": read_strs, "languages": read_strs, "skills": read_strs, "channels": read_strs,
    "needed_skills": read_strs, "needed_languages": read_strs, "eligibility": read_json,
    "shift_start": read_ts, "shift_end": read_ts, "updated_at": read_ts,
    "created_at": read_ts, "expires_at": read_ts, "meeting_point_lon": read_float,
    "meeting_point_lat": read_float, "eta_s": read_float, "reported_at": read_ts,
    "responded_at": read_ts, "fresh_hours": read_float, "area_radius_m": read_float,
}
_BOOLS = {"walk_in", "wheelchair", "pets", "confidential", "synthetic"}
_TIMES = {"shift_start", "shift_end", "updated_at", "created_at", "expires_at", "reported_at",
          "responded_at", "position_at"}


def frame(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    """Return a DataFrame of decoded ``columns`` (tuples, dicts, aware UTC datetimes)."""
    data: dict[str, Any] = {}
    for column in columns:
        decode = _DECODERS.get(column)
        values = [row[column] for row in rows]
        if decode is not None:
            values = [decode(v) for v in values]
        elif column in _BOOLS:
            values = [bool(v) for v in values]
        if column in _TIMES:
            data[column] = pd.Series(pd.to_datetime(values, utc=True), dtype="datetime64[us, UTC]")
        else:
            data[column] = pd.Series(values, dtype=object if decode is not None else None)
    return pd.DataFrame(data, columns=list(columns))


def records(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> list[dict[str, Any]]:
    """Return ``rows`` as dicts of decoded ``columns``: the values :func:`frame` would hold.

    Tuples, dicts and aware UTC datetimes as in :func:`frame` (None where it holds NaT),
    ``lon``/``lat`` as floats; no pandas, for a hot path that takes the rows one by one.
    """
    plan = [(c, _DECODERS.get(c) or (read_ts if c in _TIMES else None), c in _BOOLS,
             c in ("lon", "lat")) for c in columns]
    out = []
    for row in rows:
        rec: dict[str, Any] = {}
        for column, decode, is_bool, is_float in plan:
            value = row[column]
            if decode is not None:
                value = decode(value)
            elif is_bool:
                value = bool(value)
            elif is_float:
                value = float(value)
            rec[column] = value
        out.append(rec)
    return out


def point_frame(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> gpd.GeoDataFrame:
    """Return a GeoDataFrame of ``columns`` with point geometry from ``lon``/``lat`` (EPSG:4326)."""
    geometry = gpd.points_from_xy([float(r["lon"]) for r in rows],
                                  [float(r["lat"]) for r in rows], crs="EPSG:4326")
    return gpd.GeoDataFrame(frame(rows, columns), geometry=geometry, crs="EPSG:4326")


def area_frame(rows: Sequence[Mapping[str, Any]], columns: Sequence[str],
               areas: Sequence[BaseGeometry | None]) -> gpd.GeoDataFrame:
    """Return a GeoDataFrame of ``columns`` with the given area geometries (EPSG:4326)."""
    geometry = gpd.GeoSeries(list(areas), crs="EPSG:4326")
    return gpd.GeoDataFrame(frame(rows, columns), geometry=geometry, crs="EPSG:4326")


# -- bundle checks ------------------------------------------------------------------------------
def check_bundle(bundle: Bundle) -> None:
    """Raise :class:`ValidationError` for records of the wrong type or duplicate ids.

    Records validate their own fields on construction; this adds the checks across records.
    Team bases are checked by the store, which also knows the bases already stored.
    """
    expected = {"resources": Resource, "hotlines": Hotline, "teams": Team,
                "incidents": Incident}
    for kind, cls in expected.items():
        records = getattr(bundle, kind)
        for record in records:
            if not isinstance(record, cls):
                msg = f"bundle.{kind} holds {record!r}, not a {cls.__name__}"
                raise ValidationError(msg)
        duplicates = [i for i, n in Counter(r.id for r in records).items() if n > 1]
        if duplicates:
            msg = f"bundle.{kind}: {cls.__name__.lower()} {duplicates[0]!r} appears twice"
            raise ValidationError(msg)


def team_bases(bundle: Bundle) -> set[str]:
    """Return the ids of team-base resources in ``bundle``."""
    return {r.id for r in bundle.resources if r.kind is ResourceKind.TEAM_BASE}


def check_team_bases(bundle: Bundle, stored_bases: set[str]) -> None:
    """Raise unless every team's ``base_id`` names a team base in the bundle or the store."""
    bases = team_bases(bundle) | stored_bases
    for team in bundle.teams:
        if team.base_id not in bases:
            msg = (f"team {team.id!r}: base_id {team.base_id!r} names no team_base resource "
                   "in the bundle or the store")
            raise ValidationError(msg)
