"""Folium map builders shared by the web app, the CLI and notebooks; works fully offline.

Leaflet and jQuery come from kept Python packages (``django-js-lib-leaflet``,
``xstatic-jquery``): this module owns that asset list. A map either links the assets under a
URL prefix the web app serves (``asset_url``) or inlines them as data URIs for a standalone
HTML file. With no tile server the road network itself is drawn as a light vector basemap.
Every user-supplied string is escaped before it reaches a popup or tooltip.
"""

from __future__ import annotations

import base64
import html
import json
import math
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources as importlib_resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import folium
import numpy as np
from branca.element import Element, MacroElement
from jinja2 import Template

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from navigator.roads import TravelGraph

OSM_ATTRIBUTION = "Roads © OpenStreetMap contributors (ODbL)"

#: Colours by team status and resource kind (colour-blind-safe palette).
TEAM_COLOURS = {"available": "#1b9e77", "en_route": "#d95f02", "on_scene": "#7570b3",
                "returning": "#e7298a", "off_duty": "#999999"}
KIND_COLOURS = {"shelter": "#1f78b4", "clinic": "#33a02c", "hospital": "#e31a1c",
                "crisis_unit": "#ff7f00", "team_base": "#6a3d9a"}
INCIDENT_COLOUR = "#b10026"


def _package_dir(package: str, *parts: str) -> Path:
    return Path(str(importlib_resources.files(package).joinpath(*parts)))


@cache
def offline_assets() -> dict[str, Path]:
    """Return the local files every map page needs, by the name the page links them as.

    Returns
    -------
    dict
        ``{"leaflet.js": Path, "leaflet.css": Path, "jquery.min.js": Path, "images/...": Path}``.
    """
    leaflet = _package_dir("js_lib_leaflet", "static", "js_lib_leaflet")
    from xstatic.pkg import jquery

    assets = {
        "leaflet.js": leaflet / "leaflet.js",
        "leaflet.css": leaflet / "leaflet.css",
        "jquery.min.js": Path(jquery.BASE_DIR) / "jquery.min.js",
    }
    for image in sorted((leaflet / "images").glob("*.png")):
        assets[f"images/{image.name}"] = image
    return assets


def _data_uri(path: Path, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()}"


@cache
def _inline_css() -> str:
    """Return leaflet.css as a data URI with its images inlined too."""
    assets = offline_assets()
    text = assets["leaflet.css"].read_text()
    for name, path in assets.items():
        if name.startswith("images/"):
            text = text.replace(f"url({name})", f"url({_data_uri(path, 'image/png')})")
    return "data:text/css;base64," + base64.b64encode(text.encode()).decode()


def escape(value: object) -> str:
    """Return ``value`` as text safe to put inside HTML (popups, tooltips, legends)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return html.escape(str(value), quote=True)


def new_map(bounds: tuple[float, float, float, float], *, asset_url: str | None = None,
            tile_url: str | None = None, tile_attribution: str | None = None) -> folium.Map:
    """Create an offline folium map fitted to ``bounds``.

    Parameters
    ----------
    bounds
        ``(lon_min, lat_min, lon_max, lat_max)`` in EPSG:4326.
    asset_url
        URL prefix under which :func:`offline_assets` are served (e.g. ``"/static/vendor"``);
        None inlines them, for a standalone HTML file.
    tile_url, tile_attribution
        Optional raster tile server; by default there is no tile layer.

    Returns
    -------
    folium.Map
    """
    lon0, lat0, lon1, lat1 = bounds
    m = folium.Map(location=[(lat0 + lat1) / 2, (lon0 + lon1) / 2], zoom_start=12,
                   tiles=None, control_scale=True, prefer_canvas=True)
    assets = offline_assets()
    if asset_url is None:
        js = [("leaflet", _data_uri(assets["leaflet.js"], "text/javascript")),
              ("jquery", _data_uri(assets["jquery.min.js"], "text/javascript"))]
        css = [("leaflet_css", _inline_css())]
    else:
        base = asset_url.rstrip("/")
        js = [("leaflet", f"{base}/leaflet.js"), ("jquery", f"{base}/jquery.min.js")]
        css = [("leaflet_css", f"{base}/leaflet.css")]
    # New lists per map: add_js_link mutates the class-level defaults (TRAPS.md).
    m.default_js = list(js)
    m.default_css = list(css)
    if tile_url:
        folium.TileLayer(tiles=tile_url, attr=escape(tile_attribution or tile_url),
                         name="tiles").add_to(m)
    m.fit_bounds([[lat0, lon0], [lat1, lon1]])
    return m


class _Attribution(MacroElement):
    """Adds a line to the map's attribution control."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.text|tojson }});
        {% endmacro %}
    """)

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


def add_attribution(m: folium.Map, text: str) -> None:
    """Add ``text`` (escaped) to the map's attribution line."""
    _Attribution(escape(text)).add_to(m)


