"""The planner's evacuation view: a zone (drawn or uploaded) placed into open shelters.

Each API view parses its request, calls one service function (which writes the audit entry)
and renders: :func:`navigator.services.evacuation.plan_evacuation` for placements,
:func:`navigator.services.surge.set_surge_shelter` for an admin's activation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, render_template

from navigator.jsonsafe import json_safe
from navigator.model import SURGE_NEEDS, Role
from navigator.services.evacuation import EvacuationPlan, plan_evacuation
from navigator.services.planning import load_demand
from navigator.services.surge import set_surge_shelter, surge_shelters
from web import schemas
from web.access import actor, require
from web.context import app_context
from web.openapi import endpoint

if TYPE_CHECKING:
    from navigator.roads import TravelGraph
from web.render import base_map, closures_info, embed_map

bp = Blueprint("evacuation", __name__)
ROLES = (Role.PLANNER,)
#: Assignment rows returned to the page (the CSV export has all of them).
MAX_ROWS = 2000


def _plan(body: schemas.EvacuationRequest) -> tuple[EvacuationPlan, TravelGraph]:
    """Return the placement, routed on the network with the road closures in force."""
    ctx = app_context()
    roads = ctx.roads()
    methods = ("optimal", "greedy") if body.method == "both" else (body.method,)
    demand = None
    if body.zone is not None:
        demand = ctx.cached("demand", lambda: load_demand(ctx.graph, ctx.settings))
    plan = plan_evacuation(ctx.store, roads, ctx.settings, actor=actor(), zone=body.zone,
                           households=body.households_csv, demand=demand,
                           shares=body.shares, methods=methods)  # type: ignore[arg-type]
    return plan, roads


@bp.get("/planner/evacuation")
@require(*ROLES)
def page() -> str:
    """Show the evacuation view: draw or upload a zone, place its people, see the result."""
    return render_template("evacuation.html", map=embed_map(base_map(include_confidential=False)),
                           needs=[n.value for n in SURGE_NEEDS])


@endpoint(bp, "/api/planner/evacuation", "POST",
          summary="Place an evacuation zone's people (or households) into open shelters by "
                  "road time: optimal (HiGHS) and the greedy baseline",
          roles=ROLES, body=schemas.EvacuationRequest, errors=(422,))
def evacuation(body: schemas.EvacuationRequest) -> dict[str, Any]:
    """Return the figures per method, shelter loads and assignment rows."""
    plan, roads = _plan(body)
    methods = list(plan.placements)
    rows = plan.assignments(methods[0])
    return closures_info({"summary": plan.summary(),
                          "shelters": {m: plan.shelter_loads(m) for m in methods},
                          "assignments": json_safe(rows[:MAX_ROWS]),
                          "assignments_total": len(rows)}, roads)


@endpoint(bp, "/api/planner/evacuation/export", "POST",
          summary="The placement as CSV (every method, every group and shelter used)",
          roles=ROLES, body=schemas.EvacuationRequest, errors=(422,), files=("text/csv",))
def evacuation_export(body: schemas.EvacuationRequest) -> Response:
    """Return the assignments as a CSV attachment (formula-like cells neutralised)."""
    return Response(_plan(body)[0].to_csv(), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="evacuation.csv"'})


@endpoint(bp, "/api/surge-shelters", summary="Surge shelters: active or not, free spaces by need",
          roles=(*ROLES, Role.DISPATCHER))
def surge_list() -> dict[str, Any]:
    """Return every surge shelter with its activation and free spaces by need."""
    found = surge_shelters(app_context().store)
    cols = ["id", "name", "active", "opens_at", "note", *(f"free_{n.value}" for n in SURGE_NEEDS)]
    rows = found[cols].assign(lon=found.geometry.x, lat=found.geometry.y)
    return {"shelters": json_safe(rows.to_dict(orient="records"))}


@endpoint(bp, "/api/resources/<resource_id>/activate", "POST",
          summary="Activate a surge (evacuation) shelter (admin); audited", roles=(),
          body=schemas.SurgeActivation, errors=(404, 409))
def activate(resource_id: str, body: schemas.SurgeActivation) -> dict[str, Any]:
    """Open a surge shelter for evacuees from ``opens_at`` (default now)."""
    site = set_surge_shelter(app_context().store, resource_id=resource_id, active=True,
                             actor=actor(), opens_at=body.opens_at, note=body.note)
    return json_safe(site)  # type: ignore[no-any-return]


@endpoint(bp, "/api/resources/<resource_id>/deactivate", "POST",
          summary="Deactivate a surge (evacuation) shelter (admin); audited", roles=(),
          body=schemas.SurgeDeactivation, errors=(404, 409))
def deactivate(resource_id: str, body: schemas.SurgeDeactivation) -> dict[str, Any]:
    """Close a surge shelter to evacuees (hidden from the maps)."""
    site = set_surge_shelter(app_context().store, resource_id=resource_id, active=False,
                             actor=actor(), note=body.note)
    return json_safe(site)  # type: ignore[no-any-return]
