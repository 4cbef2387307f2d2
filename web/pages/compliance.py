"""Response-time compliance: the page (period picker, table, chart), the report API, areas."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlencode

from flask import Blueprint, Response, render_template, url_for

from navigator import services
from navigator.model import Role
from navigator.services.compliance import ATTRIBUTION_RULE, MIN_ARRIVALS
from navigator.services.compliance_areas import area_dict, areas_geojson
from web import schemas
from web.access import actor, require
from web.charts import share_chart
from web.context import app_context
from web.errors import form_errors_render
from web.openapi import endpoint
from web.parsing import parse_query
from web.render import FEATURE_COLLECTION, area_tz

if TYPE_CHECKING:
    from datetime import datetime

    from navigator.services.compliance import ComplianceReport

bp = Blueprint("compliance", __name__)
#: Who reads the report and the areas (admin is always allowed).
READERS = (Role.DISPATCHER.value, Role.PLANNER.value)
#: Who imports and deletes areas (admin is always allowed).
EDITORS = (Role.PLANNER.value,)


def _report(query: schemas.ComplianceQuery) -> ComplianceReport:
    """Run the report for a parsed query (the one service call of both views)."""
    return services.compliance_report(app_context().store, start=query.start, end=query.end,
                                      timezone=area_tz(),
                                      targets_min=services.parse_targets(query.targets))


@bp.get("/compliance")
@require(*READERS)
@form_errors_render("compliance.html")
def page() -> str:
    """Show the report for the period asked (default: the last 12 hours), table and chart."""
    query = cast("schemas.ComplianceQuery",
                 parse_query(schemas.ComplianceQuery, drop_empty=True))
    found = _report(query)
    # the links carry the exact period (a minute-rounded end would drop the latest calls)
    asked = {"start": found.start.isoformat(), "end": found.end.isoformat(),
             **({"targets": query.targets} if query.targets else {})}
    records = found.records()
    return render_template(
        "compliance.html", report=found, records=records, tz=found.timezone,
        start_value=_picker(query.start, found.start),
        end_value=_picker(query.end, found.end), targets=query.targets,
        rule=ATTRIBUTION_RULE, min_arrivals=MIN_ARRIVALS,
        chart=share_chart(records, min_arrivals=MIN_ARRIVALS),
        csv_url=url_for("compliance.report") + "?" + urlencode({**asked, "format": "csv"}),
        json_url=url_for("compliance.report") + "?" + urlencode(asked))


def _picker(asked: datetime | None, used: datetime) -> str:
    """Return a period bound for the date-time picker: blank when defaulted (now / 12 h)."""
    return "" if asked is None else used.strftime("%Y-%m-%dT%H:%M")


@endpoint(bp, "/api/dispatch/compliance",
          summary="Response-time compliance by area and priority over a period (JSON or CSV)",
          roles=READERS, query=schemas.ComplianceQuery, errors=(404,),
          files=("application/json", "text/csv"))
def report(query: schemas.ComplianceQuery) -> dict[str, Any] | Response:
    """Return p50 / p90 dispatch-to-on-scene time and share within target per area, priority.

    Times without an offset are the area's local time; 404 when no dispatch falls in the
    period.
    """
    found = _report(query)
    if query.format == "csv":
        return Response(found.to_csv(), mimetype="text/csv", headers={
            "Content-Disposition": "attachment; filename=compliance.csv"})
    return found.to_dict()


@endpoint(bp, "/api/compliance-areas", summary="Compliance areas and their targets (GeoJSON)",
          roles=READERS, response=FEATURE_COLLECTION)
def areas() -> dict[str, Any]:
    """Return every compliance area as a GeoJSON FeatureCollection."""
    return areas_geojson(services.list_compliance_areas(app_context().store))


@endpoint(bp, "/api/compliance-areas", "POST",
          summary="Import compliance areas from GeoJSON (all or nothing; audited)",
          roles=EDITORS, body=schemas.ComplianceAreasImport, status=201, errors=(409,))
def import_areas(body: schemas.ComplianceAreasImport) -> dict[str, Any]:
    """Store the areas (``replace``: instead of those held); 400 / 409, nothing written."""
    ctx = app_context()
    return areas_geojson(services.import_compliance_areas(
        ctx.store, ctx.graph, body.geojson, actor=actor(), replace=body.replace))


@endpoint(bp, "/api/compliance-areas/<area_id>", "DELETE",
          summary="Delete a compliance area (audited)", roles=EDITORS, errors=(404,))
def delete_area(area_id: str) -> dict[str, Any]:
    """Delete one area; its incidents count in the next smallest area containing them."""
    return area_dict(services.delete_compliance_area(app_context().store, area_id=area_id,
                                                     actor=actor()))
