"""Via-way turn restrictions and the OSRM car turn penalties, against history references.

Synthetic networks are written as OSM XML with hand-made relations and built through the
whole pipeline (reader, mapping, expansion); the references (``turnhelpers``) know nothing of
ports, copies or ghosts.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from networkhelpers import COLUMBUS_PBF, OSM, assert_times_equal, points_on
from turnhelpers import (
    forbidden_turns,
    history_times,
    line_graph,
    reference_from,
    road_edge,
    turns_taken,
    via_sequences,
)

from navigator.roads import (
    build_graph,
    isochrone,
    route,
    route_between_points,
    travel_time_matrix,
    travel_times_from,
    travel_times_to,
    with_closures,
)
from navigator.roads.turns import TurnReport

PORTO = OSM / "porto_portugal.osm.pbf"
SIDE = 5


def write_osm(path, nodes, ways, relations=(), signals=()):
    """Write an OSM XML file: nodes {id: (lon, lat)}, ways {id: (node ids, maxspeed)}."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6">']
    for i, (lon, lat) in nodes.items():
        tag = '<tag k="highway" v="traffic_signals"/>' if i in signals else ""
        out.append(f'<node id="{i}" version="1" lat="{lat:.7f}" lon="{lon:.7f}">{tag}</node>')
    for w, (refs, kph) in ways.items():
        nds = "".join(f'<nd ref="{r}"/>' for r in refs)
        out.append(f'<way id="{w}" version="1">{nds}<tag k="highway" v="residential"/>'
                   f'<tag k="maxspeed" v="{kph}"/></way>')
    for k, (value, members) in enumerate(relations, start=1):
        ms = "".join(f'<member type="{t}" ref="{r}" role="{role}"/>' for t, r, role in members)
        out.append(f'<relation id="{k}" version="1">{ms}<tag k="type" v="restriction"/>'
                   f'<tag k="restriction" v="{value}"/></relation>')
    path.write_text("\n".join([*out, "</osm>"]))
    return path


def node(i, j):
    return 1 + SIDE * i + j


def seg(a, b):
    """Way id of the one-segment way between grid nodes a and b."""
    return 10_000 + 100 * min(a, b) + max(a, b)


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    """A 5 x 5 two-way grid of one-segment ways with seven restrictions (two not mappable)."""
    rng = np.random.default_rng(3)
    nodes = {node(i, j): (j * 0.001 + rng.uniform(-2e-4, 2e-4),
                          41.0 + i * 0.001 + rng.uniform(-2e-4, 2e-4))
             for i in range(SIDE) for j in range(SIDE)}
    ways = {}
    for i in range(SIDE):
        for j in range(SIDE):
            for a, b in ((node(i, j), node(i, j + 1)), (node(i, j), node(i + 1, j))):
                if b in nodes and ((b - a == 1 and j < SIDE - 1) or b - a == SIDE):
                    ways[seg(a, b)] = ([a, b], int(rng.choice([20, 30, 50])))

    def w(a, b, role):
        return ("way", seg(node(*a), node(*b)), role)

    relations = [
        ("no_left_turn", [w((1, 0), (1, 1), "from"), w((1, 1), (1, 2), "via"),
                          w((1, 2), (2, 2), "to")]),
        # only straight on over two via ways
        ("only_straight_on", [w((3, 0), (3, 1), "from"), w((3, 1), (3, 2), "via"),
                              w((3, 2), (3, 3), "via"), w((3, 3), (3, 4), "to")]),
        # starts on the first one's via way: a drive along both must obey both
        ("no_right_turn", [w((1, 1), (1, 2), "from"), w((1, 2), (1, 3), "via"),
                           w((1, 3), (0, 3), "to")]),
        # a via-node restriction on the second one's via path
        ("no_right_turn", [w((3, 1), (3, 2), "from"), ("node", node(3, 2), "via"),
                           w((3, 2), (4, 2), "to")]),
        ("no_u_turn", [w((2, 4), (2, 3), "from"), w((2, 3), (3, 3), "via"),
                       w((3, 3), (3, 4), "to")]),
        # via way far from both, and one merged into a road round a corner: counted
        ("no_left_turn", [w((0, 0), (0, 1), "from"), w((2, 2), (2, 3), "via"),
                          w((0, 1), (0, 2), "to")]),
        ("no_left_turn", [w((4, 2), (4, 3), "from"), w((4, 3), (4, 4), "via"),
                          w((4, 4), (3, 4), "to")]),
    ]
    path = write_osm(tmp_path_factory.mktemp("grid") / "grid.osm", nodes, ways, relations)
    report = TurnReport()
    tg = build_graph(path, turn_report=report)
    return tg, report, path


