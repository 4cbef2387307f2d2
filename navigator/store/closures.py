"""Road closures in the store: add, list, lift (audited) and a cheap version for caches.

Rows are never deleted (a lifted closure keeps its history), so the triple
``(rows, rows lifted, latest change)`` only moves forward: a web worker compares it every few
seconds to know, with one indexed read, whether its closed-road graph is still current.
"""

from __future__ import annotations

import math
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from navigator.errors import ConflictError, ValidationError
from navigator.model import CLOSURE_GEOMETRY_TYPES, CLOSURE_REASON_MAX, Closure
from navigator.store import rows
from navigator.store.tx import append_audit, fetch_one

if TYPE_CHECKING:
    from collections.abc import Callable
    from contextlib import AbstractContextManager

    from shapely.geometry.base import BaseGeometry

    from navigator.store.tx import Tx

_COLUMNS = ("id", "geom", "reason", "starts_at", "expires_at", "created_by", "created_at",
            "lifted_at", "lifted_by")
_SELECT = ", ".join(_COLUMNS)


def check_closure_geometry(geometry: Any) -> None:
    """Raise ``ValidationError`` unless ``geometry`` may be stored as a closure (EPSG:4326)."""
    check_geometry(geometry, what="closure", types=CLOSURE_GEOMETRY_TYPES)


