from __future__ import annotations

import os
import shutil
from collections import defaultdict

import networkx as nx
import numpy as np
import pytest
import shapely
from networkhelpers import (
    BALTIMORE_DRIVE,
    BALTIMORE_PBF,
    COLUMBUS_DRIVE,
    COLUMBUS_PBF,
    FIXTURES,
    WEST_OAKLAND_DRIVE,
    WEST_OAKLAND_RAW,
    as_array,
    assert_times_equal,
    reference_digraph,
)

from navigator.errors import NetworkBuildError, UnreachableError, ValidationError
from navigator.roads import (
    SPEED_FALLBACK_KPH,
    build_graph,
    configure_osmnx_offline,
    graph_from_osmnx,
    great_circle_m,
    load_graph,
    read_graph,
    save_graph,
    snap,
    snap_to_edges,
    snapping,
    to_networkx,
    travel_times_from,
)
from navigator.roads import build as network
from navigator.roads.osm import clean_maxspeed, is_drivable, way_direction

TINY = FIXTURES / "tiny.osm"
MPH = 1.60934


def _edges_by_osmid(tg):
    tails = tg.osmid[tg.edge_sources()]
    heads = tg.osmid[tg.indices]
    return {(int(a), int(b)): (t, ln) for a, b, t, ln in
            zip(tails, heads, tg.travel_time, tg.length, strict=True)}


# -- OSM semantics on a hand-made file ----------------------------------------------------

def test_tiny_applies_drive_filter_oneway_rules_and_scc():
    tg = build_graph(TINY, simplify=False)
    # 7 (private), 8 (service), 13 (footway) are filtered; 11 follows a missing node;
    # 12 is a one-way dead end, outside the strongly connected component
    assert sorted(tg.osmid.tolist()) == [1, 2, 3, 4, 5, 6, 9, 10]
    edges = set(_edges_by_osmid(tg))
    assert edges == {
        (1, 2), (2, 1), (2, 3), (3, 2),  # two-way residential
        (3, 4),  # oneway=yes
        (4, 5),  # oneway=-1 on a way drawn 5 -> 4
        (5, 1),  # roundabout: one-way along the drawing
        (2, 6), (6, 2),  # oneway=reversible stays two-way (osmnx)
        (1, 9), (9, 1),  # two parallel ways reduced to one edge per direction
        (9, 10), (10, 9),  # the present piece of a way with a missing node
    }


def test_tiny_speeds_lengths_and_parallel_minimum():
    tg = build_graph(TINY, simplify=False)
    e = _edges_by_osmid(tg)
    t12, l12 = e[(1, 2)]
    assert l12 == pytest.approx(0.001 * np.pi / 180 * 6_371_009 * np.cos(np.deg2rad(40)),
                                rel=1e-6)
    assert t12 == pytest.approx(l12 / (30 * MPH / 3.6), rel=1e-12)
    # 1-9: residential at 50 beats tertiary at 20 (minimum, not sum)
    t19, l19 = e[(1, 9)]
    assert t19 == pytest.approx(l19 / (50 / 3.6), rel=1e-12)
    # 9-10 has no maxspeed: mean observed residential speed over directed edges
    residential = (4 * 30 * MPH + 2 * 50) / 6
    t910, l910 = e[(9, 10)]
    assert t910 == pytest.approx(l910 / (residential / 3.6), rel=1e-12)
    # primary 3->4 has no observation at all: the fallback table
    t34, l34 = e[(3, 4)]
    assert t34 == pytest.approx(l34 / (SPEED_FALLBACK_KPH["primary"] / 3.6), rel=1e-12)
    faster = build_graph(TINY, simplify=False, speeds={"primary": 120})
    assert _edges_by_osmid(faster)[(3, 4)][0] == pytest.approx(l34 / (120 / 3.6), rel=1e-12)


@pytest.mark.parametrize(
    ("value", "kph"),
    [("50", 50.0), ("30 mph", 30 * MPH), ("50 km/h", 50.0), ("40|60", 50.0), ("7,5", 7.5),
     ("", np.nan), ("walk", np.nan), ("50; 40", np.nan), ("0", np.nan), ("PT:urban", 50.0)],
)
def test_clean_maxspeed_matches_osmnx(value, kph):
    from osmnx.routing import _clean_maxspeed

    got = clean_maxspeed(value)
    np.testing.assert_equal(got, kph) if np.isnan(kph) else pytest.approx(got) == kph
    if value and kph == kph:
        assert got == pytest.approx(_clean_maxspeed(value))


