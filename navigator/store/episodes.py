"""Referral episodes: one de-identified record per client, moved along a small state machine.

Each move is one guarded update (``... WHERE id = ... AND state IN (allowed predecessors)``),
so two people moving the same episode at once cannot both win, and every move is audited
with its actor and time.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from navigator.errors import ConflictError, ValidationError
from navigator.model import EPISODE_TRANSITIONS, BedType, Episode, EpisodeState, Transport
from navigator.store import rows
from navigator.store.tx import append_audit, fetch_one, in_clause

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from contextlib import AbstractContextManager

    from navigator.store.tx import Tx

_SELECT = ", ".join(rows.EPISODE_COLUMNS)
#: Fields a move may set besides the state.
MOVABLE = frozenset({"hold_id", "resource_id", "bed_type", "transport", "eta", "arrived_at",
                     "follow_up_due", "follow_ups_done", "note"})


def predecessors(state: EpisodeState) -> list[str]:
    """Return the states an episode may move to ``state`` from."""
    return sorted(s.value for s, nxt in EPISODE_TRANSITIONS.items() if state in nxt)


def _check_fields(changes: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(changes) - MOVABLE
    if unknown:
        msg = f"episode: unknown field(s) {', '.join(sorted(unknown))}"
        raise ValidationError(msg)
    out = dict(changes)
    if out.get("bed_type") is not None:
        out["bed_type"] = BedType(out["bed_type"]).value
    if out.get("transport") is not None:
        try:
            out["transport"] = Transport(out["transport"]).value
        except ValueError as e:
            msg = f"episode: transport={out['transport']!r} is not one of self, team, other"
            raise ValidationError(msg) from e
    for name in ("eta", "arrived_at", "follow_up_due"):
        value = out.get(name)
        if value is not None:
            if not isinstance(value, datetime) or value.tzinfo is None:
                msg = f"episode: {name} must be a timezone-aware datetime, got {value!r}"
                raise ValidationError(msg)
            out[name] = rows.to_ms(value)
    if len(str(out.get("note") or "")) > 500:
        msg = "episode: note must be at most 500 characters"
        raise ValidationError(msg)
    return out


class EpisodeMethods:
    """The episodes part of the store contract, on a backend's :class:`Tx`."""

    _transaction: Callable[..., AbstractContextManager[Tx]]

    def add_episode(self, client_ref: str, *, actor: str, note: str = "",
                    now: datetime | None = None) -> Episode:
        """Open an episode in state ``search`` for a case reference (no name needed)."""
        ref = _client_ref(client_ref)
        at = rows.to_ms(now) if now else rows.utc_now()
        fields = _check_fields({"note": note})  # before the transaction: nothing written
        with self._transaction(write=True) as tx:
            episode_id = _insert(tx, ref, actor=actor, note=fields["note"], at=at)
            return rows.episode_from_row(self._episode(tx, episode_id))

    def _episode(self, tx: Tx, episode_id: str) -> dict[str, Any]:
        return fetch_one(tx, f"SELECT {_SELECT} FROM episodes WHERE id = %(id)s",
                         {"id": episode_id}, f"episode {episode_id!r}")

    def episode(self, episode_id: str) -> Episode:
        """Return one episode; ``NotFoundError`` if unknown."""
        with self._transaction(write=False) as tx:
            return rows.episode_from_row(self._episode(tx, episode_id))

    def episodes(self, *, open_only: bool = True, resource_ids: Iterable[str] | None = None,
                 actor: str | None = None, client_ref: str | None = None) -> list[Episode]:
        """Return episodes, oldest first: open, at ``resource_ids``, by ``actor``, of a case.

        Each filter given narrows the list (None: any); ``client_ref`` is the case reference.
        """
        params: dict[str, Any] = {}
        where = ["1 = 1"]
        if open_only:
            where.append("state <> 'closed'")
        if resource_ids is not None:
            where.append(in_clause("resource_id", "rid", list(resource_ids), params))
        if actor is not None:
            where.append("actor = %(actor)s")
            params["actor"] = actor
        if client_ref is not None:
            where.append("client_ref = %(client_ref)s")
            params["client_ref"] = client_ref
        with self._transaction(write=False) as tx:
            found = tx.fetch(f"SELECT {_SELECT} FROM episodes WHERE {' AND '.join(where)} "
                             "ORDER BY created_at, id", params)
        return [rows.episode_from_row(r) for r in found]

    def move_episode(self, episode_id: str, state: EpisodeState | str, *, actor: str,
                     changes: Mapping[str, Any] | None = None,
                     now: datetime | None = None) -> Episode:
        """Move an episode to ``state`` (and set ``changes``) if the state machine allows it.

        Raises
        ------
        ConflictError
            The move is not allowed from the episode's current state (the message names it).
        NotFoundError
            Unknown episode.
        """
        try:
            to = EpisodeState(state)
        except ValueError as e:
            allowed = ", ".join(s.value for s in EpisodeState)
            msg = f"episode: state={state!r} is not one of {allowed}"
            raise ValidationError(msg) from e
        fields = _check_fields(changes or {})
        at = rows.to_ms(now) if now else rows.utc_now()
        with self._transaction(write=True) as tx:
            moved = _move(tx, episode_id, to, actor=actor, fields=fields, at=at)
        if isinstance(moved, ConflictError):
            raise moved
        return moved

    def link_hold_episode(self, hold_id: str, *, actor: str, client_ref: str | None = None,
                          episode_id: str | None = None,
                          now: datetime | None = None) -> Episode:
        """Return the episode of a bed hold, linking one the first time.

        The episode already linked to the hold if there is one (a retried request links
        once); else ``episode_id``, moved from ``search`` to ``hold``; else a new episode for
        ``client_ref``, opened and moved to ``hold``. One transaction that starts by locking
        the hold's row, so two requests for one hold queue and the second finds the first's
        episode. The hold gives the episode its shelter and bed type; each step is audited.

        Raises
        ------
        ConflictError
            ``episode_id`` is not in ``search`` (the message names its state).
        NotFoundError
            Unknown hold or episode.
        ValidationError
            Neither ``episode_id`` nor a 1-64 character ``client_ref``.
        """
        if episode_id is None:
            client_ref = _client_ref(client_ref)
        at = rows.to_ms(now) if now else rows.utc_now()
        with self._transaction(write=True) as tx:
            hold = fetch_one(tx, "UPDATE holds SET updated_at = updated_at WHERE id = %(id)s "
                             "RETURNING id, resource_id, bed_type", {"id": hold_id},
                             f"hold {hold_id!r}")
            linked = tx.fetch(f"SELECT {_SELECT} FROM episodes WHERE hold_id = %(id)s "
                              "ORDER BY created_at, id LIMIT 1", {"id": hold_id})
            if linked:
                return rows.episode_from_row(linked[0])
            if episode_id is None:
                episode_id = _insert(tx, str(client_ref), actor=actor, note="", at=at)
            fields = {"hold_id": hold["id"], "resource_id": hold["resource_id"],
                      "bed_type": hold["bed_type"]}
            moved = _move(tx, episode_id, EpisodeState.HOLD, actor=actor, fields=fields, at=at)
            if isinstance(moved, ConflictError):
                raise moved  # rolls back: the hold stays unlinked, no episode is opened
            return moved