def basemap_geojson(graph: TravelGraph, *, decimals: int = 5) -> dict[str, Any]:
    """Return the road network as one GeoJSON MultiLineString feature (EPSG:4326).

    Each undirected node pair is drawn once, with its shape points.

    Parameters
    ----------
    graph
        Road network.
    decimals
        Coordinate rounding (5 decimals is about 1 m).
    """
    src = graph.edge_sources()
    dst = graph.indices.astype(np.int64)
    pairs = np.stack([np.minimum(src, dst), np.maximum(src, dst)], axis=1)
    _, first = np.unique(pairs, axis=0, return_index=True)
    lon = np.round(graph.lon, decimals)
    lat = np.round(graph.lat, decimals)
    glon = np.round(graph.geom_lon, decimals)
    glat = np.round(graph.geom_lat, decimals)
    ptr = graph.geom_ptr
    lines = []
    for e in np.sort(first):
        u, v = src[e], dst[e]
        inner = range(ptr[e], ptr[e + 1])
        lines.append([[lon[u], lat[u]], *([glon[i], glat[i]] for i in inner),
                      [lon[v], lat[v]]])
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"layer": "roads"},
         "geometry": {"type": "MultiLineString", "coordinates": lines}}]}


_ROAD_STYLE = {"color": "#9aa3ad", "weight": 1, "opacity": 0.7}


class _RemoteGeoJson(MacroElement):
    """A non-interactive GeoJSON layer fetched from a same-origin URL after the page loads."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        fetch({{ this.url|tojson }}).then(function (r) { return r.json(); })
          .then(function (data) {
            L.geoJSON(data, {style: {{ this.style|tojson }}, interactive: false})
              .addTo({{ this._parent.get_name() }}).bringToBack();
          });
        {% endmacro %}
    """)

    def __init__(self, url: str, style: Mapping[str, Any]) -> None:
        super().__init__()
        self.url = url
        self.style = dict(style)


def add_basemap(m: folium.Map, roads: Mapping[str, Any] | str) -> None:
    """Draw the road network as a light vector basemap.

    Parameters
    ----------
    m
        Map to draw on.
    roads
        GeoJSON (from :func:`basemap_geojson`), or the URL it is served at (fetched by the
        page, so the map HTML stays small).
    """
    if isinstance(roads, str):
        _RemoteGeoJson(roads, _ROAD_STYLE).add_to(m)
    else:
        folium.GeoJson(roads, name="Road network (OSM)", control=False, interactive=False,
                       style_function=lambda _f: dict(_ROAD_STYLE)).add_to(m)
    add_attribution(m, OSM_ATTRIBUTION)


def _popup(title: str, rows: Iterable[tuple[str, object]], *, synthetic: bool) -> folium.Popup:
    body = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows
                   if v not in (None, "", ()))
    note = ('<p class="synthetic"><em>Includes synthetic (generated) demo values.</em></p>'
            if synthetic else "")
    return folium.Popup(f"<b>{escape(title)}</b><table>{body}</table>{note}", max_width=320)


def _join(values: object) -> str:
    if isinstance(values, list | tuple):
        return ", ".join(str(v) for v in values)
    return "" if values is None else str(values)


