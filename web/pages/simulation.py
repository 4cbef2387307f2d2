"""The planner's dispatch-policy simulator: a page comparing policies, and its API.

The API view parses its request, calls :func:`navigator.services.simulation.simulate_policies`
(which writes the audit entry) and renders the comparison, with one grid cell per area for
the difference map; the page draws everything from that JSON as text.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from navigator.decide.sim_stream import shifts_from_rows
from navigator.jsonsafe import feature_collection
from navigator.maps.simulation import CHANGE_COLOURS, area_cells
from navigator.model import DispatchPolicy, Role
from navigator.services import planning
from navigator.services.simulation import simulate_policies
from web import schemas
from web.access import actor, require
from web.context import app_context
from web.openapi import endpoint
from web.render import base_map, closures_info, embed_map

bp = Blueprint("simulation", __name__)
ROLES = (Role.PLANNER,)


@bp.get("/planner/simulate")
@require(*ROLES)
def page() -> str:
    """Show the dispatch-policy simulator."""
    return render_template("simulate.html", map=embed_map(base_map(resources=False)),
                           policies=[p.value for p in DispatchPolicy],
                           change_colours=CHANGE_COLOURS)


@endpoint(bp, "/api/planner/simulate", "POST",
          summary="Compare dispatch policies on a synthetic or imported call stream: response "
                  "times by priority and area, share within target, utilisation, waits",
          roles=ROLES, body=schemas.SimulateRequest, errors=(422,))
def simulate(body: schemas.SimulateRequest) -> dict[str, Any]:
    """Return each policy's figures, the CDF and utilisation plots' data, and area cells."""
    ctx = app_context()
    demand = ctx.cached("demand", lambda: planning.load_demand(ctx.graph, ctx.settings))
    shifts = None if body.shifts is None else shifts_from_rows(
        [(s.name, s.start_h, s.end_h, s.teams) for s in body.shifts])
    roads = ctx.roads()
    run = simulate_policies(
        ctx.store, roads, ctx.settings, actor=actor(), policies=list(body.policies),
        days=body.days, calls_per_day=body.calls_per_day, seed=body.seed,
        incidents="upload.csv" if body.incidents_csv is not None else None,
        incidents_text=body.incidents_csv, teams=body.teams, shifts=shifts,
        target_s=body.target_min * 60.0, slack_s=body.slack_min * 60.0,
        batch_every_s=body.batch_every_min * 60.0, demand=demand)
    summary = run.summary()
    for p in summary["policies"]:
        p.pop("by_area")  # the cells carry them
    return closures_info({**summary, "areas": feature_collection(area_cells(run), id_column=None)},
                         roads)
