"""Pages shared by roles (admin overview), the roads basemap, health, and map embedding."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from branca.element import MacroElement
from flask import Blueprint, current_app, g, jsonify, render_template
from jinja2 import Template
from markupsafe import Markup

from navigator import maps
from web.auth import ANY_ROLE, require

if TYPE_CHECKING:
    import folium
    from flask import Response

bp = Blueprint("views", __name__)
_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)>")


def nav() -> dict[str, Any]:
    """Return the app's settings, graph and store."""
    return current_app.extensions["navigator"]


def area_tz() -> str:
    """Return the area's IANA time zone (from the road network's median node; cached)."""
    from navigator.roads import network_timezone

    return network_timezone(nav()["graph"])


def local_hhmm(value: Any) -> str | None:
    """Return an ISO 8601 moment (or datetime) as "HH:MM" in the area's time zone."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    if value is None or value == "":
        return None
    try:
        at = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        return None
    if at.tzinfo is None:
        return None
    return at.astimezone(ZoneInfo(area_tz())).strftime("%H:%M")


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


def focus_bounds(points_lon: Any, points_lat: Any, graph: Any) -> tuple[float, ...]:
    """Return ``(lon0, lat0, lon1, lat1)`` around where things are, not the whole network.

    The 2nd-98th percentiles of the given points (resources, teams), padded by a tenth; with
    no points, the dense middle (5th-95th percentiles) of the road network's nodes.
    """
    import numpy as np

    lon = np.asarray(points_lon, dtype=float)
    lat = np.asarray(points_lat, dtype=float)
    ok = np.isfinite(lon) & np.isfinite(lat)
    lon, lat, q = lon[ok], lat[ok], (2, 98)
    if lon.size < 2:
        lon, lat, q = np.asarray(graph.lon), np.asarray(graph.lat), (5, 95)
    lon0, lon1 = (float(v) for v in np.percentile(lon, q))
    lat0, lat1 = (float(v) for v in np.percentile(lat, q))
    pad_lon, pad_lat = max((lon1 - lon0) * 0.1, 0.005), max((lat1 - lat0) * 0.1, 0.005)
    return (lon0 - pad_lon, lat0 - pad_lat, lon1 + pad_lon, lat1 + pad_lat)


def base_map(*, include_confidential: bool = False, resources: bool = True) -> folium.Map:
    """Return the city map (roads, resources) that role pages draw on.

    The view opens on the resources and teams (not the whole road network); each page draws
    its own legend (templates/_legend.html), listing only what it shows.
    """
    import numpy as np

    from navigator import maps

    n = nav()
    store = n["store"]
    res = store.resources(include_confidential=include_confidential)
    teams = store.teams()
    lon = np.concatenate([res.geometry.x.to_numpy(), teams.geometry.x.to_numpy()])
    lat = np.concatenate([res.geometry.y.to_numpy(), teams.geometry.y.to_numpy()])
    bounds = focus_bounds(lon, lat, n["graph"])
    settings = n["settings"]
    m = maps.new_map(bounds, asset_url="/static/vendor",  # type: ignore[arg-type]
                     tile_url=settings.tile_url, tile_attribution=settings.tile_attribution)
    maps.add_basemap(m, "/roads.geojson")
    if resources:
        maps.add_resources(m, res, beds=store.beds(res["id"]))
    return m


def legend_context() -> dict[str, Any]:
    """Return the colours and note the page legends list (resource kinds, teams, incidents)."""
    from navigator import maps
    from navigator.demo.city import SYNTHETIC_NOTE

    return {"kind_colours": maps.KIND_COLOURS, "team_colours": maps.TEAM_COLOURS,
            "incident_colour": maps.INCIDENT_COLOUR, "synthetic_note": SYNTHETIC_NOTE}


@bp.get("/admin")
@require()
def admin() -> str:
    """Show the admin overview: every resource (confidential sites too), users, audit."""
    n = nav()
    m = maps.overview_map(n["store"], n["graph"], asset_url="/static/vendor",
                             roads_url="/roads.geojson", include_confidential=True,
                             settings=n["settings"])
    return render_template("admin.html", map=embed_map(m), counts=n["store"].counts(),
                           users=n["store"].users(), audit=n["store"].audit_log(limit=30))


@bp.get("/roads.geojson")
@require(*ANY_ROLE)
def roads() -> Response:
    """Return the road network basemap (GeoJSON, EPSG:4326)."""
    response = jsonify(maps.roads_geojson(nav()["graph"]))
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