def test_via_way_relations_are_mapped_or_counted(grid):
    tg, report, _ = grid
    assert len(report.applied) == 5
    assert report.skipped == {
        "via way: via ways do not join the from and to ways by road": 1,
        "via way: via ways are not whole roads of the graph (merged by simplification)": 1}
    seqs = via_sequences(tg, report)
    assert sorted(len(p) for p, _, _ in seqs) == [2, 2, 2, 3]
    assert len(tg.ghost_edge) == 5 and tg.n_road_edges == 72  # 80 segments, corners merged
    tails, heads = tg.road_ends()
    np.testing.assert_array_equal(tails[tg.ghost_edge], tails[tg.ghost_road])
    np.testing.assert_array_equal(heads[tg.ghost_edge], heads[tg.ghost_road])


def test_grid_times_equal_the_history_reference(grid):
    tg, report, _ = grid
    bad, seqs = forbidden_turns(tg, report), via_sequences(tg, report)
    ref = np.vstack([history_times(tg, s, bad, seqs) for s in range(tg.n_nodes)])
    every = np.arange(tg.n_nodes)
    for s in range(tg.n_nodes):
        for m in ("phast", "dijkstra"):
            assert_times_equal(travel_times_from(tg, s, method=m), ref[s])
            assert_times_equal(travel_times_to(tg, s, method=m), ref[:, s])
        iso = isochrone(tg, s, 60.0, hull=None)
        np.testing.assert_array_equal(iso.nodes, np.flatnonzero(ref[s] <= 60.0))
    assert_times_equal(travel_time_matrix(tg, every, every), ref)
    # the plain grid differs: the restrictions bind
    plain = build_graph(grid[2], turn_restrictions=False)
    assert not plain.turn_restricted
    assert (np.vstack([travel_times_from(plain, s) for s in range(plain.n_nodes)]) < ref).any()


def test_no_route_completes_a_restricted_sequence(grid):
    tg, report, _ = grid
    tails, heads = tg.road_ends()
    bad, seqs = forbidden_turns(tg, report), via_sequences(tg, report)
    for path, to, only in seqs:
        ends = to if not only else set(np.flatnonzero(tails == heads[path[-1]]).tolist()) - to
        for b in sorted(ends):
            s, t = int(tails[path[0]]), int(heads[b])
            r = route(tg, s, t)
            assert (r.nodes < tg.n_nodes).all() and not np.isin(r.edges, tg.ghost_edge).any()
            seq = r.edges.tolist()
            m = len(path)
            for i in range(len(seq) - m):
                assert not (tuple(seq[i:i + m]) == path and (seq[i + m] in to) != only)
            assert not turns_taken(r.edges) & bad
            assert r.travel_time_s == pytest.approx(history_times(tg, s, bad, seqs)[t],
                                                    rel=1e-9)


def test_closing_a_via_road_closes_its_ghost(grid):
    tg, report, _ = grid
    via = int(tg.ghost_road[0])
    D = with_closures(tg, [via], contract="now")
    assert np.isinf(D.travel_time[tg.ghost_edge[0]])
    bad, seqs = forbidden_turns(tg, report), via_sequences(tg, report)
    tails = tg.road_ends()[0]
    s = int(tails[via])
    ref = history_times(D, s, bad, seqs)
    assert_times_equal(travel_times_from(D, s), ref)


@pytest.mark.slow  # building Porto twice: ~10 s
def test_porto_via_way_u_turn_is_respected():
    """Relation 2225564: no U-turn from way 351525662 over the link 166972993."""
    report = TurnReport()
    tg = build_graph(PORTO, turn_report=report)
    plain = build_graph(PORTO, turn_restrictions=False)
    assert report.skipped.get("via way (not applied)") is None and len(tg.ghost_edge) == 1
    [(nodes, tos, only)] = report.via_turns
    assert nodes == (430284836, 112652015, 112613584) and tos == (112613589,) and not only
    s, t = (int(x) for x in tg.node_of_osmid([nodes[0], tos[0]]))
    r0 = route(plain, *(int(x) for x in plain.node_of_osmid([nodes[0], tos[0]])))
    assert plain.osmid[r0.nodes].tolist() == [*nodes, tos[0]]  # the plain graph takes it
    r1 = route(tg, s, t)
    assert tg.osmid[r1.nodes].tolist()[:4] != [*nodes, tos[0]]
    assert r1.travel_time_s > r0.travel_time_s
    ref = history_times(tg, s, forbidden_turns(tg, report), via_sequences(tg, report))
    assert r1.travel_time_s == pytest.approx(ref[t], rel=1e-9)
    assert_times_equal(travel_times_from(tg, s), ref)


# -- turn penalties (OSRM car) --------------------------------------------------------------

