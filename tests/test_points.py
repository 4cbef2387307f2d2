"""On-road points (snapped to edges) against networkx with the points added as nodes."""

from __future__ import annotations

import threading

import networkx as nx
import numpy as np
import pytest
import shapely
from networkhelpers import as_array, assert_times_equal
from networkhelpers import points_on as _points
from networkhelpers import with_points as _with_points

from navigator.errors import UnreachableError, ValidationError
from navigator.roads import (
    EdgeSnap,
    edge_twins,
    nearest_point_facility,
    point_isochrone,
    point_travel_time_matrix,
    route,
    route_between_points,
    snap,
    snap_to_edges,
    travel_time_matrix,
    travel_times_from,
    travel_times_from_point,
    travel_times_to,
    travel_times_to_point,
)
from navigator.roads.osm import great_circle_m
from navigator.roads.points import _piece


def _nx_times(G, src, n, reverse=False):
    H = G.reverse(copy=False) if reverse else G
    d = nx.single_source_dijkstra_path_length(H, src, weight="travel_time")
    return as_array({k: v for k, v in d.items() if isinstance(k, int | np.integer)}, n)


@pytest.fixture(scope="module")
def pts(baltimore):
    rng = np.random.default_rng(3)
    e = rng.choice(baltimore.n_edges, 12, replace=False)
    f = rng.uniform(0, 1, 12)
    f[:2] = [0.0, 1.0]
    return _points(baltimore, e, f)


def test_twins_are_two_way_roads(baltimore):
    tw = edge_twins(baltimore)
    has = np.flatnonzero(tw >= 0)
    assert 0.5 * baltimore.n_edges < has.size < baltimore.n_edges
    np.testing.assert_array_equal(tw[tw[has]], has)
    tails = baltimore.edge_sources()
    np.testing.assert_array_equal(tails[tw[has]], baltimore.indices[has])
    np.testing.assert_allclose(baltimore.length[tw[has]], baltimore.length[has])


def test_point_at_a_node_equals_node_queries(baltimore):
    e = np.array([5, 500, 5000])
    tails = baltimore.edge_sources()
    at_tail = _points(baltimore, e, np.zeros(3))
    at_head = _points(baltimore, e, np.ones(3))
    for i in range(3):
        u, v = int(tails[e[i]]), int(baltimore.indices[e[i]])
        assert_times_equal(travel_times_from_point(baltimore, at_tail.take(i)),
                           travel_times_from(baltimore, u))
        assert_times_equal(travel_times_to_point(baltimore, at_head.take(i)),
                           travel_times_to(baltimore, v))
    # ordinary points snapped at node coordinates: node-to-node parts are unchanged
    nodes = np.array([3, 70, 900, 1500])
    es = snap_to_edges(baltimore, baltimore.lon[nodes], baltimore.lat[nodes])
    np.testing.assert_allclose(es.distance_m, 0, atol=1e-6)
    got = point_travel_time_matrix(baltimore, es, es)
    assert_times_equal(got, travel_time_matrix(baltimore, nodes, nodes))


@pytest.mark.parametrize("method", ["auto", "phast", "dijkstra"])
def test_times_from_and_to_mid_edge_points(baltimore, baltimore_ref, pts, method):
    n = baltimore.n_nodes
    targets = np.random.default_rng(1).choice(n, 40)
    for i in range(0, len(pts), 3):
        p = pts.take(i)
        G = _with_points(baltimore, baltimore_ref, origins=p, destinations=p)
        ref_from = _nx_times(G, ("o", 0), n)
        ref_to = _nx_times(G, ("d", 0), n, reverse=True)
        assert_times_equal(travel_times_from_point(baltimore, p, method=method), ref_from)
        assert_times_equal(travel_times_from_point(baltimore, p, targets, method=method),
                           ref_from[targets])
        assert_times_equal(travel_times_from_point(baltimore, p, targets[:2], method=method),
                           ref_from[targets[:2]])
        assert_times_equal(travel_times_to_point(baltimore, p, targets, method=method),
                           ref_to[targets])
        cut = np.where(ref_from <= 150.0, ref_from, np.inf)
        assert_times_equal(travel_times_from_point(baltimore, p, cutoff_s=150.0, method=method),
                           cut)