def test_filter_and_direction_rules():
    assert is_drivable({"highway": "residential"})
    assert not is_drivable({"highway": "residential", "access": "private"})
    assert not is_drivable({"highway": "service"})
    assert not is_drivable({"highway": "unclassified", "motor_vehicle": "no"})
    assert not is_drivable({"highway": "tertiary", "area": "yes"})
    assert not is_drivable({"building": "yes"})
    assert way_direction({"oneway": "-1"}) == (True, True)
    assert way_direction({"oneway": "reverse"}) == (True, True)
    assert way_direction({"junction": "roundabout"}) == (True, False)
    assert way_direction({"oneway": "reversible"}) == (False, False)
    assert way_direction({"oneway": "no"}) == (False, False)


# -- against osmnx itself ------------------------------------------------------------------

def _osmnx_graph(path):
    import osmnx as ox

    configure_osmnx_offline(ox)
    G = ox.graph_from_xml(path, simplify=False, retain_all=False)
    G = ox.truncate.largest_component(G, strongly=True)
    # our speeds: observed mean per type, else the fallback table -> osmnx's hwy_speeds for
    # exactly the types that have no observation
    observed = defaultdict(list)
    for *_, d in G.edges(data=True):
        ms = d.get("maxspeed")
        observed[d["highway"]].append(clean_maxspeed(ms) if isinstance(ms, str) else np.nan)
    unobserved = {h: SPEED_FALLBACK_KPH.get(h, SPEED_FALLBACK_KPH["default"])
                  for h, v in observed.items() if np.isnan(v).all()}
    G = ox.add_edge_speeds(G, hwy_speeds=unobserved or None)
    return ox.add_edge_travel_times(G)


@pytest.mark.parametrize("path", [WEST_OAKLAND_DRIVE, BALTIMORE_DRIVE], ids=["wo", "bal"])
def test_build_matches_osmnx_unsimplified(path):
    import osmnx as ox

    G = _osmnx_graph(path)
    tg = build_graph(path, simplify=False)
    assert set(tg.osmid.tolist()) == set(G.nodes)
    D = ox.convert.to_digraph(G, weight="travel_time")
    assert tg.n_edges == D.number_of_edges()
    ours = _edges_by_osmid(tg)
    for a, b, data in D.edges(data=True):
        t, ln = ours[(a, b)]
        assert t == pytest.approx(data["travel_time"], rel=1e-9)
        assert ln == pytest.approx(data["length"], rel=1e-12)
    rng = np.random.default_rng(3)
    for src in rng.choice(tg.n_nodes, 5, replace=False):
        ref = nx.single_source_dijkstra_path_length(D, int(tg.osmid[src]), weight="travel_time")
        idx = tg.node_of_osmid(list(ref))
        expected = np.full(tg.n_nodes, np.inf)
        expected[idx] = list(ref.values())
        assert_times_equal(travel_times_from(tg, int(src)), expected)


def test_osmnx_weak_component_differs_only_by_non_strong_nodes():
    """osmnx's retain_all=False keeps the largest *weakly* connected component."""
    import osmnx as ox

    configure_osmnx_offline(ox)
    weak = ox.graph_from_xml(BALTIMORE_DRIVE, simplify=False, retain_all=False)
    tg = build_graph(BALTIMORE_DRIVE, simplify=False)
    strong = max(nx.strongly_connected_components(weak), key=len)
    assert set(tg.osmid.tolist()) == strong
    assert len(weak) > tg.n_nodes  # dead-end one-way stubs: reachable one way only


def test_simplified_keeps_times_between_kept_nodes(baltimore):
    full = build_graph(BALTIMORE_DRIVE, simplify=False)
    assert baltimore.n_nodes < full.n_nodes
    kept = full.node_of_osmid(baltimore.osmid)
    for src in (0, 17, 900):
        t_simple = travel_times_from(baltimore, src)
        t_full = travel_times_from(full, int(kept[src]))[kept]
        assert_times_equal(t_simple, t_full)


def test_raw_extracts_give_the_drive_file_graphs():
    for raw, drive in ((WEST_OAKLAND_RAW, WEST_OAKLAND_DRIVE), (BALTIMORE_PBF, BALTIMORE_DRIVE)):
        a, b = build_graph(raw, turn_restrictions=False), build_graph(drive)
        np.testing.assert_array_equal(a.osmid, b.osmid)
        np.testing.assert_array_equal(a.indices, b.indices)
        np.testing.assert_array_equal(a.travel_time, b.travel_time)


