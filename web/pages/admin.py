"""The admin overview (every site, the confidential one too), accounts and the audit log."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from navigator import maps
from navigator.services import accounts
from web import schemas
from web.access import actor, require
from web.context import app_context
from web.openapi import endpoint
from web.render import (
    embed_map,
    plain,
)

bp = Blueprint("admin", __name__)


@bp.get("/admin")
@require()
def page() -> str:
    """Show the admin overview: every resource (confidential sites too), users, audit."""
    ctx = app_context()
    m = maps.overview_map(ctx.store, ctx.graph, asset_url="/static/vendor",
                             roads_url="/roads.geojson", include_confidential=True,
                             settings=ctx.settings)
    return render_template("admin.html", map=embed_map(m), counts=ctx.store.counts(),
                           users=ctx.store.users(), audit=ctx.store.audit_log(limit=30))


@endpoint(bp, "/api/users", summary="Accounts (admin)", roles=())
def users() -> dict[str, Any]:
    """Return every account without its password hash."""
    return {"users": [{"username": u.username, "role": u.role, "disabled": u.disabled,
                       "created_at": u.created_at.isoformat()}
                      for u in app_context().store.users()]}

@endpoint(bp, "/api/users", "POST", summary="Add an account (admin)", roles=(),
          body=schemas.UserCreate, status=201, errors=(409,))
def add_user(body: schemas.UserCreate) -> dict[str, Any]:
    """Add an account; the password is stored as an argon2 hash only."""
    user = accounts.create_user(app_context().store, body.username, body.role, body.password,
                                actor=actor())
    return {"username": user.username, "role": user.role, "disabled": user.disabled,
            "created_at": user.created_at.isoformat()}

@endpoint(bp, "/api/audit", summary="Newest audit log entries (admin)", roles=(),
          query=schemas.AuditQuery)
def audit(query: schemas.AuditQuery) -> dict[str, Any]:
    """Return the newest audit entries."""
    entries = app_context().store.audit_log(limit=query.limit, action=query.action)
    return {"entries": [{"id": e.id, "at": e.at.isoformat(), "actor": e.actor,
                         "action": e.action, "subject": e.subject, "inputs": plain(e.inputs),
                         "result": plain(e.result)} for e in entries]}
