"""The peers benchmark's adapters answer Navigator's queries on Navigator's exact graph."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import bench_peers
import peers_engines
import routing_queries


@pytest.fixture(scope="module")
def setup(graph_cache_dir):  # type: ignore[no-untyped-def]
    from navigator.config import Settings
    from navigator.services.context import load_network

    # the peers model no turn restrictions: compare on the graph without them (as the bench)
    tg = load_network(Settings(cache_dir=graph_cache_dir, turn_restrictions=False))
    inst = routing_queries.instances(tg, seed=3)
    return tg, inst, routing_queries.navigator_queries(tg, inst)


@pytest.mark.parametrize("engine", ["scipy", "networkit"])
def test_exact_peers_equal_ours(setup, engine):
    pytest.importorskip(engine)
    tg, inst, ours = setup
    queries = getattr(peers_engines, f"{engine}_queries")(tg, inst)
    assert {"Q1", "Q2", "Q4", "Q5", "R"} <= set(queries)
    for q, fn in queries.items():
        for i in (0, 1):
            equal, gap = bench_peers.same(q, ours[q](i), fn(i))
            assert equal, (engine, q, i, gap)


def test_same_tells_a_different_answer(setup):
    ours = setup[2]
    q1 = np.asarray(ours["Q1"](0))
    worse = q1.copy()
    worse[3] *= 1.001
    assert bench_peers.same("Q1", q1, q1) == (True, 0.0)
    equal, gap = bench_peers.same("Q1", q1, worse)
    assert not equal and gap == pytest.approx(1e-3)
    r = ours["R"](0)
    assert not bench_peers.same("R", r, (r.travel_time_s * 1.01, None))[0]


def test_path_line_is_the_route_geometry(setup):
    tg, _, ours = setup
    r = ours["R"](2)
    assert peers_engines.path_line(tg, r.nodes).equals(r.geometry)
    np.testing.assert_array_equal(peers_engines.path_edges(tg, r.nodes), r.edges)