def osrm_penalty(angle):
    """OSRM car.lua's turn penalty, written out from the profile (seconds)."""
    if angle >= 0:
        return 7.5 / (1 + math.exp(-((13 / 1.075) * angle / 180 - 6.5 * 1.075)))
    return 7.5 / (1 + math.exp(-((13 * 1.075) * -angle / 180 - 6.5 / 1.075)))


@pytest.fixture(scope="module")
def crossing(tmp_path_factory):
    """A four-arm crossing on the equator (angles exact): C with a signal, a signal inside
    the west arm, and no left turn from the south arm to the west one."""
    d = 0.001
    nodes = {1: (0.0, 0.0), 2: (0.0, d), 3: (d, 0.0), 4: (0.0, -d), 5: (-d, 0.0),
             6: (-d / 2, 0.0)}
    ways = {11: ([1, 2], 30), 12: ([1, 3], 30), 13: ([1, 4], 30), 14: ([1, 6, 5], 30)}
    path = tmp_path_factory.mktemp("crossing") / "crossing.osm"
    write_osm(path, nodes, ways, signals={1, 6})
    rel = [("no_left_turn", [("way", 13, "from"), ("node", 1, "via"), ("way", 14, "to")])]
    restricted = write_osm(path.with_name("restricted.osm"), nodes, ways, rel, signals={1, 6})
    return path, restricted


def test_a_left_turn_costs_what_the_formula_says(crossing):
    plain_file, restricted_file = crossing
    plain = build_graph(plain_file)
    tg = build_graph(plain_file, turn_penalties="osrm-car")
    ids = {int(o): i for i, o in enumerate(tg.osmid)}
    pid = {int(o): i for i, o in enumerate(plain.osmid)}
    signal = 2.0
    for dest, angle, extra in ((5, -90.0, signal), (3, 90.0, 0.0), (2, 0.0, 0.0)):
        r0, r1 = route(plain, pid[4], pid[dest]), route(tg, ids[4], ids[dest])
        assert r1.nodes.tolist() == [ids[4], ids[1], ids[dest]]
        # the signal inside the west arm delays that road, the one at C every turn through it
        want = r0.travel_time_s + osrm_penalty(angle) + signal + extra
        assert r1.travel_time_s == pytest.approx(want, rel=1e-12)
    # between points on the roads: the turn at C costs the same
    def mid(g, a, b):
        return points_on(g, [road_edge(g)[(a, b)]], [0.5])

    p0 = route_between_points(plain, mid(plain, pid[4], pid[1]), mid(plain, pid[1], pid[3]))
    p1 = route_between_points(tg, mid(tg, ids[4], ids[1]), mid(tg, ids[1], ids[3]))
    assert p1.travel_time_s == pytest.approx(p0.travel_time_s + osrm_penalty(90.0) + signal,
                                             rel=1e-12)
    assert osrm_penalty(-90.0) == pytest.approx(5.3948, abs=1e-4)
    assert osrm_penalty(90.0) == pytest.approx(2.1052, abs=1e-4)
    # the left turn forbidden: on to a dead end, U-turn (angle 180 + 20 s), right turn back
    R = build_graph(restricted_file, turn_penalties="osrm-car")
    rid = {int(o): i for i, o in enumerate(R.osmid)}
    r = route(R, rid[4], rid[5])
    arms = 2 * float(plain.travel_time[road_edge(plain)[(pid[1], pid[2])]])
    want = (route(plain, pid[4], pid[5]).travel_time_s + arms + osrm_penalty(0.0)
            + osrm_penalty(180.0) + 20.0 + osrm_penalty(90.0) + 3 * signal)
    assert len(r.nodes) == 5 and r.travel_time_s == pytest.approx(want, rel=1e-12)


def _osrm_weight(tg, signals):
    """Return weight(a, b): OSRM car seconds of the turn from road edge a onto b."""
    tails, heads = tg.road_ends()
    road = np.flatnonzero(tg.is_road_edge())
    nbrs = {}
    for e in road.tolist():
        nbrs.setdefault(int(tails[e]), set()).add(int(heads[e]))
        nbrs.setdefault(int(heads[e]), set()).add(int(tails[e]))
    lit = set(np.flatnonzero(np.isin(tg.osmid, signals)).tolist())

    def ends(e):
        a, b = tg.geom_ptr[e], tg.geom_ptr[e + 1]
        pts = list(zip(tg.geom_lon[a:b].tolist(), tg.geom_lat[a:b].tolist(), strict=True))
        t, h = int(tails[e]), int(heads[e])
        first = pts[0] if pts else (tg.lon[h], tg.lat[h])
        last = pts[-1] if pts else (tg.lon[t], tg.lat[t])
        return ((tg.lon[t], tg.lat[t]), first), (last, (tg.lon[h], tg.lat[h]))

    def bearing(p, q):
        dx = (q[0] - p[0]) * math.cos(math.radians((p[1] + q[1]) / 2))
        return math.degrees(math.atan2(dx, q[1] - p[1]))

    def weight(a, b):
        x = int(heads[a])
        u_turn = int(heads[b]) == int(tails[a])
        angle = 180.0 if u_turn else (bearing(*ends(b)[0]) - bearing(*ends(a)[1]) + 180) % 360 - 180
        w = osrm_penalty(angle) if len(nbrs[x]) > 2 or u_turn else 0.0
        return w + 20.0 * u_turn + 2.0 * (x in lit)

    return weight


