"""Decision paths on on-road points (issue 14): clients, sites, teams, incidents, evacuees,
shelters and simulated calls snap to the nearest edge and their ETAs include the partial edge
time.

The long-edge case puts a point halfway along the demo network's longest two-way road (8 km,
its middle about 945 m from any node): node snapping refuses it, every service accepts it.
Ordinary points must agree with node snapping within the partial edge times at both ends.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from networkhelpers import points_on, reference_digraph, with_points
from servicehelpers import *  # noqa: F403  (fixtures)
from servicehelpers import CLIENT, NOW

from navigator import services as sv
from navigator.errors import UnreachableError
from navigator.model import CrisisType, Incident
from navigator.roads import (
    EdgeSnap,
    TravelGraph,
    point_isochrone,
    snap,
    snap_to_edges,
    travel_times_to,
    travel_times_to_point,
)
from navigator.roads.points import edge_twins

MEN = {"bed_type": "single_men", "gender": "male", "age": 40}


def _long_edge(tg: TravelGraph) -> int:
    """Return the longest two-way edge."""
    tw = edge_twins(tg)
    two_way = np.flatnonzero(tw >= 0)
    return int(two_way[np.argmax(tg.length[two_way])])


def _reference_s(tg: TravelGraph, a: EdgeSnap, b: EdgeSnap) -> float:
    """Return the networkx reference time between two on-road points (inf: unreachable)."""
    G = with_points(tg, reference_digraph(tg), origins=a, destinations=b)
    try:
        return float(nx.shortest_path_length(G, ("o", 0), ("d", 0), weight="travel_time"))
    except nx.NetworkXNoPath:
        return float("inf")


def _partial_bound_s(tg: TravelGraph, p: EdgeSnap, node: int) -> float | None:
    """Return the most time between an on-road point and ``node`` along its two-way edge, or
    None when the node is not an end of the point's edge or the edge is one-way."""
    e, f = int(p.edge[0]), float(p.fraction[0])
    tw = int(edge_twins(tg)[e])
    if tw < 0:
        return None
    tt = tg.travel_time
    if node == int(tg.indices[e]):
        return (1 - f) * max(float(tt[e]), float(tt[tw]))
    if node == int(tg.edge_sources()[e]):
        return f * max(float(tt[e]), float(tt[tw]))
    return None


def _agrees_with_node_time(tg: TravelGraph, origin: tuple[float, float],
                           dest: tuple[float, float], eta_s: float) -> bool:
    """Assert an on-road ETA (origin -> dest) is the nodes' time within the partial edge times.

    Returns False (nothing checked) when a point's snapped node is not an end of its two-way
    edge, so no bound is known.
    """
    a, a_node = snap_to_edges(tg, [origin[0]], [origin[1]]), int(snap(tg, *origin).node[0])
    b, b_node = snap_to_edges(tg, [dest[0]], [dest[1]]), int(snap(tg, *dest).node[0])
    bound_a, bound_b = _partial_bound_s(tg, a, a_node), _partial_bound_s(tg, b, b_node)
    if bound_a is None or bound_b is None:
        return False
    node_s = float(travel_times_to(tg, b_node, [a_node])[0])
    assert abs(eta_s - node_s) <= bound_a + bound_b + 1e-6
    return True


def test_long_edge_point_is_refused_by_node_snapping(columbus_graph) -> None:
    e = _long_edge(columbus_graph)
    mid = points_on(columbus_graph, [e], [0.5])
    assert columbus_graph.length[e] > 5000
    with pytest.raises(UnreachableError):
        snap(columbus_graph, mid.lon, mid.lat, max_snap_m=500)
    on = snap_to_edges(columbus_graph, mid.lon, mid.lat, max_snap_m=500)
    assert on.distance_m[0] < 1.0


def test_find_beds_from_the_middle_of_a_long_edge(store, columbus_graph, settings, area) -> None:
    tg = columbus_graph
    e = _long_edge(tg)
    mid = points_on(tg, [e], [0.5])
    lon, lat = float(mid.lon[0]), float(mid.lat[0])
    result = sv.find_beds(store, tg, settings, lon=lon, lat=lat, needs=MEN, at=NOW, k=3,
                          actor="cw1", area=area, max_time_s=7200.0)
    assert result.matches
    client = snap_to_edges(tg, [lon], [lat])
    half_s = 0.5 * min(float(tg.travel_time[e]), float(tg.travel_time[edge_twins(tg)[e]]))
    for m in result.matches:
        site = snap_to_edges(tg, [m.lon], [m.lat])
        assert m.eta_s == pytest.approx(_reference_s(tg, client, site), rel=1e-9, abs=1e-6)
        assert m.eta_s >= half_s - 1e-6  # the partial edge time is driven first
        assert m.route is not None and m.route.travel_time_s == pytest.approx(m.eta_s)
        assert m.route.geometry.coords[0] == pytest.approx((lon, lat), abs=1e-7)