def _shape_icon(shape: str, colour: str, size: int) -> folium.DivIcon:
    """Return an inline-SVG marker icon (no icon images or plugins to fetch)."""
    points = {"square": "2,2 18,2 18,18 2,18", "triangle": "10,1 19,19 1,19"}[shape]
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
           f'viewBox="0 0 20 20"><polygon points="{points}" fill="{colour}" '
           'stroke="#222" stroke-width="1.5"/></svg>')
    return folium.DivIcon(html=svg, icon_size=(size, size), icon_anchor=(size // 2, size // 2),
                          class_name="nav-shape")


def add_resources(m: folium.Map, resources: gpd.GeoDataFrame, *,
                  beds: pd.DataFrame | None = None, name: str = "Resources") -> folium.FeatureGroup:
    """Add resources as circle markers coloured by kind, with escaped popups.

    Confidential rows are drawn only if the caller passed them in: filter them out before
    calling this for roles without access.
    """
    group = folium.FeatureGroup(name=name)
    free_by_id: dict[str, str] = {}
    if beds is not None and len(beds):
        for rid, rows in beds.groupby("resource_id"):
            free_by_id[str(rid)] = "; ".join(
                f"{r.bed_type}: {r.free}/{r.capacity} free" for r in rows.itertuples())
    for row in resources.itertuples():
        point = row.geometry
        rows = [("Kind", row.kind), ("Address", row.address), ("Phone", row.phone),
                ("Hours", row.opening_hours), ("Beds", free_by_id.get(row.id, "")),
                ("Services", _join(row.services)), ("Languages", _join(row.languages)),
                ("Source", row.source)]
        folium.CircleMarker(
            location=[point.y, point.x], radius=6 if row.kind != "team_base" else 4,
            color=KIND_COLOURS.get(row.kind, "#333333"), fill=True, fill_opacity=0.85,
            weight=1, popup=_popup(row.name, rows, synthetic=bool(row.synthetic)),
            tooltip=folium.Tooltip(escape(row.name)),
        ).add_to(group)
    group.add_to(m)
    return group


def add_teams(m: folium.Map, teams: gpd.GeoDataFrame, *, name: str = "Mobile teams"
              ) -> folium.FeatureGroup:
    """Add teams at their current positions, coloured by status."""
    group = folium.FeatureGroup(name=name)
    for row in teams.itertuples():
        rows = [("Status", row.status), ("Skills", _join(row.skills)),
                ("Languages", _join(row.languages)), ("Shift ends", row.shift_end)]
        folium.Marker(
            location=[row.geometry.y, row.geometry.x],
            icon=_shape_icon("square", TEAM_COLOURS.get(row.status, "#333333"), 16),
            popup=_popup(row.name, rows, synthetic=bool(row.synthetic)),
            tooltip=folium.Tooltip(escape(f"{row.name} ({row.status})")),
        ).add_to(group)
    group.add_to(m)
    return group


def add_incidents(m: folium.Map, incidents: gpd.GeoDataFrame, *, name: str = "Incidents"
                  ) -> folium.FeatureGroup:
    """Add incidents as triangles; priority 1 is drawn largest."""
    group = folium.FeatureGroup(name=name)
    for row in incidents.itertuples():
        rows = [("Type", row.crisis_type), ("Priority", row.priority), ("Status", row.status),
                ("Needs", _join(row.needed_skills)),
                ("Language", _join(row.needed_languages)), ("Notes", row.notes)]
        folium.Marker(
            location=[row.geometry.y, row.geometry.x],
            icon=_shape_icon("triangle", INCIDENT_COLOUR, 26 - 3 * int(row.priority)),
            popup=_popup(f"Incident {row.id}", rows, synthetic=bool(row.synthetic)),
            tooltip=folium.Tooltip(escape(f"{row.crisis_type} (P{row.priority})")),
        ).add_to(group)
    group.add_to(m)
    return group


def add_legend(m: folium.Map, *, title: str, synthetic_note: str | None = None) -> None:
    """Add a fixed legend box listing kind and status colours and the synthetic-data note."""
    items = "".join(
        f'<div><span style="background:{c}" class="nav-swatch"></span>{escape(k)}</div>'
        for k, c in {**KIND_COLOURS, **{f"team {s}": c for s, c in TEAM_COLOURS.items()},
                     "incident": INCIDENT_COLOUR}.items())
    note = f"<p><em>{escape(synthetic_note)}</em></p>" if synthetic_note else ""
    legend = f"""
    <div id="nav-legend" style="position:fixed;bottom:24px;left:12px;z-index:1000;
         background:white;padding:8px 10px;border:1px solid #999;border-radius:4px;
         font:12px/1.4 sans-serif;max-width:260px">
      <b>{escape(title)}</b>{items}{note}
    </div>
    <style>.nav-swatch{{display:inline-block;width:10px;height:10px;margin-right:6px;
      border:1px solid #333}}</style>"""
    root: Any = m.get_root()  # a branca Figure, typed as Element
    root.html.add_child(Element(legend))


def feature_collection(gdf: gpd.GeoDataFrame) -> dict[str, Any]:
    """Return an RFC 7946 FeatureCollection (EPSG:4326, inf/NaN as null)."""
    return json.loads(gdf.to_crs(4326).to_json(na="null", drop_id=True))