@pytest.mark.slow  # the Python references: ~20 s
def test_penalties_equal_the_line_graph_reference_on_columbus():
    from navigator.roads.turn_costs import read_signals

    report = TurnReport()
    tg = build_graph(COLUMBUS_PBF, turn_penalties="osrm-car", turn_report=report)
    plain = build_graph(COLUMBUS_PBF)
    weight = _osrm_weight(tg, read_signals(COLUMBUS_PBF))
    bad = forbidden_turns(tg, report)
    L = line_graph(tg, bad, weight=weight)
    rng = np.random.default_rng(5)
    for s in rng.choice(tg.n_nodes, 3, replace=False).tolist():
        ref = history_times(tg, s, bad, weight=weight)
        assert_times_equal(reference_from(tg, L, s), ref)  # networkx agrees
        for m in ("phast", "dijkstra"):
            assert_times_equal(travel_times_from(tg, s, method=m), ref)
        few = rng.choice(tg.n_nodes, 5, replace=False)
        assert_times_equal(travel_time_matrix(tg, [s], few)[0], ref[few])
        far = int(np.argmax(np.where(np.isfinite(ref), ref, -1)))
        assert route(tg, s, far).travel_time_s == pytest.approx(ref[far], rel=1e-9)
        iso = isochrone(tg, s, 300.0, hull=None)
        np.testing.assert_array_equal(iso.nodes, np.flatnonzero(ref <= 300.0))
        # to s: from a few places, each by its own reference
        to_s = np.array([history_times(tg, f, bad, weight=weight)[s] for f in few[:2]])
        for m in ("phast", "dijkstra"):
            assert_times_equal(travel_times_to(tg, s, method=m)[few[:2]], to_s)
        assert_times_equal(travel_time_matrix(tg, few[:2], [s])[:, 0], to_s)
        base = travel_times_from(plain, s)
        assert (ref >= base - 1e-9).all() and (ref > base + 1).any()
    # signals inside roads: whole multiples of 2 s on some roads, none elsewhere
    p_pair, q_pair = road_edge(plain), road_edge(tg)
    diff = np.array([tg.travel_time[q_pair[k]] - plain.travel_time[e] for k, e in p_pair.items()])
    assert np.allclose(diff / 2.0, np.round(diff / 2.0)) and (diff >= 0).all() and diff.any()


def test_penalties_off_build_the_graph_of_today(grid):
    tg, _, path = grid
    again = build_graph(path, turn_penalties="")
    for name in ("indptr", "indices", "travel_time", "ch_pos", "up_weight", "ghost_edge"):
        np.testing.assert_array_equal(getattr(tg, name), getattr(again, name))


def test_the_penalty_setting_and_cache_key(crossing, tmp_path):
    from navigator.config import TURN_PENALTY_PROFILES, settings_from_env
    from navigator.errors import ValidationError
    from navigator.roads import cache_path, load_graph
    from navigator.roads.turn_costs import PROFILES

    assert sorted(PROFILES) == sorted(TURN_PENALTY_PROFILES)
    env = settings_from_env
    assert env({"NAVIGATOR_TURN_PENALTIES": "OSRM-car"}).turn_penalties == "osrm-car"
    assert env({"NAVIGATOR_TURN_PENALTIES": "off"}).turn_penalties == ""
    assert env({}).turn_penalties == ""
    with pytest.raises(ValidationError, match="TURN_PENALTIES"):
        env({"NAVIGATOR_TURN_PENALTIES": "osrm-bike"})
    with pytest.raises(ValidationError, match="osrm-bike"):
        build_graph(crossing[0], turn_penalties="osrm-bike")
    path = crossing[0]
    assert cache_path(path, tmp_path) != cache_path(path, tmp_path, turn_penalties="osrm-car")
    on = load_graph(path, cache_dir=tmp_path, turn_penalties="osrm-car")
    again = load_graph(path, cache_dir=tmp_path, turn_penalties="osrm-car")  # the cache
    off = load_graph(path, cache_dir=tmp_path)
    assert on.turn_restricted and not off.turn_restricted
    for name in ("travel_time", "indices", "original_node", "target_node", "ghost_edge"):
        np.testing.assert_array_equal(getattr(on, name), getattr(again, name))
