from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from networkhelpers import (
    as_array,
    assert_times_equal,
    reference_digraph,
)

from navigator.errors import UnreachableError, ValidationError
from navigator.roads import (
    graph_from_osmnx,
    isochrone,
    k_nearest,
    nearest_facility,
    route,
    routing,
    travel_time_matrix,
    travel_times_from,
    travel_times_to,
)

SOURCES = (0, 11, 777, 2000)


def _nx_from(D, s, cutoff=None):
    return as_array(nx.single_source_dijkstra_path_length(D, s, cutoff=cutoff,
                                                          weight="travel_time"), len(D))


def _nx_to(D, t, cutoff=None):
    return _nx_from(D.reverse(copy=False), t, cutoff)


# -- every query type against networkx on a real extract (Baltimore) ----------------------

@pytest.mark.parametrize("method", ["auto", "phast", "dijkstra"])
@pytest.mark.parametrize("s", SOURCES)
def test_travel_times_from_all_nodes(baltimore, baltimore_ref, s, method):
    ref = _nx_from(baltimore_ref, s)
    assert_times_equal(travel_times_from(baltimore, s, method=method), ref)
    targets = np.random.default_rng(s).choice(baltimore.n_nodes, 50)
    assert_times_equal(travel_times_from(baltimore, s, targets, method=method), ref[targets])
    assert_times_equal(travel_times_to(baltimore, s, targets, method=method),
                       _nx_to(baltimore_ref, s)[targets])
    assert_times_equal(travel_times_from(baltimore, s, cutoff_s=99.0, method=method),
                       _nx_from(baltimore_ref, s, cutoff=99.0))


def test_full_sweep_for_many_targets(baltimore, baltimore_ref, monkeypatch):
    monkeypatch.setattr(routing._search, "RPHAST_MAX_TARGETS", 0)
    targets = np.arange(0, baltimore.n_nodes, 3)
    assert_times_equal(travel_times_to(baltimore, 9, targets),
                       _nx_to(baltimore_ref, 9)[targets])


def test_restricted_sweep_reuses_its_workspace(baltimore, baltimore_ref):
    """RPHAST's closure bitmap is all zero after every query: answers do not leak between."""
    from navigator.roads._workspace import workspace

    rng = np.random.default_rng(4)
    for t, k in ((9, 100), (777, 7), (9, 1500), (2000, 100)):
        sources = rng.choice(baltimore.n_nodes, k, replace=False)
        assert_times_equal(travel_times_to(baltimore, t, sources),
                           _nx_to(baltimore_ref, t)[sources])
        assert_times_equal(travel_times_from(baltimore, t, sources),
                           _nx_from(baltimore_ref, t)[sources])
        assert not workspace(baltimore).bits.any()


@pytest.mark.parametrize("s", SOURCES)
def test_travel_times_from_targets_and_cutoff(baltimore, baltimore_ref, s):
    targets = np.random.default_rng(s).choice(baltimore.n_nodes, 30)
    ref = _nx_from(baltimore_ref, s)
    assert_times_equal(travel_times_from(baltimore, s, targets), ref[targets])
    ref_cut = _nx_from(baltimore_ref, s, cutoff=120.0)
    assert_times_equal(travel_times_from(baltimore, s, cutoff_s=120.0), ref_cut)
    assert_times_equal(travel_times_from(baltimore, s, targets, cutoff_s=120.0),
                       ref_cut[targets])


@pytest.mark.parametrize("t", SOURCES)
def test_travel_times_to_uses_reverse_graph(baltimore, baltimore_ref, t):
    sources = np.random.default_rng(t).choice(baltimore.n_nodes, 100)
    expected = np.array([nx.shortest_path_length(baltimore_ref, int(s), t, weight="travel_time")
                         for s in sources[:10]])
    got = travel_times_to(baltimore, t, sources)
    assert_times_equal(got[:10], expected)
    assert_times_equal(got, _nx_to(baltimore_ref, t)[sources])
    assert_times_equal(travel_times_to(baltimore, t), _nx_to(baltimore_ref, t))


@pytest.mark.parametrize("direction", ["from", "to"])
def test_k_nearest(baltimore, baltimore_ref, direction):
    cand = np.random.default_rng(5).choice(baltimore.n_nodes, 60, replace=False)
    ref = (_nx_from if direction == "from" else _nx_to)(baltimore_ref, 100)[cand]
    idx, t = k_nearest(baltimore, 100, cand, k=5, direction=direction)
    order = np.lexsort((np.arange(len(cand)), ref))[:5]
    np.testing.assert_array_equal(idx, order)
    assert_times_equal(t, ref[order])
    idx, t = k_nearest(baltimore, 100, cand, k=5, direction=direction, cutoff_s=ref[order[2]])
    assert len(idx) == 3