def test_a_client_near_a_node_differs_by_the_partial_edge_time(store, columbus_graph, settings,
                                                              area) -> None:
    tg = columbus_graph
    e = _long_edge(tg)
    f = 150.0 / float(tg.length[e])  # 150 m along the road from its tail
    p = points_on(tg, [e], [f])
    lon, lat = float(p.lon[0]), float(p.lat[0])
    tail = int(tg.edge_sources()[e])
    assert int(snap(tg, [lon], [lat]).node[0]) == tail  # node snapping takes the tail
    on = snap_to_edges(tg, [lon], [lat])
    assert int(on.edge[0]) in (e, int(edge_twins(tg)[e]))
    # where the service puts the client, a hair from f
    f = float(on.fraction[0]) if int(on.edge[0]) == e else 1 - float(on.fraction[0])
    back_s = f * float(tg.travel_time[edge_twins(tg)[e]])
    result = sv.find_beds(store, tg, settings, lon=lon, lat=lat, needs=MEN, at=NOW, k=3,
                          actor="cw1", area=area, max_time_s=7200.0)
    assert result.matches and back_s > 1.0
    for m in result.matches:
        site = snap_to_edges(tg, [m.lon], [m.lat])
        from_tail, from_head = travel_times_to_point(tg, site, [tail, int(tg.indices[e])])
        ahead_s = (1 - f) * float(tg.travel_time[e])
        assert m.eta_s == pytest.approx(min(back_s + from_tail, ahead_s + from_head))
        # the node-snapped client starts at the tail: the difference is the partial time
        assert m.eta_s - from_tail == pytest.approx(back_s)


def test_incident_on_a_long_edge_is_accepted_ranked_and_reached(store, columbus_graph,
                                                                settings, area) -> None:
    tg = columbus_graph
    e = _long_edge(tg)
    mid = points_on(tg, [e], [0.5])
    inc = Incident(id="inc-long-edge", lon=float(mid.lon[0]), lat=float(mid.lat[0]),
                   crisis_type=CrisisType.YOUTH, priority=2)
    sv.add_incident(store, tg, settings, inc, actor="d1")
    assert store.incident(inc.id).id == inc.id
    ranking = sv.rank_teams(store, tg, settings, incident_id=inc.id, at=NOW, actor="d1",
                            area=area, k=3)
    assert ranking.options
    spot = snap_to_edges(tg, [inc.lon], [inc.lat])
    teams = store.teams().set_index("id")
    for o in ranking.options:
        t = teams.loc[o.team_id]
        at = snap_to_edges(tg, [t.geometry.x], [t.geometry.y])
        assert o.eta_s == pytest.approx(_reference_s(tg, at, spot), rel=1e-9, abs=1e-6)
        assert o.route is not None
        assert o.route.geometry.coords[-1] == pytest.approx((inc.lon, inc.lat), abs=1e-7)


def test_isochrone_from_the_middle_of_a_long_edge(store, columbus_graph, settings) -> None:
    tg = columbus_graph
    e = _long_edge(tg)
    mid = points_on(tg, [e], [0.5])
    found = sv.reachable_areas(store, tg, settings, actor="ana", limits_s=[600],
                               lon=float(mid.lon[0]), lat=float(mid.lat[0]))
    spot = snap_to_edges(tg, mid.lon, mid.lat)
    want = point_isochrone(tg, spot, 600.0)
    assert found.areas[0].nodes == want.nodes.size > 0
    ends = {int(tg.edge_sources()[e]), int(tg.indices[e])}
    at = dict(zip(want.nodes.tolist(), want.time_s.tolist(), strict=True))
    assert ends <= set(at)
    assert at[int(tg.indices[e])] == pytest.approx((1 - spot.fraction[0]) * tg.travel_time[e])


