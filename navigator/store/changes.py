"""Change counters and team safety check-ins: what the live dispatch console watches.

Every audited write whose action belongs to a topic (:data:`TOPIC_OF`) bumps that topic's
row of ``changes`` in the same transaction, just before commit
(:func:`bump_changes`, called by :func:`navigator.store.audit.flush_audit`). Reading one row
then tells any process, on either backend, whether anything changed since it last looked.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import pandas as pd

from navigator.errors import ConflictError, ValidationError
from navigator.model import TeamStatus
from navigator.store import rows
from navigator.store.tx import append_audit

if TYPE_CHECKING:
    from collections.abc import Callable
    from contextlib import AbstractContextManager

    from navigator.store.tx import Tx

__all__ = ["CHECKIN_COLUMNS", "DISPATCH", "TOPIC_OF", "ChangeMethods", "bump_changes"]

#: The dispatch console's topic: incidents, teams (status, position, check-ins), assignments.
DISPATCH = "dispatch"
#: Audit action -> the topic its writes change.
TOPIC_OF = {action: DISPATCH for action in (
    "load", "add_incident", "set_incident_status", "set_incident_location", "update_team",
    "report_positions", "assign_team", "finish_assignment", "check_in", "acknowledge_checkin")}
#: Columns of :meth:`ChangeMethods.team_checkins` (one row per team on scene).
CHECKIN_COLUMNS = ("team_id", "name", "status", "updated_at", "on_scene_at", "checked_in_at",
                   "checked_in_by", "note", "acknowledged_at", "acknowledged_by")
_FRESH: dict[str, Any] = {"checked_in_at": None, "checked_in_by": "", "note": "",
                          "acknowledged_at": None, "acknowledged_by": ""}


def bump_changes(tx: Tx, actions: set[str]) -> None:
    """Bump the change counter of every topic ``actions`` touch (inside ``tx``)."""
    now = rows.utc_now()
    for topic in sorted({TOPIC_OF[a] for a in actions if a in TOPIC_OF}):
        tx.fetch("UPDATE changes SET version = version + 1, changed_at = %(now)s "
                 "WHERE topic = %(topic)s", {"now": now, "topic": topic})
        tx.notify(topic)


def went_on_scene(tx: Tx, team_id: str, *, previous: str, status: str) -> None:
    """Start a team's check-in clock when it arrives on scene (inside ``tx``)."""
    if status == TeamStatus.ON_SCENE and previous != TeamStatus.ON_SCENE:
        tx.upsert("team_checkins", {"team_id": team_id, "on_scene_at": rows.utc_now(),
                                    **_FRESH}, key=("team_id",))


class ChangeMethods:
    """Change counters and check-ins of the store contract, on a backend's transactions."""

    #: Provided by :class:`~navigator.store.sqlstore.SQLStore` (annotations only).
    _transaction: Callable[..., AbstractContextManager[Tx]]
    _one: Callable[[Tx, str, str], dict[str, Any]]

    def change_version(self, topic: str = DISPATCH) -> int:
        """Return the change counter of ``topic`` (one indexed row; cheap to poll).

        Raises
        ------
        ValidationError
            Unknown topic.
        """
        with self._transaction(write=False) as tx:
            found = tx.fetch("SELECT version FROM changes WHERE topic = %(topic)s",
                             {"topic": topic})
        if not found:
            topics = ", ".join(sorted(set(TOPIC_OF.values())))
            msg = f"no change counter {topic!r}; topics: {topics}"
            raise ValidationError(msg)
        return int(found[0]["version"])

    def wait_for_change(self, since: int, *, timeout_s: float, poll_s: float = 0.05,
                        topic: str = DISPATCH) -> int:
        """Return ``topic``'s counter once it differs from ``since``, or after ``timeout_s``.

        This backend has no notifications: the counter is read every ``poll_s`` seconds.

        Raises
        ------
        StoreError
            The store stopped answering.
        """
        deadline = time.monotonic() + max(0.0, timeout_s)
        current = self.change_version(topic)
        while current == since and (left := deadline - time.monotonic()) > 0:
            time.sleep(min(max(poll_s, 0.005), left))
            current = self.change_version(topic)
        return current

    def team_checkins(self) -> pd.DataFrame:
        """Return every team on scene with its check-in times (:data:`CHECKIN_COLUMNS`).

        ``on_scene_at`` is None for a team that was loaded on scene (its ``updated_at``
        stands in for it).
        """
        with self._transaction(write=False) as tx:
            found = tx.fetch(
                "SELECT t.id AS team_id, t.name, t.status, t.updated_at, c.on_scene_at, "
                "c.checked_in_at, coalesce(c.checked_in_by, '') AS checked_in_by, "
                "coalesce(c.note, '') AS note, c.acknowledged_at, "
                "coalesce(c.acknowledged_by, '') AS acknowledged_by FROM teams t "
                "LEFT JOIN team_checkins c ON c.team_id = t.id "
                "WHERE t.status = %(on_scene)s ORDER BY t.id",
                {"on_scene": TeamStatus.ON_SCENE.value})
        out = pd.DataFrame({c: [r[c] for r in found] for c in CHECKIN_COLUMNS},
                           columns=list(CHECKIN_COLUMNS))
        for c in ("updated_at", "on_scene_at", "checked_in_at", "acknowledged_at"):
            out[c] = pd.Series(pd.to_datetime([rows.read_ts(v) for v in out[c]], utc=True),
                               dtype="datetime64[us, UTC]")
        return out

    def check_in(self, team_id: str, *, actor: str, note: str = "",
                 acknowledge: bool = False) -> None:
        """Record a team's safety check-in, or (``acknowledge``) a dispatcher's ack of its alert.

        A check-in restarts the team's check-in clock; an acknowledgement silences its overdue
        alert for one more interval (the team still has to check in). Both are audited
        (``check_in`` / ``acknowledge_checkin``).

        Raises
        ------
        NotFoundError
            Unknown team.
        ConflictError
            The team is not on scene (nothing written).
        ValidationError
            A note over 500 characters.
        """
        if not isinstance(note, str) or len(note.strip()) > 500:
            msg = "a check-in note must be text of at most 500 characters"
            raise ValidationError(msg)
        now = rows.utc_now()
        with self._transaction(write=True) as tx:
            team = self._one(tx, "team", team_id)
            if team["status"] != TeamStatus.ON_SCENE:
                msg = (f"team {team_id!r} is {team['status']}, not on scene: check-ins and "
                       "their alerts are for teams on scene")
                raise ConflictError(msg)
            found = tx.fetch("SELECT team_id, on_scene_at, checked_in_at, checked_in_by, note, "
                             "acknowledged_at, acknowledged_by FROM team_checkins "
                             "WHERE team_id = %(id)s",
                             {"id": team_id})
            row: dict[str, Any] = dict(found[0]) if found else {
                "team_id": team_id, "on_scene_at": None, **_FRESH}
            for c in ("on_scene_at", "checked_in_at", "acknowledged_at"):
                row[c] = rows.read_ts(row[c])
            if row["on_scene_at"] is None:
                row["on_scene_at"] = rows.read_ts(team["updated_at"])
            if acknowledge:
                row.update(acknowledged_at=now, acknowledged_by=actor)
            else:
                row.update(checked_in_at=now, checked_in_by=actor, note=note.strip())
            tx.upsert("team_checkins", row, key=("team_id",))
            append_audit(tx, "acknowledge_checkin" if acknowledge else "check_in",
                         actor=actor, subject=team_id, inputs={"note": note.strip()},
                         result={"at": now})