def test_point_matrix_and_routes(baltimore, baltimore_ref, pts):
    # add points on one road as another's (same edge ahead/behind, the twin edge)
    tw = edge_twins(baltimore)
    e0 = int(np.flatnonzero(tw >= 0)[10])
    extra = _points(baltimore, [e0, e0, int(tw[e0])], [0.2, 0.7, 0.5])
    o = EdgeSnap(*(np.concatenate([a, b]) for a, b in zip(
        (pts.edge, pts.distance_m, pts.lon, pts.lat, pts.fraction),
        (extra.edge, extra.distance_m, extra.lon, extra.lat, extra.fraction), strict=True)))
    G = _with_points(baltimore, baltimore_ref, origins=o, destinations=o)
    m = point_travel_time_matrix(baltimore, o, o)
    for i in range(len(o)):
        d = nx.single_source_dijkstra_path_length(G, ("o", i), weight="travel_time")
        ref = np.array([d.get(("d", j), np.inf) for j in range(len(o))])
        assert_times_equal(m[i], ref)
    assert m[len(pts), len(pts) + 1] == pytest.approx(0.5 * baltimore.travel_time[e0])
    cut = point_travel_time_matrix(baltimore, o, o, cutoff_s=120.0)
    assert_times_equal(cut, np.where(m <= 120.0, m, np.inf))
    for i, j in [(2, 7), (len(pts), len(pts) + 1), (len(pts) + 1, len(pts)),
                 (len(pts), len(pts) + 2), (5, 5), (0, 1)]:
        r = route_between_points(baltimore, o.take(i), o.take(j))
        assert r.travel_time_s == pytest.approx(m[i, j], rel=1e-9, abs=1e-9)
        coords = np.asarray(r.geometry.coords)
        np.testing.assert_allclose(coords[0], [o.lon[i], o.lat[i]])
        np.testing.assert_allclose(coords[-1], [o.lon[j], o.lat[j]])
        # the drawn line is as long as the reported length (great-circle pieces, ~0.5 %)
        drawn = great_circle_m(coords[:-1, 1], coords[:-1, 0], coords[1:, 1], coords[1:, 0])
        assert drawn.sum() == pytest.approx(r.length_m, rel=5e-3, abs=0.5)
        tails = baltimore.edge_sources()
        inner = r.edges[1:-1] if len(r.edges) > 1 else r.edges[:0]
        assert np.all(tails[inner[1:]] == baltimore.indices[inner[:-1]])


def test_long_edge_point_is_on_the_road(baltimore):
    e = int(np.argmax(baltimore.length))
    assert baltimore.length[e] > 1000
    mid = _piece(baltimore, e, 0.5, 0.5)[0]
    with pytest.raises(UnreachableError, match="from the road network"):
        snap(baltimore, [mid[0]], [mid[1]], max_snap_m=300)
    es = snap_to_edges(baltimore, [mid[0]], [mid[1]], max_snap_m=300)
    assert es.distance_m[0] < 0.5
    assert es.edge[0] in (e, edge_twins(baltimore)[e])
    assert es.fraction[0] == pytest.approx(0.5, abs=1e-3)
    head = int(baltimore.indices[es.edge[0]])
    t = travel_times_from_point(baltimore, es, [head])[0]
    assert t <= 0.5 * baltimore.travel_time[es.edge[0]] * 1.002
    iso = point_isochrone(baltimore, es, 60.0)
    assert iso.polygon.covers(shapely.Point(mid).buffer(-1e-12)) or iso.polygon.distance(
        shapely.Point(mid)) < 1e-9