def test_columbus_builds_from_pbf_like_the_drive_file():
    a, b = build_graph(COLUMBUS_PBF, turn_restrictions=False), build_graph(COLUMBUS_DRIVE)
    assert a.n_nodes > 5000
    np.testing.assert_array_equal(a.osmid, b.osmid)
    np.testing.assert_array_equal(a.travel_time, b.travel_time)


# -- bad input -----------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["empty.osm", "corrupt.osm.pbf", "no_roads.osm", "missing.osm"])
def test_bad_files_raise_network_build_error(name):
    with pytest.raises(NetworkBuildError, match=name.split(".")[0]):
        build_graph(FIXTURES / name)


@pytest.mark.parametrize("speeds", [{"residential": 0}, {"primary": "fast"}, {"x": np.inf}])
def test_bad_speeds_raise_validation_error(speeds):
    with pytest.raises(ValidationError):
        build_graph(TINY, speeds=speeds)


# -- cache ---------------------------------------------------------------------------------

def test_save_read_roundtrip(tmp_path, west_oakland):
    back = read_graph(save_graph(west_oakland, tmp_path / "g.npz"))
    for name in network._ARRAYS:
        np.testing.assert_array_equal(getattr(back, name), getattr(west_oakland, name))
        assert getattr(back, name).dtype == getattr(west_oakland, name).dtype
    assert back.source_sha256 == west_oakland.source_sha256
    assert back.settings_hash == west_oakland.settings_hash


def test_cache_is_reused_and_invalidated(tmp_path, monkeypatch):
    osm = tmp_path / "wo.osm.bz2"
    shutil.copy(WEST_OAKLAND_DRIVE, osm)
    cache = tmp_path / "cache"
    first = load_graph(osm, cache_dir=cache)
    assert len(list(cache.glob("*.npz"))) == 1
    builds = []
    real_build = network.build_graph

    def counting_build(*args, **kwargs):
        builds.append(args)
        return real_build(*args, **kwargs)

    monkeypatch.setattr(network, "build_graph", counting_build)
    again = load_graph(osm, cache_dir=cache)
    assert builds == []
    np.testing.assert_array_equal(again.travel_time, first.travel_time)
    # touching the file changes its mtime but not its content: still valid
    os.utime(osm, (1, 1))
    load_graph(osm, cache_dir=cache)
    assert builds == []
    # other settings: rebuilt
    slow = load_graph(osm, cache_dir=cache, speeds={"residential": 5, "default": 5})
    assert len(builds) == 1
    assert slow.settings_hash != first.settings_hash
    # other content: rebuilt
    shutil.copy(BALTIMORE_DRIVE, osm)
    changed = load_graph(osm, cache_dir=cache)
    assert len(builds) == 2
    assert changed.n_nodes != first.n_nodes
    # a corrupt cache file is rebuilt, not an error
    target = network.cache_path(osm, cache)
    target.write_bytes(b"garbage")
    load_graph(osm, cache_dir=cache)
    assert len(builds) == 3


def test_cache_keeps_the_time_zone_so_loading_needs_no_lookup(tmp_path, monkeypatch):
    from navigator.roads import area, network_timezone

    osm = tmp_path / "wo.osm.bz2"
    shutil.copy(WEST_OAKLAND_DRIVE, osm)
    cache = tmp_path / "cache"
    assert load_graph(osm, cache_dir=cache).timezone == "America/Los_Angeles"
    target = network.cache_path(osm, cache)
    with np.load(target) as z:  # a cache from before the zone was kept: no such entry
        old = {k: z[k] for k in z.files if k != "timezone"}
    np.savez(target, **old)
    assert read_graph(target).timezone == ""
    assert load_graph(osm, cache_dir=cache).timezone == "America/Los_Angeles"  # upgraded
    assert read_graph(target).timezone == "America/Los_Angeles"

    def no_lookup(lon: float, lat: float) -> str:
        raise AssertionError("time zone looked up again")

    monkeypatch.setattr(area, "area_timezone", no_lookup)
    monkeypatch.setattr(network, "area_timezone", no_lookup)
    again = load_graph(osm, cache_dir=cache)
    assert network_timezone(again) == "America/Los_Angeles"


