"""Bed holds and team assignments: the writes that must never double up.

Each is one short transaction with a guarded update (``... WHERE free > 0 RETURNING``,
``... WHERE status IN (...) RETURNING``), backed in the database by CHECK constraints, a
unique idempotency key and a partial unique index on active assignments.
"""

from __future__ import annotations

import math
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from navigator.errors import ConflictError, NotFoundError, ValidationError
from navigator.model import (
    Assignment,
    AssignmentStatus,
    BedType,
    Hold,
    HoldStatus,
    IncidentStatus,
    TeamStatus,
)
from navigator.store import rows
from navigator.store.sqlstore import SQLStore, Tx, append_audit, enum_values, in_clause

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    import pandas as pd

_HOLD_RETURNING = ", ".join(rows.HOLD_COLUMNS)
_ASSIGNMENT_RETURNING = ", ".join(rows.ASSIGNMENT_COLUMNS)
#: Give a bed back without breaking ``free <= capacity`` if capacity shrank meanwhile.
_RETURN_BED = ("UPDATE beds SET free = CASE WHEN free < capacity THEN free + 1 ELSE free END "
               "WHERE resource_id = %(resource_id)s AND bed_type = %(bed_type)s")


def _when(now: datetime | None) -> datetime:
    if now is None:
        return rows.utc_now()
    if not isinstance(now, datetime) or now.tzinfo is None:
        msg = f"now must be a timezone-aware datetime, got {now!r}"
        raise ValidationError(msg)
    return rows.to_ms(now)


