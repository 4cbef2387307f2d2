"""Graph files and networkx references for the network and routing tests.

The session-wide graph fixtures built from these files (``baltimore``, ``baltimore_ref``,
``west_oakland``) live in ``tests/conftest.py``.
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np

from navigator.roads import EdgeSnap, TravelGraph, edge_twins, points_along, to_networkx

ROOT = Path(__file__).resolve().parent.parent
OSM = ROOT / "data" / "osm"
FIXTURES = Path(__file__).resolve().parent / "data" / "network"
WEST_OAKLAND_DRIVE = OSM / "west_oakland_drive.osm.bz2"
WEST_OAKLAND_RAW = OSM / "West-Oakland.osm.bz2"
BALTIMORE_DRIVE = OSM / "baltimore_drive.osm.bz2"
BALTIMORE_PBF = OSM / "baltimore.osm.pbf"
COLUMBUS_PBF = OSM / "columbus.osm.pbf"
COLUMBUS_DRIVE = OSM / "columbus_drive.osm.bz2"


def reference_digraph(tg_or_graph: TravelGraph | nx.MultiDiGraph) -> nx.DiGraph:
    """Return a DiGraph keeping the least travel_time of parallel edges (never their sum)."""
    G = to_networkx(tg_or_graph) if isinstance(tg_or_graph, TravelGraph) else tg_or_graph
    D = nx.DiGraph()
    D.add_nodes_from(G.nodes)
    for a, b, data in G.edges(data=True):
        t = data["travel_time"]
        if not D.has_edge(a, b) or D[a][b]["travel_time"] > t:
            D.add_edge(a, b, travel_time=t)
    return D


def as_array(lengths: dict[int, float], n: int) -> np.ndarray:
    """Turn networkx's {node: seconds} into an array over nodes (inf where missing)."""
    out = np.full(n, np.inf)
    for k, v in lengths.items():
        out[k] = v
    return out


def assert_times_equal(actual: np.ndarray, expected: np.ndarray) -> None:
    """Equal within 1e-9 relative, inf exactly where expected is inf."""
    actual = np.asarray(actual, dtype=float)
    expected = np.asarray(expected, dtype=float)
    assert actual.shape == expected.shape
    np.testing.assert_array_equal(np.isinf(actual), np.isinf(expected))
    fin = np.isfinite(expected)
    np.testing.assert_allclose(actual[fin], expected[fin], rtol=1e-9, atol=1e-9)


def points_on(tg: TravelGraph, edges, fractions) -> EdgeSnap:  # type: ignore[no-untyped-def]
    """Return points at length fractions of edges, placed on the edge geometry."""
    return points_along(tg, edges, fractions)


def _add(G: nx.DiGraph, a, b, share: float, t: float) -> None:  # type: ignore[no-untyped-def]
    """Add ``a -> b`` taking ``share`` of an edge's time (none at all: 0 s, even on a closed
    edge); a part of a closed edge (``inf``) is left out."""
    w = 0.0 if share == 0 else share * t
    if np.isfinite(w):
        G.add_edge(a, b, travel_time=w)


def with_points(tg: TravelGraph, D: nx.DiGraph, origins: EdgeSnap | None = None,
                destinations: EdgeSnap | None = None) -> nx.DiGraph:
    """Return a copy of the reference graph with origin ("o", i) / destination ("d", j) nodes."""
    G = D.copy()
    tw = edge_twins(tg)
    tails = tg.edge_sources()
    tt = tg.travel_time
    for name, pts, leaving in (("o", origins, True), ("d", destinations, False)):
        if pts is None:
            continue
        for i, (e, f) in enumerate(zip(pts.edge, pts.fraction, strict=True)):
            u, v, p = int(tails[e]), int(tg.indices[e]), (name, i)
            if leaving:
                _add(G, p, v, 1 - f, tt[e])
                if tw[e] >= 0:
                    _add(G, p, u, f, tt[tw[e]])
                elif f == 0:
                    G.add_edge(p, u, travel_time=0.0)
            else:
                _add(G, u, p, f, tt[e])
                if tw[e] >= 0:
                    _add(G, v, p, 1 - f, tt[tw[e]])
                elif f == 1:
                    G.add_edge(v, p, travel_time=0.0)
    if origins is not None and destinations is not None:  # along one road, no node between
        for i, (ea, fa) in enumerate(zip(origins.edge, origins.fraction, strict=True)):
            for j, (eb, fb) in enumerate(zip(destinations.edge, destinations.fraction,
                                             strict=True)):
                o, d = ("o", i), ("d", j)
                if eb == ea and fb >= fa:
                    _add(G, o, d, fb - fa, tt[ea])
                elif eb == ea and tw[ea] >= 0:
                    _add(G, o, d, fa - fb, tt[tw[ea]])
                elif tw[ea] >= 0 and eb == tw[ea]:
                    fb_a = 1 - fb
                    if fb_a >= fa:
                        _add(G, o, d, fb_a - fa, tt[ea])
                    else:
                        _add(G, o, d, fa - fb_a, tt[eb])
    return G
