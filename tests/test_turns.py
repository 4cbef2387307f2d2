"""Turn restrictions: every real restriction of the shipped extracts against a line-graph reference.

The reference is independent of the node splitting: a networkx graph whose nodes are the road
edges, with an arc ``a -> b`` for every turn from ``a`` onto ``b`` that the OSM restrictions
allow (weight: ``b``'s travel time), built from the turns the build reports in OSM node ids.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from networkhelpers import (
    BALTIMORE_PBF,
    COLUMBUS_PBF,
    OSM,
    WEST_OAKLAND_DRIVE,
    WEST_OAKLAND_RAW,
    assert_times_equal,
    points_on,
)
from turnhelpers import (
    forbidden_turns,
    line_graph,
    reference_from,
    reference_to,
    turns_taken,
)

from navigator.config import settings_from_env
from navigator.errors import ValidationError
from navigator.roads import (
    build_graph,
    cache_path,
    edge_twins,
    isochrone,
    k_nearest,
    load_graph,
    nearest_facility,
    point_travel_time_matrix,
    route,
    route_between_points,
    snap,
    snap_to_edges,
    travel_time_matrix,
    travel_times_from,
    travel_times_from_point,
    travel_times_to,
    with_closures,
)
from navigator.roads.turns import TurnReport

PORTO = OSM / "porto_portugal.osm.pbf"
EXTRACTS = {"porto": PORTO, "columbus": COLUMBUS_PBF, "baltimore": BALTIMORE_PBF,
            "west_oakland": WEST_OAKLAND_RAW}
_BUILT: dict[str, tuple] = {}


def _built(name):
    """Return ``(graph, report, forbidden road-edge pairs, line-graph reference)``, once."""
    if name not in _BUILT:
        report = TurnReport()
        tg = build_graph(EXTRACTS[name], turn_report=report)
        bad = forbidden_turns(tg, report)
        _BUILT[name] = (tg, report, bad, line_graph(tg, bad))
    return _BUILT[name]


@pytest.fixture(params=[pytest.param(k, marks=pytest.mark.slow) if k == "porto" else k
                        for k in EXTRACTS], scope="module")
def turned(request):
    return _built(request.param)


# -- the restrictions are read and mapped ---------------------------------------------------

@pytest.mark.slow  # building Porto: ~5 s on a quiet machine
def test_porto_maps_almost_every_restriction_and_says_why_not():
    tg, report, bad, _ = _built("porto")
    assert len(report.applied) >= 310  # of 357 relations; the rest counted per reason
    assert sum(report.skipped.values()) + len(report.applied) == 357
    assert not [k for k in report.skipped if k.startswith("via way")]  # its one is applied
    assert len(report.via_turns) == 1 and len(tg.ghost_edge) == 1
    assert tg.turn_restricted and tg.n_nodes == 50390 and len(bad) > 300
    assert (tg.original_node[: tg.n_nodes] == np.arange(tg.n_nodes)).all()
    assert (tg.original_node[tg.target_node] == np.arange(tg.n_nodes)).all()


def test_extracts_without_relations_build_as_before():
    tg = build_graph(WEST_OAKLAND_DRIVE)
    off = build_graph(WEST_OAKLAND_DRIVE, turn_restrictions=False)
    assert not tg.turn_restricted and tg.n_search_nodes == tg.n_nodes
    for name in ("indptr", "indices", "travel_time", "length", "osmid", "up_indices",
                 "up_weight", "original_node", "target_node"):
        np.testing.assert_array_equal(getattr(tg, name), getattr(off, name))


def test_restrictions_off_give_the_plain_graph_exactly():
    """Off: the graph of a file with relations is the graph of its relation-free twin."""
    off, drive = build_graph(WEST_OAKLAND_RAW, turn_restrictions=False), build_graph(
        WEST_OAKLAND_DRIVE)
    for name in ("indptr", "indices", "travel_time", "ch_pos", "up_weight", "dn_weight"):
        np.testing.assert_array_equal(getattr(off, name), getattr(drive, name))
    for s in range(0, off.n_nodes, 17):
        assert_times_equal(travel_times_from(off, s), travel_times_from(drive, s))


# -- every restriction is respected -------------------------------------------------------

def test_no_route_takes_a_forbidden_turn(turned):
    """For each forbidden turn a -> b: the fastest route from a's tail to b's head avoids it,
    and (for a sample) its time is the line-graph reference's."""
    tg, _, bad, L = turned
    tails, heads = tg.road_ends()
    rng = np.random.default_rng(1)
    sample = {p for i, p in enumerate(sorted(bad)) if rng.random() < 25 / len(bad) or i < 3}
    for a, b in sorted(bad):
        s, t = int(tails[a]), int(heads[b])
        if s == t:
            continue
        r = route(tg, s, t)
        assert (a, b) not in turns_taken(r.edges)
        assert not (turns_taken(r.edges) & bad)
        assert r.nodes[0] == s and r.nodes[-1] == t and (r.nodes < tg.n_nodes).all()
        if (a, b) in sample:
            L.add_weighted_edges_from(("S", e, tg.travel_time[e]) for e in L.graph["out"][s])
            L.add_weighted_edges_from((e, "T", 0.0) for e in L.graph["into"][t])
            ref = nx.bidirectional_dijkstra(L, "S", "T")[0]
            L.remove_nodes_from(["S", "T"])
            assert r.travel_time_s == pytest.approx(ref, rel=1e-9, abs=1e-9)


