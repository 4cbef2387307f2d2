"""PostGIS bed holds in one statement: the guarded take, the hold row and its audit entry.

The common hold (a fresh idempotency key, no expired hold waiting) is one statement run as a
transaction of its own: one round trip, and the shelter's row lock and the audit log's head
lock are held only while PostgreSQL runs it and commits, never across a round trip to the
application. Everything else (a repeated key, expiries to write first, an unknown shelter
or bed type) takes the general path of :class:`~navigator.store.guarded.GuardedStore`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from navigator.errors import ConflictError
from navigator.store import rows
from navigator.store._pgtx import AUDIT_FIELDS, HEAD_SQL
from navigator.store.audit import chain_parts
from navigator.store.guarded import GuardedStore, new_hold
from navigator.store.sessions import LIVE_SESSION_SQL, session_ended
from navigator.store.tx import audit_entry

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from datetime import datetime

    from navigator.model import Hold
    from navigator.store.sessions import SessionGuard

__all__ = ["HOLD_IN_ONE_STATEMENT", "HOLD_IN_SESSION", "OneStatementHolds"]

_HOLD_FIELDS = ("id", "resource_id", "bed_type", "status", "actor", "created_at",
                "expires_at", "updated_at", "idempotency_key", "client_ref")
_WHERE_BED = "resource_id = %(resource_id)s AND bed_type = %(bed_type)s"


def _hold_statement(live: str) -> str:
    """Return the one-statement hold, taking nothing unless the SQL condition ``live`` holds.

    Take a bed (``free > 0``, under the row lock), insert the hold, then lock the audit head
    (the last lock, as in every write) and insert the chained entry, whose result gets the
    free count the take returned. ``earlier`` / ``due`` send the call to the general path
    without taking anything; ``listed`` (None: no such beds) tells a full shelter from an
    unknown one; ``live`` false (the login session is over) takes nothing either.
    """
    return (
        "WITH flags AS (SELECT"
        " EXISTS (SELECT 1 FROM holds WHERE idempotency_key = %(idempotency_key)s) AS earlier,"
        " EXISTS (SELECT 1 FROM holds WHERE status = 'held' AND expires_at <= %(now)s) AS due,"
        f" {live} AS live),"
        " taken AS (UPDATE beds SET free = free - 1, held = held + 1"
        f" WHERE {_WHERE_BED} AND free > 0"
        " AND (SELECT live AND NOT (earlier OR due) FROM flags) RETURNING free),"
        f" made AS (INSERT INTO holds ({', '.join(_HOLD_FIELDS)})"
        f" SELECT {', '.join(f'%({c})s' for c in _HOLD_FIELDS)} FROM taken RETURNING id),"
        " head AS (" + HEAD_SQL.format(
            text="%(prefix)s || hash || %(middle)s || (SELECT free FROM taken)::text"
                 " || %(tail)s",
            where="AND EXISTS (SELECT 1 FROM made) ") + "),"
        f" logged AS (INSERT INTO audit ({', '.join(AUDIT_FIELDS)}, prev_hash, hash)"
        " SELECT %(a_at)s, %(a_actor)s, %(a_action)s, %(a_subject)s, %(a_inputs)s,"
        " %(a_result)s || jsonb_build_object('free', taken.free), head.prev_hash, head.hash"
        " FROM head, taken RETURNING id)"
        " SELECT f.earlier, f.due, f.live, t.free,"
        " CASE WHEN t.free IS NOT NULL AND (SELECT count(*) FROM logged) <> 1"
        " THEN audit_head_missing() END AS missing,"
        f" (SELECT b.free FROM beds b WHERE b.{_WHERE_BED.replace(' AND ', ' AND b.')})"
        " AS listed FROM flags f LEFT JOIN taken t ON true")


HOLD_IN_ONE_STATEMENT = _hold_statement("true")
#: The same, in a login session: nothing is taken unless the session is live
#: (:data:`~navigator.store.sessions.LIVE_SESSION_SQL`), checked in the hold's round trip.
HOLD_IN_SESSION = _hold_statement(LIVE_SESSION_SQL)


class OneStatementHolds:
    """The PostGIS hold: one statement for the common case (see the module docstring)."""

    #: Provided by :class:`~navigator.store.postgis.PostGISStore` (annotation only).
    _statement: Callable[[str, Mapping[str, Any]], list[dict[str, Any]]]

    def _hold_bed(self, resource_id: str, bed: str, *, actor: str, ttl_s: float,
                  key: str | None, client_ref: str, now: datetime,
                  session: SessionGuard | None = None) -> Hold:
        row, inputs = new_hold(resource_id, bed, actor=actor, ttl_s=ttl_s, key=key,
                               client_ref=client_ref, now=now)
        entry = audit_entry("hold_bed", actor=actor, subject=row["id"], inputs=inputs,
                            result={"expires_at": row["expires_at"]})
        prefix, middle, tail = chain_parts(entry, filled="free")
        (found,) = self._statement(
            HOLD_IN_ONE_STATEMENT if session is None else HOLD_IN_SESSION, {
                **row, "now": now, "prefix": prefix, "middle": middle, "tail": tail,
                **{f"a_{c}": entry[c] for c in AUDIT_FIELDS},
                **(session.params() if session is not None else {})})
        if not found["live"]:
            raise session_ended()
        if found["free"] is not None:
            return rows.hold_from_row(row, free_beds=int(found["free"]))
        if found["earlier"] or found["due"] or found["listed"] is None:
            # A replay, expiries to write first, or a shelter / bed type to name as unknown.
            return GuardedStore._hold_bed(self, resource_id, bed,  # type: ignore[arg-type]
                                          actor=actor, ttl_s=ttl_s, key=key,
                                          client_ref=client_ref, now=now, session=session)
        msg = f"no free {bed!r} bed at resource {resource_id!r}"
        raise ConflictError(msg)
