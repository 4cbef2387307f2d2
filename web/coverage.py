"""Coverage view for planners: travel time to the nearest facility, gaps, isochrones."""

from __future__ import annotations

from typing import Any

import numpy as np
from flask import Blueprint, render_template

from navigator import coverage_service
from navigator.maps import feature_collection
from web import schemas
from web.auth import actor, require
from web.openapi import endpoint
from web.views import base_map, embed_map, nav

bp = Blueprint("coverage", __name__)
ROLES = ("planner",)


@bp.get("/coverage")
@require(*ROLES)
def page() -> str:
    """Show the coverage view."""
    return render_template("coverage.html",
                           map=embed_map(base_map(include_confidential=False)),
                           kinds=list(coverage_service.FACILITY_KINDS))


@endpoint(bp, "/api/coverage", "POST",
          summary="Travel time to the nearest facility (H3 hexes), gaps beyond the target",
          roles=ROLES, body=schemas.CoverageRequest)
def coverage(body: schemas.CoverageRequest) -> dict[str, Any]:
    """Return hexes coloured by minimum travel time, which are gaps, and summary figures."""
    from navigator.coverage import hex_surface  # coverage_service has no hex-only helper yet

    n = nav()
    store, graph = n["store"], n["graph"]
    run = coverage_service.facility_surface(store, graph, kind=body.kind,
                                            closed=tuple(body.closed), label=body.kind)
    target_s = body.target_min * 60.0
    hexes = hex_surface(graph, run.surface, resolution=body.resolution)
    hexes = hexes.assign(gap=~(hexes["min_time_s"] <= target_s))
    t = run.surface.time_s
    finite = t[np.isfinite(t)]
    summary = {
        "kind": body.kind, "facilities": len(run.facilities), "target_s": target_s,
        "share_of_roads_within_target": float(np.mean(t <= target_s)) if t.size else None,
        "median_time_s": float(np.median(finite)) if finite.size else None,
        "max_time_s": float(finite.max()) if finite.size else None,
        "unreachable_share": float(np.mean(~np.isfinite(t))) if t.size else None,
        "gap_hexes": int(hexes["gap"].sum()), "hexes": len(hexes),
        "notes": list(run.notes),
    }
    store.record("coverage_view", actor=actor(), inputs=body.model_dump(),
                 result={k: v for k, v in summary.items() if k != "notes"})
    return {**feature_collection(hexes.drop(columns=["h3"], errors="ignore")),
            "summary": summary}


@endpoint(bp, "/api/isochrone", "POST",
          summary="Areas reachable from (or reaching) a point within given minutes",
          roles=(*ROLES, "dispatcher"), body=schemas.IsochroneRequest, errors=(422,))
def isochrone(body: schemas.IsochroneRequest) -> dict[str, Any]:
    """Return one polygon per time limit (largest first), EPSG:4326."""
    import shapely

    from navigator.network import snap
    from navigator.routing import isochrone as reach

    n = nav()
    graph = n["graph"]
    node = int(snap(graph, body.lon, body.lat, max_snap_m=n["settings"].max_snap_m).node[0])
    feats = []
    for minutes in sorted(set(body.minutes), reverse=True):
        iso = reach(graph, node, minutes * 60.0, direction=body.direction)
        if iso.polygon is None or iso.polygon.is_empty:
            continue
        feats.append({"type": "Feature", "geometry": shapely.geometry.mapping(iso.polygon),
                      "properties": {"minutes": minutes, "nodes": int(iso.nodes.size)}})
    return {"type": "FeatureCollection", "features": feats}
