"""The admin overview (every site, the confidential one too), accounts and the audit log."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from navigator import maps
from navigator.jsonsafe import json_safe
from navigator.services import accounts, logins
from navigator.services.surge import surge_shelters
from web import schemas
from web.access import actor, require
from web.context import app_context
from web.openapi import endpoint
from web.render import (
    add_closures_layer,
    embed_map,
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
    add_closures_layer(m)
    return render_template("admin.html", map=embed_map(m), counts=ctx.store.counts(),
                           users=ctx.store.users(), audit=ctx.store.audit_log(limit=50),
                           surge=surge_shelters(ctx.store).to_dict(orient="records"))


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

def _user_json(user: accounts.User) -> dict[str, Any]:
    return {"username": user.username, "role": user.role, "disabled": user.disabled,
            "totp_enabled": user.totp_enabled, "created_at": user.created_at.isoformat()}


@endpoint(bp, "/api/users/<username>/disabled", "POST", roles=(), body=schemas.UserDisabled,
          summary="Disable or enable an account (admin; disabling ends its sessions)",
          errors=(404, 409))
def set_disabled(username: str, body: schemas.UserDisabled) -> dict[str, Any]:
    """Disable (every session of the account ends at once) or enable an account."""
    return _user_json(accounts.set_disabled(app_context().store, username, body.disabled,
                                            actor=actor()))


@endpoint(bp, "/api/users/<username>/totp/reset", "POST", roles=(), errors=(404,),
          summary="Turn an account's TOTP off (admin; a lost phone)")
def reset_totp(username: str) -> dict[str, Any]:
    """Turn TOTP off; the user may enrol again (and must at login if admins require it)."""
    accounts.reset_totp(app_context().store, username, actor=actor())
    return _user_json(app_context().store.user(username))


@endpoint(bp, "/api/users/<username>/unlock", "POST", roles=(),
          summary="Lift a login lock of an account (admin)")
def unlock(username: str) -> dict[str, Any]:
    """Forget the account's failed logins and lock."""
    return {"username": username,
            "cleared": logins.unlock(app_context().store, actor=actor(), username=username)}


@endpoint(bp, "/api/audit", summary="Newest audit log entries (admin)", roles=(),
          query=schemas.AuditQuery)
def audit(query: schemas.AuditQuery) -> dict[str, Any]:
    """Return the newest audit entries."""
    entries = app_context().store.audit_log(limit=query.limit, action=query.action)
    return {"entries": [{"id": e.id, "at": e.at.isoformat(), "actor": e.actor,
                         "action": e.action, "subject": e.subject, "inputs": json_safe(e.inputs),
                         "result": json_safe(e.result)} for e in entries]}
