"""Referral episodes ("flight strips"): open, hold, move along the state machine, the board.

An episode is de-identified: a caseworker's case reference, never a name. The moves allowed
are :data:`navigator.model.EPISODE_TRANSITIONS`; the store refuses any other with a
``ConflictError`` naming the current state (HTTP 409), and audits every move. A hold made for
a client opens (or links) the client's episode in the same call (:func:`hold_for_client`); the
shelter's answer to the hold moves it to accepted or declined (:func:`follow_hold`); arrival
confirms the hold's bed, a no-show or closing gives a still-held bed back.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from navigator.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
from navigator.model import EPISODE_TRANSITIONS, EpisodeState, HoldResponse, HoldStatus, Role
from navigator.services.caseworker import hold_bed

if TYPE_CHECKING:
    from collections.abc import Iterable

    from navigator.config import Settings
    from navigator.model import BedType, Episode, Hold
    from navigator.store import Store
    from navigator.store.sessions import SessionGuard

__all__ = ["STAFF_MOVES", "ReferralHold", "board", "episodes_by_hold", "follow_hold",
           "hold_for_client", "move_episode", "open_episode"]

#: A hold expiring within this many seconds turns its episode's timer red.
HOLD_WARNING_S = 15 * 60.0
#: The moves shelter staff make (on their own sites' episodes): they answer and see arrivals;
#: the caseworker arranges transport, follows up and closes.
STAFF_MOVES = frozenset({EpisodeState.ACCEPTED, EpisodeState.DECLINED, EpisodeState.ARRIVED,
                         EpisodeState.NO_SHOW})
#: Moves that, for an episode waiting on a hold, only the shelter's answer to the hold makes.
ANSWERS = frozenset({EpisodeState.ACCEPTED, EpisodeState.DECLINED})


@dataclass(frozen=True)
class ReferralHold:
    """A bed hold and the referral episode it belongs to (None: held with no case reference)."""

    hold: Hold
    episode: Episode | None


def _now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        msg = f"now must be a timezone-aware datetime, got {now!r}"
        raise ValidationError(msg)
    return now


def _role(store: Store, actor: str) -> str | None:
    try:
        return store.user(actor).role
    except NotFoundError:
        return None  # the CLI and the system act without an account


def open_episode(store: Store, settings: Settings, *, client_ref: str, actor: str,
                 note: str = "", now: datetime | None = None) -> Episode:
    """Open an episode (state ``search``) for a case reference; no name is needed or kept."""
    del settings
    return store.add_episode(client_ref, actor=actor, note=note, now=now)


def hold_for_client(store: Store, settings: Settings, *, resource_id: str,
                    bed_type: BedType | str, actor: str, client_ref: str = "",
                    episode_id: str | None = None, idempotency_key: str | None = None,
                    now: datetime | None = None, session: SessionGuard | None = None
                    ) -> ReferralHold:
    """Hold one bed for a client and open (or link) the client's referral episode.

    Parameters
    ----------
    store, settings
        Where to write; ``settings.hold_ttl_s`` is the hold's life.
    resource_id, bed_type
        The shelter and bed type.
    actor
        The caseworker.
    client_ref
        The case reference (no name). The actor's open episode of that reference still in
        ``search`` is linked; with none, a new episode is opened. Empty: a hold only.
    episode_id
        An episode in ``search`` to link instead (its case reference goes on the hold).
    idempotency_key
        A repeated key returns the first hold and its episode; no second bed or episode.
    now
        Current time (aware); the clock when None.
    session
        The login session the request came in: no bed is held unless it is live, checked in
        the hold's own round trip (:func:`navigator.services.caseworker.hold_bed`).

    Returns
    -------
    ReferralHold
        The hold (with ``free_beds``) and the episode, now in state ``hold``.

    Raises
    ------
    ConflictError
        No free bed, or the episode is not in ``search`` (nothing is held then).
    SessionEndedError
        ``session`` is over (nothing is held, nothing is said of the episode).
    NotFoundError
        Unknown shelter, bed type at the shelter, or episode.
    ValidationError
        A case reference over 64 characters.
    """
    ref = (client_ref or "").strip()
    if len(ref) > 64:
        msg = f"client_ref must be at most 64 characters, got {len(ref)}"
        raise ValidationError(msg)
    asked = episode_id
    if episode_id is not None:
        try:
            episode = store.episode(episode_id)
            _check_can_hold(store, episode, idempotency_key)
        except (NotFoundError, ConflictError):
            if session is not None:  # an ended session learns nothing of the episode
                store.check_session(session)
            raise
        ref = episode.client_ref
    elif ref:
        episode_id = next((e.id for e in store.episodes(actor=actor, client_ref=ref)
                           if e.state is EpisodeState.SEARCH), None)
    hold = hold_bed(store, settings, resource_id=resource_id, bed_type=bed_type, actor=actor,
                    idempotency_key=idempotency_key, client_ref=ref, now=now,
                    session=session)
    if not ref:
        return ReferralHold(hold, None)
    try:
        linked = store.link_hold_episode(hold.id, actor=actor, client_ref=ref,
                                         episode_id=episode_id, now=now)
    except ConflictError:
        # The episode moved on meanwhile: the bed held for it goes back at once.
        with suppress(ConflictError):
            store.release_hold(hold.id, actor=actor, now=now)
        raise
    if asked is not None and linked.id != asked:  # a key reused for another case
        msg = (f"hold {hold.id!r} (idempotency key {idempotency_key!r}) already belongs to "
               f"episode {linked.id!r}")
        raise ConflictError(msg)
    return ReferralHold(hold, linked)


def _check_can_hold(store: Store, episode: Episode, key: str | None) -> None:
    """Refuse, before any bed is taken, to hold for an episode past ``search``.

    A retry of the request that already linked the episode (same idempotency key) passes.
    """
    if episode.state is EpisodeState.SEARCH:
        return
    if key and episode.hold_id:
        with suppress(NotFoundError):
            if store.hold(episode.hold_id).idempotency_key == key:
                return
    msg = (f"episode {episode.id!r} is {episode.state.value}; a bed is held for an episode "
           "in search only")
    raise ConflictError(msg)


def _check_mover(store: Store, actor: str, episode: Episode, to: EpisodeState) -> None:
    role = _role(store, actor)
    if role == Role.SHELTER.value:
        if episode.resource_id not in store.user_sites(actor):
            msg = f"{actor!r} may not move episode {episode.id!r}: it is not for one of their sites"
            raise ForbiddenError(msg)
        if to not in STAFF_MOVES:
            allowed = ", ".join(sorted(s.value for s in STAFF_MOVES))
            msg = f"shelter staff may move an episode to {allowed} only, not to {to.value}"
            raise ForbiddenError(msg)
    if to in ANSWERS and episode.hold_id:
        msg = (f"episode {episode.id!r} waits on hold {episode.hold_id!r}: the shelter "
               f"accepts or declines the hold itself (POST /api/holds/{episode.hold_id}/"
               f"{'accept' if to is EpisodeState.ACCEPTED else 'decline'})")
        raise ConflictError(msg)


def move_episode(store: Store, settings: Settings, *, episode_id: str,
                 state: EpisodeState | str, actor: str, hold_id: str | None = None,
                 transport: str | None = None, eta: datetime | None = None,
                 note: str | None = None, now: datetime | None = None) -> Episode:
    """Move an episode one step, setting what the step needs.

    ``hold`` links a hold (``hold_id`` required; the shelter and bed type come from it);
    ``transport`` needs ``transport`` (self, team, other) and takes an ``eta``; ``arrived``
    starts the follow-up clock (first due ``settings.follow_up_first_h`` later) and confirms
    a still-held bed; ``follow_up`` records the first follow-up (the second is due
    ``settings.follow_up_second_h`` after arrival); ``no_show`` asks for a follow-up too and,
    like ``closed``, gives a still-held bed back. An episode waiting on a hold moves to
    accepted or declined only by the shelter's answer to the hold (:func:`follow_hold`).

    Raises
    ------
    ConflictError
        Not allowed from the current state (the message names it), someone moved it first,
        or an answer that belongs to the hold.
    ForbiddenError
        Shelter staff moving another site's episode, or making a caseworker's move.
    ValidationError
        A step's required field is missing.
    """
    try:
        to = EpisodeState(state)
    except ValueError as e:
        msg = f"episode: state={state!r} is not one of {', '.join(s.value for s in EpisodeState)}"
        raise ValidationError(msg) from e
    at = _now(now)
    current = store.episode(episode_id)
    _check_mover(store, actor, current, to)
    if to is EpisodeState.HOLD:
        if not hold_id:
            msg = "episode: hold_id is required to move to hold"
            raise ValidationError(msg)
        if to not in EPISODE_TRANSITIONS[current.state]:  # the link below would find it
            nxt = ", ".join(sorted(s.value for s in EPISODE_TRANSITIONS[current.state]))
            msg = (f"episode {episode_id!r} is {current.state.value}; it cannot move to hold "
                   f"(from {current.state.value} it may move to {nxt or 'nothing'})")
            raise ConflictError(msg)
        linked = store.link_hold_episode(hold_id, actor=actor, episode_id=episode_id, now=at)
        if linked.id != episode_id:
            msg = f"hold {hold_id!r} already belongs to episode {linked.id!r}"
            raise ConflictError(msg)
        return linked
    changes = _changes(settings, current, to, at, transport=transport, eta=eta)
    if note is not None:
        changes["note"] = note
    moved = store.move_episode(episode_id, to, actor=actor, changes=changes, now=at)
    _settle_hold(store, moved, actor=actor, now=at)
    return moved


def _changes(settings: Settings, current: Episode, to: EpisodeState, at: datetime, *,
             transport: str | None, eta: datetime | None) -> dict[str, Any]:
    """Return the fields a move to ``to`` sets besides the state."""
    if to is EpisodeState.TRANSPORT:
        if not transport:
            msg = "episode: transport (self, team, other) is required to move to transport"
            raise ValidationError(msg)
        return {"transport": transport, "eta": eta}
    if to is EpisodeState.ARRIVED:
        return {"arrived_at": at, "follow_up_due": at + timedelta(hours=settings.follow_up_first_h)}
    if to is EpisodeState.NO_SHOW:
        return {"follow_up_due": at + timedelta(hours=settings.follow_up_first_h)}
    if to is EpisodeState.FOLLOW_UP:
        base = current.arrived_at or at
        return {"follow_ups_done": current.follow_ups_done + 1,
                "follow_up_due": base + timedelta(hours=settings.follow_up_second_h)}
    if to is EpisodeState.CLOSED:
        return {"follow_up_due": None}
    return {}


def _settle_hold(store: Store, episode: Episode, *, actor: str, now: datetime) -> None:
    """Confirm the bed of a client who arrived; give back the bed of a no-show or a close."""
    if not episode.hold_id or episode.state not in (EpisodeState.ARRIVED, EpisodeState.NO_SHOW,
                                                    EpisodeState.CLOSED):
        return
    try:
        hold = store.hold(episode.hold_id)
    except NotFoundError:
        return
    if hold.status is not HoldStatus.HELD:
        return
    with suppress(ConflictError):  # it expired or was released a moment ago: nothing to do
        if episode.state is EpisodeState.ARRIVED:
            store.confirm_hold(hold.id, actor=actor, now=now)
        else:
            store.release_hold(hold.id, actor=actor, now=now)


def follow_hold(store: Store, hold: Hold, *, actor: str, now: datetime | None = None) -> None:
    """Move the episode waiting on ``hold`` to accepted or declined, as it was answered."""
    if hold.response not in (HoldResponse.ACCEPTED, HoldResponse.DECLINED):
        return
    to = EpisodeState.ACCEPTED if hold.response == HoldResponse.ACCEPTED \
        else EpisodeState.DECLINED
    for episode in store.episodes(resource_ids=[hold.resource_id]):
        if episode.hold_id == hold.id and episode.state is EpisodeState.HOLD:
            with suppress(ConflictError):  # closed meanwhile: the answer stands on the hold
                store.move_episode(episode.id, to, actor=actor, now=now)


def episodes_by_hold(store: Store, holds: Iterable[Hold]) -> dict[str, Episode]:
    """Return the open episode linked to each of ``holds``, by hold id (unlinked: absent)."""
    wanted = {h.id: h.resource_id for h in holds}
    if not wanted:
        return {}
    found = store.episodes(resource_ids=sorted(set(wanted.values())))
    return {e.hold_id: e for e in found if e.hold_id in wanted}


def _moves(episode: Episode, role: str | None) -> tuple[list[str], str | None]:
    """Return the moves the board offers ``role`` for ``episode`` and the hold it may answer.

    From the state machine: shelter staff get :data:`STAFF_MOVES`; an episode waiting on a
    hold is accepted or declined by answering the hold (staff only); ``hold`` is made from the
    bed finder (caseworkers), never by a button here.
    """
    allowed = set(EPISODE_TRANSITIONS[episode.state])
    answer = None
    if episode.hold_id and episode.state is EpisodeState.HOLD and allowed & ANSWERS:
        allowed -= ANSWERS
        if role in (Role.SHELTER.value, Role.ADMIN.value):
            answer = episode.hold_id
    if role == Role.SHELTER.value:
        allowed &= STAFF_MOVES
    allowed.discard(EpisodeState.HOLD)
    order = list(EpisodeState)
    return sorted((s.value for s in allowed), key=lambda v: order.index(EpisodeState(v))), answer


def board(store: Store, settings: Settings, *, actor: str,
          now: datetime | None = None) -> list[dict[str, Any]]:
    """Return the open episodes the actor should watch, with their timers, oldest first.

    Shelter staff see their sites' episodes; everyone else sees every open episode. Each
    entry is the episode plus ``site_name``, ``hold_expires_at``, ``timers``:
    ``hold_expiring`` (the hold ends within 15 minutes or has ended), ``arrival_overdue``
    (past the ETA plus ``settings.arrival_grace_s``, whose end is ``overdue_at``),
    ``follow_up_due``; ``red`` is true when any timer is. ``moves`` are the states the actor
    may move it to now, ``answer_hold`` the hold the actor may accept or decline, and
    ``find_bed`` whether the caseworker may look for (another) bed for it.
    """
    at = _now(now)
    role = _role(store, actor)
    sites = store.user_sites(actor) if role == Role.SHELTER.value else None
    names: dict[str, str] = {}
    out = []
    for episode in store.episodes(resource_ids=sites):
        timers = {"hold_expiring": False, "arrival_overdue": False, "follow_up_due": False}
        hold_expires = overdue_at = None
        if episode.hold_id and episode.state in (EpisodeState.HOLD, EpisodeState.ACCEPTED,
                                                 EpisodeState.TRANSPORT):
            try:
                hold = store.hold(episode.hold_id)
            except NotFoundError:
                hold = None
            if hold is not None:
                hold_expires = hold.expires_at
                timers["hold_expiring"] = hold.status in (HoldStatus.EXPIRED,
                                                          HoldStatus.RELEASED) or (
                    hold.status is HoldStatus.HELD
                    and (hold.expires_at - at).total_seconds() <= HOLD_WARNING_S)
        if episode.eta is not None and episode.state in (EpisodeState.ACCEPTED,
                                                         EpisodeState.TRANSPORT):
            overdue_at = episode.eta + timedelta(seconds=settings.arrival_grace_s)
            timers["arrival_overdue"] = at > overdue_at
        if episode.follow_up_due is not None:
            timers["follow_up_due"] = at >= episode.follow_up_due
        if episode.resource_id and episode.resource_id not in names:
            try:
                site = store.resource(episode.resource_id)
                names[episode.resource_id] = "confidential site" if site.confidential \
                    else site.name
            except NotFoundError:
                names[episode.resource_id] = episode.resource_id
        moves, answer = _moves(episode, role)
        out.append({**asdict(episode), "site_name": names.get(episode.resource_id or ""),
                    "hold_expires_at": hold_expires, "overdue_at": overdue_at,
                    "timers": timers, "red": any(timers.values()), "moves": moves,
                    "answer_hold": answer,
                    "find_bed": role != Role.SHELTER.value and EpisodeState.HOLD in
                    EPISODE_TRANSITIONS[episode.state]})
    return out
