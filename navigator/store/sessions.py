"""Server-side login sessions: created at login, checked on every request, revoked at logout.

The signed cookie carries only a random token; the ``sessions`` row is keyed by the token's
SHA-256 (:func:`session_id`), so neither a copy of the table nor of the cookie's signing key
alone is a session. Whether a session is still valid (revoked, idle, too old, user disabled)
is one rule, :class:`SessionGuard`: :mod:`navigator.services.logins` applies it to the rows it
reads, and a write that carries a guard (a bed hold) checks it in SQL within its own
statement (:data:`LIVE_SESSION_SQL`), so the write and the session check are one round trip
and a session ended a moment before stops the write.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from navigator.errors import NotFoundError, SessionEndedError, ValidationError
from navigator.store import rows
from navigator.store.tx import fetch_one
from navigator.store.users import USER_SELECT, User, user_from_row

if TYPE_CHECKING:
    from collections.abc import Callable
    from contextlib import AbstractContextManager

    from navigator.store.tx import Tx

#: Session columns, aliased: the join with ``users`` has a ``created_at`` of its own.
_COLUMNS = ("s.id AS s_id, s.username AS s_username, s.created_at AS s_created_at, "
            "s.last_seen_at AS s_last_seen_at, s.revoked_at AS s_revoked_at, "
            "s.address AS s_address")


def session_id(token: str) -> str:
    """Return the id a session token is stored under: its SHA-256, hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class LoginSession:
    """One login session (``id`` is the token's SHA-256, never the token)."""

    id: str
    username: str
    created_at: datetime
    last_seen_at: datetime
    revoked_at: datetime | None = None
    address: str = ""


#: :meth:`SessionGuard.admits` in SQL, on the parameters of :meth:`SessionGuard.params`.
LIVE_SESSION_SQL = (
    "EXISTS (SELECT 1 FROM sessions g_s JOIN users g_u ON g_u.username = g_s.username"
    " WHERE g_s.id = %(g_sid)s AND g_s.username = %(g_user)s AND g_s.revoked_at IS NULL"
    " AND NOT g_u.disabled AND g_s.created_at >= %(g_started)s"
    " AND g_s.last_seen_at >= %(g_seen)s)")


@dataclass(frozen=True)
class SessionGuard:
    """What keeps a login session live, at one moment: the rule a session must pass.

    Live: the session ``id`` of ``username``, not revoked, its user not disabled, started at
    or after ``started_after`` (the session's greatest age) and seen at or after
    ``seen_after`` (its idle limit). A hold given a guard checks it in its own statement
    (PostGIS) or as the first statement of its transaction (the general path), and writes
    nothing if the session is over.
    """

    id: str
    username: str
    started_after: datetime
    seen_after: datetime

    def admits(self, found: LoginSession, user: User) -> bool:
        """Return whether a session and its user, as read, pass the guard."""
        return (found.id == self.id and found.username == self.username == user.username
                and found.revoked_at is None and not user.disabled
                and found.created_at >= self.started_after
                and found.last_seen_at >= self.seen_after)

    def params(self) -> dict[str, Any]:
        """Return the parameters of :data:`LIVE_SESSION_SQL`."""
        return {"g_sid": self.id, "g_user": self.username,
                "g_started": rows.to_ms(self.started_after),
                "g_seen": rows.to_ms(self.seen_after)}


def session_ended() -> SessionEndedError:
    """Return the error a write refused for an ended login session raises."""
    return SessionEndedError("the login session has ended; log in again")


def check_live(tx: Tx, guard: SessionGuard) -> None:
    """Raise ``SessionEndedError`` unless the guard's session is live, read within ``tx``.

    The first statement of a write transaction that carries a guard: the check and the write
    commit together (on the embedded store, under its write lock).
    """
    found = tx.fetch(f"SELECT {LIVE_SESSION_SQL} AS live", guard.params())
    if not (found and found[0]["live"]):
        raise session_ended()


def _session(row: dict[str, Any], prefix: str = "s_") -> LoginSession:
    return LoginSession(id=row[f"{prefix}id"], username=row[f"{prefix}username"],
                        created_at=rows.read_ts(row[f"{prefix}created_at"]) or rows.utc_now(),
                        last_seen_at=rows.read_ts(row[f"{prefix}last_seen_at"])
                        or rows.utc_now(),
                        revoked_at=rows.read_ts(row[f"{prefix}revoked_at"]),
                        address=row[f"{prefix}address"] or "")


