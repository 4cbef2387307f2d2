"""Surge shelter activation: an admin opens an evacuation shelter for evacuees, or closes it.

One row per surge shelter in ``surge_sites`` (none: never activated, so inactive). A change is
one short transaction that reads the resource, upserts the row and appends the audit entry.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from navigator.errors import ConflictError, ValidationError
from navigator.model import ResourceKind, SurgeSite
from navigator.store import rows
from navigator.store.tx import append_audit, in_clause

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from contextlib import AbstractContextManager

    from navigator.store.tx import Tx

#: Longest activation note.
MAX_SURGE_NOTE = 500
SURGE_COLUMNS = ("resource_id", "active", "opens_at", "note", "updated_at", "updated_by")
_SELECT = ", ".join(SURGE_COLUMNS)


def _site(row: dict[str, Any]) -> SurgeSite:
    return SurgeSite(resource_id=row["resource_id"], active=bool(row["active"]),
                     opens_at=rows.read_ts(row["opens_at"]), note=row["note"],
                     updated_at=rows.read_ts(row["updated_at"]), updated_by=row["updated_by"])


class SurgeMethods:
    """Activation of surge shelters, on a backend's :class:`Tx`."""

    _transaction: Callable[..., AbstractContextManager[Tx]]
    _one: Callable[[Tx, str, str], dict[str, Any]]

    def set_surge_active(self, resource_id: str, active: bool, *, actor: str,
                         opens_at: datetime | None = None, note: str = "") -> SurgeSite:
        """Activate (``opens_at`` default now) or deactivate a surge shelter; audited.

        Raises
        ------
        NotFoundError
            Unknown resource.
        ValidationError
            Not an ``evacuation_shelter``, a naive ``opens_at``, a note too long; nothing
            written.
        ConflictError
            Already in that state (activating an active shelter, deactivating an inactive one).
        """
        if not isinstance(active, bool):
            msg = f"active must be true or false, got {active!r}"
            raise ValidationError(msg)
        if not isinstance(note, str) or len(note) > MAX_SURGE_NOTE:
            msg = f"note must be text of at most {MAX_SURGE_NOTE} characters"
            raise ValidationError(msg)
        if opens_at is not None and (not isinstance(opens_at, datetime)
                                     or opens_at.tzinfo is None):
            msg = f"opens_at must be a timezone-aware datetime, got {opens_at!r}"
            raise ValidationError(msg)
        if opens_at is not None and not active:
            msg = "opens_at is for activation only (a deactivated shelter has no opening time)"
            raise ValidationError(msg)
        now = rows.utc_now()
        with self._transaction(write=True) as tx:
            resource = self._one(tx, "resource", resource_id)
            if resource["kind"] != ResourceKind.EVACUATION_SHELTER.value:
                msg = (f"resource {resource_id!r} is a {resource['kind']}, not an "
                       f"{ResourceKind.EVACUATION_SHELTER.value}: only surge shelters are "
                       "activated")
                raise ValidationError(msg)
            found = tx.fetch(f"SELECT {_SELECT} FROM surge_sites WHERE resource_id = %(id)s",
                             {"id": resource_id})
            was = bool(found[0]["active"]) if found else False
            if was == active:
                state = "active" if active else "inactive"
                msg = f"surge shelter {resource_id!r} is already {state}"
                raise ConflictError(msg)
            opens = rows.to_ms(opens_at) if opens_at is not None else (now if active else None)
            row = {"resource_id": resource_id, "active": active, "opens_at": opens,
                   "note": note, "updated_at": now, "updated_by": actor}
            tx.upsert("surge_sites", row, key=("resource_id",))
            append_audit(tx, "activate_surge" if active else "deactivate_surge", actor=actor,
                         subject=resource_id, inputs={"opens_at": opens_at, "note": note},
                         result={"active": active, "opens_at": opens})
        return _site(row)

    def surge_sites(self, resource_ids: Iterable[str] | None = None) -> dict[str, SurgeSite]:
        """Return every surge shelter's activation by resource id (inactive if never set)."""
        params: dict[str, Any] = {"kind": ResourceKind.EVACUATION_SHELTER.value}
        where = "r.kind = %(kind)s"
        if resource_ids is not None:
            where += " AND " + in_clause("r.id", "rid", list(resource_ids), params)
        with self._transaction(write=False) as tx:
            found = tx.fetch(
                "SELECT r.id AS rid, s.resource_id, s.active, s.opens_at, s.note, "
                "s.updated_at, s.updated_by FROM resources r "
                f"LEFT JOIN surge_sites s ON s.resource_id = r.id WHERE {where} ORDER BY r.id",
                params)
        out = {}
        for r in found:
            if r["resource_id"] is None:
                out[r["rid"]] = SurgeSite(r["rid"], False, None, "", None, "")
            else:
                out[r["rid"]] = _site(r)
        return out
