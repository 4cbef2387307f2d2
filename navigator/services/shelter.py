"""Shelter staff services: report beds, import the nightly census, see and answer holds.

Staff touch only their own sites (``user_sites``); admins touch every site. Each function
checks that first and raises :class:`~navigator.errors.ForbiddenError` (HTTP 403) otherwise;
then it makes one store call, which validates, writes and audits in one transaction.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from navigator.config import check_positive
from navigator.errors import ForbiddenError, NotFoundError, ValidationError
from navigator.model import BED_KINDS, BedCount, HoldResponse, ReportVia
from navigator.services.referrals import ReferralHold, episodes_by_hold, follow_hold
from navigator.store.registry import SiteReport

if TYPE_CHECKING:
    from navigator.config import Settings
    from navigator.model import Hold, SiteBeds
    from navigator.store import Store

__all__ = ["CENSUS_COLUMNS", "answer_hold", "holds_with_episodes", "import_census",
           "list_holds", "my_sites", "report_beds", "set_site_freshness", "staff_sites"]

#: Columns of a census CSV (``out_of_service``, ``status``, ``note``, ``reported_at`` optional).
CENSUS_COLUMNS = ("resource_id", "bed_type", "capacity", "occupied", "out_of_service",
                  "status", "note", "reported_at")
#: Largest census file, rows.
MAX_CENSUS_ROWS = 5000
HoldScope = Literal["mine", "site", "all"]


def staff_sites(store: Store, actor: str) -> tuple[str, ...] | None:
    """Return the sites ``actor`` may report for; None means every site (admins).

    Raises
    ------
    ForbiddenError
        ``actor`` is no account, or is neither shelter staff nor an admin.
    """
    try:
        user = store.user(actor)
    except NotFoundError as e:
        msg = f"{actor!r} is not an account: log in as shelter staff or an admin"
        raise ForbiddenError(msg) from e
    if user.role == "admin":
        return None
    if user.role != "shelter":
        msg = f"role {user.role!r} may not report beds (shelter staff and admins only)"
        raise ForbiddenError(msg)
    return store.user_sites(actor)


def _allow(store: Store, actor: str, resource_id: str) -> None:
    sites = staff_sites(store, actor)
    if sites is not None and resource_id not in sites:
        msg = (f"{actor!r} may not act for site {resource_id!r} "
               f"(their sites: {', '.join(sites) or 'none'})")
        raise ForbiddenError(msg)


def report_beds(store: Store, settings: Settings, *, resource_id: str,
                counts: Mapping[str, BedCount | Mapping[str, int]], status: str | None,
                note: str | None, actor: str, at: datetime | None = None) -> SiteBeds:
    """Record a shelter's bed counts, status and note as reported by its staff now (or ``at``).

    Parameters
    ----------
    store, settings
        Where to write; ``settings`` is taken for symmetry with the other services.
    resource_id
        The shelter.
    counts
        Per bed type: ``capacity``, ``occupied`` (people in beds) and ``out_of_service``.
        Free beds are derived (capacity - occupied - out of service - active holds).
    status, note
        The site's status (open, full, closed, diverting) and note; None keeps them.
    actor
        The reporting account: shelter staff of the site, or an admin.
    at
        When the counts were taken (aware, not in the future); default now.

    Returns
    -------
    SiteBeds
        The site as the registry holds it after the report.

    Raises
    ------
    ForbiddenError
        Not the actor's site.
    ValidationError
        Bad counts, unknown bed type, future date; nothing written.
    ConflictError
        A newer report is already in force.
    """
    del settings
    _allow(store, actor, resource_id)
    return store.report_beds(SiteReport(resource_id, counts, status=status, note=note, at=at),
                             actor=actor, via=ReportVia.STAFF)


def _int(label: str, name: str, raw: str | None, *, default: int | None = None) -> int:
    text = (raw or "").strip()
    if not text and default is not None:
        return default
    try:
        return int(text)
    except ValueError as e:
        msg = f"{label}: {name}={raw!r} must be a whole number"
        raise ValidationError(msg) from e


def import_census(store: Store, settings: Settings, *, text: str, actor: str) -> list[SiteBeds]:
    """Apply a nightly census CSV (one row per site and bed type): all rows or none.

    Columns are :data:`CENSUS_COLUMNS`; ``reported_at`` is ISO 8601 with an offset (empty:
    now). Errors name the row (the header is row 1) and the field; a row for a site the
    actor may not report for is a ``ForbiddenError`` naming the row.
    """
    del settings
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in ("resource_id", "bed_type", "capacity", "occupied") if c not in header]
    if missing:
        msg = f"census row 1: missing column(s) {', '.join(missing)}"
        raise ValidationError(msg)
    unknown = [c for c in header if c not in CENSUS_COLUMNS]
    if unknown:
        msg = f"census row 1: unknown column(s) {', '.join(unknown)}"
        raise ValidationError(msg)
    sites = staff_sites(store, actor)
    reports: list[SiteReport] = []
    for number, raw in enumerate(reader, start=2):
        if number > MAX_CENSUS_ROWS + 1:
            msg = f"census: more than {MAX_CENSUS_ROWS} rows"
            raise ValidationError(msg)
        row = {k.strip(): (v or "").strip() for k, v in raw.items() if k is not None}
        label = f"census row {number}"
        rid = row.get("resource_id", "")
        if sites is not None and rid not in sites:
            msg = f"{label}: resource_id {rid!r} is not one of {actor!r}'s sites"
            raise ForbiddenError(msg)
        at = None
        if row.get("reported_at"):
            try:
                at = datetime.fromisoformat(row["reported_at"].replace("Z", "+00:00"))
            except ValueError as e:
                msg = f"{label}: reported_at={row['reported_at']!r} is not ISO 8601"
                raise ValidationError(msg) from e
            if at.tzinfo is None:
                msg = f"{label}: reported_at needs a UTC offset (e.g. 2026-03-04T22:00-05:00)"
                raise ValidationError(msg)
        count = BedCount(capacity=_int(label, "capacity", row.get("capacity")),
                         occupied=_int(label, "occupied", row.get("occupied")),
                         out_of_service=_int(label, "out_of_service",
                                             row.get("out_of_service"), default=0))
        reports.append(SiteReport(rid, {row.get("bed_type", ""): count},
                                  status=row.get("status") or None,
                                  note=row.get("note") or None, at=at, label=label))
    if not reports:
        msg = "census: the file has a header but no rows"
        raise ValidationError(msg)
    return store.report_census(reports, actor=actor, via=ReportVia.CENSUS)


def set_site_freshness(store: Store, *, resource_id: str, hours: float | None,
                       actor: str) -> SiteBeds:
    """Give a shelter its own freshness window, in hours (None: ``bed_fresh_hours`` again).

    A site that counts once a week may need a longer window than the setting's; the window
    decides whether its count is offered as free. Admins only (staff could otherwise keep an
    old count "fresh").

    Raises
    ------
    ForbiddenError
        ``actor`` is not an admin account.
    ValidationError
        ``hours`` is zero, negative or not finite; nothing written.
    NotFoundError
        Unknown shelter.
    """
    if _role(store, actor) != "admin":
        msg = f"{actor!r} may not set a site's freshness window (admins only)"
        raise ForbiddenError(msg)
    window = None if hours is None else check_positive("fresh_hours", hours)
    site = store.resource(resource_id)
    if site.kind not in BED_KINDS:
        msg = f"resource {resource_id!r} is a {site.kind}, not a shelter: it has no bed counts"
        raise ValidationError(msg)
    store.set_fresh_hours(resource_id, window, actor=actor)
    return store.site_beds(resource_id)


def my_sites(store: Store, *, actor: str) -> list[SiteBeds]:
    """Return the registry entries of the actor's sites (every shelter for an admin)."""
    sites = staff_sites(store, actor)
    if sites is None:
        shelters = store.resources(kinds=list(BED_KINDS))
        sites = tuple(shelters["id"])
    return [store.site_beds(rid) for rid in sites]


