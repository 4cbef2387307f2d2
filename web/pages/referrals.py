"""Referral episodes: open one, move it along, and the board of open episodes with timers."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from navigator import services
from navigator.model import Transport
from web import schemas
from web.access import actor, require
from web.context import app_context
from web.openapi import endpoint
from web.render import area_tz, record_dict

bp = Blueprint("referrals", __name__)
ROLES = ("caseworker", "shelter")


@bp.get("/board")
@require(*ROLES)
def page() -> str:
    """Show the board of open referral episodes, with a button for each allowed move."""
    return render_template("board.html", transports=[t.value for t in Transport],
                           timezone=area_tz())


@endpoint(bp, "/api/episodes", "POST", summary="Open a referral episode (case reference only)",
          roles=("caseworker",), body=schemas.EpisodeCreate, status=201)
def create(body: schemas.EpisodeCreate) -> dict[str, Any]:
    """Open an episode in state ``search``."""
    ctx = app_context()
    return record_dict(services.open_episode(ctx.store, ctx.settings,
                                             client_ref=body.client_ref, note=body.note,
                                             actor=actor()))


@endpoint(bp, "/api/episodes/<episode_id>/move", "POST",
          summary="Move an episode one step (409 names the current state)", roles=ROLES,
          body=schemas.EpisodeMove, errors=(409,))
def move(episode_id: str, body: schemas.EpisodeMove) -> dict[str, Any]:
    """Move an episode; an illegal step is 409 and names the state it is in."""
    ctx = app_context()
    return record_dict(services.move_episode(
        ctx.store, ctx.settings, episode_id=episode_id, state=body.state,
        hold_id=body.hold_id, transport=body.transport.value if body.transport else None,
        eta=body.eta, note=body.note, actor=actor()))


@endpoint(bp, "/api/board", summary="Open episodes with their timers (red when due)",
          roles=ROLES)
def board() -> dict[str, Any]:
    """Return the open episodes the user watches (shelter staff: their sites')."""
    ctx = app_context()
    return {"episodes": services.board(ctx.store, ctx.settings, actor=actor())}
