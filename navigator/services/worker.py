"""Warm road networks for a long-running process: loaded once, reloaded when their cache changes.

``navigator worker`` keeps a process alive that answers the CLI's decisions; this module is
what it keeps warm. :func:`warm_network` returns the network of an OSM file from memory while
neither the file nor its graph cache changed (a rebuild, ``navigator build-network``, a new
extract: the next call loads it again), and :func:`warm_up` also compiles (or loads from
numba's cache) the routing kernels the decisions use and builds the graph's snapping index,
so the first answer pays none of it. Road closures are not kept here: every command reads
them from the store (:func:`navigator.services.closures.effective_graph`).
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from navigator.demo.city import demo_city
from navigator.roads import (
    cache_path,
    point_travel_time_matrix,
    route_between_points,
    snap_to_edges,
    travel_times_from_point,
)
from navigator.services.context import area_context, load_network

if TYPE_CHECKING:
    from navigator.config import Settings
    from navigator.roads import TravelGraph

__all__ = ["WarmUp", "forget_networks", "ready_kernels", "warm_network", "warm_up"]

#: A file's identity and version: (device, inode, size, modification time in ns); None if absent.
_Stamp = tuple[int, int, int, int] | None

_NETWORKS: dict[tuple[str, str, bool, str], tuple[tuple[_Stamp, _Stamp], TravelGraph]] = {}
_LOCK = threading.Lock()


@dataclass(frozen=True)
class WarmUp:
    """What :func:`warm_up` made ready, and how long it took.

    Attributes
    ----------
    source
        The OSM file of the network.
    nodes, edges
        Size of the network.
    network_s, kernels_s
        Seconds to load (or build) the network, and to compile or load the routing kernels
        and build the snapping index.
    """

    source: str
    nodes: int
    edges: int
    network_s: float
    kernels_s: float


def _stamp(path: Path) -> _Stamp:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _stamps(osm: Path, settings: Settings) -> tuple[_Stamp, _Stamp]:
    return _stamp(osm), _stamp(cache_path(osm, settings.cache_dir,
                                          turn_restrictions=settings.turn_restrictions,
                                          turn_penalties=settings.turn_penalties))


def warm_network(settings: Settings, osm_file: Path | None = None) -> TravelGraph:
    """Return the road network of ``osm_file`` (default: the region's), kept in memory.

    The same object comes back while the OSM file and its graph cache are unchanged (their
    inode, size and modification time) and for the same ``settings.turn_restrictions`` and
    ``turn_penalties`` (a caller's ``NAVIGATOR_TURN_RESTRICTIONS=0`` gets the plain network,
    as in-process); after a change the network is loaded again
    (:func:`navigator.services.context.load_network`: rebuilt when the cache is stale).

    Parameters
    ----------
    settings
        ``cache_dir`` and the region (the store's recorded one, else the shipped one).
    osm_file
        Road extract; the region's when None.

    Returns
    -------
    TravelGraph
    """
    osm = Path(osm_file or demo_city(settings).osm_file).resolve()
    key = (str(osm), str(Path(settings.cache_dir).resolve()), settings.turn_restrictions,
           settings.turn_penalties)
    with _LOCK:
        found = _NETWORKS.get(key)
        if found is not None and found[0] == _stamps(osm, settings):
            return found[1]
        graph = load_network(settings, osm)
        _NETWORKS[key] = (_stamps(osm, settings), graph)
        return graph


def forget_networks() -> None:
    """Drop every network kept by :func:`warm_network` (the next call loads again)."""
    with _LOCK:
        _NETWORKS.clear()


def warm_up(settings: Settings, osm_file: Path | None = None) -> WarmUp:
    """Load the network and ready what the CLI's decisions need before their first answer.

    One tiny on-road query of each kind a decision makes (snap to an edge, a travel-time
    matrix, a route with geometry, times to every node) compiles the routing kernels, or
    loads them from numba's cache (``NUMBA_CACHE_DIR``, else ``__pycache__`` beside the
    package or the user's cache folder), and builds the graph's snapping index; the area's
    clock is read too.

    Parameters
    ----------
    settings, osm_file
        As in :func:`warm_network`.

    Returns
    -------
    WarmUp
    """
    started = time.perf_counter()
    graph = warm_network(settings, osm_file)
    loaded = time.perf_counter()
    ready_kernels(graph)
    area_context(graph, settings)
    return WarmUp(source=graph.source, nodes=graph.n_nodes, edges=graph.n_edges,
                  network_s=loaded - started, kernels_s=time.perf_counter() - loaded)


def ready_kernels(graph: TravelGraph) -> float:
    """Compile (or load) the routing kernels decisions use and index ``graph`` for snapping.

    What :func:`warm_up` does after loading the network; ``navigator demo`` and ``navigator
    region init`` call it so that a fresh install's first decision does not compile.

    Returns
    -------
    float
        Seconds it took.
    """
    started = time.perf_counter()
    far = graph.n_nodes - 1
    lon = [float(graph.lon[0]), float(graph.lon[far])]
    lat = [float(graph.lat[0]), float(graph.lat[far])]
    ends = snap_to_edges(graph, lon, lat, strict=False)
    point_travel_time_matrix(graph, ends, ends)
    route_between_points(graph, ends.take(0), ends.take(1))
    for cutoff_s in (None, 3600.0):  # team coverage: one-to-all, bounded or not
        travel_times_from_point(graph, ends.take(0), cutoff_s=cutoff_s)
    return time.perf_counter() - started
