"""Folium maps (no Flask): the offline asset list, map builders, the overview and coverage maps.

:mod:`~navigator.maps.base` builds maps and layers, :mod:`~navigator.maps.layers` passes
their records to the page as JSON for ``navmap.js`` to draw as text,
:mod:`~navigator.maps.overview` the city overview, :mod:`~navigator.maps.closures` road
closures, :mod:`~navigator.maps.coverage` coverage
and scenario maps and their file exports.
"""

from __future__ import annotations

from navigator.maps.base import (
    INCIDENT_COLOUR,
    KIND_COLOURS,
    OSM_ATTRIBUTION,
    TEAM_COLOURS,
    add_attribution,
    add_basemap,
    add_incidents,
    add_layer_control,
    add_legend,
    add_resources,
    add_teams,
    basemap_geojson,
    escape,
    new_map,
    offline_assets,
)
from navigator.maps.closures import CLOSURE_COLOUR, add_closures
from navigator.maps.layers import add_layer, json_for_html
from navigator.maps.overview import overview_map, roads_geojson

__all__ = [
    "CLOSURE_COLOUR",
    "INCIDENT_COLOUR",
    "KIND_COLOURS",
    "OSM_ATTRIBUTION",
    "TEAM_COLOURS",
    "add_attribution",
    "add_basemap",
    "add_closures",
    "add_incidents",
    "add_layer",
    "add_layer_control",
    "add_legend",
    "add_resources",
    "add_teams",
    "basemap_geojson",
    "escape",
    "json_for_html",
    "new_map",
    "offline_assets",
    "overview_map",
    "roads_geojson",
]
