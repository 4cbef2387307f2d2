"""Interop with networkx and osmnx: convert a TravelGraph both ways, keep osmnx offline."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from navigator.errors import ValidationError
from navigator.roads.build import assemble_graph, min_parallel_edges

if TYPE_CHECKING:
    import networkx as nx

    from navigator.roads.graph import TravelGraph


def to_networkx(tg: TravelGraph) -> nx.MultiDiGraph:
    """Return an osmnx-style ``MultiDiGraph``: nodes are indices with ``x``, ``y``, ``osmid``.

    Edges carry ``length`` (metres), ``travel_time`` (seconds) and ``edge`` (CSR edge id).
    A node graph cannot hold turn restrictions: on a graph built with them the export has
    every road between intersections and none of the restrictions (no turn edges).
    """
    import networkx as nx

    G = nx.MultiDiGraph(crs=tg.crs)
    G.add_nodes_from(
        (i, {"x": float(x), "y": float(y), "osmid": int(o)})
        for i, (x, y, o) in enumerate(zip(tg.lon, tg.lat, tg.osmid, strict=True))
    )
    tails, heads = tg.road_ends()
    road = tg.is_road_edge()
    G.add_edges_from(
        (int(a), int(b), {"length": float(ln), "travel_time": float(t), "edge": e})
        for e, (a, b, ln, t) in enumerate(
            zip(tails, heads, tg.length, tg.travel_time, strict=True)) if road[e]
    )
    return G


def graph_from_osmnx(G: nx.MultiDiGraph, *, source: str = "osmnx") -> TravelGraph:
    """Convert an osmnx graph with ``length`` and ``travel_time`` edges into a TravelGraph.

    Parallel edges keep the fastest; edge ``geometry`` (if any) becomes the shape. The graph is
    taken as given (call ``ox.truncate.largest_component(G, strongly=True)`` first).

    Raises
    ------
    ValidationError
        If the graph is empty or an edge lacks ``travel_time`` or ``length``.
    """
    nodes = list(G.nodes)
    if not nodes:
        msg = "the osmnx graph has no nodes"
        raise ValidationError(msg)
    index = {node: i for i, node in enumerate(nodes)}
    rows = []
    shapes: list[npt.NDArray[np.float64]] = []
    for a, b, data in G.edges(data=True):
        if "travel_time" not in data or "length" not in data:
            msg = f"edge {a}->{b} lacks travel_time/length: run ox.add_edge_travel_times first"
            raise ValidationError(msg)
        rows.append((index[a], index[b], float(data["travel_time"]), float(data["length"])))
        geom = data.get("geometry")
        shapes.append(np.asarray(geom.coords, dtype=np.float64)[1:-1].reshape(-1, 2)
                      if geom is not None else np.zeros((0, 2)))
    arr = np.array(rows, dtype=np.float64).reshape(-1, 4)
    u, v = arr[:, 0].astype(np.int64), arr[:, 1].astype(np.int64)
    u, v, tt, ln, pick = min_parallel_edges(u, v, arr[:, 2], arr[:, 3], return_pick=True)
    counts = np.array([len(shapes[p]) for p in pick], dtype=np.int64)
    geom_ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    geom_xy = np.concatenate([shapes[p] for p in pick] + [np.zeros((0, 2))])
    lon = np.array([G.nodes[x]["x"] for x in nodes], dtype=np.float64)
    lat = np.array([G.nodes[x]["y"] for x in nodes], dtype=np.float64)
    osmid = np.array([G.nodes[x].get("osmid", x) for x in nodes], dtype=np.int64)
    return assemble_graph(u, v, tt, ln, osmid, lon, lat, geom_ptr, geom_xy, source=source,
                     simplified=True, settings_hash="osmnx")


def configure_osmnx_offline(ox: Any) -> None:
    """Stop osmnx from reaching for DNS-over-HTTPS, rate-limit checks and its HTTP cache."""
    ox.settings.doh_url_template = None
    ox.settings.overpass_rate_limit = False
    ox.settings.requests_timeout = 5
    ox.settings.use_cache = False
