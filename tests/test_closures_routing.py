"""Road closures: every query on a graph with closed edges against networkx without them."""

from __future__ import annotations

import pickle
import time

import networkx as nx
import numpy as np
import pytest
import shapely
from networkhelpers import (
    as_array,
    assert_times_equal,
    points_on,
    reference_digraph,
    with_points,
)

from navigator.errors import UnreachableError, ValidationError
from navigator.roads import (
    EdgeSnap,
    _search,
    edge_vertices,
    edges_in_area,
    isochrone,
    k_nearest,
    nearest_facility,
    nearest_point_facility,
    point_isochrone,
    point_travel_time_matrix,
    route,
    route_between_points,
    save_graph,
    snap,
    snap_to_edges,
    to_networkx,
    travel_time_matrix,
    travel_times_from,
    travel_times_from_point,
    travel_times_to,
    travel_times_to_point,
    with_closures,
)
from navigator.roads.snapping import local_xy

GRAPHS = ("baltimore", "columbus_plain")
CLOSURES = ("1%", "5%", "20%", "polygon")
METHODS = ("auto", "phast", "dijkstra")


@pytest.fixture(scope="module")
def columbus_plain():
    """Columbus without its turn restrictions: the networkx reference here is node-based
    (closures on a turn-restricted graph are checked in tests/test_turns.py)."""
    from networkhelpers import COLUMBUS_PBF

    from navigator.roads import build_graph

    return build_graph(COLUMBUS_PBF, turn_restrictions=False)


def _polygon(tg):
    """A polygon around a quarter of the network's extent, off its centre (EPSG:4326)."""
    x0, x1 = np.quantile(tg.lon, [0.3, 0.6])
    y0, y1 = np.quantile(tg.lat, [0.35, 0.65])
    return shapely.Polygon([(x0, y0), (x1, y0), (x1, y1), ((x0 + x1) / 2, y1 + 0.002),
                            (x0, y1)])


def _closed(tg, closure):
    if closure == "polygon":
        return edges_in_area(tg, _polygon(tg))
    share = float(closure.rstrip("%")) / 100
    rng = np.random.default_rng(int(share * 1000))
    return rng.choice(tg.n_edges, round(share * tg.n_edges), replace=False)


def reference_without_closed(D):
    """networkx DiGraph of a graph with closures: ``to_networkx`` minus the closed edges."""
    G = to_networkx(D)
    shut = set(D.closed_edges.tolist())
    G.remove_edges_from([(a, b, k) for a, b, k, e in G.edges(keys=True, data="edge")
                         if e in shut])
    return reference_digraph(G)


_CASES: dict[tuple[str, str], tuple] = {}


@pytest.fixture(params=[(g, c) for g in GRAPHS for c in CLOSURES],
                ids=lambda p: f"{p[0]}-{p[1]}")
def case(request):
    """Return ``(base, closed edge ids, {mode: derived graph}, networkx reference)``."""
    key = request.param
    if key not in _CASES:
        tg = request.getfixturevalue(key[0])
        closed = _closed(tg, key[1])
        graphs = {m: with_closures(tg, closed, contract=m) for m in ("never", "now")}
        _CASES[key] = (tg, closed, graphs, reference_without_closed(graphs["never"]))
    return _CASES[key]


def _nx(R, s, cutoff=None, reverse=False):
    H = R.reverse(copy=False) if reverse else R
    return as_array(nx.single_source_dijkstra_path_length(H, int(s), cutoff=cutoff,
                                                          weight="travel_time"), len(R))


