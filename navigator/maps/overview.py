"""The overview map: resources, teams and open incidents over the road basemap."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from navigator.demo.city import SYNTHETIC_NOTE
from navigator.maps.base import (
    add_basemap,
    add_incidents,
    add_layer_control,
    add_legend,
    add_resources,
    add_teams,
    basemap_geojson,
    new_map,
)
from navigator.model import IncidentStatus

if TYPE_CHECKING:
    import folium

    from navigator.config import Settings
    from navigator.roads import TravelGraph
    from navigator.store import Store


def roads_geojson(graph: TravelGraph) -> dict[str, Any]:
    """Return the road network as a GeoJSON basemap (EPSG:4326), built once per graph."""
    return graph.cached(basemap_geojson)


def overview_map(store: Store, graph: TravelGraph, *, asset_url: str | None = None,
                 roads_url: str | None = None, include_confidential: bool = False,
                 settings: Settings | None = None) -> folium.Map:
    """Return a map of resources, teams and open incidents over the road network.

    Parameters
    ----------
    store, graph
        Where the records and roads come from.
    asset_url
        URL prefix of the offline assets (web); None inlines them (standalone HTML).
    roads_url
        URL of the roads GeoJSON (web); None embeds it.
    include_confidential
        Draw confidential (DV) sites; only for roles with access.
    settings
        For an optional tile server.
    """
    bounds = (float(graph.lon.min()), float(graph.lat.min()), float(graph.lon.max()),
              float(graph.lat.max()))
    m = new_map(bounds, asset_url=asset_url,
                     tile_url=settings.tile_url if settings else None,
                     tile_attribution=settings.tile_attribution if settings else None)
    add_basemap(m, roads_url or roads_geojson(graph))
    resources = store.resources(include_confidential=include_confidential)
    add_resources(m, resources, beds=store.beds(resources["id"]), surge=store.surge_sites())
    add_teams(m, store.teams())
    add_incidents(m, store.incidents(statuses=[IncidentStatus.OPEN,
                                                    IncidentStatus.ASSIGNED]))
    add_legend(m, title="Navigator", synthetic_note=SYNTHETIC_NOTE)
    add_layer_control(m)
    return m