def test_load_graph_missing_file(tmp_path):
    with pytest.raises(NetworkBuildError, match="not found"):
        load_graph(tmp_path / "nope.osm.pbf", cache_dir=tmp_path)


# -- conversions -------------------------------------------------------------------------

def test_to_networkx_and_back(west_oakland):
    G = to_networkx(west_oakland)
    assert G.number_of_nodes() == west_oakland.n_nodes
    assert G.number_of_edges() == west_oakland.n_edges
    x, y = G.nodes[0]["x"], G.nodes[0]["y"]
    assert (x, y) == (west_oakland.lon[0], west_oakland.lat[0])
    back = graph_from_osmnx(G)
    D = reference_digraph(G)
    for src in (0, 50):
        ref = as_array(nx.single_source_dijkstra_path_length(D, src, weight="travel_time"),
                       west_oakland.n_nodes)
        assert_times_equal(travel_times_from(back, src), ref)


def test_graph_from_osmnx_rejects_missing_travel_time():
    G = nx.MultiDiGraph()
    G.add_node(1, x=0.0, y=0.0)
    G.add_node(2, x=0.001, y=0.0)
    G.add_edge(1, 2, length=100.0)
    with pytest.raises(ValidationError, match="travel_time"):
        graph_from_osmnx(G)
    with pytest.raises(ValidationError):
        graph_from_osmnx(nx.MultiDiGraph())


# -- snapping ------------------------------------------------------------------------------

def test_snap_nodes(baltimore):
    s = snap(baltimore, baltimore.lon[:50], baltimore.lat[:50])
    np.testing.assert_array_equal(s.node, np.arange(50))
    np.testing.assert_allclose(s.distance_m, 0, atol=1e-6)
    # 0.001 deg of latitude north of node 7 is ~111 m away (or a closer node)
    s = snap(baltimore, [baltimore.lon[7]], [baltimore.lat[7] + 0.001])
    assert 0 < s.distance_m[0] <= 111.3


def test_snap_out_of_area(baltimore):
    with pytest.raises(UnreachableError, match=r"point 1 .* more than max_snap_m=500"):
        snap(baltimore, [baltimore.lon[0], -80.0], [baltimore.lat[0], 39.0])
    s = snap(baltimore, [baltimore.lon[0], -80.0], [baltimore.lat[0], 39.0], strict=False)
    assert s.node.tolist()[1] == -1 and s.node[0] == 0
    assert s.distance_m[1] > 100_000
    with pytest.raises(UnreachableError):
        snap(baltimore, [baltimore.lon[0] + 0.01], [baltimore.lat[0]], max_snap_m=10)


@pytest.mark.parametrize(("lon", "lat"), [(np.nan, 39.0), (-76.6, np.inf), (200.0, 39.0),
                                          (-76.6, -91.0)])
def test_snap_rejects_bad_coordinates(baltimore, lon, lat):
    with pytest.raises(ValidationError, match="point 0"):
        snap(baltimore, [lon], [lat])
    with pytest.raises(ValidationError):
        snap_to_edges(baltimore, [lon], [lat])


def test_snap_to_edges_matches_brute_force(baltimore):
    rng = np.random.default_rng(1)
    lon = rng.uniform(baltimore.lon.min(), baltimore.lon.max(), 40)
    lat = rng.uniform(baltimore.lat.min(), baltimore.lat.max(), 40)
    es = snap_to_edges(baltimore, lon, lat, strict=False, max_snap_m=1e9)
    verts, owner = snapping.edge_vertices(baltimore)
    xy = snapping.local_xy(baltimore, verts[:, 0], verts[:, 1])
    splits = np.flatnonzero(np.diff(owner)) + 1
    lines = shapely.linestrings(xy, indices=owner)
    assert len(lines) == baltimore.n_edges == len(splits) + 1
    p = shapely.points(snapping.local_xy(baltimore, lon, lat))
    for i in range(len(lon)):
        d = shapely.distance(lines, p[i])
        assert es.distance_m[i] == pytest.approx(d.min(), abs=1e-6)
        assert d[es.edge[i]] == pytest.approx(d.min(), abs=1e-6)
    assert np.all((es.fraction >= 0) & (es.fraction <= 1))
    # the projected point lies on the edge and at the reported distance (within ~0.5%)
    back = great_circle_m(lat, lon, es.lat, es.lon)
    np.testing.assert_allclose(back, es.distance_m, rtol=5e-3, atol=0.05)