@pytest.mark.parametrize("mode", ["never", "now"])
def test_node_queries_match_networkx_without_the_closed_edges(case, mode):
    _, closed, graphs, R = case
    D = graphs[mode]
    assert _search.ch_graph(D) is (None if mode == "never" else D.cached(_search.contracted).graph)
    rng = np.random.default_rng(len(closed))
    n = D.n_nodes
    for s in rng.choice(n, 3, replace=False):
        s = int(s)
        ref_f, ref_t = _nx(R, s), _nx(R, s, reverse=True)
        many, few = rng.choice(n, 60), rng.choice(n, 3)
        for m in METHODS:
            assert_times_equal(travel_times_from(D, s, method=m), ref_f)
            assert_times_equal(travel_times_to(D, s, method=m), ref_t)
            assert_times_equal(travel_times_from(D, s, many, method=m), ref_f[many])
            assert_times_equal(travel_times_to(D, s, few, method=m), ref_t[few])
            assert_times_equal(travel_times_from(D, s, few, cutoff_s=240.0, method=m),
                               np.where(ref_f[few] <= 240.0, ref_f[few], np.inf))
            iso = isochrone(D, s, 300.0, hull=None, method=m)
            cut = _nx(R, s, cutoff=300.0)
            np.testing.assert_array_equal(iso.nodes, np.flatnonzero(np.isfinite(cut)))
            assert_times_equal(iso.time_s, cut[iso.nodes])
            iso_to = isochrone(D, s, 300.0, direction="to", hull="convex", method=m)
            np.testing.assert_array_equal(
                iso_to.nodes, np.flatnonzero(np.isfinite(_nx(R, s, 300.0, reverse=True))))
        for direction, ref in (("from", ref_f), ("to", ref_t)):
            _, t = k_nearest(D, s, many, k=5, direction=direction)
            expect = np.sort(ref[many])[:5]
            assert_times_equal(t, expect[np.isfinite(expect)])
    fac = rng.choice(n, 12, replace=False)
    for direction in ("from", "to"):
        H = R if direction == "from" else R.reverse(copy=False)
        ref = as_array(nx.multi_source_dijkstra_path_length(H, set(fac.tolist()),
                                                            weight="travel_time"), n)
        for m in METHODS:
            got = nearest_facility(D, fac, direction=direction, method=m)
            assert_times_equal(got.time_s, ref)
            reach = got.facility >= 0
            np.testing.assert_array_equal(reach, np.isfinite(ref))
    for shape in ((4, 30), (30, 4)):
        o, d = rng.choice(n, shape[0]), rng.choice(n, shape[1])
        ref = np.array([_nx(R, a)[d] for a in o])
        assert_times_equal(travel_time_matrix(D, o, d), ref)
        assert_times_equal(travel_time_matrix(D, o, d, cutoff_s=200.0),
                           np.where(ref <= 200.0, ref, np.inf))


@pytest.mark.parametrize("mode", ["never", "now"])
def test_routes_avoid_closed_edges_and_are_fastest(case, mode):
    _, closed, graphs, R = case
    D = graphs[mode]
    rng = np.random.default_rng(7)
    shut = np.zeros(D.n_edges, dtype=bool)
    shut[closed] = True
    tails = D.edge_sources()
    routed = 0
    for o, d in rng.choice(D.n_nodes, (25, 2)):
        ref = _nx(R, o)[d]
        if not np.isfinite(ref):
            with pytest.raises(UnreachableError):
                route(D, int(o), int(d))
            continue
        r = route(D, int(o), int(d))
        routed += 1
        assert r.travel_time_s == pytest.approx(ref, rel=1e-9, abs=1e-9)
        assert not shut[r.edges].any()
        assert r.nodes[0] == o and r.nodes[-1] == d
        assert np.all(tails[r.edges[1:]] == D.indices[r.edges[:-1]])
        assert D.travel_time[r.edges].sum() == pytest.approx(ref, rel=1e-9, abs=1e-9)
    assert routed >= 5