@pytest.mark.slow
def test_porto_known_route_changes_with_the_restriction():
    """A no-turn at Porto OSM node 305964419: the plain graph turns there (6.3 s), the
    restricted one drives on and turns back (66.6 s)."""
    tg, *_ = _built("porto")
    plain = build_graph(PORTO, turn_restrictions=False)
    f, v, t = 1962020170, 305964419, 305964422
    r0 = route(plain, *(int(x) for x in plain.node_of_osmid([f, t])))
    r1 = route(tg, *(int(x) for x in tg.node_of_osmid([f, t])))
    assert plain.osmid[r0.nodes].tolist() == [f, v, t]
    assert r0.travel_time_s == pytest.approx(6.2593, abs=1e-3)
    assert r1.travel_time_s == pytest.approx(66.6154, abs=1e-3)
    # on through the junction, a U-turn at the next one, back and right onto t
    path = tg.osmid[r1.nodes].tolist()
    assert path[:2] == [f, v] and path[3:] == [v, t] and len(path) == 5
    assert r1.geometry.length > r0.geometry.length


@pytest.mark.parametrize("name", ["columbus", "baltimore", "west_oakland"])
def test_one_to_all_and_all_to_one_match_the_line_graph(name):
    tg, _, _, L = _built(name)
    rng = np.random.default_rng(7)
    restricted = np.unique(tg.original_node[tg.n_nodes:])
    nodes = np.concatenate([restricted[:3], rng.choice(tg.n_nodes, 3, replace=False)])
    for s in nodes.tolist():
        ref = reference_from(tg, L, s)
        for m in ("auto", "phast", "dijkstra"):
            assert_times_equal(travel_times_from(tg, s, method=m), ref)
        ref_to = reference_to(tg, L, s)
        for m in ("auto", "phast", "dijkstra"):
            assert_times_equal(travel_times_to(tg, s, method=m), ref_to)
        few = nodes[nodes != s]
        assert_times_equal(travel_times_from(tg, s, few), ref[few])
        assert_times_equal(travel_time_matrix(tg, [s], few)[0], ref[few])
        assert_times_equal(travel_time_matrix(tg, few, [s])[:, 0], ref_to[few])
        iso = isochrone(tg, s, 300.0, hull=None)
        np.testing.assert_array_equal(iso.nodes, np.flatnonzero(ref <= 300.0))
        _, t = k_nearest(tg, s, few, k=2)
        assert_times_equal(t, np.sort(ref[few])[:2])
    nf = nearest_facility(tg, nodes[:2])
    ref = np.minimum(reference_from(tg, L, int(nodes[0])), reference_from(tg, L, int(nodes[1])))
    assert_times_equal(nf.time_s, ref)


