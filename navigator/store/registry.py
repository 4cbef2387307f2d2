"""The live bed registry: staff reports, site status, freshness windows, staff sites, holds.

A report sets, per bed type, ``capacity``, ``occupied`` (people in beds now) and
``out_of_service``; the store derives free beds in the same statement::

    free = max(0, capacity - occupied - out_of_service - held - confirmed)

``held`` counts the holds still ``held`` and ``confirmed`` the holds confirmed since the last
report. Staff count people in beds; a held bed has nobody in it yet, so holds come on top of
the report and a report never double-counts them. A confirmed hold (the client took the bed)
moves from ``held`` to ``confirmed``, still not free; the next report's ``occupied`` includes
that client, so the report resets ``confirmed`` to 0. Every change is one short transaction
on the bed row (row lock in PostGIS, ``BEGIN IMMEDIATE`` in SQLite), so a hold and a report
racing each other serialise: no update is lost and free never goes below zero.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pandas as pd

from navigator.errors import ConflictError, ValidationError
from navigator.model import (
    BED_KINDS,
    BedCount,
    BedState,
    BedType,
    Hold,
    HoldResponse,
    ReportVia,
    SiteBeds,
    SiteStatus,
)
from navigator.store import rows
from navigator.store._records import HOLD_SELECT, RETURN_BED, hold_record
from navigator.store.tx import append_audit, fetch_one, in_clause

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from contextlib import AbstractContextManager

    from navigator.store.tx import Tx

#: A report may be dated this far ahead of the store's clock (a phone's clock runs fast).
CLOCK_SKEW = timedelta(minutes=2)
#: Longest site note.
MAX_NOTE = 500
_BED_KINDS = frozenset(k.value for k in BED_KINDS)
_REGISTRY_SELECT = ", ".join(rows.REGISTRY_COLUMNS)
_SITE_SELECT = ", ".join(rows.SITE_COLUMNS)


@dataclass(frozen=True)
class SiteReport:
    """One site's report: counts per bed type, and optionally a status and a note.

    ``label`` prefixes every error (``"row 3"`` in a census file); ``at`` None is the store's
    clock when the report is applied.
    """

    resource_id: str
    counts: Mapping[Any, Any]
    status: Any = None
    note: str | None = None
    at: datetime | None = None
    label: str = ""


def check_report(report: SiteReport, *, now: datetime) -> tuple[dict[str, BedCount],
                                                                 str | None, datetime | None]:
    """Return a report's checked counts, status and time, or raise naming the field."""
    lead = f"{report.label}: " if report.label else ""
    label = f"{lead}report for {report.resource_id!r}"
    if not isinstance(report.resource_id, str) or not report.resource_id.strip():
        msg = f"{lead}resource_id must be a non-empty string, got {report.resource_id!r}"
        raise ValidationError(msg)
    if not isinstance(report.counts, Mapping) or not report.counts:
        msg = f"{label}: counts must name at least one bed type"
        raise ValidationError(msg)
    counts: dict[str, BedCount] = {}
    for key, value in report.counts.items():
        try:
            bed = BedType(key).value
        except ValueError as e:
            allowed = ", ".join(b.value for b in BedType)
            msg = f"{label}: counts[{key!r}].bed_type is not one of {allowed}"
            raise ValidationError(msg) from e
        if isinstance(value, Mapping):
            unknown = set(value) - {"capacity", "occupied", "out_of_service"}
            if unknown:
                msg = f"{label}: counts[{bed}] has unknown field(s) {', '.join(sorted(unknown))}"
                raise ValidationError(msg)
            try:
                value = BedCount(**value)
            except TypeError as e:
                msg = f"{label}: counts[{bed}] needs capacity and occupied"
                raise ValidationError(msg) from e
        if not isinstance(value, BedCount):
            msg = f"{label}: counts[{bed}] must be a BedCount, got {value!r}"
            raise ValidationError(msg)
        value.check(f"{label}: counts[{bed}]")
        counts[bed] = value
    status = None
    if report.status is not None:
        try:
            status = SiteStatus(report.status).value
        except ValueError as e:
            allowed = ", ".join(s.value for s in SiteStatus)
            msg = f"{label}: status={report.status!r} is not one of {allowed}"
            raise ValidationError(msg) from e
    if report.note is not None and (not isinstance(report.note, str)
                                    or len(report.note) > MAX_NOTE):
        msg = f"{label}: note must be text of at most {MAX_NOTE} characters"
        raise ValidationError(msg)
    at = report.at
    if at is not None:
        if not isinstance(at, datetime) or at.tzinfo is None:
            msg = f"{label}: at must be a timezone-aware datetime, got {at!r}"
            raise ValidationError(msg)
        if at > now + CLOCK_SKEW:
            msg = f"{label}: at={at.isoformat()} is in the future (now {now.isoformat()})"
            raise ValidationError(msg)
        at = rows.to_ms(at)
    return counts, status, at


