"""Team assignments: sending a team to an incident must never double up.

One short transaction with guarded updates (``... WHERE status IN (...) RETURNING``), backed
in the database by a unique idempotency key and a partial unique index on active
assignments.
"""

from __future__ import annotations

import math
import uuid
from typing import TYPE_CHECKING, Any

from navigator.errors import ConflictError, ValidationError
from navigator.model import Assignment, AssignmentStatus, IncidentStatus, TeamStatus
from navigator.store import rows
from navigator.store._records import ASSIGNMENT_SELECT, by_key, replay, same_request
from navigator.store.tx import append_audit, enum_values, in_clause

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from contextlib import AbstractContextManager

    from navigator.store.tx import Tx


class AssignmentMethods:
    """The assignments part of the store contract, on a backend's transactions."""

    #: Provided by :class:`~navigator.store.sqlstore.SQLStore` (annotations only).
    _transaction: Callable[..., AbstractContextManager[Tx]]
    _one: Callable[[Tx, str, str], dict[str, Any]]

    def assign_team(self, team_id: str, incident_id: str, *, actor: str,
                    eta_s: float | None = None, idempotency_key: str | None = None,
                    allowed_statuses: Sequence[TeamStatus] | None = None,
                    backup: bool = False, override_reason: str = "") -> Assignment:
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
        override_reason
            Why a team lacking a needed skill or language is sent (kept and audited; at
            most 500 characters). The service decides when one is required.

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
        if not isinstance(override_reason, str) or len(override_reason.strip()) > 500:
            msg = "override_reason must be text of at most 500 characters"
            raise ValidationError(msg)
        try:
            assignment = self._assign(team_id, incident_id, actor=actor, eta_s=eta_s,
                                      key=idempotency_key, allowed=allowed, backup=backup,
                                      override_reason=override_reason.strip())
        except ConflictError:
            assignment = replay(self._transaction, "assignments", idempotency_key)
            if assignment is None:
                with self._transaction(write=False) as tx:
                    message = self._active_message(tx, team_id)
                if message is None:
                    raise
                raise ConflictError(message) from None
        same_request(idempotency_key,
                      (assignment.team_id, assignment.incident_id, assignment.actor),
                      (team_id, incident_id, actor))
        return assignment

    def _assign(self, team_id: str, incident_id: str, *, actor: str, eta_s: float | None,
                key: str | None, allowed: list[str], backup: bool,
                override_reason: str = "") -> Assignment:
        now = rows.utc_now()
        with self._transaction(write=True) as tx:
            earlier = by_key(tx, "assignments", key)
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
                   "idempotency_key": key, "override_reason": override_reason}
            tx.insert("assignments", row)
            append_audit(tx, "assign_team", actor=actor, subject=assignment_id,
                         inputs={"team_id": team_id, "incident_id": incident_id,
                                 "eta_s": eta_s, "idempotency_key": key,
                                 "allowed_statuses": allowed,
                                 "override_reason": override_reason},
                         result={"team_status": TeamStatus.EN_ROUTE,
                                 "incident_status": IncidentStatus.ASSIGNED})
            return rows.assignment_from_row(row)

    def finish_assignment(self, assignment_id: str, *, actor: str,
                          status: AssignmentStatus) -> Assignment:
        """Complete or cancel an active assignment, freeing the team for another.

        A completed assignment leaves the team ``returning``, a cancelled one ``available``.
        When the last team comes off the incident, it is ``resolved`` if any team completed
        it and ``open`` again otherwise; while another team (a backup) is on it, it stays
        ``assigned``.
        """
        (value,) = enum_values("status", AssignmentStatus, [status])
        if value == AssignmentStatus.ACTIVE:
            msg = "finish_assignment: status must be completed or cancelled"
            raise ValidationError(msg)
        now = rows.utc_now()
        with self._transaction(write=True) as tx:
            found = tx.fetch(f"UPDATE assignments SET status = %(status)s, updated_at = %(now)s"
                             f" WHERE id = %(id)s AND status = 'active' "
                             f"RETURNING {ASSIGNMENT_SELECT}",
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
            # the last team off the incident decides: resolved if any team completed it
            tx.fetch("UPDATE incidents SET updated_at = %(now)s, status = CASE WHEN EXISTS ("
                     "SELECT 1 FROM assignments WHERE incident_id = %(id)s "
                     "AND status = 'completed') THEN %(resolved)s ELSE %(open)s END "
                     "WHERE id = %(id)s AND status = 'assigned' AND NOT EXISTS ("
                     "SELECT 1 FROM assignments WHERE incident_id = %(id)s "
                     "AND status = 'active')",
                     {"now": now, "id": done["incident_id"],
                      "resolved": IncidentStatus.RESOLVED.value,
                      "open": IncidentStatus.OPEN.value})
            append_audit(tx, "finish_assignment", actor=actor, subject=assignment_id,
                         inputs={"status": value}, result={"team_id": done["team_id"],
                                                           "team_status": team_status})
            return rows.assignment_from_row(done)

    def _active_message(self, tx: Tx, team_id: str) -> str | None:
        """Return "team 'T3' is already assigned to incident 'I7'", or None if it is free."""
        active = tx.fetch("SELECT incident_id FROM assignments WHERE team_id = %(id)s "
                          "AND status = 'active'", {"id": team_id})
        if not active:
            return None
        return f"team {team_id!r} is already assigned to incident {active[0]['incident_id']!r}"
