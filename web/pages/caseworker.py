"""The caseworker's bed finder: open shelters with free beds, care sites, holds."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from navigator import services
from navigator.model import Role
from web import schemas
from web.access import actor, can_see_confidential, require, session_guard
from web.context import app_context
from web.openapi import endpoint
from web.render import (
    area_tz,
    base_map,
    closures_info,
    embed_map,
    legend_context,
    local_hhmm,
    reason_text,
    record_dict,
)

bp = Blueprint("caseworker", __name__)
ROLES = (Role.CASEWORKER,)


_NEEDS = ("bed_type", "gender", "age", "family", "language", "wheelchair", "pets", "service",
          "walk_in")

def _needs(body: schemas.Needs) -> dict[str, Any]:
    return {k: getattr(body, k) for k in _NEEDS if getattr(body, k) not in (None, False)}

def search_result(result: Any) -> dict[str, Any]:
    """Return a search result as a FeatureCollection of matches (route in properties).

    Alternatives carry ``reason_text`` (words, times local to the area) besides ``reason``.
    Sites whose bed count is stale come in ``stale`` (after the matches, never as free beds),
    each with ``stale_text`` ("last confirmed 3 days ago, call ahead: <phone>").
    """
    data = result.to_dict()
    feats = [{"type": "Feature", "id": m["resource_id"],
              "geometry": {"type": "Point", "coordinates": [m["lon"], m["lat"]]},
              "properties": m} for m in data["matches"]]

    def listed(a: dict[str, Any]) -> dict[str, Any]:
        return {**{k: v for k, v in a.items() if k != "route"},
                "reason_text": a.get("stale_text") or reason_text(a)}

    return {"type": "FeatureCollection", "features": feats, "message": data["message"],
            "alternatives": [listed(a) for a in data["alternatives"]],
            "stale": [listed(a) for a in data.get("stale", [])],
            "at": data["at"], "max_time_s": data["max_time_s"]}

@bp.get("/beds")
@require(*ROLES)
def page() -> str:
    """Show the bed finder."""
    return render_template("beds.html", map=embed_map(base_map(include_confidential=False)),
                           bed_types=[b.value for b in schemas.BedType], **legend_context())

@endpoint(bp, "/api/beds/search", "POST",
          summary="Open shelters with a free bed of the type, nearest by road", roles=ROLES,
          body=schemas.BedSearch, errors=(404, 422))
def beds(body: schemas.BedSearch) -> dict[str, Any]:
    """Return the nearest fitting open shelters (404 with alternatives when none)."""
    ctx = app_context()
    graph = ctx.roads()
    result = services.find_beds(ctx.store, graph, ctx.settings, lon=body.lon,
                                lat=body.lat, needs=_needs(body), k=body.k, actor=actor(),
                                can_see_confidential=can_see_confidential(),
                                max_time_s=body.max_time_min * 60.0,
                                fresh_only=body.fresh_only)
    return closures_info(search_result(result), graph, ((body.lon, body.lat),))

@endpoint(bp, "/api/services/search", "POST",
          summary="Open clinics, hospitals or crisis units nearest by road", roles=ROLES,
          body=schemas.ServiceSearch, errors=(404, 422))
def care(body: schemas.ServiceSearch) -> dict[str, Any]:
    """Return the nearest fitting open care sites."""
    ctx = app_context()
    needs = {**_needs(body), **({"kinds": tuple(body.kinds)} if body.kinds else {})}
    graph = ctx.roads()
    result = services.find_services(ctx.store, graph, ctx.settings, lon=body.lon,
                                    lat=body.lat, needs=needs, k=body.k, actor=actor(),
                                    can_see_confidential=can_see_confidential(),
                                    max_time_s=body.max_time_min * 60.0)
    return closures_info(search_result(result), graph, ((body.lon, body.lat),))

@endpoint(bp, "/api/holds", "POST",
          summary="Hold one bed (idempotency key per attempt); opens the client's episode",
          roles=ROLES, body=schemas.HoldCreate, status=201, errors=(404, 409),
          session_in_write=True)
def hold(body: schemas.HoldCreate) -> dict[str, Any]:
    """Hold a bed; a repeated idempotency key returns the first hold (and its episode).

    The hold is made only while the login session is live, checked in its own statement.
    """
    ctx = app_context()
    held = services.hold_for_client(ctx.store, ctx.settings, resource_id=body.resource_id,
                                    bed_type=body.bed_type, actor=actor(),
                                    idempotency_key=body.idempotency_key,
                                    client_ref=body.client_ref, episode_id=body.episode_id,
                                    session=session_guard())
    return _referral_view(held)

@endpoint(bp, "/api/holds/<hold_id>/confirm", "POST", summary="Confirm a held bed",
          roles=ROLES, errors=(409,))
def confirm(hold_id: str) -> dict[str, Any]:
    """Mark a held bed as taken by the client."""
    return _hold_view(record_dict(services.confirm_hold(app_context().store, hold_id=hold_id,
                                                        actor=actor())))

@endpoint(bp, "/api/holds/<hold_id>/release", "POST", summary="Release a held bed",
          roles=ROLES, errors=(409,))
def release(hold_id: str) -> dict[str, Any]:
    """Give a held bed back."""
    return _hold_view(record_dict(services.release_hold(app_context().store, hold_id=hold_id,
                                                        actor=actor())))

@endpoint(bp, "/api/holds", "GET", summary="Active holds: mine, my site's, or all (admins)",
          roles=("caseworker", "shelter"), query=schemas.HoldQuery)
def holds(query: schemas.HoldQuery) -> dict[str, Any]:
    """List active holds with id, client reference and expiry, so a page can show them again."""
    found = services.holds_with_episodes(app_context().store, actor=actor(), scope=query.scope)
    return {"holds": [_referral_view(h) for h in found], "scope": query.scope}

def _referral_view(held: services.ReferralHold) -> dict[str, Any]:
    """Return a hold as JSON with its episode's id and state (None: no episode)."""
    view = _hold_view(record_dict(held.hold))
    view["episode_id"] = held.episode.id if held.episode else None
    view["episode_state"] = held.episode.state.value if held.episode else None
    return view

def _hold_view(hold: dict[str, Any]) -> dict[str, Any]:
    """Add the expiry in the area's local time to a hold.

    ``free_beds`` (the shelter's free beds of the type) comes with the hold itself, read in
    the transaction that wrote it: nothing is read again, so an answer never fails after the
    write committed.
    """
    hold["expires_local"] = local_hhmm(hold.get("expires_at"))
    hold["timezone"] = area_tz()
    return hold
