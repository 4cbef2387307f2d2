"""Rendering helpers for views: folium maps in pages, local times, records as JSON/GeoJSON."""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import numpy as np
from branca.element import MacroElement
from flask import g
from jinja2 import Template
from markupsafe import Markup

from navigator import maps
from navigator.demo.city import SYNTHETIC_NOTE
from navigator.errors import NavigatorError
from navigator.jsonsafe import json_safe
from navigator.roads import network_timezone
from navigator.services.closures import closure_summary, closures_geojson, list_closures
from web.context import app_context

if TYPE_CHECKING:
    import folium

    from navigator.roads import TravelGraph

_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)>")


def area_tz() -> str:
    """Return the area's IANA time zone (from the road network's median node; cached)."""
    return network_timezone(app_context().graph)

def local_hhmm(value: Any) -> str | None:
    """Return an ISO 8601 moment (or datetime) as "HH:MM" in the area's time zone."""
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

def base_map(*, include_confidential: bool = False, resources: bool = True,
             closures: bool = True) -> folium.Map:
    """Return the city map (roads, resources, road closures in force) that role pages draw on.

    The view opens on the resources and teams (not the whole road network); each page draws
    its own legend (templates/_legend.html), listing only what it shows.
    """
    ctx = app_context()
    store = ctx.store
    res = store.resources(include_confidential=include_confidential)
    teams = store.teams()
    lon = np.concatenate([res.geometry.x.to_numpy(), teams.geometry.x.to_numpy()])
    lat = np.concatenate([res.geometry.y.to_numpy(), teams.geometry.y.to_numpy()])
    bounds = focus_bounds(lon, lat, ctx.graph)
    settings = ctx.settings
    m = maps.new_map(bounds, asset_url="/static/vendor",  # type: ignore[arg-type]
                     tile_url=settings.tile_url, tile_attribution=settings.tile_attribution)
    maps.add_basemap(m, "/roads.geojson")
    if resources:
        maps.add_resources(m, res, beds=store.beds(res["id"]), surge=store.surge_sites())
    if closures:
        add_closures_layer(m)
    return m


def add_closures_layer(m: folium.Map) -> None:
    """Draw the road closures in force now on ``m`` (red hatched, text-only popups)."""
    ctx = app_context()
    maps.add_closures(m, closures_geojson(list_closures(ctx.store, now=ctx.clock())))


def closures_info(result: dict[str, Any], graph: TravelGraph,
                  points: tuple[tuple[float, float], ...] = ()) -> dict[str, Any]:
    """Return a routing answer with what it says about road closures added.

    ``closures_in_effect``, ``closures_count``, ``closed_edges`` and ``closure_notes`` (a
    point of ``points`` inside a closed area was routed from the nearest open road).
    """
    return {**result, **closure_summary(graph, points=points)}


def closures_banner() -> dict[str, Any]:
    """Return the template context of the "Road closures in effect" banner (every page)."""
    if not g.get("user"):
        return {"closures_banner": {"closures_in_effect": False, "closures_count": 0}}
    try:
        summary = closure_summary(app_context().roads())
    except NavigatorError:  # the store is down: the page says so elsewhere
        summary = {"closures_in_effect": False, "closures_count": 0}
    return {"closures_banner": summary}

def legend_context() -> dict[str, Any]:
    """Return the colours and note the page legends list (resource kinds, teams, incidents)."""
    return {"kind_colours": maps.KIND_COLOURS, "team_colours": maps.TEAM_COLOURS,
            "incident_colour": maps.INCIDENT_COLOUR, "synthetic_note": SYNTHETIC_NOTE}


FEATURE_COLLECTION = {"type": "object", "required": ["type", "features"],
                      "properties": {"type": {"const": "FeatureCollection"},
                                     "features": {"type": "array"}}}



def record_dict(record: Any) -> dict[str, Any]:
    """Return a store record (Hold, Assignment, Incident, Team) as a JSON dict."""
    result: dict[str, Any] = json_safe(record)
    return result


#: Words for the machine reasons of alternatives (``reason`` stays in the JSON).
REASON_TEXT = {"other_bed_type": "other bed type", "beyond_limit": "farther than the limit",
               "closed": "closed now", "full": "full", "not_eligible": "does not fit the needs",
               "unreachable": "not reachable by road", "match": "fits"}

def reason_text(alt: dict[str, Any]) -> str:
    """Return an alternative's reason in words ("closed now, opens 19:00")."""
    reason = str(alt.get("reason", ""))
    text = REASON_TEXT.get(reason, reason.replace("_", " "))
    if reason == "closed":
        opens = local_hhmm(alt.get("opens_at"))
        if opens:
            text += f", opens {opens}"
    return text
