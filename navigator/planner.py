"""The service layer: the one place that calls store, network, decisions and maps in order.

Views, CLI commands and notebooks call these functions; the stages below never call each
other backwards (store -> network -> decision -> view).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from navigator.config import Settings

if TYPE_CHECKING:
    import folium
    from shapely.geometry.base import BaseGeometry

    from navigator.network import TravelGraph
    from navigator.store import Store

#: Synthetic-data note shown on every demo map.
SYNTHETIC_NOTE = ("Demo: places, names and addresses are real (City of Columbus, OSM); bed "
                  "counts, hours, teams, incidents, local hotlines and the DV site are synthetic.")


@dataclass(frozen=True)
class City:
    """A deployment area: its road extract, time zone and name."""

    name: str
    osm_file: Path
    timezone: str


def demo_city(settings: Settings) -> City:
    """Return the demo city (Columbus, OH) with its shipped road extract."""
    return City(name="Columbus, OH", osm_file=settings.data_dir / "osm" / "columbus.osm.pbf",
                timezone="America/New_York")


def load_network(settings: Settings, osm_file: Path | None = None) -> TravelGraph:
    """Build the drive network of ``osm_file`` (default: the demo city's) or load its cache."""
    from navigator.network import load_graph

    path = osm_file or demo_city(settings).osm_file
    return load_graph(path, cache_dir=settings.cache_dir)


def network_area(graph: TravelGraph, *, cell_m: float = 500.0) -> BaseGeometry:
    """Return the area the road network covers: the union of grid cells holding a node.

    Parameters
    ----------
    graph
        Road network.
    cell_m
        Grid cell size, metres (so a point in the area is within about one cell of a road).

    Returns
    -------
    shapely Polygon or MultiPolygon, EPSG:4326.
    """
    lat0 = float(np.mean(graph.lat))
    dlat = cell_m / 111_320.0
    dlon = cell_m / (111_320.0 * math.cos(math.radians(lat0)))
    cells = np.unique(np.stack([np.floor(graph.lon / dlon), np.floor(graph.lat / dlat)],
                               axis=1), axis=0)
    boxes = shapely.box(cells[:, 0] * dlon, cells[:, 1] * dlat,
                        (cells[:, 0] + 1) * dlon, (cells[:, 1] + 1) * dlat)
    return shapely.union_all(boxes).simplify(dlat / 10)


DEMO_ACTOR = "navigator demo"


def load_demo(store: Store, graph: TravelGraph, *, seed: int, now: datetime | None = None,
              actor: str = DEMO_ACTOR, replace_other: bool = False
              ) -> tuple[dict[str, int], tuple[str, ...]]:
    """Load the seeded demo city into ``store``, replacing what it held (audit log kept).

    Parameters
    ----------
    store, graph
        Where to load, and the road network the demo is clipped to.
    seed, now
        Seed and reference time of the synthetic values.
    actor
        Name recorded in the audit log.
    replace_other
        Also replace a store whose data did not come from the demo (otherwise refused).

    Returns
    -------
    counts, notes
        Records loaded per kind, and notes on what was clipped or generated.

    Raises
    ------
    ConflictError
        If the store holds data the demo did not load and ``replace_other`` is False.
    """
    from navigator.errors import ConflictError
    from navigator.ingest import demo_bundle

    counts = store.counts()
    held = {k: counts.get(k, 0) for k in ("resources", "hotlines", "teams", "incidents")}
    if any(held.values()) and not replace_other:
        loads = store.audit_log(limit=1, action="load")
        if not loads or loads[0].actor != actor:
            what = ", ".join(f"{n} {k}" for k, n in held.items() if n)
            msg = (f"the store already holds data the demo did not load ({what}); loading the "
                   "demo would replace it. Use another store, or pass --replace to overwrite")
            raise ConflictError(msg)
    bundle = demo_bundle(seed=seed, now=now, area=network_area(graph))
    counts = store.load(bundle, actor=actor, replace=True)
    return counts, bundle.notes


def roads_geojson(graph: TravelGraph) -> dict[str, Any]:
    """Return the road network as a GeoJSON basemap (EPSG:4326), built once per graph."""
    from navigator.maps import basemap_geojson

    cached = graph._cache.get("roads_geojson")
    if cached is None:
        cached = graph._cache.setdefault("roads_geojson", basemap_geojson(graph))
    return cached


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
    from navigator import maps
    from navigator.model import IncidentStatus

    bounds = (float(graph.lon.min()), float(graph.lat.min()), float(graph.lon.max()),
              float(graph.lat.max()))
    m = maps.new_map(bounds, asset_url=asset_url,
                     tile_url=settings.tile_url if settings else None,
                     tile_attribution=settings.tile_attribution if settings else None)
    maps.add_basemap(m, roads_url or roads_geojson(graph))
    resources = store.resources(include_confidential=include_confidential)
    maps.add_resources(m, resources, beds=store.beds(resources["id"]))
    maps.add_teams(m, store.teams())
    maps.add_incidents(m, store.incidents(statuses=[IncidentStatus.OPEN,
                                                    IncidentStatus.ASSIGNED]))
    maps.add_legend(m, title="Navigator", synthetic_note=SYNTHETIC_NOTE)
    import folium as _folium

    _folium.LayerControl(collapsed=True).add_to(m)
    return m
