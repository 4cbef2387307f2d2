"""The faster cold build (issue 16) builds the very graph the previous build did."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from networkhelpers import BALTIMORE_PBF, COLUMBUS_PBF, WEST_OAKLAND_RAW

from navigator.roads import build as network
from navigator.roads.osm import edge_speeds_kph, read_drive_ways

# SHA-256 over every array of the built graph (name, dtype, bytes), recorded with the build
# before issue 16 (commit 7a95422: per-segment tag strings, groupby splitting, a contraction
# that never relinked its edge lists). A deliberate change of the graph updates these.
V1_HASHES = {
    "West-Oakland.osm.bz2":
        "c0a791474a0fa2412a9e0bcb158ff7c173a1e23f408e326ac77a926e045845f1",
    "baltimore.osm.pbf":
        "72d2449314ab104f29343a7c1fe6ef6e86bac6a0741449c1ef7322f4424e4f10",
    "columbus.osm.pbf":
        "6ed9af5195dc24931b3674077e6f24e1905b6b9f872575a54e9aa0c8110e89e0",
}


def _arrays_sha256(tg) -> str:
    h = hashlib.sha256()
    for name in network._ARRAYS:
        if name in ("original_node", "target_node", "ghost_edge", "ghost_road"):
            continue  # turn rules' maps (after v1): identity or empty without turn rules
        a = getattr(tg, name)
        h.update(name.encode())
        h.update(str(a.dtype).encode())
        h.update(a.tobytes())
    return h.hexdigest()


@pytest.mark.parametrize("path", [WEST_OAKLAND_RAW, BALTIMORE_PBF, COLUMBUS_PBF],
                         ids=lambda p: p.name)
def test_build_gives_the_v1_arrays(path: Path):
    # the v1 build had no turn restrictions (they add search nodes: tests/test_turns.py)
    built = network.build_graph(path, turn_restrictions=False)
    assert _arrays_sha256(built) == V1_HASHES[path.name]
    np.testing.assert_array_equal(built.original_node, np.arange(built.n_nodes))
    np.testing.assert_array_equal(built.target_node, np.arange(built.n_nodes))
    assert built.ghost_edge.shape == built.ghost_road.shape == (0,)


def test_contracting_in_the_built_order_gives_the_built_hierarchy(baltimore):
    tg = baltimore
    again = network.contraction_hierarchy(tg.indptr, tg.indices, tg.travel_time,
                                          ch_pos=tg.ch_pos)
    for name, value in again.items():
        np.testing.assert_array_equal(value, getattr(tg, name), err_msg=name)


def test_speeds_per_way_equal_speeds_per_edge():
    raw = read_drive_ways(COLUMBUS_PBF)
    table = dict(network.SPEED_FALLBACK_KPH)
    by_way = edge_speeds_kph(raw.way_highway, raw.way_maxspeed, table, edge_way=raw.way)
    by_edge = edge_speeds_kph(raw.highway, raw.maxspeed, table)
    np.testing.assert_array_equal(by_way, by_edge)
    assert len(by_way) == len(raw.u) and np.isfinite(by_way).all() and (by_way > 0).all()


def test_reader_splits_at_missing_nodes_and_drops_repeated_refs(tmp_path):
    # way 10: 1 1 2 (9 missing) 3 4 (8 missing) 5 -> pieces [1 2] and [3 4]; [5] is too short
    # way 11: one-way 4 5 6 (reversed: -1); way 12: footway (not drivable)
    nodes = "".join(f'<node id="{i}" lat="41.{i}" lon="-8.{i}"/>' for i in range(1, 7))
    xml = f"""<?xml version="1.0"?><osm version="0.6">{nodes}
      <way id="10">{"".join(f'<nd ref="{r}"/>' for r in (1, 1, 2, 9, 3, 4, 8, 5))}
        <tag k="highway" v="residential"/><tag k="maxspeed" v="30"/></way>
      <way id="11">{"".join(f'<nd ref="{r}"/>' for r in (4, 5, 6))}
        <tag k="highway" v="primary"/><tag k="oneway" v="-1"/></way>
      <way id="12"><nd ref="1"/><nd ref="6"/><tag k="highway" v="footway"/></way>
    </osm>"""
    path = tmp_path / "pieces.osm"
    path.write_text(xml)
    raw = read_drive_ways(path)
    seg = sorted((int(raw.osmid[a]), int(raw.osmid[b]), str(h), str(m))
                 for a, b, h, m in zip(raw.u, raw.v, raw.highway, raw.maxspeed, strict=True))
    assert seg == sorted([
        (1, 2, "residential", "30"), (2, 1, "residential", "30"),
        (3, 4, "residential", "30"), (4, 3, "residential", "30"),
        (5, 4, "primary", ""), (6, 5, "primary", ""),
    ])
    assert (raw.n_ways, raw.n_ways_missing_nodes) == (2, 1)
    assert raw.osmid.tolist() == [1, 2, 3, 4, 5, 6]
    np.testing.assert_allclose(raw.lon, [-8.1, -8.2, -8.3, -8.4, -8.5, -8.6])