def test_ordinary_points_agree_with_node_snapping_within_the_partial_time(
        store, columbus_graph, settings, area) -> None:
    tg = columbus_graph
    inc = store.incidents().iloc[0]
    ranking = sv.rank_teams(store, tg, settings, incident_id=inc["id"], at=NOW, actor="d1",
                            area=area, k=20)
    where = (float(inc.geometry.x), float(inc.geometry.y))
    teams = store.teams().set_index("id")
    checked = 0
    for o in ranking.options:
        t = teams.loc[o.team_id]
        checked += _agrees_with_node_time(tg, (float(t.geometry.x), float(t.geometry.y)),
                                          where, o.eta_s)
    beds = sv.find_beds(store, tg, settings, lon=CLIENT[0], lat=CLIENT[1], needs=MEN, at=NOW,
                        k=3, actor="cw1", area=area)
    for m in beds.matches:
        checked += _agrees_with_node_time(tg, CLIENT, (m.lon, m.lat), m.eta_s)
    assert checked >= 3


def test_evacuees_on_a_long_edge_are_placed_from_where_they_are(store, columbus_graph,
                                                               settings) -> None:
    from navigator.demo.surge import ACTIVE_SURGE_SHELTER
    from navigator.services.evacuation import plan_evacuation

    tg = columbus_graph
    store.set_surge_active(ACTIVE_SURGE_SHELTER, True, actor="em1")
    e = _long_edge(tg)
    mid = points_on(tg, [e], [0.5])
    lon, lat = float(mid.lon[0]), float(mid.lat[0])
    with pytest.raises(UnreachableError):  # node snapping left this household unplaced
        snap(tg, [lon], [lat], max_snap_m=settings.max_snap_m)
    plan = plan_evacuation(store, tg, settings, actor="p1",
                           households=f"lon,lat,size,need\n{lon!r},{lat!r},3,general\n")
    home = snap_to_edges(tg, [lon], [lat])
    half_s = 0.5 * min(float(tg.travel_time[e]), float(tg.travel_time[edge_twins(tg)[e]]))
    for method in ("optimal", "greedy"):
        p = plan.placements[method]
        assert p.placed == 3 and not p.unplaced.any()
        (j,) = np.flatnonzero(p.flow[0])
        shelter = plan.shelters.iloc[j]
        site = snap_to_edges(tg, [shelter.geometry.x], [shelter.geometry.y])
        assert p.travel_s[0, j] == pytest.approx(_reference_s(tg, home, site), rel=1e-9,
                                                 abs=1e-6)
        assert p.travel_s[0, j] >= half_s - 1e-6  # the drive along the long road comes first


def test_simulator_takes_a_call_on_a_long_edge_where_it_is(store, columbus_graph,
                                                           settings) -> None:
    from navigator.services.simulation import simulate_policies

    tg = columbus_graph
    e = _long_edge(tg)
    mid = points_on(tg, [e], [0.5])
    lon, lat = float(mid.lon[0]), float(mid.lat[0])
    with pytest.raises(UnreachableError):  # node snapping refused the whole calls file
        snap(tg, [lon], [lat], max_snap_m=settings.max_snap_m)
    calls = ("time,lon,lat,priority,type,on_scene_min\n"
             f"2026-03-02T10:00:00,{lon!r},{lat!r},2,youth,30\n")
    run = simulate_policies(store, tg, settings, actor="p1", policies=["closest"],
                            incidents="long_edge_calls.csv", incidents_text=calls)
    assert run.reports[0].summary()["served"] == 1
    inp = run.input
    (call,) = inp.index(inp.stream.node, "call")
    spot = snap_to_edges(tg, [lon], [lat])
    teams = store.teams().sort_values("id", kind="stable")
    starts = inp.index(inp.fleet.start_node, "team start")
    checked = 0
    for (_, t), i in zip(teams.iterrows(), starts, strict=True):
        at = snap_to_edges(tg, [t.geometry.x], [t.geometry.y])
        want = _reference_s(tg, at, spot)
        if np.isfinite(want):
            # place keys hold the position along the edge to a millionth of its length
            assert inp.time_s[i, call] == pytest.approx(want, rel=1e-6, abs=1e-2)
            checked += 1
    assert checked >= 3


def _same_snaps(a: EdgeSnap, b: EdgeSnap) -> None:
    for field in ("edge", "distance_m", "lon", "lat", "fraction"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=field)