class GuardedStore(SQLStore):
    """:class:`SQLStore` plus bed holds and team assignments."""

    # -- holds ---------------------------------------------------------------------------------
    def hold_bed(self, resource_id: str, bed_type: BedType, *, actor: str, ttl_s: float,
                 idempotency_key: str | None = None, client_ref: str = "",
                 now: datetime | None = None) -> Hold:
        """Take one free bed in one short transaction (guarded decrement).

        Parameters
        ----------
        resource_id, bed_type
            Shelter and bed type.
        actor
            Who holds the bed, for the audit log.
        ttl_s
            Seconds until the hold expires and the bed returns.
        idempotency_key
            Repeating a key returns the hold it made before and takes no second bed.
        client_ref
            Opaque client reference kept with the hold.
        now
            Current time (aware); the clock when None.

        Returns
        -------
        Hold

        Raises
        ------
        ConflictError
            No bed of that type is free.
        NotFoundError
            Unknown resource, or the resource has no beds of that type.
        """
        (bed,) = enum_values("bed_type", BedType, [bed_type])
        if isinstance(ttl_s, bool) or not isinstance(ttl_s, int | float) or not (
                math.isfinite(ttl_s) and ttl_s > 0):
            msg = f"ttl_s must be a positive number of seconds, got {ttl_s!r}"
            raise ValidationError(msg)
        at = _when(now)
        try:
            hold = self._hold_bed(resource_id, bed, actor=actor, ttl_s=float(ttl_s),
                                  key=idempotency_key, client_ref=client_ref, now=at)
        except ConflictError:
            hold = self._replay(idempotency_key, "holds")
            if hold is None:
                raise
        _same_request(idempotency_key, (hold.resource_id, hold.bed_type, hold.actor),
                      (resource_id, bed, actor))
        return hold

    def _hold_bed(self, resource_id: str, bed: str, *, actor: str, ttl_s: float,
                  key: str | None, client_ref: str, now: datetime) -> Hold:
        conflict: ConflictError | None = None
        with self._transaction(write=True) as tx:
            earlier = _by_key(tx, "holds", key)
            if earlier is not None:
                return earlier
            self._expire(tx, now)
            where = {"resource_id": resource_id, "bed_type": bed}
            taken = tx.fetch("UPDATE beds SET free = free - 1 WHERE resource_id = %(resource_id)s"
                             " AND bed_type = %(bed_type)s AND free > 0 RETURNING free", where)
            if not taken:
                if not tx.fetch("SELECT free FROM beds WHERE resource_id = %(resource_id)s "
                                "AND bed_type = %(bed_type)s", where):
                    self._one(tx, "resource", resource_id)
                    msg = f"resource {resource_id!r} has no {bed!r} beds"
                    raise NotFoundError(msg)
                # Keep the expiries made above: commit, then report the conflict.
                conflict = ConflictError(f"no free {bed!r} bed at resource {resource_id!r}")
            else:
                hold_id = uuid.uuid4().hex
                row = {"id": hold_id, "resource_id": resource_id, "bed_type": bed,
                       "status": HoldStatus.HELD.value, "actor": actor, "created_at": now,
                       "expires_at": rows.to_ms(now + timedelta(seconds=ttl_s)), "updated_at": now,
                       "idempotency_key": key, "client_ref": client_ref}
                tx.insert("holds", row)
                append_audit(tx, "hold_bed", actor=actor, subject=hold_id,
                             inputs={"resource_id": resource_id, "bed_type": bed,
                                     "ttl_s": ttl_s, "idempotency_key": key,
                                     "client_ref": client_ref},
                             result={"free": taken[0]["free"], "expires_at": row["expires_at"]})
                hold = rows.hold_from_row(row)
        if conflict is not None:
            raise conflict
        return hold

    def confirm_hold(self, hold_id: str, *, actor: str, now: datetime | None = None) -> Hold:
        """Mark a held bed as taken by the client (it stays taken).

        Raises
        ------
        ConflictError
            The hold is no longer ``held`` (expired, released or confirmed).
        NotFoundError
            Unknown hold id.
        """
        return self._finish_hold(hold_id, HoldStatus.CONFIRMED, actor=actor, now=_when(now))

    def release_hold(self, hold_id: str, *, actor: str, now: datetime | None = None) -> Hold:
        """Give a held bed back; ``ConflictError`` if the hold is no longer ``held``."""
        return self._finish_hold(hold_id, HoldStatus.RELEASED, actor=actor, now=_when(now))

    def _finish_hold(self, hold_id: str, status: HoldStatus, *, actor: str,
                     now: datetime) -> Hold:
        conflict: ConflictError | None = None
        with self._transaction(write=True) as tx:
            self._expire(tx, now)
            found = tx.fetch(f"UPDATE holds SET status = %(status)s, updated_at = %(now)s "
                             f"WHERE id = %(id)s AND status = 'held' RETURNING {_HOLD_RETURNING}",
                             {"status": status.value, "now": now, "id": hold_id})
            if not found:
                current = self._one(tx, "hold", hold_id)
                conflict = ConflictError(f"hold {hold_id!r} is {current['status']}, not held; "
                                         f"cannot mark it {status.value}")
            else:
                if status is HoldStatus.RELEASED:
                    tx.fetch(_RETURN_BED, found[0])
                action = "confirm_hold" if status is HoldStatus.CONFIRMED else "release_hold"
                append_audit(tx, action, actor=actor, subject=hold_id,
                             inputs={"hold_id": hold_id}, result={"status": status.value})
                hold = rows.hold_from_row(found[0])
        if conflict is not None:
            raise conflict
        return hold

    def beds(self, resource_ids: Iterable[str] | None = None) -> pd.DataFrame:
        """Return live bed counts: holds past their expiry are returned to the pool first.

        Without this a bed held and never confirmed would stay hidden from every search until
        the next hold, confirm or release at any shelter.
        """
        self.expire_holds()
        return super().beds(resource_ids)

    def expire_holds(self, *, now: datetime | None = None) -> int:
        """Return expired holds' beds to the pool; return how many holds expired."""
        at = _when(now)
        with self._transaction(write=True) as tx:
            return self._expire(tx, at)

    def _expire(self, tx: Tx, now: datetime) -> int:
        expired = tx.fetch("UPDATE holds SET status = 'expired', updated_at = %(now)s "
                           "WHERE status = 'held' AND expires_at <= %(now)s "
                           "RETURNING id, resource_id, bed_type", {"now": now})
        for hold in sorted(expired, key=lambda h: (h["resource_id"], h["bed_type"])):
            tx.fetch(_RETURN_BED, hold)
        if expired:
            append_audit(tx, "expire_holds", actor="system", inputs={"now": now},
                         result={"expired": sorted(h["id"] for h in expired)})
        return len(expired)

    # -- assignments ---------------------------------------------------------------------------
    def assign_team(self, team_id: str, incident_id: str, *, actor: str,
                    eta_s: float | None = None, idempotency_key: str | None = None,
                    allowed_statuses: Sequence[TeamStatus] | None = None,
                    backup: bool = False) -> Assignment:
        """Send a team to an incident atomically.

        The team must be in ``allowed_statuses`` (default: available) and have no active
        assignment; it becomes ``en_route`` and the incident ``assigned``.

        Parameters
        ----------
        team_id, incident_id
            Team to send and incident to send it to.
        actor
            Who dispatches, for the audit log.
        eta_s
            Estimated travel time in seconds, kept with the assignment.
        idempotency_key
            Repeating a key returns the earlier assignment.
        allowed_statuses
            Team statuses that may be dispatched.
        backup
            Send this team although the incident already has one on the way.

        Returns
        -------
        Assignment

        Raises
        ------
        ConflictError
            The team is already assigned or not in an allowed status, or the incident is
            closed.
        NotFoundError
            Unknown team or incident.
        """
        allowed = enum_values("allowed_statuses", TeamStatus,
                              allowed_statuses or (TeamStatus.AVAILABLE,))
        if eta_s is not None and (isinstance(eta_s, bool) or not isinstance(eta_s, int | float)
                                  or not math.isfinite(eta_s) or eta_s < 0):
            msg = f"eta_s must be a non-negative number of seconds, got {eta_s!r}"
            raise ValidationError(msg)
        try:
            assignment = self._assign(team_id, incident_id, actor=actor, eta_s=eta_s,
                                      key=idempotency_key, allowed=allowed, backup=backup)
        except ConflictError:
            assignment = self._replay(idempotency_key, "assignments")
            if assignment is None:
                with self._transaction(write=False) as tx:
                    message = self._active_message(tx, team_id)
                if message is None:
                    raise
                raise ConflictError(message) from None
        _same_request(idempotency_key,
                      (assignment.team_id, assignment.incident_id, assignment.actor),
                      (team_id, incident_id, actor))
        return assignment

    def _assign(self, team_id: str, incident_id: str, *, actor: str, eta_s: float | None,
                key: str | None, allowed: list[str], backup: bool) -> Assignment:
        now = rows.utc_now()
        with self._transaction(write=True) as tx:
            earlier = _by_key(tx, "assignments", key)
            if earlier is not None:
                return earlier
            self._one(tx, "team", team_id)
            incident = self._one(tx, "incident", incident_id)
            if incident["status"] not in (IncidentStatus.OPEN, IncidentStatus.ASSIGNED):
                msg = f"incident {incident_id!r} is {incident['status']}; no team can be sent"
                raise ConflictError(msg)
            message = self._active_message(tx, team_id)
            if message is not None:
                raise ConflictError(message)
            # Guarded like a bed: of two dispatchers sending different teams to one open
            # incident, the second finds it assigned (row lock / write lock) and is refused.
            opened = ["open", "assigned"] if backup else ["open"]
            params_i: dict[str, Any] = {"id": incident_id, "now": now}
            if not tx.fetch("UPDATE incidents SET status = 'assigned', updated_at = %(now)s "
                            f"WHERE id = %(id)s AND {in_clause('status', 'st', opened, params_i)}"
                            " RETURNING id", params_i):
                sent = tx.fetch("SELECT team_id FROM assignments WHERE incident_id = %(id)s "
                                "AND status = 'active'", {"id": incident_id})
                teams = ", ".join(repr(r["team_id"]) for r in sent) or "a team"
                msg = (f"incident {incident_id!r} already has {teams} on the way; send another "
                       "team only as backup")
                raise ConflictError(msg)
            params: dict[str, Any] = {"id": team_id, "now": now}
            guard = in_clause("status", "allowed", allowed, params)
            if not tx.fetch("UPDATE teams SET status = 'en_route', updated_at = %(now)s "
                            f"WHERE id = %(id)s AND {guard} RETURNING id", params):
                message = self._active_message(tx, team_id)
                if message is None:
                    status = self._one(tx, "team", team_id)["status"]
                    message = (f"team {team_id!r} is {status}, not one of "
                               f"{', '.join(allowed)}")
                raise ConflictError(message)
            assignment_id = uuid.uuid4().hex
            row = {"id": assignment_id, "team_id": team_id, "incident_id": incident_id,
                   "status": AssignmentStatus.ACTIVE.value, "actor": actor, "created_at": now,
                   "updated_at": now, "eta_s": None if eta_s is None else float(eta_s),
                   "idempotency_key": key}
            tx.insert("assignments", row)
            append_audit(tx, "assign_team", actor=actor, subject=assignment_id,
                         inputs={"team_id": team_id, "incident_id": incident_id,
                                 "eta_s": eta_s, "idempotency_key": key,
                                 "allowed_statuses": allowed},
                         result={"team_status": TeamStatus.EN_ROUTE,
                                 "incident_status": IncidentStatus.ASSIGNED})
            return rows.assignment_from_row(row)

    def finish_assignment(self, assignment_id: str, *, actor: str,
                          status: AssignmentStatus) -> Assignment:
        """Complete or cancel an active assignment, freeing the team for another.

        A completed assignment leaves the team ``returning``; a cancelled one makes it
        ``available`` and reopens the incident unless another team is still on it.
        """
        (value,) = enum_values("status", AssignmentStatus, [status])
        if value == AssignmentStatus.ACTIVE:
            msg = "finish_assignment: status must be completed or cancelled"
            raise ValidationError(msg)
        now = rows.utc_now()
        with self._transaction(write=True) as tx:
            found = tx.fetch(f"UPDATE assignments SET status = %(status)s, updated_at = %(now)s"
                             f" WHERE id = %(id)s AND status = 'active' "
                             f"RETURNING {_ASSIGNMENT_RETURNING}",
                             {"status": value, "now": now, "id": assignment_id})
            if not found:
                current = self._one(tx, "assignment", assignment_id)
                msg = f"assignment {assignment_id!r} is {current['status']}, not active"
                raise ConflictError(msg)
            done = found[0]
            team_status = (TeamStatus.RETURNING if value == AssignmentStatus.COMPLETED
                           else TeamStatus.AVAILABLE)
            tx.fetch("UPDATE teams SET status = %(status)s, updated_at = %(now)s "
                     "WHERE id = %(id)s", {"status": team_status.value, "now": now,
                                           "id": done["team_id"]})
            if value == AssignmentStatus.CANCELLED:
                tx.fetch("UPDATE incidents SET status = 'open', updated_at = %(now)s "
                         "WHERE id = %(id)s AND status = 'assigned' AND NOT EXISTS ("
                         "SELECT 1 FROM assignments WHERE incident_id = %(id)s "
                         "AND status = 'active')", {"now": now, "id": done["incident_id"]})
            append_audit(tx, "finish_assignment", actor=actor, subject=assignment_id,
                         inputs={"status": value}, result={"team_id": done["team_id"],
                                                           "team_status": team_status})
            return rows.assignment_from_row(done)

    # -- helpers -------------------------------------------------------------------------------
    def _active_message(self, tx: Tx, team_id: str) -> str | None:
        """Return "team 'T3' is already assigned to incident 'I7'", or None if it is free."""
        active = tx.fetch("SELECT incident_id FROM assignments WHERE team_id = %(id)s "
                          "AND status = 'active'", {"id": team_id})
        if not active:
            return None
        return f"team {team_id!r} is already assigned to incident {active[0]['incident_id']!r}"

    def _replay(self, key: str | None, table: str) -> Any:
        """Return the record an idempotency key made before (after losing a race), or None."""
        if key is None:
            return None
        with self._transaction(write=False) as tx:
            return _by_key(tx, table, key)


def _same_request(key: str | None, made: tuple[Any, ...], asked: tuple[Any, ...]) -> None:
    """Refuse an idempotency key reused for a different request (or by another user)."""
    if key is not None and tuple(str(v) for v in made) != tuple(str(v) for v in asked):
        msg = (f"idempotency key {key!r} was already used for a different request; "
               "use a new key for a new request")
        raise ConflictError(msg)


#: Table -> (columns, row builder) for the records an idempotency key can name.
_KEYED = {"holds": (_HOLD_RETURNING, rows.hold_from_row),
          "assignments": (_ASSIGNMENT_RETURNING, rows.assignment_from_row)}


def _by_key(tx: Tx, table: str, key: str | None) -> Any:
    """Return the hold or assignment an idempotency key made, or None."""
    if key is None:
        return None
    columns, build = _KEYED[table]
    found = tx.fetch(f"SELECT {columns} FROM {table} WHERE idempotency_key = %(key)s",
                     {"key": key})
    return build(found[0]) if found else None
