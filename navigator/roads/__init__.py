"""Road networks: build a TravelGraph from OSM, snap points to it, answer travel-time queries.

The public face of the road stack; callers import from here. Inside, one module per concern:
:mod:`~navigator.roads.graph` (the CSR graph type and its memo), :mod:`~navigator.roads.osm`
(reading drivable ways with osmnx's semantics), :mod:`~navigator.roads.build` (build, cache,
load), :mod:`~navigator.roads.snapping`, :mod:`~navigator.roads.routing` (the queries between
nodes), :mod:`~navigator.roads.points` (the same between on-road points snapped to edges),
:mod:`~navigator.roads.interop` (networkx/osmnx), :mod:`~navigator.roads.area` (outline and
time zone), :mod:`~navigator.roads.closures` (road closures: a derived graph without the closed
edges, exact for every query); compiled kernels live in the private leaves ``_kernels`` and
``_ch``, the search workspaces in ``_workspace`` and method choice in ``_search``.
"""

from __future__ import annotations

from navigator.roads.area import (
    area_nodes,
    area_timezone,
    area_width_m,
    circle_area,
    network_area,
    network_timezone,
)
from navigator.roads.build import (
    build_graph,
    cache_path,
    file_sha256,
    load_graph,
    read_graph,
    save_graph,
)
from navigator.roads.closures import Contract, edges_in_area, with_closures
from navigator.roads.graph import TravelGraph
from navigator.roads.interop import (
    configure_osmnx_offline,
    graph_from_osmnx,
    to_networkx,
)
from navigator.roads.osm import SPEED_FALLBACK_KPH, great_circle_m
from navigator.roads.points import (
    edge_twins,
    nearest_point_facility,
    point_isochrone,
    point_travel_time_matrix,
    points_along,
    route_between_points,
    travel_times_from_point,
    travel_times_to_point,
)
from navigator.roads.routing import (
    Isochrone,
    NearestFacility,
    Route,
    isochrone,
    k_nearest,
    nearest_facility,
    route,
    travel_time_matrix,
    travel_times_from,
    travel_times_to,
)
from navigator.roads.snapping import EdgeSnap, Snap, edge_vertices, snap, snap_to_edges

__all__ = [
    "SPEED_FALLBACK_KPH",
    "Contract",
    "EdgeSnap",
    "Isochrone",
    "NearestFacility",
    "Route",
    "Snap",
    "TravelGraph",
    "area_nodes",
    "area_timezone",
    "area_width_m",
    "build_graph",
    "cache_path",
    "circle_area",
    "configure_osmnx_offline",
    "edge_twins",
    "edge_vertices",
    "edges_in_area",
    "file_sha256",
    "graph_from_osmnx",
    "great_circle_m",
    "isochrone",
    "k_nearest",
    "load_graph",
    "nearest_facility",
    "nearest_point_facility",
    "network_area",
    "network_timezone",
    "point_isochrone",
    "point_travel_time_matrix",
    "points_along",
    "read_graph",
    "route",
    "route_between_points",
    "save_graph",
    "snap",
    "snap_to_edges",
    "to_networkx",
    "travel_time_matrix",
    "travel_times_from",
    "travel_times_from_point",
    "travel_times_to",
    "travel_times_to_point",
    "with_closures",
]
