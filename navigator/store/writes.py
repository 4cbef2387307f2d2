"""The simple writes of the store contract: add and update incidents, beds, teams; record."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from navigator.errors import ConflictError, ValidationError
from navigator.jsonsafe import json_safe
from navigator.model import (
    BED_KINDS,
    Beds,
    BedType,
    Incident,
    IncidentStatus,
    PositionPing,
    PositionUpdate,
    Team,
    TeamStatus,
)
from navigator.store import rows
from navigator.store.changes import went_on_scene
from navigator.store.tx import append_audit, enum_values

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from contextlib import AbstractContextManager

    from navigator.store.tx import Tx


class SimpleWrites:
    """Writes that need no guard beyond one transaction, on a backend's :class:`Tx`."""

    #: Provided by :class:`~navigator.store.sqlstore.SQLStore` (annotations only).
    _transaction: Callable[..., AbstractContextManager[Tx]]
    _one: Callable[[Tx, str, str], dict[str, Any]]
    _incident: Callable[[Tx, str], Incident]

    def add_incident(self, incident: Incident, *, actor: str) -> Incident:
        """Insert a new incident (``ConflictError`` if the id exists); return it as stored."""
        if not isinstance(incident, Incident):
            msg = f"add_incident needs an Incident, got {incident!r}"
            raise ValidationError(msg)
        row = rows.incident_row(incident, now=rows.utc_now())
        with self._transaction(write=True) as tx:
            if tx.fetch("SELECT id FROM incidents WHERE id = %(id)s", {"id": incident.id}):
                msg = f"incident {incident.id!r} already exists"
                raise ConflictError(msg)
            tx.insert("incidents", row)
            append_audit(tx, "add_incident", actor=actor, subject=incident.id,
                         inputs={**{k: v for k, v in row.items() if k not in ("geom", "area")},
                                 "area": json_safe(row["area"])},
                         result={"status": row["status"]})
            return self._incident(tx, incident.id)

    def set_incident_status(self, incident_id: str, status: IncidentStatus, *,
                            actor: str) -> Incident:
        """Move an incident to ``status``; return it."""
        (value,) = enum_values("status", IncidentStatus, [status])
        with self._transaction(write=True) as tx:
            before = self._one(tx, "incident", incident_id)
            tx.fetch("UPDATE incidents SET status = %(status)s, updated_at = %(now)s "
                     "WHERE id = %(id)s", {"status": value, "now": rows.utc_now(),
                                           "id": incident_id})
            append_audit(tx, "set_incident_status", actor=actor, subject=incident_id,
                         inputs={"status": value}, result={"previous": before["status"]})
            return self._incident(tx, incident_id)

    def set_incident_location(self, incident_id: str, *, lon: float, lat: float,
                              actor: str) -> Incident:
        """Set an open or assigned incident's exact point and clear its area; return it.

        The audit entry keeps the area (or point) it replaces. ``ConflictError`` when the
        incident is resolved or cancelled; ``ValidationError`` for a bad lon/lat.
        """
        with self._transaction(write=True) as tx:
            before = self._incident(tx, incident_id)
            if before.status not in (IncidentStatus.OPEN, IncidentStatus.ASSIGNED):
                msg = f"incident {incident_id!r} is {before.status}; its place is final"
                raise ConflictError(msg)
            now = rows.utc_now()
            after = dataclasses.replace(before, lon=lon, lat=lat, area=None,
                                        area_radius_m=None, updated_at=now)  # validates
            tx.upsert("incidents", rows.incident_row(after, now=now), key=("id",))
            append_audit(tx, "set_incident_location", actor=actor, subject=incident_id,
                         inputs={"lon": lon, "lat": lat},
                         result={"previous_lon": before.lon, "previous_lat": before.lat,
                                 "previous_area": json_safe(before.area),
                                 "previous_area_radius_m": before.area_radius_m})
            return self._incident(tx, incident_id)

    def set_beds(self, resource_id: str, bed_type: BedType, *, capacity: int, free: int,
                 actor: str) -> None:
        """Set the capacity and free count of one bed type at a shelter."""
        label = f"resource {resource_id!r}"
        beds = Beds(bed_type, capacity, free)
        beds.check(label)
        bed_value = BedType(bed_type).value
        with self._transaction(write=True) as tx:
            resource = self._one(tx, "resource", resource_id)
            if resource["kind"] not in {k.value for k in BED_KINDS}:
                msg = f"{label}: only shelters have beds (kind is {resource['kind']})"
                raise ValidationError(msg)
            position = tx.fetch("SELECT COALESCE(MAX(position) + 1, 0) AS p FROM beds "
                                "WHERE resource_id = %(id)s", {"id": resource_id})[0]["p"]
            # Free is derived: the beds neither free nor held are occupied.
            pending = tx.fetch("SELECT held, confirmed FROM beds WHERE resource_id = %(id)s "
                               "AND bed_type = %(bt)s", {"id": resource_id, "bt": bed_value})
            held, confirmed = ((int(pending[0]["held"]), int(pending[0]["confirmed"]))
                               if pending else (0, 0))
            held = min(held, capacity - free)
            confirmed = min(confirmed, capacity - free - held)
            tx.upsert("beds", {"resource_id": resource_id, "bed_type": bed_value,
                               "capacity": capacity, "free": free, "position": position,
                               "occupied": capacity - free - held - confirmed,
                               "out_of_service": 0, "held": held, "confirmed": confirmed,
                               "reported_at": rows.utc_now(), "reported_by": actor,
                               "reported_via": "staff"},
                      key=("resource_id", "bed_type"), keep=("position",))
            append_audit(tx, "set_beds", actor=actor, subject=resource_id,
                         inputs={"bed_type": bed_value, "capacity": capacity, "free": free},
                         result={"ok": True})

    def update_team(self, team_id: str, *, actor: str, status: TeamStatus | None = None,
                    lon: float | None = None, lat: float | None = None) -> Team:
        """Change a team's status and/or position (validated); return it."""
        if (lon is None) != (lat is None):
            msg = f"team {team_id!r}: a new position needs both lon and lat"
            raise ValidationError(msg)
        with self._transaction(write=True) as tx:
            current = rows.team_from_row(self._one(tx, "team", team_id))
            changes: dict[str, Any] = {}
            if status is not None:
                changes["status"] = status
            now = rows.utc_now()
            if lon is not None:
                changes.update(lon=lon, lat=lat)
            team = dataclasses.replace(current, **changes)  # validates
            if lon is not None:  # a position set by hand is a fix now (clears a stale flag)
                team = dataclasses.replace(team, position_at=now)
            tx.upsert("teams", rows.team_row(team, updated_at=now), key=("id",))
            went_on_scene(tx, team_id, previous=current.status, status=team.status)
            append_audit(tx, "update_team", actor=actor, subject=team_id,
                         inputs=changes, result={"status": team.status,
                                                 "previous_status": current.status})
            return team

    def report_positions(self, team_id: str, pings: Sequence[PositionPing], *,
                         actor: str) -> PositionUpdate:
        """Move a team to the newest of ``pings`` unless the stored fix is as new or newer.

        Pings no newer than the stored ``position_at`` are ignored (late or out of order);
        the check and the move are one guarded update, so of two racing batches the newer
        fix wins whichever commits last.

        Parameters
        ----------
        team_id
            The team.
        pings
            GPS fixes (EPSG:4326, timezone-aware times), in any order; at least one.
        actor
            Who reports (a device or a dispatcher), for the audit log.

        Returns
        -------
        PositionUpdate

        Raises
        ------
        NotFoundError
            Unknown team (nothing written).
        ValidationError
            No pings, or an item that is not a :class:`~navigator.model.PositionPing`.
        """
        pings = tuple(pings)
        if not pings or not all(isinstance(p, PositionPing) for p in pings):
            msg = f"team {team_id!r}: report_positions needs one or more PositionPing"
            raise ValidationError(msg)
        newest = max(pings, key=lambda p: p.at)
        at = rows.to_utc(newest.at)
        with self._transaction(write=True) as tx:
            current = rows.team_from_row(self._one(tx, "team", team_id))
            since = current.position_at
            accepted = sum(1 for p in pings if since is None or p.at > since)
            now = rows.utc_now()
            moved = tx.fetch("UPDATE teams SET position_at = %(at)s, updated_at = %(now)s "
                             "WHERE id = %(id)s AND (position_at IS NULL OR position_at < %(at)s)"
                             " RETURNING id", {"id": team_id, "at": at, "now": now})
            if moved:
                team = dataclasses.replace(current, lon=newest.lon, lat=newest.lat,
                                           position_at=at)
                tx.upsert("teams", rows.team_row(team, updated_at=now), key=("id",))
            else:
                team = rows.team_from_row(self._one(tx, "team", team_id))
                accepted = 0
            append_audit(tx, "report_positions", actor=actor, subject=team_id,
                         inputs={"pings": len(pings), "newest_at": at,
                                 "lon": newest.lon, "lat": newest.lat},
                         result={"applied": bool(moved), "ignored": len(pings) - accepted,
                                 "position_at": team.position_at})
            return PositionUpdate(team=team, applied=bool(moved), accepted=accepted,
                                  ignored=len(pings) - accepted)

    def record(self, action: str, *, actor: str, subject: str = "",
               inputs: dict[str, Any] | None = None,
               result: dict[str, Any] | None = None) -> None:
        """Append a decision (no data change) to the audit log."""
        if not isinstance(action, str) or not action.strip():
            msg = f"record: action must be a non-empty string, got {action!r}"
            raise ValidationError(msg)
        with self._transaction(write=True) as tx:
            append_audit(tx, action, actor=actor, subject=subject, inputs=inputs,
                         result=result)
