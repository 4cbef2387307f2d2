"""Road closures: list (every role), close and reopen (dispatchers, admins), GeoJSON import."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, request
from pydantic import ValidationError as PydanticError

from navigator.model import Role
from navigator.services import closures
from web import schemas
from web.access import actor
from web.context import app_context
from web.openapi import endpoint
from web.parsing import RequestInvalid

bp = Blueprint("closures", __name__)
#: Who may close and reopen roads (admin is always allowed).
CLOSING = tuple(r.value for r in closures.CLOSING_ROLES if r is not Role.ADMIN)
#: Who may see closures: everyone logged in.
EVERYONE = tuple(r.value for r in Role)


@endpoint(bp, "/api/closures", summary="Road closures (default: in force now)",
          roles=EVERYONE, query=schemas.ClosureQuery)
def list_closures(query: schemas.ClosureQuery) -> dict[str, Any]:
    """Return closures as a GeoJSON FeatureCollection, with whether any is in force."""
    ctx = app_context()
    found = closures.list_closures(ctx.store, now=ctx.clock(),
                                   include_inactive=query.include_inactive)
    return closures.closures_geojson(found)

@endpoint(bp, "/api/closures", "POST", summary="Close roads (a polygon or road segments)",
          roles=CLOSING, body=schemas.ClosureCreate, status=201, errors=(422,))
def create(body: schemas.ClosureCreate) -> dict[str, Any]:
    """Close every road a polygon touches, or the roads along a line, until the expiry.

    Refused (422, nothing written): an invalid geometry, one outside the road network or
    closing nearly all of it, a missing reason, an expiry not after the start.
    """
    ctx = app_context()
    made = closures.create_closure(ctx.store, ctx.graph, geojson=body.geojson,
                                   reason=body.reason, actor=actor(),
                                   starts_at=body.starts_at, expires_at=body.expires_at,
                                   now=ctx.clock())
    return made.to_dict()

@endpoint(bp, "/api/closures/import", "POST",
          summary="Close roads from an uploaded GeoJSON file (one closure per feature)",
          roles=CLOSING, status=201, errors=(422,))
def upload() -> dict[str, Any]:
    """Import a GeoJSON file sent as the ``file`` field of a form (``reason``, ``expires_at``)."""
    upload = request.files.get("file")
    raw = upload.read(closures.MAX_IMPORT_BYTES + 1) if upload else request.get_data()
    if len(raw) > closures.MAX_IMPORT_BYTES:
        msg = f"the GeoJSON file is larger than {closures.MAX_IMPORT_BYTES} bytes"
        raise RequestInvalid(msg, [])
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        msg = "the file must be UTF-8 GeoJSON"
        raise RequestInvalid(msg, []) from e
    fields = {"geojson": data if isinstance(data, dict) else {"type": None},
              "reason": request.form.get("reason", "")}
    if request.form.get("expires_at"):
        fields["expires_at"] = request.form["expires_at"]
    try:
        form = schemas.ClosureCreate.model_validate(fields)
    except PydanticError as e:
        raise RequestInvalid(f"the form is invalid: {e.error_count()} error(s)", []) from e
    ctx = app_context()
    made = closures.create_closure(ctx.store, ctx.graph, geojson=form.geojson,
                                   reason=form.reason, actor=actor(),
                                   expires_at=form.expires_at, now=ctx.clock())
    return made.to_dict()

@endpoint(bp, "/api/closures/<closure_id>/lift", "POST", summary="Reopen a closure's roads",
          roles=CLOSING, errors=(409,))
def lift(closure_id: str) -> dict[str, Any]:
    """Reopen the roads now; 409 if the closure was already reopened."""
    ctx = app_context()
    done = closures.lift_closure(ctx.store, closure_id=closure_id, actor=actor(),
                                 now=ctx.clock())
    return closures.closure_dict(done)

@endpoint(bp, "/api/closures/segment", summary="The road segment nearest a point (to close)",
          roles=CLOSING, query=schemas.SegmentQuery, errors=(422,))
def segment(query: schemas.SegmentQuery) -> dict[str, Any]:
    """Return the middle of the nearest road segment as a GeoJSON Feature (a line)."""
    ctx = app_context()
    return closures.road_segment_at(ctx.graph, query.lon, query.lat,
                                    max_snap_m=ctx.settings.max_snap_m)