def test_remembered_site_snaps_are_the_snaps_of_their_graph(columbus_graph, monkeypatch
                                                            ) -> None:
    from navigator.roads import with_closures
    from navigator.services import _on_road

    rng = np.random.default_rng(3)
    lon = np.concatenate([rng.uniform(-83.05, -82.95, 12), [-80.0]])  # the last: far away
    lat = np.concatenate([rng.uniform(39.93, 40.0, 12), [39.9]])
    plain = snap_to_edges(columbus_graph, lon, lat, max_snap_m=500.0, strict=False)
    assert plain.edge[-1] == -1 and (plain.edge[:-1] >= 0).all()
    first = _on_road.snap_sites(columbus_graph, lon, lat, max_snap_m=500.0)
    _same_snaps(first, plain)
    again = _on_road.snap_sites(columbus_graph, lon[::-1], lat[::-1], max_snap_m=500.0)
    _same_snaps(again, plain.take(np.arange(len(lon))[::-1]))
    # another limit is another answer, never the remembered one
    wide = _on_road.snap_sites(columbus_graph, lon[-1:], lat[-1:], max_snap_m=1e6)
    assert wide.edge[0] >= 0
    # a graph with the nearest roads closed snaps elsewhere: its own memory, its own answers
    closed = with_closures(columbus_graph, np.unique(plain.edge[:4]), contract="never")
    moved = _on_road.snap_sites(closed, lon, lat, max_snap_m=500.0)
    _same_snaps(moved, snap_to_edges(closed, lon, lat, max_snap_m=500.0, strict=False))
    assert not np.isin(moved.edge[:4], plain.edge[:4]).any()
    # bounded: beyond the limit the memory starts again, answers unchanged
    monkeypatch.setattr(_on_road, "SITE_MEMO_MAX", 5)
    memory = columbus_graph.cached(_on_road._site_snaps).items
    _same_snaps(_on_road.snap_sites(columbus_graph, lon[:3], lat[:3], max_snap_m=1.0),
                snap_to_edges(columbus_graph, lon[:3], lat[:3], max_snap_m=1.0, strict=False))
    assert len(memory) == 3
    _same_snaps(_on_road.snap_sites(columbus_graph, lon, lat, max_snap_m=2.0),
                snap_to_edges(columbus_graph, lon, lat, max_snap_m=2.0, strict=False))
    assert len(memory) == 0  # more than the limit at once: answered, not remembered
    assert _on_road.snap_sites(columbus_graph, [], [], max_snap_m=500.0).edge.shape == (0,)


def test_remembered_sweeps_are_the_sweeps_of_their_point_graph_and_cutoff(columbus_graph,
                                                                          monkeypatch) -> None:
    from navigator.roads import travel_times_from_point, with_closures
    from navigator.services import _on_road

    rng = np.random.default_rng(5)
    pts = snap_to_edges(columbus_graph, rng.uniform(-83.05, -82.95, 4),
                        rng.uniform(39.93, 40.0, 4))

    def direct(tg, cutoff):  # type: ignore[no-untyped-def]
        return np.array([travel_times_from_point(tg, pts.take(i), cutoff_s=cutoff)
                         for i in range(len(pts))])

    for cutoff in (600.0, 900.0, 600.0):  # the second 600 s comes from memory
        got = _on_road.sweeps_from(columbus_graph, pts, cutoff_s=cutoff)
        np.testing.assert_array_equal(got, direct(columbus_graph, cutoff))
    got[:] = 0.0  # the caller's copy: the memory is untouched
    np.testing.assert_array_equal(_on_road.sweeps_from(columbus_graph, pts, cutoff_s=600.0),
                                  direct(columbus_graph, 600.0))
    # a point that moved is another key; closures are another graph with its own memory
    moved = pts.take([1, 0, 3, 2])
    np.testing.assert_array_equal(_on_road.sweeps_from(columbus_graph, moved, cutoff_s=600.0),
                                  direct(columbus_graph, 600.0)[[1, 0, 3, 2]])
    closed = with_closures(columbus_graph, np.unique(pts.edge[:2]), contract="never")
    np.testing.assert_array_equal(_on_road.sweeps_from(closed, pts, cutoff_s=600.0),
                                  direct(closed, 600.0))
    monkeypatch.setattr(_on_road, "SWEEP_MEMO_MAX", 2)  # bounded: starts again, same answers
    np.testing.assert_array_equal(_on_road.sweeps_from(columbus_graph, pts, cutoff_s=300.0),
                                  direct(columbus_graph, 300.0))
    assert len(columbus_graph.cached(_on_road._sweeps).items) <= 2