@pytest.mark.parametrize("mode", ["never", "now"])
def test_point_queries_match_networkx(case, mode):
    _, closed, graphs, R = case
    D = graphs[mode]
    rng = np.random.default_rng(5)
    n = D.n_nodes
    # snapped on the derived graph (open roads), plus points stored for the base graph that
    # now lie on closed edges (their closed parts are unusable)
    lon = rng.uniform(*np.quantile(D.lon, [0.2, 0.8]), 6)
    lat = rng.uniform(*np.quantile(D.lat, [0.2, 0.8]), 6)
    snapped = snap_to_edges(D, lon, lat, max_snap_m=5000)
    on_closed = points_on(D, closed[:4], [0.0, 1.0, 0.3, 0.8][:len(closed[:4])])
    pts = EdgeSnap(*(np.concatenate([a, b]) for a, b in zip(
        (snapped.edge, snapped.distance_m, snapped.lon, snapped.lat, snapped.fraction),
        (on_closed.edge, on_closed.distance_m, on_closed.lon, on_closed.lat,
         on_closed.fraction), strict=True)))
    G = with_points(D, R, origins=pts, destinations=pts)
    m = point_travel_time_matrix(D, pts, pts)
    targets = rng.choice(n, 40)
    for i in range(len(pts)):
        dist = nx.single_source_dijkstra_path_length(G, ("o", i), weight="travel_time")
        assert_times_equal(m[i], np.array([dist.get(("d", j), np.inf) for j in range(len(pts))]))
        ref = as_array({k: v for k, v in dist.items() if isinstance(k, int | np.integer)}, n)
        back = nx.single_source_dijkstra_path_length(G.reverse(copy=False), ("d", i),
                                                     weight="travel_time")
        ref_to = as_array({k: v for k, v in back.items() if isinstance(k, int | np.integer)}, n)
        for meth in METHODS:
            assert_times_equal(travel_times_from_point(D, pts.take(i), method=meth), ref)
            assert_times_equal(travel_times_to_point(D, pts.take(i), targets, method=meth),
                               ref_to[targets])
            iso = point_isochrone(D, pts.take(i), 240.0, hull=None, method=meth)
            np.testing.assert_array_equal(iso.nodes, np.flatnonzero(ref <= 240.0))
        for j in rng.choice(len(pts), 3):
            if np.isfinite(m[i, j]):
                r = route_between_points(D, pts.take(i), pts.take(int(j)))
                assert r.travel_time_s == pytest.approx(m[i, j], rel=1e-9, abs=1e-9)
                inner = r.edges[1:-1] if len(r.edges) > 2 else r.edges[:0]
                assert np.isfinite(D.travel_time[inner]).all()
            else:
                with pytest.raises(UnreachableError):
                    route_between_points(D, pts.take(i), pts.take(int(j)))
    for direction in ("from", "to"):
        got = nearest_point_facility(D, pts, direction=direction)
        H = G if direction == "from" else G.reverse(copy=False)
        src = {("o", i) if direction == "from" else ("d", i) for i in range(len(pts))}
        d = nx.multi_source_dijkstra_path_length(H, src, weight="travel_time")
        assert_times_equal(got.time_s, as_array(
            {k: v for k, v in d.items() if isinstance(k, int | np.integer)}, n))


def test_snapping_never_lands_on_a_closed_edge(case):
    tg, closed, graphs, _ = case
    D = graphs["never"]
    shut = np.zeros(D.n_edges, dtype=bool)
    shut[closed] = True
    rng = np.random.default_rng(2)
    # points on closed roads, and (polygon) inside the closed area
    verts, owner = edge_vertices(D, closed[:30])
    lon = np.concatenate([verts[:, 0], rng.uniform(*np.quantile(D.lon, [0.3, 0.6]), 20)])
    lat = np.concatenate([verts[:, 1], rng.uniform(*np.quantile(D.lat, [0.35, 0.65]), 20)])
    es = snap_to_edges(D, lon, lat, max_snap_m=5000)
    assert not shut[es.edge].any()
    base = snap_to_edges(tg, lon, lat, max_snap_m=5000)
    assert np.all(es.distance_m >= base.distance_m - 1e-9)
    assert (es.distance_m[:len(owner)] > base.distance_m[:len(owner)]).any()  # it moved
    # exact: the nearest open road, by brute force over every open edge's shape
    open_ids = np.flatnonzero(~shut)
    v, o = edge_vertices(D, open_ids)
    lines = shapely.linestrings(local_xy(D, v[:, 0], v[:, 1]), indices=o)
    p = shapely.points(local_xy(D, lon, lat))
    brute = np.array([shapely.distance(lines, q).min() for q in p])
    np.testing.assert_allclose(es.distance_m, brute, rtol=1e-9, atol=1e-6)
    ns = snap(D, lon, lat, max_snap_m=5000)
    touches = np.zeros(D.n_nodes, dtype=bool)
    touches[D.edge_sources()[~shut]] = True
    touches[D.indices[~shut]] = True
    assert touches[ns.node].all()
    xy = local_xy(D, D.lon, D.lat)
    q = local_xy(D, lon, lat)
    near = np.array([np.flatnonzero(touches)[np.argmin(
        np.hypot(*(xy[touches] - pt).T))] for pt in q])
    np.testing.assert_array_equal(ns.node, near)


