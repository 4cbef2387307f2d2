"""Bed holds, which must never take a bed twice; :class:`GuardedStore` adds assignments.

Each hold, confirm or release is one short transaction with a guarded update (``... WHERE
free > 0 RETURNING``), backed in the database by CHECK constraints and a unique idempotency
key; assignments live in :mod:`navigator.store.assignments`. Every hold returned carries the
resource's free beds of its type as read inside its own transaction (``Hold.free_beds``).
"""

from __future__ import annotations

import math
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from navigator.errors import ConflictError, NotFoundError, ValidationError
from navigator.model import BedType, Hold, HoldStatus
from navigator.store import rows
from navigator.store._records import (
    CONFIRM_BED,
    HOLD_SELECT,
    RETURN_BED,
    by_key,
    free_beds,
    hold_record,
    replay,
    same_request,
)
from navigator.store.areas import AreaMethods
from navigator.store.assignments import AssignmentMethods
from navigator.store.candidates import CandidateMethods
from navigator.store.closures import ClosureMethods
from navigator.store.episodes import EpisodeMethods
from navigator.store.registry import RegistryMethods
from navigator.store.sessions import check_live
from navigator.store.sqlstore import SQLStore
from navigator.store.surge import SurgeMethods
from navigator.store.tx import append_audit, enum_values

if TYPE_CHECKING:
    from collections.abc import Iterable

    import pandas as pd

    from navigator.store.sessions import SessionGuard
    from navigator.store.tx import Tx




def _when(now: datetime | None) -> datetime:
    if now is None:
        return rows.utc_now()
    if not isinstance(now, datetime) or now.tzinfo is None:
        msg = f"now must be a timezone-aware datetime, got {now!r}"
        raise ValidationError(msg)
    return rows.to_ms(now)


def new_hold(resource_id: str, bed: str, *, actor: str, ttl_s: float, key: str | None,
             client_ref: str, now: datetime) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return the row of a new hold (a fresh id) and the inputs its audit entry records."""
    row = {"id": uuid.uuid4().hex, "resource_id": resource_id, "bed_type": bed,
           "status": HoldStatus.HELD.value, "actor": actor, "created_at": now,
           "expires_at": rows.to_ms(now + timedelta(seconds=ttl_s)), "updated_at": now,
           "idempotency_key": key, "client_ref": client_ref}
    inputs = {"resource_id": resource_id, "bed_type": bed, "ttl_s": ttl_s,
              "idempotency_key": key, "client_ref": client_ref}
    return row, inputs


class GuardedStore(RegistryMethods, CandidateMethods, SurgeMethods, EpisodeMethods,
                   AssignmentMethods, ClosureMethods, AreaMethods, SQLStore):
    """:class:`SQLStore` plus bed holds, the bed registry, episodes and team assignments."""

    # -- holds ---------------------------------------------------------------------------------
    def hold_bed(self, resource_id: str, bed_type: BedType, *, actor: str, ttl_s: float,
                 idempotency_key: str | None = None, client_ref: str = "",
                 now: datetime | None = None, session: SessionGuard | None = None) -> Hold:
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
        session
            The login session the hold is made in: nothing is taken or replayed unless it
            is live (checked in the write's own round trip where the backend can).

        Returns
        -------
        Hold
            With ``free_beds``: the beds of that type still free, read in the same
            transaction (for a repeated key, as they are now).

        Raises
        ------
        ConflictError
            No bed of that type is free.
        SessionEndedError
            ``session`` is over (logout, password change, disabled account, timeout).
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
                                  key=idempotency_key, client_ref=client_ref, now=at,
                                  session=session)
        except ConflictError:
            hold = replay(self._transaction, "holds", idempotency_key)
            if hold is None:
                raise
        same_request(idempotency_key, (hold.resource_id, hold.bed_type, hold.actor),
                      (resource_id, bed, actor))
        return hold

    def _hold_bed(self, resource_id: str, bed: str, *, actor: str, ttl_s: float,
                  key: str | None, client_ref: str, now: datetime,
                  session: SessionGuard | None = None) -> Hold:
        conflict: ConflictError | None = None
        with self._transaction(write=True) as tx:
            if session is not None:  # in the write's transaction: no logout slips between
                check_live(tx, session)
            earlier = by_key(tx, "holds", key)
            if earlier is not None:
                return earlier
            self._expire(tx, now)
            where = {"resource_id": resource_id, "bed_type": bed}
            # free > 0 means free is exactly capacity - occupied - out_of_service - holds.
            taken = tx.fetch("UPDATE beds SET free = free - 1, held = held + 1 "
                             "WHERE resource_id = %(resource_id)s"
                             " AND bed_type = %(bed_type)s AND free > 0 RETURNING free", where)
            if not taken:
                if free_beds(tx, resource_id, bed) is None:
                    self._one(tx, "resource", resource_id)
                    msg = f"resource {resource_id!r} has no {bed!r} beds"
                    raise NotFoundError(msg)
                # Keep the expiries made above: commit, then report the conflict.
                conflict = ConflictError(f"no free {bed!r} bed at resource {resource_id!r}")
            else:
                row, inputs = new_hold(resource_id, bed, actor=actor, ttl_s=ttl_s, key=key,
                                       client_ref=client_ref, now=now)
                tx.insert("holds", row)
                append_audit(tx, "hold_bed", actor=actor, subject=row["id"], inputs=inputs,
                             result={"free": taken[0]["free"], "expires_at": row["expires_at"]})
                hold = hold_record(tx, row, free=int(taken[0]["free"]))
        if conflict is not None:
            raise conflict
        return hold

    def hold(self, hold_id: str) -> Hold:
        """Return one bed hold with the free beds of its type now; ``NotFoundError`` if unknown."""
        with self._transaction(write=False) as tx:
            return hold_record(tx, self._one(tx, "hold", hold_id))

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
                             f"WHERE id = %(id)s AND status = 'held' RETURNING {HOLD_SELECT}",
                             {"status": status.value, "now": now, "id": hold_id})
            if not found:
                current = self._one(tx, "hold", hold_id)
                conflict = ConflictError(f"hold {hold_id!r} is {current['status']}, not held; "
                                         f"cannot mark it {status.value}")
            else:
                tx.fetch(RETURN_BED if status is HoldStatus.RELEASED else CONFIRM_BED,
                         found[0])
                action = "confirm_hold" if status is HoldStatus.CONFIRMED else "release_hold"
                append_audit(tx, action, actor=actor, subject=hold_id,
                             inputs={"hold_id": hold_id}, result={"status": status.value})
                hold = hold_record(tx, found[0])
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
            tx.fetch(RETURN_BED, hold)
        if expired:
            append_audit(tx, "expire_holds", actor="system", inputs={"now": now},
                         result={"expired": sorted(h["id"] for h in expired)})
        return len(expired)