def _check_id(sid: object) -> str:
    if not isinstance(sid, str) or len(sid) != 64 or sid.strip("0123456789abcdef"):
        msg = "a session id is the 64-character hex SHA-256 of its token"
        raise ValidationError(msg)
    return sid


class SessionMethods:
    """The sessions part of the store contract, on a backend's transactions."""

    _transaction: Callable[..., AbstractContextManager[Tx]]
    SKIP_LOCKED: str = ""

    def add_session(self, sid: str, username: str, *, address: str = "",
                    now: datetime) -> LoginSession:
        """Start a session ``sid`` (:func:`session_id` of its token) for ``username``."""
        when = rows.to_ms(now)
        row = {"id": _check_id(sid), "username": username, "created_at": when,
               "last_seen_at": when, "revoked_at": None, "address": address[:128]}
        with self._transaction(write=True) as tx:
            tx.insert("sessions", row)
        return _session(row, prefix="")

    def session(self, sid: str) -> tuple[LoginSession, User]:
        """Return a session and its user in one query; ``NotFoundError`` if unknown."""
        with self._transaction(write=False) as tx:
            found = fetch_one(tx, f"SELECT {_COLUMNS}, {USER_SELECT} FROM sessions s "
                                  "JOIN users u ON u.username = s.username WHERE s.id = %(id)s",
                              {"id": sid}, "session")
        return _session(found), user_from_row(found)

    def check_session(self, guard: SessionGuard) -> None:
        """Raise ``SessionEndedError`` unless the guard's session is live (one read)."""
        try:
            found, user = self.session(guard.id)
        except NotFoundError:
            live = False
        else:
            live = guard.admits(found, user)
        if not live:
            raise session_ended()

    def sessions(self, username: str) -> list[LoginSession]:
        """Return the user's sessions not revoked, newest first."""
        with self._transaction(write=False) as tx:
            found = tx.fetch(f"SELECT {_COLUMNS} FROM sessions s WHERE s.username = %(u)s "
                             "AND s.revoked_at IS NULL ORDER BY s.created_at DESC",
                             {"u": username})
        return [_session(r) for r in found]

    def touch_session(self, sid: str, *, now: datetime) -> None:
        """Set the session's ``last_seen_at`` (callers do it at most once a minute)."""
        with self._transaction(write=True) as tx:
            tx.fetch("UPDATE sessions SET last_seen_at = %(now)s WHERE id = %(id)s "
                     "AND revoked_at IS NULL", {"now": rows.to_ms(now), "id": sid})

    def revoke_session(self, sid: str, *, now: datetime) -> bool:
        """End one session; return whether it was live."""
        with self._transaction(write=True) as tx:
            found = tx.fetch("UPDATE sessions SET revoked_at = %(now)s WHERE id = %(id)s "
                             "AND revoked_at IS NULL RETURNING id",
                             {"now": rows.to_ms(now), "id": sid})
        return bool(found)

    def revoke_sessions(self, username: str, *, now: datetime, keep: str | None = None) -> int:
        """End every live session of ``username`` but ``keep``; return how many ended."""
        with self._transaction(write=True) as tx:
            found = tx.fetch("UPDATE sessions SET revoked_at = %(now)s WHERE username = %(u)s "
                             "AND revoked_at IS NULL AND id != %(keep)s RETURNING id",
                             {"now": rows.to_ms(now), "u": username, "keep": keep or ""})
        return len(found)

    def prune_sessions(self, *, started_before: datetime, seen_before: datetime) -> int:
        """Delete sessions that are over; return how many.

        Over: started before ``started_before`` or idle since ``seen_before``.
        """
        with self._transaction(write=True) as tx:
            found = tx.fetch(
                "DELETE FROM sessions WHERE id IN (SELECT id FROM sessions "
                "WHERE created_at < %(started)s OR last_seen_at < %(seen)s "
                f"LIMIT 500{self.SKIP_LOCKED}) RETURNING id",
                {"started": rows.to_ms(started_before), "seen": rows.to_ms(seen_before)})
        return len(found)
