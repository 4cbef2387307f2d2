"""Referral episodes ("flight strips"): open, move along the state machine, and the board.

An episode is de-identified: a caseworker's case reference, never a name. The moves allowed
are :data:`navigator.model.EPISODE_TRANSITIONS`; the store refuses any other with a
``ConflictError`` naming the current state (HTTP 409), and audits every move.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from navigator.errors import ForbiddenError, NotFoundError, ValidationError
from navigator.model import EpisodeState, HoldResponse, HoldStatus

if TYPE_CHECKING:
    from navigator.config import Settings
    from navigator.model import Episode, Hold
    from navigator.store import Store

__all__ = ["board", "follow_hold", "move_episode", "open_episode"]

#: A hold expiring within this many seconds turns its episode's timer red.
HOLD_WARNING_S = 15 * 60.0


def _now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        msg = f"now must be a timezone-aware datetime, got {now!r}"
        raise ValidationError(msg)
    return now


def open_episode(store: Store, settings: Settings, *, client_ref: str, actor: str,
                 note: str = "", now: datetime | None = None) -> Episode:
    """Open an episode (state ``search``) for a case reference; no name is needed or kept."""
    del settings
    return store.add_episode(client_ref, actor=actor, note=note, now=now)


def _staff_check(store: Store, actor: str, episode: Episode) -> None:
    try:
        user = store.user(actor)
    except NotFoundError:
        return  # the CLI and the system act without an account
    if user.role == "shelter" and episode.resource_id not in store.user_sites(actor):
        msg = f"{actor!r} may not move episode {episode.id!r}: it is not for one of their sites"
        raise ForbiddenError(msg)


def move_episode(store: Store, settings: Settings, *, episode_id: str,
                 state: EpisodeState | str, actor: str, hold_id: str | None = None,
                 transport: str | None = None, eta: datetime | None = None,
                 note: str | None = None, now: datetime | None = None) -> Episode:
    """Move an episode one step, setting what the step needs.

    ``hold`` links a hold (``hold_id`` required; the shelter and bed type come from it);
    ``transport`` needs ``transport`` (self, team, other) and takes an ``eta``; ``arrived``
    starts the follow-up clock (first due ``settings.follow_up_first_h`` later);
    ``follow_up`` records the first follow-up (the second is due
    ``settings.follow_up_second_h`` after arrival); ``no_show`` asks for a follow-up too.

    Raises
    ------
    ConflictError
        Not allowed from the current state (the message names it).
    ForbiddenError
        Shelter staff moving another site's episode.
    ValidationError
        A step's required field is missing.
    """
    to = EpisodeState(state)
    at = _now(now)
    current = store.episode(episode_id)
    _staff_check(store, actor, current)
    changes: dict[str, Any] = {}
    if note is not None:
        changes["note"] = note
    if to is EpisodeState.HOLD:
        if not hold_id:
            msg = "episode: hold_id is required to move to hold"
            raise ValidationError(msg)
        hold = store.hold(hold_id)
        changes.update(hold_id=hold.id, resource_id=hold.resource_id,
                       bed_type=hold.bed_type.value)
    elif to is EpisodeState.TRANSPORT:
        if not transport:
            msg = "episode: transport (self, team, other) is required to move to transport"
            raise ValidationError(msg)
        changes.update(transport=transport, eta=eta)
    elif to is EpisodeState.ARRIVED:
        changes.update(arrived_at=at,
                       follow_up_due=at + timedelta(hours=settings.follow_up_first_h))
    elif to is EpisodeState.NO_SHOW:
        changes.update(follow_up_due=at + timedelta(hours=settings.follow_up_first_h))
    elif to is EpisodeState.FOLLOW_UP:
        base = current.arrived_at or at
        changes.update(follow_ups_done=current.follow_ups_done + 1,
                       follow_up_due=base + timedelta(hours=settings.follow_up_second_h))
    elif to is EpisodeState.CLOSED:
        changes.update(follow_up_due=None)
    return store.move_episode(episode_id, to, actor=actor, changes=changes, now=at)


def follow_hold(store: Store, hold: Hold, *, actor: str, now: datetime | None = None) -> None:
    """Move the open episodes waiting on ``hold`` to accepted or declined, as it was answered."""
    if hold.response not in (HoldResponse.ACCEPTED, HoldResponse.DECLINED):
        return
    to = EpisodeState.ACCEPTED if hold.response == HoldResponse.ACCEPTED \
        else EpisodeState.DECLINED
    for episode in store.episodes(resource_ids=[hold.resource_id]):
        if episode.hold_id == hold.id and episode.state is EpisodeState.HOLD:
            store.move_episode(episode.id, to, actor=actor, now=now)


def board(store: Store, settings: Settings, *, actor: str,
          now: datetime | None = None) -> list[dict[str, Any]]:
    """Return the open episodes the actor should watch, with their timers, oldest first.

    Shelter staff see their sites' episodes; everyone else sees every open episode. Each
    entry is the episode plus ``timers``: ``hold_expiring`` (the hold ends within 15 minutes
    or has ended), ``arrival_overdue`` (past the ETA plus ``settings.arrival_grace_s``),
    ``follow_up_due``; ``red`` is true when any timer is.
    """
    at = _now(now)
    sites = None
    try:
        user = store.user(actor)
        if user.role == "shelter":
            sites = store.user_sites(actor)
    except NotFoundError:
        pass
    out = []
    for episode in store.episodes(resource_ids=sites):
        timers = {"hold_expiring": False, "arrival_overdue": False, "follow_up_due": False}
        hold_expires = None
        if episode.hold_id and episode.state in (EpisodeState.HOLD, EpisodeState.ACCEPTED,
                                                 EpisodeState.TRANSPORT):
            try:
                hold = store.hold(episode.hold_id)
            except NotFoundError:
                hold = None
            if hold is not None:
                hold_expires = hold.expires_at
                timers["hold_expiring"] = hold.status is HoldStatus.EXPIRED or (
                    hold.status is HoldStatus.HELD
                    and (hold.expires_at - at).total_seconds() <= HOLD_WARNING_S)
        if episode.eta is not None and episode.state in (EpisodeState.ACCEPTED,
                                                         EpisodeState.TRANSPORT):
            timers["arrival_overdue"] = at > episode.eta + timedelta(
                seconds=settings.arrival_grace_s)
        if episode.follow_up_due is not None:
            timers["follow_up_due"] = at >= episode.follow_up_due
        out.append({**asdict(episode), "hold_expires_at": hold_expires, "timers": timers,
                    "red": any(timers.values())})
    return out