def test_with_closures_is_a_derived_graph(baltimore):
    tg = baltimore
    assert with_closures(tg, []) is tg
    assert with_closures(tg, np.zeros(0, dtype=np.int64)) is tg
    assert not tg.closures_in_effect and tg.closed_edges.size == 0
    before = tg.travel_time.copy()
    D = with_closures(tg, [9, 3, 3, 100], contract="never")
    assert D.closures_in_effect
    np.testing.assert_array_equal(D.closed_edges, [3, 9, 100])
    assert D.closed_edges.dtype == np.int64
    assert np.isinf(D.travel_time[[3, 9, 100]]).all()
    assert np.isfinite(np.delete(D.travel_time, [3, 9, 100])).all()
    np.testing.assert_array_equal(D.rtravel_time, D.travel_time[D.redge])
    np.testing.assert_array_equal(D.length, tg.length)
    np.testing.assert_array_equal(tg.travel_time, before)  # the base is untouched
    assert D.n_nodes == tg.n_nodes and D.n_edges == tg.n_edges
    D2 = with_closures(D, [5, 9], contract="never")
    np.testing.assert_array_equal(D2.closed_edges, [3, 5, 9, 100])
    for bad in ([-1], [tg.n_edges], [1.5], [[1, 2]], ["a"]):
        with pytest.raises(ValidationError, match="edge"):
            with_closures(tg, bad)
    with pytest.raises(ValidationError, match="contract"):
        with_closures(tg, [1], contract="later")  # type: ignore[arg-type]


def test_background_contraction_swaps_in_and_stays_exact(baltimore, tmp_path):
    closed = _closed(baltimore, "5%")
    D = with_closures(baltimore, closed)  # default: re-contract in the background
    R = reference_without_closed(D)
    ref = _nx(R, 17)
    assert_times_equal(travel_times_from(D, 17, method="phast"), ref)  # either engine
    deadline = time.monotonic() + 120
    while _search.ch_graph(D) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    h = _search.ch_graph(D)
    assert h is not None and h is not D
    assert len(h.up_indices) != len(baltimore.up_indices) or not np.array_equal(
        h.up_weight, baltimore.up_weight)
    assert_times_equal(travel_times_from(D, 17, method="phast"), ref)
    assert_times_equal(travel_time_matrix(D, [17, 40], [1, 2, 3])[0], ref[[1, 2, 3]])
    back = pickle.loads(pickle.dumps(D))  # the slot pickles empty: Dijkstra answers again
    assert _search.ch_graph(back) is None
    assert_times_equal(travel_times_from(back, 17, method="phast"), ref)
    np.testing.assert_array_equal(back.closed_edges, D.closed_edges)
    with pytest.raises(ValidationError, match="closures"):
        save_graph(D, tmp_path / "closed.npz")


