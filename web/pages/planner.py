"""The planner's coverage view: travel time, people covered, gaps, scenarios, new sites.

Each API view parses its request, calls one :mod:`navigator.services.planning` (or
:mod:`navigator.services.isochrones`) function, which writes the audit entry, and renders.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, render_template

from navigator.demo.city import demo_city
from navigator.jsonsafe import feature_collection
from navigator.maps.coverage import EXPORT_FORMATS, export_layers
from navigator.model import BedType, FacilityKind, ResourceKind, Role
from navigator.services import new_sites, planning
from navigator.services.isochrones import reachable_areas
from web import schemas
from web.access import actor, require
from web.context import app_context
from web.openapi import endpoint
from web.render import FEATURE_COLLECTION, base_map, closures_info, embed_map

if TYPE_CHECKING:
    import geopandas as gpd

    from navigator.decide.coverage import PopulationCoverage
    from navigator.services.reports import Demand

bp = Blueprint("planner", __name__)
ROLES = (Role.PLANNER,)
#: Gaps are dissolved block groups: simplify their outlines for the page (degrees, ~10 m).
SIMPLIFY_DEG = 1e-4
#: HiGHS time limit of a recommendation, seconds (the web answer must stay quick).
SOLVE_LIMIT_S = 5.0


def demand() -> Demand:
    """Return the population demand, loaded and snapped once per app process."""
    ctx = app_context()
    return ctx.cached("demand", lambda: planning.load_demand(ctx.graph, ctx.settings))


def _scenario(body: schemas.Scenario) -> dict[str, Any]:
    """Return the service arguments every planner request shares."""
    return {"actor": actor(), "kind": body.kind, "at": body.at, "bed_type": body.bed_type,
            "free_beds": body.free_beds, "closed": tuple(body.closed), "demand": demand()}


def _targets_s(body: schemas.CoverageRequest | schemas.CompareRequest) -> list[float]:
    return sorted({t * 60.0 for t in body.targets_min})


def _unit_name() -> str:
    """Return what the region's population units are called (block groups, census tracts)."""
    return demo_city(app_context().settings).unit_name


def _clip_note(d: Demand) -> str:
    p = d.population
    if not p.clipped_units:
        return f"No {_unit_name()} lie outside the road network area"
    return (f"{p.clipped_units} {_unit_name()} ({p.clipped_people:,.0f} people) outside the road "
            "network area are excluded")


def _table(cov: PopulationCoverage) -> list[dict[str, Any]]:
    total = cov.total_people
    return [{"target_min": float(t) / 60.0, "people_covered": float(c),
             "people_uncovered": float(u), "share_covered": float(s),
             "share_uncovered": float(u) / total if total else None}
            for t, c, u, s in zip(cov.targets_s, cov.people_covered, cov.people_uncovered,
                                  cov.share_covered, strict=True)]






def _polygons(gdf: gpd.GeoDataFrame, *, bbox: bool = False) -> dict[str, Any]:
    """Return gap or change polygons for the page: outlines simplified, optional bboxes."""
    return feature_collection(gdf, id_column=None, simplify_deg=SIMPLIFY_DEG, bbox=bbox)


def _points(gdf: gpd.GeoDataFrame) -> dict[str, Any]:
    """Return facility points (``id``, ``name``, ``kind``) for the page."""
    cols = [c for c in ("id", "name", "kind") if c in gdf.columns]
    return feature_collection(gdf[[*cols, gdf.geometry.name]].assign(
        id=gdf["id"].astype(str), name=gdf["name"].astype(str),
        kind=gdf["kind"].astype(str) if "kind" in gdf.columns else "new_site"))


@bp.get("/coverage")
@require(*ROLES)
def page() -> str:
    """Show the coverage view."""
    return render_template("coverage.html",
                           map=embed_map(base_map(include_confidential=False)),
                           kinds=[k.value for k in FacilityKind],
                           site_kinds=[k.value for k in ResourceKind],
                           bed_types=[b.value for b in BedType])



@endpoint(bp, "/api/coverage", "POST",
          summary="Travel time to the nearest facility (H3 hexes), people covered per target, "
                  "gaps beyond the target ranked by people",
          roles=ROLES, body=schemas.CoverageRequest, errors=(422,), response=FEATURE_COLLECTION)
def coverage(body: schemas.CoverageRequest) -> dict[str, Any]:
    """Return hexes by minimum travel time, population figures and ranked gaps."""
    ctx = app_context()
    graph = ctx.roads()
    found = planning.assess_coverage(ctx.store, graph, ctx.settings, **_scenario(body),
                                     targets_s=_targets_s(body), hex_resolution=body.resolution,
                                     gap_target_s=body.target_min * 60.0)
    cov, d = found.report.coverage, found.demand
    population = {
        "targets": _table(cov), "total_people": cov.total_people,
        "people_unreachable": cov.people_unreachable, "mean_time_s": cov.mean_time_s,
        "units": len(d.people), "unit_name": _unit_name(),
        "clipped_units": d.population.clipped_units,
        "clipped_people": d.population.clipped_people, "clip_note": _clip_note(d),
    }
    return closures_info({
        **feature_collection(found.gap_hexes().drop(columns=["h3"], errors="ignore")),
        "summary": found.summary(), "population": population,
        "gaps": _polygons(found.report.gaps.head(body.max_gaps), bbox=True),
        "facilities": _points(found.facilities)}, graph)


