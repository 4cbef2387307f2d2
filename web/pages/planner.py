"""The planner's coverage view: travel time, people covered, gaps, scenarios, new sites."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, get_args

import numpy as np
from flask import Blueprint, render_template

from navigator.maps import feature_collection
from navigator.model import BedType
from navigator.services import planner as coverage_service
from web import schemas
from web.access import actor, require
from web.context import app_context
from web.openapi import endpoint
from web.render import (
    FEATURE_COLLECTION,
    base_map,
    embed_map,
    plain,
)

if TYPE_CHECKING:
    import geopandas as gpd

    from navigator.decide.coverage import PopulationCoverage
    from navigator.services.planner import Demand, FacilityRun

bp = Blueprint("planner", __name__)
ROLES = ("planner",)


#: The shipped population layer and what its units are called on the page.
POPULATION_FILE = ("population", "franklin_bg2010_population.gpkg")

UNIT_NAME = "block groups"

#: Gaps are dissolved block groups: simplify their outlines for the page (degrees, ~10 m).
SIMPLIFY_DEG = 1e-4

#: HiGHS time limit of a recommendation, seconds (the web answer must stay quick).
SOLVE_LIMIT_S = 5.0


def demand() -> Demand:
    """Return the population demand, loaded and snapped once per app process."""
    ctx = app_context()
    path = ctx.settings.data_dir.joinpath(*POPULATION_FILE)
    return ctx.cached("demand", lambda: coverage_service.demand_units(ctx.graph, path))


def _clip_note(d: Demand) -> str:
    p = d.population
    if not p.clipped_units:
        return f"No {UNIT_NAME} lie outside the road network area"
    return (f"{p.clipped_units} {UNIT_NAME} ({p.clipped_people:,.0f} people) outside the road "
            "network area are excluded")

def _scenario(body: schemas.Scenario, *, closed: tuple[str, ...] = (),
              added: gpd.GeoDataFrame | None = None, label: str = "") -> FacilityRun:
    ctx = app_context()
    return coverage_service.facility_surface(
        ctx.store, ctx.graph, kind=body.kind, at=body.at, bed_type=body.bed_type,
        free_beds=body.free_beds, closed=(*body.closed, *closed), added=added,
        label=label or body.kind)

def _table(cov: PopulationCoverage) -> list[dict[str, Any]]:
    total = cov.total_people
    return [{"target_min": float(t) / 60.0, "people_covered": float(c),
             "people_uncovered": float(u), "share_covered": float(s),
             "share_uncovered": float(u) / total if total else None}
            for t, c, u, s in zip(cov.targets_s, cov.people_covered, cov.people_uncovered,
                                  cov.share_covered, strict=True)]

def _polygons(gdf: gpd.GeoDataFrame, *, bbox: bool = False) -> dict[str, Any]:
    """Return polygons as an RFC 7946 FeatureCollection (inf/NaN as null, optional bbox)."""
    import shapely

    out = []
    cols = [c for c in gdf.columns if c != "geometry"]
    for row in gdf.itertuples(index=False):
        geom = row.geometry.simplify(SIMPLIFY_DEG)
        f: dict[str, Any] = {"type": "Feature",
                             "geometry": shapely.geometry.mapping(geom),
                             "properties": {c: plain(getattr(row, c)) for c in cols}}
        if bbox:
            f["bbox"] = [float(v) for v in geom.bounds]
        out.append(f)
    return {"type": "FeatureCollection", "features": out}

def _points(gdf: gpd.GeoDataFrame) -> dict[str, Any]:
    """Return facility points (id, name, kind) as an RFC 7946 FeatureCollection."""
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": str(r.id),
         "geometry": {"type": "Point", "coordinates": [float(r.geometry.x), float(r.geometry.y)]},
         "properties": {"id": str(r.id), "name": str(r.name),
                        "kind": str(getattr(r, "kind", "new_site"))}}
        for r in gdf.to_crs(4326).itertuples()]}

@bp.get("/coverage")
@require(*ROLES)
def page() -> str:
    """Show the coverage view."""
    return render_template("coverage.html",
                           map=embed_map(base_map(include_confidential=False)),
                           kinds=list(get_args(schemas.FacilityKind)),
                           site_kinds=list(get_args(schemas.SiteKind)),
                           bed_types=[b.value for b in BedType])

@endpoint(bp, "/api/coverage", "POST",
          summary="Travel time to the nearest facility (H3 hexes), people covered per target, "
                  "gaps beyond the target ranked by people",
          roles=ROLES, body=schemas.CoverageRequest, errors=(422,), response=FEATURE_COLLECTION)
def coverage(body: schemas.CoverageRequest) -> dict[str, Any]:
    """Return hexes by minimum travel time, population figures and ranked gaps."""
    ctx = app_context()
    store, graph = ctx.store, ctx.graph
    d = demand()
    run = _scenario(body)
    target_s = body.target_min * 60.0
    report = coverage_service.coverage_report(
        graph, run, d, targets_s=sorted({t * 60.0 for t in body.targets_min}),
        hex_resolution=body.resolution, gap_target_s=target_s)
    hexes = report.hexes.assign(gap=~(report.hexes["min_time_s"] <= target_s))
    t = run.surface.time_s
    finite = t[np.isfinite(t)]
    cov = report.coverage
    summary = {
        "kind": body.kind, "facilities": len(run.facilities), "target_s": target_s,
        "share_of_roads_within_target": float(np.mean(t <= target_s)) if t.size else None,
        "median_time_s": float(np.median(finite)) if finite.size else None,
        "max_time_s": float(finite.max()) if finite.size else None,
        "unreachable_share": float(np.mean(~np.isfinite(t))) if t.size else None,
        "gap_hexes": int(hexes["gap"].sum()), "hexes": len(hexes),
        "gaps": len(report.gaps),
        "people_beyond_target": float(report.gaps["people_uncovered"].sum()),
        "notes": list(report.notes),
    }
    population = {
        "targets": _table(cov), "total_people": cov.total_people,
        "people_unreachable": cov.people_unreachable, "mean_time_s": cov.mean_time_s,
        "units": len(d.people), "unit_name": UNIT_NAME,
        "clipped_units": d.population.clipped_units,
        "clipped_people": d.population.clipped_people, "clip_note": _clip_note(d),
    }
    store.record("coverage_view", actor=actor(), inputs=body.model_dump(mode="json"),
                 result={"facilities": summary["facilities"], "gaps": summary["gaps"],
                         "people_beyond_target": summary["people_beyond_target"]})
    return {**feature_collection(hexes.drop(columns=["h3"], errors="ignore")),
            "summary": summary, "population": population,
            "gaps": _polygons(report.gaps.head(body.max_gaps), bbox=True),
            "facilities": _points(run.facilities)}

@endpoint(bp, "/api/coverage/compare", "POST",
          summary="A scenario against its baseline: facilities closed or bases added; people "
                  "newly covered and uncovered, and the change per block group",
          roles=ROLES, body=schemas.CompareRequest, errors=(422,), response=FEATURE_COLLECTION)
def compare(body: schemas.CompareRequest) -> dict[str, Any]:
    """Return people gained and lost per target and the units whose time changed (b - a)."""
    import geopandas as gpd

    ctx = app_context()
    d = demand()
    base = _scenario(body, label="baseline")
    added = None
    if body.add:
        added = gpd.GeoDataFrame(
            {"id": [f"new-{i + 1}" for i in range(len(body.add))],
             "name": [f"New base {i + 1}" for i in range(len(body.add))]},
            geometry=gpd.points_from_xy([p.lon for p in body.add], [p.lat for p in body.add]),
            crs=4326)
    changed = _scenario(body, closed=tuple(body.close), added=added, label="scenario")
    cmp, units = coverage_service.compare(base, changed, d,
                                          targets_s=sorted({t * 60.0 for t in body.targets_min}))
    gained, lost = cmp.people_newly_covered, cmp.people_newly_uncovered
    if cmp.coverage_a is None or cmp.coverage_b is None or gained is None or lost is None:
        msg = "comparison without population units"  # compare always passes units
        raise RuntimeError(msg)
    delta = units["delta_s"].to_numpy(dtype=float)
    moved = units[np.abs(np.nan_to_num(delta, nan=0.0, posinf=1e9, neginf=-1e9)) > 1.0]
    rows = [{"target_min": a["target_min"], "covered_before": a["people_covered"],
             "covered_after": b["people_covered"], "newly_covered": float(nc),
             "newly_uncovered": float(nu)}
            for a, b, nc, nu in zip(_table(cmp.coverage_a), _table(cmp.coverage_b), gained,
                                    lost, strict=True)]
    inputs = body.model_dump(mode="json")
    ctx.store.record("coverage_compare", actor=actor(), inputs=inputs,
                      result={"targets": rows})
    return {**_polygons(moved[["unit_id", "population", "delta_s", "geometry"]]),
            "targets": rows, "closed": list(body.close),
            "added": _points(added) if added is not None else {"type": "FeatureCollection",
                                                                "features": []},
            "facilities_before": len(base.facilities),
            "facilities_after": len(changed.facilities),
            "notes": [*changed.notes, _clip_note(d)]}

@endpoint(bp, "/api/coverage/recommend", "POST",
          summary="Recommend k new sites among public facilities (MCLP by default), with "
                  "people covered before and after and the greedy baseline",
          roles=ROLES, body=schemas.RecommendRequest, errors=(422,))
def recommend(body: schemas.RecommendRequest) -> dict[str, Any]:
    """Return the chosen sites, people covered within the target before/after, and greedy's."""
    ctx = app_context()
    graph = ctx.graph
    d = demand()
    run = _scenario(body)
    target_s = body.target_min * 60.0
    cand = coverage_service.candidate_sites(ctx.store, kinds=body.candidates,
                                            exclude=set(run.facilities["id"]))
    direction = coverage_service.FACILITY_KINDS[body.kind][1]
    rec = coverage_service.recommend_sites(graph, d, cand, k=body.k, target_s=target_s,
                                           model=body.model, existing=run.facilities,
                                           direction=direction, time_limit_s=SOLVE_LIMIT_S)

    def covered(sites: gpd.GeoDataFrame) -> float:
        after = run if sites.empty else _scenario(body, added=sites[["id", "name", "geometry"]])
        return float(coverage_service.people_covered(graph, after, d,
                                                     targets_s=[target_s]).people_covered[0])

    before = float(coverage_service.people_covered(graph, run, d,
                                                   targets_s=[target_s]).people_covered[0])
    a = rec.allocation
    result = {
        "model": body.model, "k": body.k, "target_min": body.target_min,
        "candidates": len(cand), "existing": len(run.facilities),
        "total_people": float(d.people.sum()),
        "people_covered_before": before, "people_covered_after": covered(rec.sites),
        "greedy_people_covered": covered(rec.greedy_sites),
        "objective": a.objective, "greedy_objective": a.greedy_objective, "gap": a.gap,
        "status": a.status, "solve_time_s": a.solve_time_s,
        "notes": [*run.notes, *rec.notes, _clip_note(d)],
    }
    ctx.store.record("coverage_recommend", actor=actor(), inputs=body.model_dump(mode="json"),
                      result={k: v for k, v in result.items() if k != "notes"}
                      | {"sites": [str(i) for i in rec.sites["id"]]})
    return {**result, "sites": _points(rec.sites), "greedy_sites": _points(rec.greedy_sites)}

@endpoint(bp, "/api/isochrone", "POST",
          summary="Areas reachable from (or reaching) a point within given minutes",
          roles=(*ROLES, "dispatcher"), body=schemas.IsochroneRequest, errors=(422,))
def isochrone(body: schemas.IsochroneRequest) -> dict[str, Any]:
    """Return one polygon per time limit (largest first), EPSG:4326."""
    import shapely

    from navigator.roads import isochrone as reach
    from navigator.roads import snap

    ctx = app_context()
    graph = ctx.graph
    node = int(snap(graph, body.lon, body.lat, max_snap_m=ctx.settings.max_snap_m).node[0])
    feats = []
    for minutes in sorted(set(body.minutes), reverse=True):
        iso = reach(graph, node, minutes * 60.0, direction=body.direction)
        if iso.polygon is None or iso.polygon.is_empty:
            continue
        feats.append({"type": "Feature", "geometry": shapely.geometry.mapping(iso.polygon),
                      "properties": {"minutes": minutes, "nodes": int(iso.nodes.size)}})
    return {"type": "FeatureCollection", "features": feats}
