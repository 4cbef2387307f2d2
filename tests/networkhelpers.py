"""Graph files and networkx references for the network and routing tests.

The session-wide graph fixtures built from these files (``baltimore``, ``baltimore_ref``,
``west_oakland``) live in ``tests/conftest.py``.
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np

from navigator.roads import TravelGraph, to_networkx

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