def test_nearest_point_facility_and_isochrone(baltimore, baltimore_ref, pts):
    n = baltimore.n_nodes
    G = _with_points(baltimore, baltimore_ref, origins=pts)
    src = [("o", i) for i in range(len(pts))]
    d = nx.multi_source_dijkstra_path_length(G, set(src), weight="travel_time")
    ref = as_array({k: v for k, v in d.items() if not isinstance(k, tuple)}, n)
    for method in ("auto", "phast", "dijkstra"):
        nf = nearest_point_facility(baltimore, pts, method=method)
        assert_times_equal(nf.time_s, ref)
        fin = np.isfinite(ref)
        assert (nf.facility[fin] >= 0).all() and (nf.facility[~fin] == -1).all()
        nf = nearest_point_facility(baltimore, pts, cutoff_s=60.0, method=method)
        assert_times_equal(nf.time_s, np.where(ref <= 60.0, ref, np.inf))
    p = pts.take(4)
    ref = _nx_times(_with_points(baltimore, baltimore_ref, origins=p), ("o", 0), n)
    for method in ("phast", "dijkstra"):
        iso = point_isochrone(baltimore, p, 200.0, hull=None, method=method)
        np.testing.assert_array_equal(iso.nodes, np.flatnonzero(ref <= 200.0))
        assert_times_equal(iso.time_s, ref[iso.nodes])


def test_bad_points(baltimore, pts):
    with pytest.raises(ValidationError, match="exactly one"):
        travel_times_from_point(baltimore, pts)
    far = snap_to_edges(baltimore, [-80.0], [39.0], strict=False)
    with pytest.raises(ValidationError, match="not on the road network"):
        travel_times_to_point(baltimore, far)
    with pytest.raises(ValidationError, match="EdgeSnap"):
        point_travel_time_matrix(baltimore, [1, 2], pts)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="empty"):
        nearest_point_facility(baltimore, pts.take([]))


def test_graph_with_workspaces_pickles(baltimore):
    import pickle

    travel_times_to(baltimore, 3, [4, 5])  # creates this thread's workspace in the memo
    back = pickle.loads(pickle.dumps(baltimore))
    assert_times_equal(travel_times_to(back, 3, [4, 5]), travel_times_to(baltimore, 3, [4, 5]))


def test_queries_from_threads_match_serial(baltimore):
    rng = np.random.default_rng(11)
    jobs = [(int(a), rng.choice(baltimore.n_nodes, 50)) for a in rng.choice(
        baltimore.n_nodes, 24)]
    serial = [(travel_times_to(baltimore, a, t), route(baltimore, a, int(t[0])).travel_time_s,
               travel_times_from(baltimore, a, cutoff_s=90.0)) for a, t in jobs]
    got: dict[int, tuple] = {}

    def work(k: int) -> None:
        for i in range(k, len(jobs), 4):
            a, t = jobs[i]
            got[i] = (travel_times_to(baltimore, a, t),
                      route(baltimore, a, int(t[0])).travel_time_s,
                      travel_times_from(baltimore, a, cutoff_s=90.0))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for i, (a, b, c) in enumerate(serial):
        assert_times_equal(got[i][0], a)
        assert got[i][1] == b
        assert_times_equal(got[i][2], c)


def test_cut_edges_are_the_same_from_the_kept_polylines(baltimore, monkeypatch):
    from navigator.roads import points

    kept = baltimore.cached(points._lines)
    edges = np.flatnonzero(np.diff(baltimore.geom_ptr) > 3)[:20].tolist()
    cuts = ((0.0, 1.0), (0.2, 0.7), (0.5, 0.5))
    kept.clear()
    cold = [_piece(baltimore, e, f0, f1) for e in edges for f0, f1 in cuts]
    assert sorted(kept) == sorted(edges)
    warm = [_piece(baltimore, e, f0, f1) for e in edges for f0, f1 in cuts]
    for a, b in zip(cold, warm, strict=True):
        np.testing.assert_array_equal(a, b)
    whole = cold[0]  # the whole edge: tail node, shape points, head node
    assert len(whole) == np.diff(baltimore.geom_ptr)[edges[0]] + 2
    verts, _ = kept[edges[0]]
    with pytest.raises(ValueError, match="read-only"):
        verts[0, 0] = 0.0
    whole[0, 0] = 0.0  # a caller's copy: what the graph keeps is untouched
    np.testing.assert_array_equal(_piece(baltimore, edges[0], 0.0, 1.0), warm[0])
    monkeypatch.setattr(points, "_LINES_MAX", len(kept))
    _piece(baltimore, edges[-1] + 1, 0.0, 1.0)
    assert list(kept) == [edges[-1] + 1]  # bounded: full, so forgotten and started again
