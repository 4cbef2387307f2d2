"""Folium map builders shared by the web app, the CLI and notebooks; works fully offline.

Leaflet and jQuery come from kept Python packages (``django-js-lib-leaflet``,
``xstatic-jquery``): this module owns that asset list. A map either links the assets under a
URL prefix the web app serves (``asset_url``) or inlines them as data URIs for a standalone
HTML file. With no tile server the road network itself is drawn as a light vector basemap.
Records are drawn by ``navmap.js`` from JSON data blocks (:mod:`navigator.maps.layers`): no
record text is ever written into the page's JavaScript or HTML.
"""

from __future__ import annotations

import base64
import hashlib
import html
import math
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources as importlib_resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import folium
import numpy as np

from navigator.maps.layers import SCRIPT_NAME, DataLayer, add_layer, script_path
from navigator.model import ResourceKind

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from navigator.model import SurgeSite
    from navigator.roads import TravelGraph

OSM_ATTRIBUTION = "Roads © OpenStreetMap contributors (ODbL)"

#: Colours by team status and resource kind (colour-blind-safe palette).
TEAM_COLOURS = {"available": "#1b9e77", "en_route": "#d95f02", "on_scene": "#7570b3",
                "returning": "#e7298a", "off_duty": "#999999"}
KIND_COLOURS = {"shelter": "#1f78b4", "clinic": "#33a02c", "hospital": "#e31a1c",
                "crisis_unit": "#ff7f00", "team_base": "#6a3d9a",
                "evacuation_shelter": "#d95f02"}
INCIDENT_COLOUR = "#b10026"


def _package_dir(package: str, *parts: str) -> Path:
    return Path(str(importlib_resources.files(package).joinpath(*parts)))


@cache
def offline_assets() -> dict[str, Path]:
    """Return the local files every map page needs, by the name the page links them as.

    Returns
    -------
    dict
        ``{"leaflet.js": Path, "leaflet.css": Path, "jquery.min.js": Path,
        "navmap.js": Path, "images/...": Path}``.
    """
    leaflet = _package_dir("js_lib_leaflet", "static", "js_lib_leaflet")
    from xstatic.pkg import jquery

    assets = {
        "leaflet.js": leaflet / "leaflet.js",
        "leaflet.css": leaflet / "leaflet.css",
        "jquery.min.js": Path(jquery.BASE_DIR) / "jquery.min.js",
        SCRIPT_NAME: script_path(),
    }
    for image in sorted((leaflet / "images").glob("*.png")):
        assets[f"images/{image.name}"] = image
    return assets


#: Scripts every map page loads, in order (navmap.js needs Leaflet).
_SCRIPTS = (("leaflet", "leaflet.js"), ("jquery", "jquery.min.js"), ("navmap", SCRIPT_NAME))


@cache
def _digest(path: Path) -> str:
    """Return a short content hash of an asset (its version in links)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


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
    """Return ``value`` as HTML text (the tile attribution, which Leaflet inserts as HTML).

    Record text never goes through this: it travels as JSON data (:mod:`.layers`).
    """
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
        js = [(n, _data_uri(assets[f], "text/javascript")) for n, f in _SCRIPTS]
        css = [("leaflet_css", _inline_css())]
    else:
        base = asset_url.rstrip("/")
        # The version query makes browsers fetch navmap.js anew when it changes (served cached).
        js = [(n, f"{base}/{f}?v={_digest(assets[f])}") for n, f in _SCRIPTS]
        css = [("leaflet_css", f"{base}/leaflet.css")]
    # New lists per map: add_js_link mutates the class-level defaults (TRAPS.md).
    m.default_js = list(js)
    m.default_css = list(css)
    if tile_url:
        folium.TileLayer(tiles=tile_url, attr=escape(tile_attribution or tile_url),
                         name="tiles").add_to(m)
    m.fit_bounds([[lat0, lon0], [lat1, lon1]])
    return m


def add_attribution(m: folium.Map, text: str) -> None:
    """Add ``text`` (plain text) to the map's attribution line."""
    add_layer(m, "attribution", text=text)


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
    src, dst = graph.road_ends()  # intersections at both ends (turn edges join one to itself)
    dst = dst.astype(np.int64)
    pairs = np.stack([np.minimum(src, dst), np.maximum(src, dst)], axis=1)
    _, first = np.unique(pairs, axis=0, return_index=True)
    first = first[src[first] != dst[first]]
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
    source = {"url": roads} if isinstance(roads, str) else {"data": roads}
    add_layer(m, "vectors", **source, style=_ROAD_STYLE, interactive=False, back=True)
    add_attribution(m, OSM_ATTRIBUTION)