def test_restrictions_change_some_times():
    tg, _, _, _ = _built("columbus")
    plain = build_graph(COLUMBUS_PBF, turn_restrictions=False)
    restricted = np.unique(tg.original_node[tg.n_nodes:])
    changed = [not np.array_equal(travel_times_to(tg, int(s)), travel_times_to(plain, int(s)))
               for s in restricted]
    assert any(changed)


def test_points_and_closures_on_a_restricted_graph():
    tg, _, bad, L = _built("west_oakland")
    tails = tg.road_ends()[0]
    a, b = sorted(bad)[0]
    start, stop = points_on(tg, [a], [0.5]), points_on(tg, [b], [0.5])
    r = route_between_points(tg, start, stop)
    assert (a, b) not in turns_taken(r.edges)
    # reference: leave from the middle of a (or of its twin), arrive in the middle of b (or
    # of its twin) by an allowed turn onto it
    tw = edge_twins(tg)
    G = L.copy()
    G.add_weighted_edges_from(("S", e, 0.5 * tg.travel_time[e]) for e in (a, tw[a]) if e >= 0)
    dist = nx.single_source_dijkstra_path_length(G, "S")
    ref = min(dist.get(x, np.inf) + 0.5 * tg.travel_time[e]
              for e in (b, tw[b]) if e >= 0 for x in L.predecessors(e))
    assert r.travel_time_s == pytest.approx(ref, rel=1e-9)
    assert float(point_travel_time_matrix(tg, start, stop)[0, 0]) == pytest.approx(ref, rel=1e-9)
    to_all = np.full(tg.n_nodes, np.inf)
    for x, ins in L.graph["into"].items():
        to_all[x] = min(dist.get(e, np.inf) for e in ins)
    assert_times_equal(travel_times_from_point(tg, start), to_all)
    # a snapped point never lands on a turn edge
    snapped = snap_to_edges(tg, tg.lon, tg.lat, max_snap_m=50)
    assert not tg.is_turn_edge()[snapped.edge].any()
    assert (snap(tg, tg.lon, tg.lat).node == np.arange(tg.n_nodes)).all()
    # closing the roads out of one restricted junction: still exact
    closed = np.flatnonzero((tails == tails[b]) & ~tg.is_turn_edge())
    ref = line_graph(tg, bad, closed)
    for mode in ("never", "now"):
        D = with_closures(tg, closed, contract=mode)
        for s in (int(tails[a]), 0, 5):
            want = reference_from(tg, ref, s)
            assert_times_equal(travel_times_from(D, s), want)
            far = int(np.argmax(np.where(np.isfinite(want), want, -1)))
            r = route(D, s, far)
            assert r.travel_time_s == pytest.approx(want[far], rel=1e-9)
            assert not (turns_taken(r.edges) & bad) and not np.isin(r.edges, closed).any()


def test_the_setting_and_cache_key(tmp_path, monkeypatch):
    assert settings_from_env({"NAVIGATOR_TURN_RESTRICTIONS": "0"}).turn_restrictions is False
    assert settings_from_env({}).turn_restrictions is True
    with pytest.raises(ValidationError, match="TURN_RESTRICTIONS"):
        settings_from_env({"NAVIGATOR_TURN_RESTRICTIONS": "maybe"})
    on = cache_path(WEST_OAKLAND_RAW, tmp_path)
    off = cache_path(WEST_OAKLAND_RAW, tmp_path, turn_restrictions=False)
    assert on != off
    g_on = load_graph(WEST_OAKLAND_RAW, cache_dir=tmp_path)
    g_off = load_graph(WEST_OAKLAND_RAW, cache_dir=tmp_path, turn_restrictions=False)
    assert g_on.turn_restricted and not g_off.turn_restricted
    again = load_graph(WEST_OAKLAND_RAW, cache_dir=tmp_path)  # from the cache
    np.testing.assert_array_equal(again.target_node, g_on.target_node)
    np.testing.assert_array_equal(again.original_node, g_on.original_node)