def test_edges_in_area_polygon_matches_brute_force(baltimore):
    tg = baltimore
    poly = _polygon(tg)
    got = edges_in_area(tg, poly)
    verts, owner = edge_vertices(tg)
    lines = shapely.linestrings(verts, indices=owner)
    expect = np.flatnonzero(shapely.intersects(lines, poly))
    np.testing.assert_array_equal(got, expect)
    assert 0 < got.size < tg.n_edges
    assert got.dtype == np.int64
    multi = shapely.MultiPolygon([poly, shapely.box(tg.lon.min() - 1, tg.lat.min() - 1,
                                                    tg.lon.min() - 0.5, tg.lat.min() - 0.5)])
    np.testing.assert_array_equal(edges_in_area(tg, multi), expect)
    far = shapely.box(10, 10, 11, 11)
    assert edges_in_area(tg, far).size == 0


def test_edges_in_area_lines_close_both_directions_not_cross_streets(baltimore):
    from navigator.roads import edge_twins

    tg = baltimore
    tw = edge_twins(tg)
    tails = tg.edge_sources()
    long_two_way = np.flatnonzero((tw >= 0) & (tg.length > 80))
    e = int(long_two_way[0])
    line = shapely.LineString(edge_vertices(tg, [e])[0])
    got = edges_in_area(tg, line)
    assert {e, int(tw[e])} <= set(got.tolist())
    # every closed edge lies within the tolerance of the picked line, in metres
    v, _ = edge_vertices(tg, got)
    local_line = shapely.LineString(local_xy(tg, *edge_vertices(tg, [e])[0].T))
    dist = shapely.distance(shapely.points(local_xy(tg, v[:, 0], v[:, 1])), local_line)
    assert dist.max() <= 5.0 + 1e-6
    # the cross streets meeting it at its ends stay open
    ends = {int(tails[e]), int(tg.indices[e])}
    cross = [k for k in range(tg.n_edges) if (int(tails[k]) in ends or int(tg.indices[k]) in ends)
             and k not in (e, int(tw[e])) and tg.length[k] > 20]
    assert cross and not set(cross) & set(got.tolist())
    e2 = int(long_two_way[5])
    both = shapely.MultiLineString([line, shapely.LineString(edge_vertices(tg, [e2])[0])])
    assert {e, int(tw[e]), e2, int(tw[e2])} <= set(edges_in_area(tg, both).tolist())
    wide = edges_in_area(tg, line, tolerance_m=60.0)
    assert set(got.tolist()) <= set(wide.tolist())


@pytest.mark.parametrize(("geom", "match"), [
    (shapely.Point(0, 0), "must be a Polygon"),
    (shapely.GeometryCollection(), "must be a Polygon"),
    (shapely.Polygon(), "empty"),
    (shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1)]), "invalid"),
    (shapely.Polygon([(0, 0), (200, 0), (200, 1)]), "outside EPSG:4326"),
    (shapely.from_wkt("LINESTRING (0 0, 0 95)"), "outside EPSG:4326"),
    ("POLYGON((0 0, 1 0, 1 1, 0 0))", "must be a Polygon"),
])
def test_edges_in_area_rejects_bad_geometry(baltimore, geom, match):
    with pytest.raises(ValidationError, match=match):
        edges_in_area(baltimore, geom)


def test_edges_in_area_rejects_bad_tolerance(baltimore):
    line = shapely.LineString([(baltimore.lon[0], baltimore.lat[0]),
                               (baltimore.lon[1], baltimore.lat[1])])
    for tol in (-1.0, float("nan")):
        with pytest.raises(ValidationError, match="tolerance_m"):
            edges_in_area(baltimore, line, tolerance_m=tol)


def test_closing_every_road(baltimore):
    D = with_closures(baltimore, np.arange(baltimore.n_edges), contract="never")
    assert np.isinf(travel_times_from(D, 0, [1, 2])).all()
    assert travel_times_from(D, 0, [0])[0] == 0.0
    with pytest.raises(UnreachableError):
        route(D, 0, 1)
    with pytest.raises(UnreachableError):
        snap_to_edges(D, [baltimore.lon[0]], [baltimore.lat[0]])
    assert snap(D, [baltimore.lon[0]], [baltimore.lat[0]], strict=False).node[0] == -1
