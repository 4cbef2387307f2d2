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
        if not isinstance(client_ref, str) or not 1 <= len(client_ref.strip()) <= 64:
            msg = f"episode: client_ref must be 1-64 characters, got {client_ref!r}"
            raise ValidationError(msg)
        at = rows.to_ms(now) if now else rows.utc_now()
        row = {"id": uuid.uuid4().hex, "client_ref": client_ref.strip(),
               "state": EpisodeState.SEARCH.value, "actor": actor, "created_at": at,
               "updated_at": at, **{k: None for k in ("hold_id", "resource_id", "bed_type",
                                                      "transport", "eta", "arrived_at",
                                                      "follow_up_due")},
               "follow_ups_done": 0, **_check_fields({"note": note})}
        with self._transaction(write=True) as tx:
            tx.insert("episodes", row)
            append_audit(tx, "add_episode", actor=actor, subject=row["id"],
                         inputs={"client_ref": row["client_ref"]},
                         result={"state": row["state"]})
            return rows.episode_from_row(self._episode(tx, row["id"]))

    def _episode(self, tx: Tx, episode_id: str) -> dict[str, Any]:
        return fetch_one(tx, f"SELECT {_SELECT} FROM episodes WHERE id = %(id)s",
                         {"id": episode_id}, f"episode {episode_id!r}")

    def episode(self, episode_id: str) -> Episode:
        """Return one episode; ``NotFoundError`` if unknown."""
        with self._transaction(write=False) as tx:
            return rows.episode_from_row(self._episode(tx, episode_id))

    def episodes(self, *, open_only: bool = True, resource_ids: Iterable[str] | None = None,
                 actor: str | None = None) -> list[Episode]:
        """Return episodes, oldest first: still open, at ``resource_ids``, opened by ``actor``."""
        params: dict[str, Any] = {}
        where = ["1 = 1"]
        if open_only:
            where.append("state <> 'closed'")
        if resource_ids is not None:
            where.append(in_clause("resource_id", "rid", list(resource_ids), params))
        if actor is not None:
            where.append("actor = %(actor)s")
            params["actor"] = actor
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
        params: dict[str, Any] = {"id": episode_id, "state": to.value, "now": at,
                                  **{f"f_{k}": v for k, v in fields.items()}}
        sets = ", ".join(["state = %(state)s", "updated_at = %(now)s",
                          *(f"{k} = %(f_{k})s" for k in sorted(fields))])
        allowed = in_clause("state", "from", predecessors(to), params)
        conflict: ConflictError | None = None
        with self._transaction(write=True) as tx:
            before = self._episode(tx, episode_id)
            found = tx.fetch(f"UPDATE episodes SET {sets} WHERE id = %(id)s AND {allowed} "
                             f"RETURNING {_SELECT}", params)
            if not found:
                nxt = sorted(s.value for s in EPISODE_TRANSITIONS[EpisodeState(before["state"])])
                conflict = ConflictError(
                    f"episode {episode_id!r} is {before['state']}; it cannot move to {to.value}"
                    f" (from {before['state']} it may move to {', '.join(nxt) or 'nothing'})")
            else:
                append_audit(tx, "move_episode", actor=actor, subject=episode_id,
                             inputs={"state": to.value, **fields},
                             result={"previous": before["state"], "at": at})
                episode = rows.episode_from_row(found[0])
        if conflict is not None:
            raise conflict
        return episode
