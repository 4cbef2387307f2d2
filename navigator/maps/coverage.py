"""Coverage maps and exports: offline folium maps of reports and deltas, GeoPackage/GeoJSON files.

Split from :mod:`navigator.coverage_service` (which re-exports these names), so the service
module keeps to running scenarios and this one to drawing and writing them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from navigator.errors import ValidationError
from navigator.jsonsafe import feature_collection
from navigator.maps.base import (
    add_basemap,
    add_layer_control,
    add_legend,
    new_map,
)
from navigator.maps.layers import add_layer
from navigator.maps.overview import roads_geojson

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import folium
    import geopandas as gpd

    from navigator.decide.coverage import CoverageReport
    from navigator.roads import TravelGraph

__all__ = ["EXPORT_FORMATS", "coverage_map", "delta_map", "export_layers", "finite"]


def finite(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return ``gdf`` with infinite numbers as NaN (written as null: unreachable)."""
    num = gdf.select_dtypes("number").columns
    return gdf.assign(**{c: gdf[c].replace([np.inf, -np.inf], np.nan) for c in num})


#: File kinds :func:`export_layers` writes -> (suffix, media type).
EXPORT_FORMATS = {"gpkg": (".gpkg", "application/geopackage+sqlite3"),
                  "geojson": (".geojson", "application/geo+json"),
                  "csv": (".csv", "text/csv")}


def export_layers(layers: Mapping[str, gpd.GeoDataFrame], path: str | Path) -> Path:
    """Write layers to a GeoPackage (one layer each), or one layer to GeoJSON or CSV.

    The format follows the suffix. ``inf`` (unreachable) is written as null (an empty CSV
    cell); geometries in EPSG:4326. A CSV has no geometry column: ``lon``/``lat`` of each
    row's representative point instead (degrees).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".geojson", ".json", ".csv"):
        if len(layers) != 1:
            msg = (f"{suffix[1:].upper()} holds one layer, got {len(layers)}: "
                   "use a .gpkg path")
            raise ValidationError(msg)
        (gdf,) = layers.values()
        gdf = finite(gdf.to_crs(4326))
        if suffix == ".csv":
            pts = gdf.geometry.representative_point()
            table = gdf.drop(columns=gdf.geometry.name).assign(
                lon=pts.x.round(6), lat=pts.y.round(6))
            table.to_csv(path, index=False)
        else:
            gdf.to_file(path, driver="GeoJSON")
    elif path.suffix.lower() == ".gpkg":
        for name, gdf in layers.items():
            finite(gdf.to_crs(4326)).to_file(path, layer=name, driver="GPKG")
    else:
        msg = f"export path must end in .gpkg, .geojson or .csv, got {path.name!r}"
        raise ValidationError(msg)
    return path


_COLOURS = ("#1a9850", "#fee08b", "#fc8d59", "#d73027")  # within target 1, 2, 3, beyond
_GREY = "#bdbdbd"


def _base_map(graph: TravelGraph, asset_url: str | None) -> folium.Map:
    m = new_map((float(graph.lon.min()), float(graph.lat.min()), float(graph.lon.max()),
                 float(graph.lat.max())), asset_url=asset_url)
    add_basemap(m, roads_geojson(graph))
    return m


_FILL = {"color": "#555", "weight": 0.3, "fillOpacity": 0.6}
_OUTLINE = {"color": "#d73027", "weight": 2, "fillOpacity": 0.0, "dashArray": "4"}


def _layer(m: folium.Map, gdf: gpd.GeoDataFrame, colours: Sequence[str], labels: Sequence[str],
           name: str, *, outline: bool = False) -> None:
    """Add polygons filled with ``colours`` (or outlined) with ``labels`` as tooltips."""
    data = finite(gdf[["geometry"]].assign(colour=list(colours), label=list(labels)))
    add_layer(m, "vectors", name=name, data=feature_collection(data), tip_from="label",
              style=_OUTLINE if outline else _FILL, fill_from=None if outline else "colour")


def coverage_map(graph: TravelGraph, report: CoverageReport, *, asset_url: str | None = None,
                 show_gaps: bool = True, facilities: gpd.GeoDataFrame | None = None
                 ) -> folium.Map:
    """Return an offline map of the report's hexes by minimum time, and its ranked gaps.

    Colours follow the report's target times (within the first, second, third, beyond);
    grey is unreachable. ``facilities`` (e.g. ``FacilityRun.facilities``) are drawn as dots
    with their names as tooltips (text, see :mod:`navigator.maps.layers`).
    """
    m = _base_map(graph, asset_url)
    limits = report.coverage.targets_s[:3]
    t = report.hexes["min_time_s"].to_numpy()
    band = np.searchsorted(limits, t, side="left")  # 0: within the first target ...
    colours = [_GREY if not np.isfinite(x) else _COLOURS[b] if b < len(limits) else _COLOURS[3]
               for x, b in zip(t, band, strict=True)]
    labels = [f"{x / 60:.1f} min" if np.isfinite(x) else "unreachable" for x in t]
    _layer(m, report.hexes, colours, labels, f"Travel time ({report.label})")
    if show_gaps and len(report.gaps):
        _layer(m, report.gaps, ["#d73027"] * len(report.gaps),
               [f"gap #{r}: {p:,.0f} people beyond {report.coverage.targets_s[0] / 60:g} min"
                for r, p in zip(report.gaps["rank"], report.gaps["people_uncovered"],
                                strict=True)], "Coverage gaps", outline=True)
    if facilities is not None and len(facilities):
        add_layer(m, "markers", name="Facilities", points=[
            {"lon": float(row.geometry.x), "lat": float(row.geometry.y), "colour": "#222222",
             "size": 4, "tip": str(getattr(row, "name", ""))}
            for row in facilities.to_crs(4326).itertuples()])
    names = [f"≤ {x / 60:g} min" for x in report.coverage.targets_s[:3]]
    add_legend(m, title=f"Travel time: {report.label}", position="bottomright",
               items=[*zip([*names, "beyond"], (*_COLOURS[:len(names)], _COLOURS[3]),
                           strict=True), ("unreachable", _GREY)])
    add_layer_control(m)
    return m


def delta_map(graph: TravelGraph, units: gpd.GeoDataFrame, *, label: str = "b - a",
              asset_url: str | None = None) -> folium.Map:
    """Return an offline map of the per-unit time change (``delta_s`` from :func:`compare`).

    Green: faster in b; red: slower; grey: no change or unreachable in both.
    """
    m = _base_map(graph, asset_url)
    d = units["delta_s"].to_numpy(dtype=float)
    colours = ["#1a9850" if x < -1 else "#d73027" if x > 1 else _GREY for x in d]
    labels = ["unreachable in both" if np.isnan(x) else "newly unreachable" if x == np.inf
              else "newly reachable" if x == -np.inf else f"{x / 60:+.1f} min" for x in d]
    _layer(m, units, colours, labels, f"Change in travel time ({label})")
    add_legend(m, title=f"Change: {label}", position="bottomright",
               items=[("faster", "#1a9850"), ("slower", "#d73027"), ("no change", _GREY)])
    add_layer_control(m)
    return m