def _client_ref(client_ref: object) -> str:
    if not isinstance(client_ref, str) or not 1 <= len(client_ref.strip()) <= 64:
        msg = f"episode: client_ref must be 1-64 characters, got {client_ref!r}"
        raise ValidationError(msg)
    return client_ref.strip()


def _insert(tx: Tx, client_ref: str, *, actor: str, note: str, at: datetime) -> str:
    """Insert a new episode in state ``search`` (audited); return its id."""
    row = {"id": uuid.uuid4().hex, "client_ref": client_ref,
           "state": EpisodeState.SEARCH.value, "actor": actor, "created_at": at,
           "updated_at": at, **dict.fromkeys(("hold_id", "resource_id", "bed_type",
                                              "transport", "eta", "arrived_at",
                                              "follow_up_due")),
           "follow_ups_done": 0, **_check_fields({"note": note})}
    tx.insert("episodes", row)
    append_audit(tx, "add_episode", actor=actor, subject=row["id"],
                 inputs={"client_ref": row["client_ref"]}, result={"state": row["state"]})
    return str(row["id"])


def _move(tx: Tx, episode_id: str, to: EpisodeState, *, actor: str, fields: Mapping[str, Any],
          at: datetime) -> Episode | ConflictError:
    """Move one episode in ``tx`` by a guarded update; return it, or the conflict to raise."""
    params: dict[str, Any] = {"id": episode_id, "state": to.value, "now": at,
                              **{f"f_{k}": v for k, v in fields.items()}}
    sets = ", ".join(["state = %(state)s", "updated_at = %(now)s",
                      *(f"{k} = %(f_{k})s" for k in sorted(fields))])
    allowed = in_clause("state", "from", predecessors(to), params)
    before = fetch_one(tx, f"SELECT {_SELECT} FROM episodes WHERE id = %(id)s",
                       {"id": episode_id}, f"episode {episode_id!r}")
    found = tx.fetch(f"UPDATE episodes SET {sets} WHERE id = %(id)s AND {allowed} "
                     f"RETURNING {_SELECT}", params)
    if not found:
        nxt = sorted(s.value for s in EPISODE_TRANSITIONS[EpisodeState(before["state"])])
        return ConflictError(
            f"episode {episode_id!r} is {before['state']}; it cannot move to {to.value}"
            f" (from {before['state']} it may move to {', '.join(nxt) or 'nothing'})")
    append_audit(tx, "move_episode", actor=actor, subject=episode_id,
                 inputs={"state": to.value, **fields},
                 result={"previous": before["state"], "at": at})
    return rows.episode_from_row(found[0])
