"""Shelter staff: report every bed type of a site in one form, the nightly census, holds."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from flask import Blueprint, render_template, request

from navigator import services
from navigator.decide.matching import fresh_counts, stale_text
from navigator.model import BedCount, SiteStatus
from web import schemas
from web.access import actor, require
from web.context import app_context
from web.openapi import endpoint
from web.parsing import RequestInvalid
from web.render import local_hhmm, record_dict

if TYPE_CHECKING:
    from navigator.model import SiteBeds

bp = Blueprint("shelter", __name__)
ROLES = ("shelter",)
#: Largest census upload, bytes (the app refuses bodies over 1 MiB anyway).
MAX_CENSUS_BYTES = 512 * 1024


def site_view(site: SiteBeds, *, now: datetime | None = None) -> dict[str, Any]:
    """Return a site's registry entry as JSON: each bed type with free, holds and freshness."""
    at = now or datetime.now(UTC)
    window_h = site.fresh_hours or app_context().settings.bed_fresh_hours
    beds = []
    for b in site.beds:
        age = None if b.reported_at is None else (at - b.reported_at).total_seconds()
        fresh = bool(fresh_counts([float("nan") if age is None else age],
                                  [window_h * 3600.0])[0])
        beds.append({"bed_type": b.bed_type.value, "capacity": b.capacity,
                     "occupied": b.occupied, "out_of_service": b.out_of_service,
                     "held": b.held, "confirmed": b.confirmed, "free": b.free,
                     "overbooked": b.overbooked, "reported_at": b.reported_at,
                     "reported_local": local_hhmm(b.reported_at), "reported_by": b.reported_by,
                     "reported_via": b.reported_via, "fresh": fresh,
                     "stale_text": "" if fresh else stale_text(age)})
    return {"resource_id": site.resource_id, "name": site.name, "phone": site.phone,
            "status": site.status.value, "note": site.note, "fresh_hours": window_h,
            "updated_at": site.updated_at, "updated_by": site.updated_by, "beds": beds}


@bp.get("/shelter")
@require(*ROLES)
def page() -> str:
    """Show the mobile-first bed report form of the staff member's sites."""
    return render_template("shelter.html", statuses=[s.value for s in SiteStatus])


@endpoint(bp, "/api/shelter/sites", summary="My sites' bed counts, status and freshness",
          roles=ROLES)
def sites() -> dict[str, Any]:
    """Return the registry entries of the logged-in staff member's sites (all for admins)."""
    return {"sites": [site_view(s) for s in services.my_sites(app_context().store,
                                                              actor=actor())]}


@endpoint(bp, "/api/resources/<resource_id>/beds", "PUT",
          summary="Report a shelter's beds (all bed types), status and note", roles=ROLES,
          body=schemas.BedReport, errors=(404, 409))
def report(resource_id: str, body: schemas.BedReport) -> dict[str, Any]:
    """Record staff counts; free beds are derived. 403 for another shelter's site."""
    ctx = app_context()
    counts = {bt.value: BedCount(c.capacity, c.occupied, c.out_of_service)
              for bt, c in body.counts.items()}
    site = services.report_beds(ctx.store, ctx.settings, resource_id=resource_id,
                                counts=counts, status=body.status.value if body.status else None,
                                note=body.note, actor=actor(), at=body.reported_at)
    return site_view(site)


@endpoint(bp, "/api/resources/<resource_id>/freshness", "PUT",
          summary="Give a shelter its own freshness window (admins)", roles=(),
          body=schemas.SiteFreshness, errors=(404,))
def freshness(resource_id: str, body: schemas.SiteFreshness) -> dict[str, Any]:
    """Set (or, with null, clear) a site's freshness window in hours."""
    return site_view(services.set_site_freshness(app_context().store, resource_id=resource_id,
                                                 hours=body.fresh_hours, actor=actor()))


@endpoint(bp, "/api/beds/census", "POST",
          summary="Upload the nightly census CSV (all rows or none)", roles=ROLES,
          errors=(404, 409))
def census() -> dict[str, Any]:
    """Apply a census CSV sent as ``text/csv`` or as the ``file`` field of a form."""
    upload = request.files.get("file")
    raw = upload.read(MAX_CENSUS_BYTES + 1) if upload else request.get_data(cache=True)
    if len(raw) > MAX_CENSUS_BYTES:
        msg = f"the census file is larger than {MAX_CENSUS_BYTES} bytes"
        raise RequestInvalid(msg, [])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        msg = "the census file must be UTF-8 CSV"
        raise RequestInvalid(msg, []) from e
    ctx = app_context()
    done = services.import_census(ctx.store, ctx.settings, text=text, actor=actor())
    return {"sites": [site_view(s) for s in done], "rows": text.count("\n")}


def _answer(hold_id: str, *, accept: bool) -> dict[str, Any]:
    hold = services.answer_hold(app_context().store, hold_id=hold_id, accept=accept,
                                actor=actor())
    data = record_dict(hold)
    data["expires_local"] = local_hhmm(data.get("expires_at"))
    return data


@endpoint(bp, "/api/holds/<hold_id>/accept", "POST", summary="Accept an incoming hold",
          roles=ROLES, errors=(409,))
def accept(hold_id: str) -> dict[str, Any]:
    """Accept a hold for one of my sites (a second accept is 409)."""
    return _answer(hold_id, accept=True)


@endpoint(bp, "/api/holds/<hold_id>/decline", "POST",
          summary="Decline an incoming hold (the bed returns)", roles=ROLES, errors=(409,))
def decline(hold_id: str) -> dict[str, Any]:
    """Decline a hold for one of my sites; its bed is free again at once."""
    return _answer(hold_id, accept=False)