def _state(row: Mapping[str, Any]) -> BedState:
    return BedState(bed_type=BedType(row["bed_type"]), capacity=int(row["capacity"]),
                    occupied=int(row["occupied"]), out_of_service=int(row["out_of_service"]),
                    held=int(row["held"]), confirmed=int(row["confirmed"]),
                    free=int(row["free"]), reported_at=rows.read_ts(row["reported_at"]),
                    reported_by=row["reported_by"], reported_via=row["reported_via"])


class RegistryMethods:
    """Reports, site status, staff sites and hold listings, on a backend's :class:`Tx`."""

    _transaction: Callable[..., AbstractContextManager[Tx]]
    _one: Callable[[Tx, str, str], dict[str, Any]]
    _expire: Callable[[Tx, datetime], int]
    #: Appended to a SELECT to lock its rows until the transaction ends (PostGIS).
    LOCK_ROWS: str = ""

    # -- reports -------------------------------------------------------------------------------
    def report_beds(self, report: SiteReport, *, actor: str,
                    via: ReportVia | str = ReportVia.STAFF) -> SiteBeds:
        """Apply one site's staff report in one transaction; return the site as it is now.

        Raises
        ------
        ValidationError
            Counts out of range (occupied > capacity, negatives), an unknown bed type or one
            the site does not list, a date in the future; nothing is written.
        ConflictError
            A newer staff report is already in force (an older one never overwrites it).
        NotFoundError
            Unknown resource.
        """
        return self.report_census([report], actor=actor, via=via)[0]

    def report_census(self, reports: Sequence[SiteReport], *, actor: str,
                      via: ReportVia | str = ReportVia.CENSUS) -> list[SiteBeds]:
        """Apply several sites' reports in one transaction: all of them or none.

        Errors as in :meth:`report_beds`, prefixed with each report's ``label``.
        """
        how = ReportVia(via).value
        checked = [check_report(r, now=rows.utc_now()) for r in reports]
        if not checked:
            msg = "a census needs at least one report"
            raise ValidationError(msg)
        with self._transaction(write=True) as tx:
            self._expire(tx, rows.utc_now())
            out = []
            for report, (counts, status, at) in zip(reports, checked, strict=True):
                out.append(self._report(tx, report, counts, status, at, actor=actor, via=how))
            append_audit(tx, "report_beds" if how != "census" else "report_census",
                         actor=actor, subject=",".join(r.resource_id for r in reports),
                         inputs={"via": how, "reports": [
                             {"resource_id": r.resource_id, "label": r.label,
                              "status": st, "note": r.note, "at": at,
                              "counts": {b: vars(c) for b, c in cs.items()}}
                             for r, (cs, st, at) in zip(reports, checked, strict=True)]},
                         result={s.resource_id: {b.bed_type.value: b.free for b in s.beds}
                                 for s in out})
        return out

    def _report(self, tx: Tx, report: SiteReport, counts: dict[str, BedCount],
                status: str | None, at: datetime | None, *, actor: str, via: str) -> SiteBeds:
        lead = f"{report.label}: " if report.label else ""
        rid = report.resource_id
        resource = fetch_one(tx, "SELECT id, kind, name, phone FROM resources WHERE id = %(id)s",
                             {"id": rid}, f"resource {rid!r}")
        if resource["kind"] not in _BED_KINDS:
            msg = f"{lead}resource {rid!r} is a {resource['kind']}, not a shelter: it has no beds"
            raise ValidationError(msg)
        current = {r["bed_type"]: r for r in tx.fetch(
            f"SELECT {_REGISTRY_SELECT} FROM beds WHERE resource_id = %(id)s{self.LOCK_ROWS}",
            {"id": rid})}
        when = at or rows.utc_now()  # taken under the lock: reports apply in time order
        for bed, count in counts.items():
            row = current.get(bed)
            if row is None:
                listed = ", ".join(sorted(current)) or "none"
                msg = (f"{lead}counts[{bed}].bed_type: resource {rid!r} has no {bed!r} beds "
                       f"(it lists {listed})")
                raise ValidationError(msg)
            before = rows.read_ts(row["reported_at"])
            if row["reported_via"] != ReportVia.IMPORT.value and before and before > when:
                msg = (f"{lead}resource {rid!r} {bed}: a newer report ({before.isoformat()} by "
                       f"{row['reported_by']}) is in force; this one is dated {when.isoformat()}")
                raise ConflictError(msg)
            left = "(%(capacity)s - %(occupied)s - %(out_of_service)s - held)"
            tx.fetch(f"UPDATE beds SET capacity = %(capacity)s, occupied = %(occupied)s, "
                     f"out_of_service = %(out_of_service)s, confirmed = 0, "
                     f"free = CASE WHEN {left} > 0 THEN {left} ELSE 0 END, "
                     f"reported_at = %(at)s, reported_by = %(by)s, reported_via = %(via)s "
                     f"WHERE resource_id = %(id)s AND bed_type = %(bed)s",
                     {"capacity": count.capacity, "occupied": count.occupied,
                      "out_of_service": count.out_of_service, "at": when, "by": actor,
                      "via": via, "id": rid, "bed": bed})
        site = tx.fetch(f"SELECT {_SITE_SELECT} FROM bed_sites WHERE resource_id = %(id)s",
                        {"id": rid})
        if status is not None or report.note is not None or not site:
            tx.upsert("bed_sites", {
                "resource_id": rid,
                "status": status or (site[0]["status"] if site else SiteStatus.OPEN.value),
                "note": report.note if report.note is not None else (
                    site[0]["note"] if site else ""),
                "updated_at": when, "updated_by": actor}, key=("resource_id",),
                keep=("fresh_hours",))
        return self._site(tx, resource)

    def _site(self, tx: Tx, resource: Mapping[str, Any]) -> SiteBeds:
        rid = resource["id"]
        beds = tx.fetch(f"SELECT {_REGISTRY_SELECT} FROM beds WHERE resource_id = %(id)s "
                        "ORDER BY position, bed_type", {"id": rid})
        site = tx.fetch(f"SELECT {_SITE_SELECT} FROM bed_sites WHERE resource_id = %(id)s",
                        {"id": rid})
        s: dict[str, Any] = site[0] if site else {
            "status": "open", "note": "", "fresh_hours": None, "updated_at": None,
            "updated_by": ""}
        return SiteBeds(resource_id=rid, name=resource["name"], phone=resource["phone"],
                        status=SiteStatus(s["status"]), note=s["note"],
                        fresh_hours=rows.read_float(s["fresh_hours"]),
                        beds=tuple(_state(b) for b in beds),
                        updated_at=rows.read_ts(s["updated_at"]), updated_by=s["updated_by"])

    def site_beds(self, resource_id: str) -> SiteBeds:
        """Return a shelter's registry entry (holds past expiry returned first)."""
        with self._transaction(write=True) as tx:
            self._expire(tx, rows.utc_now())
            resource = fetch_one(tx, "SELECT id, kind, name, phone FROM resources "
                                 "WHERE id = %(id)s", {"id": resource_id},
                                 f"resource {resource_id!r}")
            return self._site(tx, resource)

    def set_fresh_hours(self, resource_id: str, hours: float | None, *, actor: str) -> None:
        """Give a site its own freshness window in hours (None: the setting's)."""
        if hours is not None and (isinstance(hours, bool) or not isinstance(hours, int | float)
                                  or not (math.isfinite(hours) and hours > 0)):
            msg = f"fresh_hours must be a positive number of hours, got {hours!r}"
            raise ValidationError(msg)
        with self._transaction(write=True) as tx:
            self._one(tx, "resource", resource_id)
            site = tx.fetch("SELECT resource_id FROM bed_sites WHERE resource_id = %(id)s",
                            {"id": resource_id})
            if site:
                tx.fetch("UPDATE bed_sites SET fresh_hours = %(h)s WHERE resource_id = %(id)s",
                         {"h": hours, "id": resource_id})
            else:
                tx.insert("bed_sites", {"resource_id": resource_id, "status": "open",
                                        "note": "", "fresh_hours": hours, "updated_at": None,
                                        "updated_by": ""})
            append_audit(tx, "set_fresh_hours", actor=actor, subject=resource_id,
                         inputs={"fresh_hours": hours}, result={"ok": True})

    # -- reads ---------------------------------------------------------------------------------
    def bed_counts(self, resource_ids: Iterable[str] | None = None) -> pd.DataFrame:
        """Return the registry (:data:`~navigator.store.rows.REGISTRY_COLUMNS`), live.

        Holds past their expiry are returned to the pool first.
        """
        params: dict[str, Any] = {}
        where = "1 = 1"
        if resource_ids is not None:
            where = in_clause("resource_id", "rid", list(resource_ids), params)
        with self._transaction(write=True) as tx:
            self._expire(tx, rows.utc_now())
            found = tx.fetch(f"SELECT {_REGISTRY_SELECT} FROM beds WHERE {where} "
                             "ORDER BY resource_id, position, bed_type", params)
        out = rows.frame(found, rows.REGISTRY_COLUMNS)
        for c in ("capacity", "occupied", "out_of_service", "held", "confirmed", "free"):
            out[c] = out[c].astype("int64")
        return out

    def bed_sites(self, resource_ids: Iterable[str] | None = None) -> pd.DataFrame:
        """Return site status rows (:data:`~navigator.store.rows.SITE_COLUMNS`) that exist."""
        params: dict[str, Any] = {}
        where = "1 = 1"
        if resource_ids is not None:
            where = in_clause("resource_id", "rid", list(resource_ids), params)
        with self._transaction(write=False) as tx:
            found = tx.fetch(f"SELECT {_SITE_SELECT} FROM bed_sites WHERE {where} "
                             "ORDER BY resource_id", params)
        return rows.frame(found, rows.SITE_COLUMNS)

    # -- staff sites -----------------------------------------------------------------------------
    def set_user_sites(self, username: str, resource_ids: Sequence[str], *,
                       actor: str) -> tuple[str, ...]:
        """Replace the sites an account reports for; return them sorted.

        Every id must name a shelter (``ValidationError`` otherwise); unknown user:
        ``NotFoundError``.
        """
        wanted = tuple(sorted(set(resource_ids)))
        with self._transaction(write=True) as tx:
            fetch_one(tx, "SELECT username FROM users WHERE username = %(u)s",
                      {"u": username}, f"user {username!r}")
            for rid in wanted:
                kind = tx.fetch("SELECT kind FROM resources WHERE id = %(id)s", {"id": rid})
                if not kind or kind[0]["kind"] not in _BED_KINDS:
                    msg = f"user {username!r}: site {rid!r} is not a shelter in the store"
                    raise ValidationError(msg)
            tx.fetch("DELETE FROM user_sites WHERE username = %(u)s", {"u": username})
            for rid in wanted:
                tx.insert("user_sites", {"username": username, "resource_id": rid})
            append_audit(tx, "set_user_sites", actor=actor, subject=username,
                         inputs={"sites": list(wanted)}, result={"ok": True})
        return wanted

    def user_sites(self, username: str) -> tuple[str, ...]:
        """Return the sites an account reports for (empty when none)."""
        with self._transaction(write=False) as tx:
            found = tx.fetch("SELECT resource_id FROM user_sites WHERE username = %(u)s "
                             "ORDER BY resource_id", {"u": username})
        return tuple(r["resource_id"] for r in found)

    # -- holds -----------------------------------------------------------------------------------
    def holds(self, *, actor: str | None = None, resource_ids: Iterable[str] | None = None,
              active_only: bool = True, now: datetime | None = None) -> list[Hold]:
        """Return holds, newest first: by ``actor``, at ``resource_ids``, still held.

        Expired holds are returned to the pool first, so an active hold listed is held now.
        """
        params: dict[str, Any] = {}
        where = ["1 = 1"]
        if actor is not None:
            where.append("actor = %(actor)s")
            params["actor"] = actor
        if resource_ids is not None:
            where.append(in_clause("resource_id", "rid", list(resource_ids), params))
        if active_only:
            where.append("status = 'held'")
        with self._transaction(write=True) as tx:
            self._expire(tx, rows.to_ms(now) if now else rows.utc_now())
            found = tx.fetch(f"SELECT {HOLD_SELECT} FROM holds WHERE {' AND '.join(where)} "
                             "ORDER BY created_at DESC, id", params)
            return [hold_record(tx, r) for r in found]

    def respond_hold(self, hold_id: str, response: HoldResponse | str, *, actor: str,
                     now: datetime | None = None) -> Hold:
        """Record a shelter's answer to a hold; a decline gives the bed back at once.

        Raises
        ------
        ConflictError
            The hold was already answered, or is no longer ``held``.
        NotFoundError
            Unknown hold id.
        """
        try:
            answer = HoldResponse(response)
        except ValueError as e:
            msg = f"response={response!r} is not one of accepted, declined"
            raise ValidationError(msg) from e
        at = rows.to_ms(now) if now else rows.utc_now()
        conflict: ConflictError | None = None
        with self._transaction(write=True) as tx:
            self._expire(tx, at)
            status = "'released'" if answer is HoldResponse.DECLINED else "status"
            found = tx.fetch(f"UPDATE holds SET response = %(r)s, responded_by = %(by)s, "
                             f"responded_at = %(at)s, updated_at = %(at)s, status = {status} "
                             f"WHERE id = %(id)s AND status = 'held' AND response = '' "
                             f"RETURNING {HOLD_SELECT}",
                             {"r": answer.value, "by": actor, "at": at, "id": hold_id})
            if not found:
                current = self._one(tx, "hold", hold_id)
                state = current["response"] or current["status"]
                conflict = ConflictError(f"hold {hold_id!r} is already {state}; cannot mark it "
                                         f"{answer.value}")
            else:
                if answer is HoldResponse.DECLINED:
                    tx.fetch(RETURN_BED, found[0])
                append_audit(tx, f"{'accept' if answer is HoldResponse.ACCEPTED else 'decline'}"
                             "_hold", actor=actor, subject=hold_id,
                             inputs={"hold_id": hold_id, "resource_id": found[0]["resource_id"]},
                             result={"response": answer.value})
                hold = hold_record(tx, found[0])
        if conflict is not None:
            raise conflict
        return hold