def _text(value: object) -> str:
    """Return a cell as display text: lists joined with commas, None and NaN as ""."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, list | tuple | np.ndarray):
        return ", ".join(str(v) for v in value)
    return str(value)


def _point(lon: float, lat: float, *, colour: str, size: int, shape: str, tip: str,
           title: str, rows: Iterable[tuple[str, object]], synthetic: bool) -> dict[str, Any]:
    """Return one marker for ``navmap.js``: its popup rows and tooltip are plain text."""
    cells = [[label, _text(v)] for label, v in rows]
    return {"lon": float(lon), "lat": float(lat), "colour": colour, "size": size,
            "shape": shape, "tip": tip, "title": title,
            "rows": [c for c in cells if c[1]],
            "note": "Includes synthetic (generated) demo values." if synthetic else ""}


_SIZES = {"team_base": 4, "evacuation_shelter": 10}


def _surge_text(site: SurgeSite | None) -> str:
    if site is None or not site.active:
        return ""
    opens = site.opens_at.strftime("%Y-%m-%d %H:%M UTC") if site.opens_at else ""
    return f"active, open since {opens}" + (f" ({site.note})" if site.note else "")


def add_resources(m: folium.Map, resources: gpd.GeoDataFrame, *,
                  beds: pd.DataFrame | None = None, name: str = "Resources",
                  surge: Mapping[str, SurgeSite] | None = None) -> DataLayer:
    """Add resources as circle markers coloured by kind, with popups and name tooltips.

    Confidential rows are drawn only if the caller passed them in: filter them out before
    calling this for roles without access. Surge (evacuation) shelters are drawn only while
    ``surge`` says they are active (none without it), larger, with the time they opened.
    Text reaches the page as JSON data only.
    """
    surge = surge or {}
    shown = [r.kind != ResourceKind.EVACUATION_SHELTER.value
             or (str(r.id) in surge and surge[str(r.id)].active)
             for r in resources.itertuples()]
    resources = resources[shown]
    free_by_id: dict[str, str] = {}
    if beds is not None and len(beds):
        for rid, rows in beds.groupby("resource_id"):
            free_by_id[str(rid)] = "; ".join(
                f"{r.bed_type}: {r.free}/{r.capacity} free" for r in rows.itertuples())
    points = [_point(
        row.geometry.x, row.geometry.y, colour=KIND_COLOURS.get(row.kind, "#333333"),
        size=_SIZES.get(row.kind, 6), shape="circle", tip=_text(row.name),
        title=_text(row.name), synthetic=bool(row.synthetic),
        rows=[("Kind", row.kind), ("Surge shelter", _surge_text(surge.get(str(row.id)))),
              ("Address", row.address), ("Phone", row.phone),
              ("Hours", row.opening_hours), ("Beds", free_by_id.get(str(row.id), "")),
              ("Services", row.services), ("Languages", row.languages),
              ("Source", row.source)]) for row in resources.itertuples()]
    return add_layer(m, "markers", name=name, points=points)


def add_teams(m: folium.Map, teams: gpd.GeoDataFrame, *, name: str = "Mobile teams"
              ) -> DataLayer:
    """Add teams at their current positions as squares coloured by status."""
    points = [_point(
        row.geometry.x, row.geometry.y, colour=TEAM_COLOURS.get(row.status, "#333333"),
        size=16, shape="square", tip=f"{_text(row.name)} ({_text(row.status)})",
        title=_text(row.name), synthetic=bool(row.synthetic),
        rows=[("Status", row.status), ("Skills", row.skills), ("Languages", row.languages),
              ("Shift ends", row.shift_end)]) for row in teams.itertuples()]
    return add_layer(m, "markers", name=name, points=points)


def add_incidents(m: folium.Map, incidents: gpd.GeoDataFrame, *, name: str = "Incidents"
                  ) -> DataLayer:
    """Add incidents as triangles; priority 1 is drawn largest."""
    points = [_point(
        row.geometry.x, row.geometry.y, colour=INCIDENT_COLOUR,
        size=26 - 3 * int(row.priority), shape="triangle",
        tip=f"{_text(row.crisis_type)} (P{int(row.priority)})",
        title=f"Incident {_text(row.id)}", synthetic=bool(row.synthetic),
        rows=[("Type", row.crisis_type), ("Priority", row.priority), ("Status", row.status),
              ("Needs", row.needed_skills), ("Language", row.needed_languages),
              ("Notes", row.notes)]) for row in incidents.itertuples()]
    return add_layer(m, "markers", name=name, points=points)


def add_legend(m: folium.Map, *, title: str, synthetic_note: str | None = None,
               items: Iterable[tuple[str, str]] | None = None,
               position: str = "bottomleft") -> DataLayer:
    """Add a legend box of ``(label, colour)`` items (default: kinds, team statuses, incident).

    Parameters
    ----------
    m
        Map to draw on.
    title, synthetic_note
        Heading and an optional note under the items (plain text).
    items
        Labels and hex colours; by default every resource kind, team status and incidents.
    position
        Leaflet control corner (``"bottomleft"``, ``"bottomright"``, ...).
    """
    if items is None:
        items = {**KIND_COLOURS, **{f"team {s}": c for s, c in TEAM_COLOURS.items()},
                 "incident": INCIDENT_COLOUR}.items()
    return add_layer(m, "legend", title=title, items=[list(i) for i in items],
                     note=synthetic_note or "", position=position)


def add_layer_control(m: folium.Map, *, collapsed: bool = True) -> DataLayer:
    """Add the layer control listing every named layer added so far (names stay text)."""
    return add_layer(m, "control", collapsed=collapsed)


