"""Maps of a dispatch-policy simulation: per grid cell, each policy's p90 and its change.

:func:`area_cells` gives the cells as a GeoDataFrame (EPSG:4326) the web page draws from
JSON; :func:`difference_map` draws one policy against the reference as an offline folium map
(data blocks drawn as text by ``navmap.js``, see :mod:`navigator.maps.layers`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from navigator.decide.simulate import area_box
from navigator.errors import ValidationError
from navigator.jsonsafe import feature_collection
from navigator.maps.base import add_basemap, add_layer_control, add_legend, new_map
from navigator.maps.layers import add_layer
from navigator.maps.overview import roads_geojson

if TYPE_CHECKING:
    import folium
    import geopandas as gpd

    from navigator.roads import TravelGraph
    from navigator.services.simulation import SimulationRun

__all__ = ["CHANGE_COLOURS", "area_cells", "change_colour", "difference_map"]

#: Faster than the reference, about the same (within a minute), slower, no figure.
CHANGE_COLOURS = {"faster": "#1a9850", "same": "#ffffbf", "slower": "#d73027", "none": "#bdbdbd"}


def change_colour(change_s: float | None) -> str:
    """Return the colour of a p90 change, seconds (None or NaN: no figure)."""
    if change_s is None or not np.isfinite(change_s):
        return CHANGE_COLOURS["none"]
    return CHANGE_COLOURS["faster" if change_s < -60 else "slower" if change_s > 60 else "same"]


def area_cells(run: SimulationRun) -> gpd.GeoDataFrame:
    """Return one grid cell (EPSG:4326 box) per area with calls.

    Columns: ``area``, ``calls`` and per policy ``{policy}_p50_s``, ``{policy}_p90_s``,
    ``{policy}_unserved``, ``{policy}_p90_change_s`` (change from the first policy; None
    where either has no served call).
    """
    import geopandas as gpd
    from shapely.geometry import box

    rows = run.area_rows()
    geoms = [box(*area_box(r["area"], run.area_cell_deg)) for r in rows]
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=4326)


def difference_map(graph: TravelGraph, run: SimulationRun, policy: str, *,
                   asset_url: str | None = None) -> folium.Map:
    """Return an offline map of ``policy``'s p90 response per cell against the reference.

    Raises
    ------
    ValidationError
        If ``policy`` was not simulated.
    """
    names = [r.policy for r in run.reports]
    if policy not in names:
        msg = f"policy {policy!r} was not simulated (have {', '.join(names)})"
        raise ValidationError(msg)
    cells = area_cells(run)
    m = new_map((float(graph.lon.min()), float(graph.lat.min()), float(graph.lon.max()),
                 float(graph.lat.max())), asset_url=asset_url)
    add_basemap(m, roads_geojson(graph))
    change = cells[f"{policy}_p90_change_s"].to_numpy(dtype=float)
    labels = [f"{n} calls; p90 change {c / 60:+.1f} min" if np.isfinite(c)
              else f"{n} calls; no figure" for n, c in zip(cells["calls"], change, strict=True)]
    data = cells[["geometry"]].assign(colour=[change_colour(c) for c in change], label=labels)
    add_layer(m, "vectors", name=f"p90 change: {policy} - {names[0]}",
              data=feature_collection(data), tip_from="label",
              style={"color": "#555", "weight": 0.3, "fillOpacity": 0.6}, fill_from="colour")
    add_legend(m, title=f"p90 response, {policy} vs {names[0]}", position="bottomright",
               items=[("faster by over 1 min", CHANGE_COLOURS["faster"]),
                      ("within 1 min", CHANGE_COLOURS["same"]),
                      ("slower by over 1 min", CHANGE_COLOURS["slower"]),
                      ("no served call", CHANGE_COLOURS["none"])])
    add_layer_control(m)
    return m
