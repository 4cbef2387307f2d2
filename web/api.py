"""API shared by roles: session info, CSRF token, resources, hotlines, users and audit log."""

from __future__ import annotations

import math
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask import Blueprint, g
from flask_wtf.csrf import generate_csrf

from navigator import services
from navigator.decide.results import json_safe
from navigator.services import accounts
from web import schemas
from web.auth import ANY_ROLE, actor, can_see_confidential
from web.openapi import endpoint
from web.views import nav

if TYPE_CHECKING:
    import geopandas as gpd

bp = Blueprint("api", __name__)

FEATURE_COLLECTION = {"type": "object", "required": ["type", "features"],
                      "properties": {"type": {"const": "FeatureCollection"},
                                     "features": {"type": "array"}}}


def plain(value: Any) -> Any:
    """Return a cell of a (Geo)DataFrame as a JSON value (tuples as lists, NaN as None)."""
    if value is None:
        return None
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if hasattr(value, "isoformat"):
        try:
            return value.isoformat()
        except ValueError:  # NaT
            return None
    if isinstance(value, tuple | list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if hasattr(value, "item"):
        return plain(value.item())
    return value


def features(gdf: gpd.GeoDataFrame, *, drop: tuple[str, ...] = ()) -> dict[str, Any]:
    """Return point rows as an RFC 7946 FeatureCollection (EPSG:4326)."""
    cols = [c for c in gdf.columns if c != "geometry" and c not in drop]
    out = []
    for row in gdf.itertuples(index=False):
        point = row.geometry
        props = {c: plain(getattr(row, c)) for c in cols}
        out.append({"type": "Feature", "id": props.get("id"),
                    "geometry": {"type": "Point", "coordinates": [point.x, point.y]},
                    "properties": props})
    return {"type": "FeatureCollection", "features": out}


def record_dict(record: Any) -> dict[str, Any]:
    """Return a store record (Hold, Assignment, Incident, Team) as a JSON dict."""
    result: dict[str, Any] = json_safe(record)
    return result


@endpoint(bp, "/api/me", summary="Who is logged in, and their role", roles=ANY_ROLE)
def me() -> dict[str, Any]:
    """Return the logged-in user."""
    return {"username": g.user.username, "role": g.user.role,
            "can_see_confidential": can_see_confidential()}


@endpoint(bp, "/api/csrf", summary="CSRF token for the X-CSRFToken header", roles=ANY_ROLE)
def csrf_token() -> dict[str, Any]:
    """Return the session's CSRF token."""
    return {"csrf_token": generate_csrf()}


@endpoint(bp, "/api/resources", summary="Resources as GeoJSON (confidential sites: admin only)",
          roles=ANY_ROLE, query=schemas.ResourceQuery, response=FEATURE_COLLECTION)
def resources(query: schemas.ResourceQuery) -> dict[str, Any]:
    """Return resources with free beds per type; confidential sites only for admins."""
    store = nav()["store"]
    gdf = store.resources(kinds=[query.kind] if query.kind else None,
                          include_confidential=can_see_confidential())
    beds = store.beds(gdf["id"].tolist())
    by_id: dict[str, dict[str, Any]] = {}
    for b in beds.itertuples(index=False):
        by_id.setdefault(b.resource_id, {})[str(b.bed_type)] = {"free": int(b.free),
                                                                "capacity": int(b.capacity)}
    fc = features(gdf)
    for f in fc["features"]:
        f["properties"]["beds"] = by_id.get(f["id"], {})
    return fc


@endpoint(bp, "/api/hotlines", summary="Hotlines serving a place now (988 always last)",
          roles=("caseworker", "dispatcher"), query=schemas.HotlineQuery)
def hotlines(query: schemas.HotlineQuery) -> dict[str, Any]:
    """Return the hotlines serving a place now."""
    n = nav()
    found = services.hotlines_for(n["store"], n["settings"], lon=query.lon, lat=query.lat,
                                  language=query.language, channel=query.channel,
                                  actor=actor())
    return {"hotlines": [h.to_dict() for h in found]}


@endpoint(bp, "/api/users", summary="Accounts (admin)", roles=())
def users() -> dict[str, Any]:
    """Return every account without its password hash."""
    return {"users": [{"username": u.username, "role": u.role, "disabled": u.disabled,
                       "created_at": u.created_at.isoformat()}
                      for u in nav()["store"].users()]}


@endpoint(bp, "/api/users", "POST", summary="Add an account (admin)", roles=(),
          body=schemas.UserCreate, status=201, errors=(409,))
def add_user(body: schemas.UserCreate) -> dict[str, Any]:
    """Add an account; the password is stored as an argon2 hash only."""
    user = accounts.create_user(nav()["store"], body.username, body.role, body.password,
                                actor=actor())
    return {"username": user.username, "role": user.role, "disabled": user.disabled,
            "created_at": user.created_at.isoformat()}


@endpoint(bp, "/api/audit", summary="Newest audit log entries (admin)", roles=(),
          query=schemas.AuditQuery)
def audit(query: schemas.AuditQuery) -> dict[str, Any]:
    """Return the newest audit entries."""
    entries = nav()["store"].audit_log(limit=query.limit, action=query.action)
    return {"entries": [{"id": e.id, "at": e.at.isoformat(), "actor": e.actor,
                         "action": e.action, "subject": e.subject, "inputs": plain(e.inputs),
                         "result": plain(e.result)} for e in entries]}


def now_iso() -> str:
    """Return the server time (UTC ISO 8601), for pages that show "as of"."""
    from datetime import UTC

    return datetime.now(UTC).isoformat(timespec="seconds")