def check_geometry(geometry: Any, *, what: str, types: tuple[str, ...]) -> None:
    """Raise ``ValidationError`` (naming ``what``) unless ``geometry`` is valid EPSG:4326.

    It must be a non-empty, valid shapely geometry of one of ``types`` with finite
    longitude/latitude bounds in range.
    """
    import shapely

    if not isinstance(geometry, shapely.Geometry):
        msg = f"{what}: geometry must be a shapely geometry, got {type(geometry).__name__}"
        raise ValidationError(msg)
    if geometry.geom_type not in types:
        msg = f"{what}: geometry type {geometry.geom_type} is not one of {', '.join(types)}"
        raise ValidationError(msg)
    if geometry.is_empty:
        msg = f"{what}: geometry is empty"
        raise ValidationError(msg)
    minx, miny, maxx, maxy = geometry.bounds
    if not all(math.isfinite(v) for v in (minx, miny, maxx, maxy)) or not (
            -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        msg = (f"{what}: coordinates must be finite longitude/latitude degrees "
               f"(EPSG:4326), got bounds {geometry.bounds!r}")
        raise ValidationError(msg)
    if not geometry.is_valid:
        why = shapely.is_valid_reason(geometry)
        msg = f"{what}: geometry is invalid ({why})"
        raise ValidationError(msg)


def _check(reason: str, starts_at: datetime, expires_at: datetime | None) -> str:
    if not isinstance(reason, str) or not reason.strip():
        msg = "closure: a reason is required"
        raise ValidationError(msg)
    if len(reason.strip()) > CLOSURE_REASON_MAX:
        msg = f"closure: reason must be at most {CLOSURE_REASON_MAX} characters"
        raise ValidationError(msg)
    for name, value in (("starts_at", starts_at), ("expires_at", expires_at)):
        if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
            msg = f"closure: {name} must be a timezone-aware datetime, got {value!r}"
            raise ValidationError(msg)
    if expires_at is not None and rows.to_ms(expires_at) <= rows.to_ms(starts_at):
        msg = (f"closure: expiry {expires_at.isoformat()} must come after the start "
               f"{starts_at.isoformat()}")
        raise ValidationError(msg)
    return reason.strip()


class ClosureMethods:
    """The road-closures part of the store contract, on a backend's transactions."""

    _transaction: Callable[..., AbstractContextManager[Tx]]
    _area: Callable[[Any], BaseGeometry | None]

    def _closure(self, row: dict[str, Any]) -> Closure:
        return Closure(id=row["id"], geometry=self._area(row["geom"]), reason=row["reason"],
                       starts_at=rows.read_ts(row["starts_at"]),  # type: ignore[arg-type]
                       expires_at=rows.read_ts(row["expires_at"]),
                       created_by=row["created_by"],
                       created_at=rows.read_ts(row["created_at"]),  # type: ignore[arg-type]
                       lifted_at=rows.read_ts(row["lifted_at"]),
                       lifted_by=row["lifted_by"] or "")

    def add_closure(self, geometry: BaseGeometry, *, reason: str, actor: str,
                    starts_at: datetime | None = None, expires_at: datetime | None = None,
                    now: datetime | None = None,
                    details: dict[str, Any] | None = None) -> Closure:
        """Store a closure (id generated) and audit it; ``ValidationError`` for bad values.

        ``starts_at`` defaults to ``now``; ``details`` (e.g. the edges it closes) go to the
        audit entry only.
        """
        at = rows.to_ms(now) if now else rows.utc_now()
        start = rows.to_ms(starts_at) if starts_at else at
        clean = _check(reason, start, expires_at)
        check_closure_geometry(geometry)
        row = {"id": f"closure-{uuid.uuid4().hex[:12]}", "geom": geometry, "reason": clean,
               "starts_at": start,
               "expires_at": rows.to_ms(expires_at) if expires_at else None,
               "created_by": actor, "created_at": at, "lifted_at": None, "lifted_by": "",
               "changed_at": at}
        with self._transaction(write=True) as tx:
            tx.insert("road_closures", row)
            append_audit(tx, "close_road", actor=actor, subject=row["id"],
                         inputs={"reason": clean, "geometry_type": geometry.geom_type,
                                 "bounds": list(geometry.bounds), "starts_at": start,
                                 "expires_at": row["expires_at"]},
                         result=dict(details or {}))
        return self.closure(row["id"])

    def closure(self, closure_id: str) -> Closure:
        """Return one closure; ``NotFoundError`` if unknown."""
        with self._transaction(write=False) as tx:
            return self._closure(fetch_one(
                tx, f"SELECT {_SELECT} FROM road_closures WHERE id = %(id)s",
                {"id": closure_id}, f"road closure {closure_id!r}"))

    def closures(self, *, active_at: datetime | None = None) -> list[Closure]:
        """Return closures in force at ``active_at`` (every closure when None), by start."""
        params: dict[str, Any] = {}
        where = "1 = 1"
        if active_at is not None:
            params["at"] = rows.to_ms(active_at)
            where = ("starts_at <= %(at)s AND (expires_at IS NULL OR expires_at > %(at)s) "
                     "AND (lifted_at IS NULL OR lifted_at > %(at)s)")
        with self._transaction(write=False) as tx:
            found = tx.fetch(f"SELECT {_SELECT} FROM road_closures WHERE {where} "
                             "ORDER BY starts_at, created_at, id", params)
        return [self._closure(r) for r in found]

    def lift_closure(self, closure_id: str, *, actor: str,
                     now: datetime | None = None) -> Closure:
        """Reopen the roads of a closure now (audited); ``ConflictError`` if already lifted."""
        at = rows.to_ms(now) if now else rows.utc_now()
        with self._transaction(write=True) as tx:
            fetch_one(tx, "SELECT id FROM road_closures WHERE id = %(id)s", {"id": closure_id},
                      f"road closure {closure_id!r}")
            done = tx.fetch("UPDATE road_closures SET lifted_at = %(at)s, lifted_by = %(by)s, "
                            "changed_at = %(at)s WHERE id = %(id)s AND lifted_at IS NULL "
                            "RETURNING id", {"id": closure_id, "at": at, "by": actor})
            if not done:
                msg = f"road closure {closure_id!r} was already lifted"
                raise ConflictError(msg)
            append_audit(tx, "reopen_road", actor=actor, subject=closure_id,
                         result={"lifted_at": at})
        return self.closure(closure_id)

    def closures_version(self) -> str:
        """Return a short text that changes whenever a closure is added or lifted (one read)."""
        with self._transaction(write=False) as tx:
            found = tx.fetch("SELECT count(*) AS n, count(lifted_at) AS lifted, "
                             "max(changed_at) AS changed FROM road_closures")[0]
        changed = rows.read_ts(found["changed"])
        return f"{int(found['n'])}:{int(found['lifted'])}:" \
               f"{changed.isoformat() if changed else '-'}"
