"""Pages and read-only JSON shared by every role: overview map, roads basemap, resources."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, render_template

bp = Blueprint("views", __name__)


def _nav() -> dict[str, Any]:
    return current_app.extensions["navigator"]


@bp.get("/")
def index():  # type: ignore[no-untyped-def]
    """Show the overview map of the loaded city."""
    from navigator import planner

    nav = _nav()
    m = planner.overview_map(nav["store"], nav["graph"], asset_url="/static/vendor",
                             roads_url="/roads.geojson", settings=nav["settings"])
    return render_template("index.html", map_html=m.get_root().render(),
                           counts=nav["store"].counts())


@bp.get("/roads.geojson")
def roads():  # type: ignore[no-untyped-def]
    """Return the road network basemap (GeoJSON, EPSG:4326)."""
    from navigator import planner

    response = jsonify(planner.roads_geojson(_nav()["graph"]))
    response.cache_control.max_age = 3600
    return response


@bp.get("/api/health")
def health():  # type: ignore[no-untyped-def]
    """Return liveness and what is loaded."""
    nav = _nav()
    graph = nav["graph"]
    return jsonify({"status": "ok", "nodes": graph.n_nodes, "edges": graph.n_edges,
                    "counts": nav["store"].counts()})


@bp.get("/api/resources")
def resources():  # type: ignore[no-untyped-def]
    """Return public resources as an RFC 7946 FeatureCollection (no confidential sites)."""
    from navigator.maps import feature_collection

    gdf = _nav()["store"].resources(include_confidential=False)
    return jsonify(feature_collection(gdf))