@pytest.mark.parametrize("direction", ["from", "to"])
def test_nearest_facility(baltimore, baltimore_ref, direction):
    fac = np.random.default_rng(9).choice(baltimore.n_nodes, 12, replace=False)
    D = baltimore_ref if direction == "from" else baltimore_ref.reverse(copy=False)
    ref = as_array(nx.multi_source_dijkstra_path_length(D, set(fac.tolist()),
                                                        weight="travel_time"), len(D))
    nf = nearest_facility(baltimore, fac, direction=direction)
    assert_times_equal(nf.time_s, ref)
    # the facility named for a node is at least as near as every other facility
    per_fac = np.array([_nx_from(D, int(f)) for f in fac])
    np.testing.assert_allclose(per_fac[nf.facility, np.arange(len(D))], ref, rtol=1e-9)


@pytest.mark.parametrize(("n_o", "n_d"), [(7, 3), (3, 7)])
def test_matrix_both_directions(baltimore, baltimore_ref, n_o, n_d):
    rng = np.random.default_rng(n_o)
    o = rng.choice(baltimore.n_nodes, n_o)
    d = rng.choice(baltimore.n_nodes, n_d)
    expected = np.array([_nx_from(baltimore_ref, int(s))[d] for s in o])
    assert_times_equal(travel_time_matrix(baltimore, o, d), expected)
    cut = travel_time_matrix(baltimore, o, d, cutoff_s=200.0)
    assert_times_equal(cut, np.where(expected <= 200.0, expected, np.inf))
    assert travel_time_matrix(baltimore, [], d).shape == (0, n_d)


def test_isochrone(baltimore, baltimore_ref):
    iso = isochrone(baltimore, 500, 180.0)
    ref = _nx_from(baltimore_ref, 500, cutoff=180.0)
    np.testing.assert_array_equal(iso.nodes, np.flatnonzero(np.isfinite(ref)))
    assert_times_equal(iso.time_s, ref[iso.nodes])
    assert iso.polygon.is_valid and iso.polygon.area > 0
    pts = shapely.points(baltimore.lon[iso.nodes], baltimore.lat[iso.nodes])
    assert shapely.covers(iso.polygon.buffer(1e-9), pts).all()
    tiny = isochrone(baltimore, 500, 0.0)
    assert tiny.nodes.tolist() == [500] and tiny.polygon.area > 0
    convex = isochrone(baltimore, 500, 180.0, hull="convex").polygon
    assert convex.covers(iso.polygon.buffer(-1e-9)) or convex.area >= iso.polygon.area
    bare = isochrone(baltimore, 500, 180.0, direction="to", hull=None)
    assert bare.polygon is None
    assert_times_equal(bare.time_s, _nx_to(baltimore_ref, 500)[bare.nodes])


@pytest.mark.parametrize(("o", "d"), [(0, 2000), (777, 11), (5, 5)])
def test_route(baltimore, baltimore_ref, o, d):
    r = route(baltimore, o, d)
    expected = nx.shortest_path_length(baltimore_ref, o, d, weight="travel_time")
    assert r.travel_time_s == pytest.approx(expected, rel=1e-9)
    assert r.nodes[0] == o and r.nodes[-1] == d
    assert r.travel_time_s == pytest.approx(baltimore.travel_time[r.edges].sum(), rel=1e-9)
    assert r.length_m == pytest.approx(baltimore.length[r.edges].sum())
    coords = np.asarray(r.geometry.coords)
    assert tuple(coords[0]) == (baltimore.lon[o], baltimore.lat[o])
    assert tuple(coords[-1]) == (baltimore.lon[d], baltimore.lat[d])
    if o != d:  # the drawn line is about as long as the road (haversine vs degrees aside)
        assert len(coords) >= len(r.nodes)


# -- disconnected graphs, bad input --------------------------------------------------------

def _two_islands():
    G = nx.MultiDiGraph()
    for i in range(4):
        G.add_node(i, x=-83.0 + 0.001 * i, y=40.0)
    G.add_edge(0, 1, length=100.0, travel_time=10.0)
    G.add_edge(1, 0, length=100.0, travel_time=10.0)
    G.add_edge(2, 3, length=100.0, travel_time=10.0)
    G.add_edge(3, 2, length=100.0, travel_time=10.0)
    G.add_edge(1, 2, length=100.0, travel_time=10.0)  # one way only: 0,1 -> 2,3
    return graph_from_osmnx(G)