#: Layers each export format holds (a GeoJSON or CSV file holds one).
EXPORT_LAYERS = {"gpkg": ("hexes", "units", "gaps", "facilities"), "geojson": ("hexes",),
                 "csv": ("units",)}


@endpoint(bp, "/api/coverage/export", "POST",
          summary="The coverage of a scenario as a file to download: GeoPackage (hexes, block "
                  "groups, gaps, facilities), GeoJSON (hexes) or CSV (block groups)",
          roles=ROLES, body=schemas.CoverageExportRequest, errors=(422,),
          files=tuple(media for _, media in EXPORT_FORMATS.values()))
def coverage_export(body: schemas.CoverageExportRequest) -> Response:
    """Return the coverage layers as a GeoPackage, GeoJSON or CSV attachment."""
    import tempfile
    from pathlib import Path

    ctx = app_context()
    found = planning.assess_coverage(ctx.store, ctx.roads(), ctx.settings, **_scenario(body),
                                     targets_s=_targets_s(body), hex_resolution=body.resolution,
                                     gap_target_s=body.target_min * 60.0)
    layers = found.layers()
    suffix, media = EXPORT_FORMATS[body.format]
    name = f"coverage-{found.kind}-{body.target_min:g}min{suffix}"
    with tempfile.TemporaryDirectory() as tmp:
        path = export_layers({k: layers[k] for k in EXPORT_LAYERS[body.format]},
                             Path(tmp) / name)
        data = path.read_bytes()
    return Response(data, mimetype=media,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@endpoint(bp, "/api/coverage/compare", "POST",
          summary="A scenario against its baseline: facilities closed or bases added; people "
                  "newly covered and uncovered, and the change per block group",
          roles=ROLES, body=schemas.CompareRequest, errors=(422,), response=FEATURE_COLLECTION)
def compare(body: schemas.CompareRequest) -> dict[str, Any]:
    """Return people gained and lost per target and the units whose time changed (b - a)."""
    ctx = app_context()
    roads = ctx.roads()
    change = planning.compare_coverage(ctx.store, ctx.graph if body.closures else roads,
                                       ctx.settings, **_scenario(body), close=tuple(body.close),
                                       added=[(p.lon, p.lat) for p in body.add],
                                       targets_s=_targets_s(body), scenario_graph=roads)
    moved = change.changed_units()
    return closures_info({
        **_polygons(moved[["unit_id", "population", "delta_s", "geometry"]]),
        "targets": change.rows(), "closed": list(body.close), "added": _points(change.added),
        "facilities_before": len(change.base.facilities),
        "facilities_after": len(change.scenario.facilities),
        "closures_compared": body.closures,
        "units_losing_coverage": change.units_losing(),
        "notes": [*change.scenario.notes, _clip_note(change.demand)]}, roads)


@endpoint(bp, "/api/coverage/recommend", "POST",
          summary="Recommend k new sites among public facilities (MCLP by default), with "
                  "people covered before and after and the greedy baseline",
          roles=ROLES, body=schemas.RecommendRequest, errors=(422,))
def recommend(body: schemas.RecommendRequest) -> dict[str, Any]:
    """Return the chosen sites, people covered within the target before/after, and greedy's."""
    ctx = app_context()
    graph = ctx.roads()
    plan = new_sites.recommend_new_sites(
        ctx.store, graph, ctx.settings, **_scenario(body), candidate_kinds=body.candidates,
        k=body.k, target_s=body.target_min * 60.0, model=body.model, busy=body.busy,
        busy_from=body.busy_from,
        busy_policy=None if body.busy_policy is None else body.busy_policy.value,
        time_limit_s=SOLVE_LIMIT_S, solve_when_covered=True)
    summary = plan.summary()
    return closures_info({**summary, "notes": [*summary["notes"], _clip_note(demand())],
                          "sites": _points(plan.sites),
                          "greedy_sites": _points(plan.greedy_sites)}, graph)


@endpoint(bp, "/api/isochrone", "POST",
          summary="Areas reachable from (or reaching) a point within given minutes",
          roles=(*ROLES, "dispatcher"), body=schemas.IsochroneRequest, errors=(422,))
def isochrone(body: schemas.IsochroneRequest) -> dict[str, Any]:
    """Return one polygon per time limit (largest first), EPSG:4326."""
    ctx = app_context()
    graph = ctx.roads()
    found = reachable_areas(ctx.store, graph, ctx.settings, actor=actor(),
                            limits_s=[m * 60.0 for m in body.minutes], lon=body.lon,
                            lat=body.lat, direction=body.direction)
    return closures_info(found.to_geojson(), graph, ((body.lon, body.lat),))
