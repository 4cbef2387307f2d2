"""What every role uses: roads basemap, health, API document, session, resources, hotlines."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Blueprint, g, jsonify
from flask_wtf.csrf import generate_csrf

from navigator import maps, services
from navigator.jsonsafe import feature_collection, json_safe
from web import schemas
from web.access import ANY_ROLE, actor, can_see_confidential, require
from web.context import app_context
from web.openapi import endpoint, openapi_document
from web.render import (
    FEATURE_COLLECTION,
)

if TYPE_CHECKING:
    from flask import Response

bp = Blueprint("shared", __name__)


@bp.get("/roads.geojson")
@require(*ANY_ROLE)
def roads() -> Response:
    """Return the road network basemap (GeoJSON, EPSG:4326)."""
    response = jsonify(maps.roads_geojson(app_context().graph))
    response.cache_control.max_age = 3600
    response.cache_control.private = True
    return response

@bp.get("/api/health")
def health() -> tuple[Response, int]:
    """Return whether the store answers, and the loaded network's size (no login needed).

    503 with ``"status": "store unavailable"`` while the store does not answer (within about
    a second), so a load balancer takes the worker out until it does.
    """
    ctx = app_context()
    up = ctx.store.ping()
    graph = ctx.graph
    return jsonify({"status": "ok" if up else "store unavailable", "store": up,
                    "nodes": graph.n_nodes, "edges": graph.n_road_edges}), 200 if up else 503

@bp.get("/openapi.json")
def openapi() -> Response:
    """Return the OpenAPI 3.1 document of the REST API."""
    return jsonify(openapi_document())


@endpoint(bp, "/api/me", summary="Who is logged in, and their role", roles=ANY_ROLE)
def me() -> dict[str, Any]:
    """Return the logged-in user."""
    return {"username": g.user.username, "role": g.user.role,
            "can_see_confidential": can_see_confidential()}

@endpoint(bp, "/api/csrf", summary="CSRF token for the X-CSRFToken header", roles=ANY_ROLE)
def csrf_token() -> dict[str, Any]:
    """Return the session's CSRF token."""
    return {"csrf_token": generate_csrf()}

@endpoint(bp, "/api/resources", summary="Resources as GeoJSON (confidential sites: admin only)",
          roles=ANY_ROLE, query=schemas.ResourceQuery, response=FEATURE_COLLECTION)
def resources(query: schemas.ResourceQuery) -> dict[str, Any]:
    """Return resources with free beds per type; confidential sites only for admins."""
    store = app_context().store
    gdf = store.resources(kinds=[query.kind] if query.kind else None,
                          include_confidential=can_see_confidential())
    beds = store.beds(gdf["id"].tolist())
    by_id: dict[str, dict[str, Any]] = {}
    for b in beds.itertuples(index=False):
        by_id.setdefault(b.resource_id, {})[str(b.bed_type)] = {"free": int(b.free),
                                                                "capacity": int(b.capacity)}
    surge = store.surge_sites()
    fc = feature_collection(gdf)
    for f in fc["features"]:
        f["properties"]["beds"] = by_id.get(f["id"], {})
        if f["id"] in surge:  # surge shelters say whether they are active (maps hide others)
            site = surge[f["id"]]
            f["properties"]["surge"] = {"active": site.active, "opens_at": json_safe(
                site.opens_at)}
    return fc

@endpoint(bp, "/api/geocode", summary="Candidate points for a street address (offline)",
          roles=ANY_ROLE, query=schemas.GeocodeQuery)
def geocode(query: schemas.GeocodeQuery) -> dict[str, Any]:
    """Return candidate points for an address in the region's OSM extract, best first."""
    found = services.find_places(app_context().settings, query.q, limit=query.limit)
    return {"candidates": [{"lon": m.lon, "lat": m.lat, "score": m.score,
                            "matched": m.matched, "method": m.method} for m in found]}


@endpoint(bp, "/api/hotlines", summary="Hotlines serving a place now (988 always last)",
          roles=("caseworker", "dispatcher"), query=schemas.HotlineQuery)
def hotlines(query: schemas.HotlineQuery) -> dict[str, Any]:
    """Return the hotlines serving a place now."""
    ctx = app_context()
    found = services.hotlines_for(ctx.store, ctx.settings, lon=query.lon, lat=query.lat,
                                  language=query.language, channel=query.channel,
                                  actor=actor(), crisis=query.crisis)
    return {"hotlines": [h.to_dict() for h in found]}
