"""Pages shared by roles (admin overview), the roads basemap, health, and map embedding."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from branca.element import MacroElement
from flask import Blueprint, current_app, g, jsonify, render_template
from jinja2 import Template
from markupsafe import Markup

from web.auth import ANY_ROLE, require

if TYPE_CHECKING:
    import folium
    from flask import Response

bp = Blueprint("views", __name__)
_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)>")


def nav() -> dict[str, Any]:
    """Return the app's settings, graph and store."""
    return current_app.extensions["navigator"]


class _ExposeMap(MacroElement):
    """Makes the folium map reachable from the page's own scripts as ``window.navMap``."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        window.navMap = {{ this._parent.get_name() }};
        document.dispatchEvent(new CustomEvent("navmap:ready"));
        {% endmacro %}
    """)


def embed_map(m: folium.Map) -> dict[str, Markup]:
    """Return a folium map as ``header``, ``html`` and ``script`` parts for a page.

    Inline scripts get this request's CSP nonce; ``window.navMap`` is the Leaflet map.
    """
    _ExposeMap().add_to(m)
    root: Any = m.get_root()  # a branca Figure (header/html/script), typed as Element
    root.render()
    nonce = g.get("csp_nonce", "")
    header = _INLINE_SCRIPT.sub(f'<script nonce="{nonce}">', root.header.render())
    return {"header": Markup(header), "html": Markup(root.html.render()),
            "script": Markup(f'<script nonce="{nonce}">{root.script.render()}</script>')}


def base_map(*, include_confidential: bool = False, resources: bool = True) -> folium.Map:
    """Return the city map (roads, resources, legend) that role pages draw on."""
    from navigator import maps, planner

    n = nav()
    store, graph = n["store"], n["graph"]
    bounds = (float(graph.lon.min()), float(graph.lat.min()), float(graph.lon.max()),
              float(graph.lat.max()))
    settings = n["settings"]
    m = maps.new_map(bounds, asset_url="/static/vendor", tile_url=settings.tile_url,
                     tile_attribution=settings.tile_attribution)
    maps.add_basemap(m, "/roads.geojson")
    if resources:
        res = store.resources(include_confidential=include_confidential)
        maps.add_resources(m, res, beds=store.beds(res["id"]))
    maps.add_legend(m, title="Navigator", synthetic_note=planner.SYNTHETIC_NOTE)
    return m


@bp.get("/admin")
@require()
def admin() -> str:
    """Show the admin overview: every resource (confidential sites too), users, audit."""
    from navigator import planner

    n = nav()
    m = planner.overview_map(n["store"], n["graph"], asset_url="/static/vendor",
                             roads_url="/roads.geojson", include_confidential=True,
                             settings=n["settings"])
    return render_template("admin.html", map=embed_map(m), counts=n["store"].counts(),
                           users=n["store"].users(), audit=n["store"].audit_log(limit=30))


@bp.get("/roads.geojson")
@require(*ANY_ROLE)
def roads() -> Response:
    """Return the road network basemap (GeoJSON, EPSG:4326)."""
    from navigator import planner

    response = jsonify(planner.roads_geojson(nav()["graph"]))
    response.cache_control.max_age = 3600
    response.cache_control.private = True
    return response


@bp.get("/api/health")
def health() -> Response:
    """Return liveness and the size of the loaded network (no login needed)."""
    graph = nav()["graph"]
    return jsonify({"status": "ok", "nodes": graph.n_nodes, "edges": graph.n_edges})


@bp.get("/openapi.json")
def openapi() -> Response:
    """Return the OpenAPI 3.1 document of the REST API."""
    from web.openapi import openapi_document

    return jsonify(openapi_document())