def list_holds(store: Store, *, actor: str, scope: HoldScope = "mine",
               active_only: bool = True) -> list[Hold]:
    """Return active holds by scope, newest first (expired ones already returned).

    ``mine``: made by the actor; ``site``: at the actor's sites (an admin's: every site);
    ``all``: every hold, admins only.

    Raises
    ------
    ForbiddenError
        ``site`` by someone with no sites to answer for, or ``all`` by a non-admin.
    """
    if scope == "mine":
        return store.holds(actor=actor, active_only=active_only)
    if scope not in ("site", "all"):
        msg = f"scope={scope!r} is not one of mine, site, all"
        raise ValidationError(msg)
    role = _role(store, actor)
    if scope == "all":
        if role != "admin":
            msg = "only admins may list every hold (scope=all)"
            raise ForbiddenError(msg)
        return store.holds(active_only=active_only)
    sites = staff_sites(store, actor)
    return store.holds(resource_ids=sites, active_only=active_only)


def holds_with_episodes(store: Store, *, actor: str,
                        scope: HoldScope = "mine") -> list[ReferralHold]:
    """Return :func:`list_holds` by ``scope``, each hold with its open referral episode."""
    found = list_holds(store, actor=actor, scope=scope)
    linked = episodes_by_hold(store, found)
    return [ReferralHold(h, linked.get(h.id)) for h in found]


def _role(store: Store, actor: str) -> str:
    try:
        return store.user(actor).role
    except NotFoundError as e:
        msg = f"{actor!r} is not an account"
        raise ForbiddenError(msg) from e


def answer_hold(store: Store, *, hold_id: str, accept: bool, actor: str,
                now: datetime | None = None) -> Hold:
    """Accept or decline an incoming hold for one of the actor's sites.

    A decline gives the bed back at once. The episode linked to the hold moves to
    ``accepted`` / ``declined`` in the same call (its own audited step, same actor and time).

    Raises
    ------
    ForbiddenError
        The hold is for another site.
    ConflictError
        Already answered (a second accept), or no longer held.
    """
    hold = store.hold(hold_id)
    _allow(store, actor, hold.resource_id)
    answered = store.respond_hold(hold_id, HoldResponse.ACCEPTED if accept
                                  else HoldResponse.DECLINED, actor=actor, now=now)
    follow_hold(store, answered, actor=actor, now=now)
    return answered