def test_disconnected_gives_inf_and_route_raises():
    tg = _two_islands()
    a = tg.node_of_osmid([0, 1, 2, 3])
    assert_times_equal(travel_times_from(tg, int(a[2]), a), np.array([np.inf, np.inf, 0, 10]))
    assert_times_equal(travel_times_to(tg, int(a[0]), a), np.array([0, 10, np.inf, np.inf]))
    m = travel_time_matrix(tg, a[2:], a[:2])
    assert np.isinf(m).all()
    with pytest.raises(UnreachableError, match="cannot be reached"):
        route(tg, int(a[3]), int(a[0]))
    assert route(tg, int(a[0]), int(a[3])).travel_time_s == 30.0
    idx, t = k_nearest(tg, int(a[2]), a[:2], k=1)
    assert idx.size == 0 and t.size == 0
    nf = nearest_facility(tg, a[2:3])
    assert nf.facility[a[0]] == -1 and np.isinf(nf.time_s[a[0]])


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda g: travel_times_from(g, -1), "not in the graph"),
        (lambda g: travel_times_from(g, 10**9), "not in the graph"),
        (lambda g: travel_times_from(g, 1.5), "integer"),  # type: ignore[arg-type]
        (lambda g: travel_times_from(g, 0, [0.5]), "integer"),
        (lambda g: travel_times_from(g, 0, cutoff_s=-1), "cutoff_s"),
        (lambda g: travel_times_to(g, 0, [[1, 2]]), "1-d"),
        (lambda g: k_nearest(g, 0, [1, 2], k=0), "k must"),
        (lambda g: nearest_facility(g, []), "empty"),
        (lambda g: nearest_facility(g, [0], direction="sideways"), "direction"),
        (lambda g: route(g, 0, -5), "not in the graph"),
        (lambda g: travel_times_from(g, 0, method="magic"), "method"),
        (lambda g: isochrone(g, 0, 60, hull="blob"), "hull"),
    ],
)
def test_bad_queries_raise_validation_error(west_oakland, call, match):
    with pytest.raises(ValidationError, match=match):
        call(west_oakland)


# -- random graphs with parallel edges (hypothesis) ---------------------------------------

@st.composite
def random_multidigraph(draw):
    n = draw(st.integers(2, 12))
    edges = draw(st.lists(
        st.tuples(st.integers(0, n - 1), st.integers(0, n - 1),
                  st.floats(0.0, 100.0, allow_nan=False, allow_subnormal=False)),
        min_size=1, max_size=40))
    G = nx.MultiDiGraph()
    for i in range(n):
        G.add_node(i, x=-83.0 + 0.001 * i, y=40.0 + 0.0005 * (i % 3))
    for a, b, t in edges:
        if a != b:
            G.add_edge(a, b, travel_time=t, length=t * 10)
    return G


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(G=random_multidigraph(), data=st.data())
def test_random_graphs_match_networkx(G, data):
    if G.number_of_edges() == 0:
        return
    tg = graph_from_osmnx(G)
    D = reference_digraph(G)
    n = len(G)
    node = tg.node_of_osmid(np.arange(n))  # networkx node i -> graph index
    s = data.draw(st.integers(0, n - 1))
    cutoff = data.draw(st.one_of(st.none(), st.floats(0, 150)))
    ref = _nx_from(D, s, cutoff)
    got = travel_times_from(tg, int(node[s]), node, cutoff_s=cutoff)
    assert_times_equal(got, ref)
    assert_times_equal(travel_times_to(tg, int(node[s]), node), _nx_to(D, s))
    for method in ("phast", "dijkstra"):
        assert_times_equal(travel_times_from(tg, int(node[s]), node, method=method),
                           _nx_from(D, s))
        assert_times_equal(travel_times_to(tg, int(node[s]), node, method=method),
                           _nx_to(D, s))
    fac = data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=4))
    ref_f = as_array(nx.multi_source_dijkstra_path_length(D, set(fac), weight="travel_time"), n)
    assert_times_equal(nearest_facility(tg, node[fac]).time_s[node], ref_f)
    full = np.array([_nx_from(D, i) for i in range(n)])
    assert_times_equal(travel_time_matrix(tg, node, node), full)
    k = data.draw(st.integers(1, 3))
    _, t = k_nearest(tg, int(node[s]), node, k=k)
    assert_times_equal(t, np.sort(full[s])[: len(t)])
    assert len(t) == min(k, np.isfinite(full[s]).sum())
    iso = isochrone(tg, int(node[s]), 50.0)
    assert set(tg.osmid[iso.nodes].tolist()) == set(np.flatnonzero(full[s] <= 50.0).tolist())
    d = data.draw(st.integers(0, n - 1))
    if np.isfinite(full[s, d]):
        r = route(tg, int(node[s]), int(node[d]))
        assert r.travel_time_s == pytest.approx(full[s, d], rel=1e-9, abs=1e-9)
        assert set(zip(r.nodes[:-1], r.nodes[1:], strict=True)) <= set(zip(
            tg.edge_sources().tolist(), tg.indices.tolist(), strict=True))
    else:
        with pytest.raises(UnreachableError):
            route(tg, int(node[s]), int(node[d]))


def test_warm_up_compiles_the_kernels_queries_use(west_oakland):
    """After warm_up every kernel is compiled, and queries compile nothing new."""
    from navigator.roads import _kernels

    _kernels.warm_up()
    names = [n for n in _kernels.__all__ if n != "warm_up"]
    warmed = {n: list(getattr(_kernels, n).signatures) for n in names}
    assert all(len(sigs) >= 1 for sigs in warmed.values()), warmed
    tg = west_oakland
    nodes = np.arange(min(50, tg.n_nodes))
    for method in ("phast", "dijkstra"):
        travel_times_from(tg, 0, method=method)
        travel_times_to(tg, 0, method=method)
    travel_time_matrix(tg, nodes, nodes)
    nearest_facility(tg, nodes[:3])
    k_nearest(tg, 0, nodes, k=3)
    isochrone(tg, 0, 60.0)
    assert {n: list(getattr(_kernels, n).signatures) for n in names} == warmed
