"""The snapping grid index (navigator/roads/_grid.py) against brute force."""

from __future__ import annotations

import numpy as np
import pytest

from navigator.roads import _grid, snap, snap_to_edges, snapping
from navigator.roads._grid import PointGrid


def _brute_nearest(pts: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    d = np.hypot(*(pts[None, :, :] - q[:, None, :]).transpose(2, 0, 1))
    best = d.min(axis=1)
    # the lowest index among exact ties
    return best, np.argmax(d == best[:, None], axis=1)


def _clustered(rng: np.random.Generator, n: int) -> np.ndarray:
    """Points along a few "roads" with empty space between them, and exact duplicates."""
    t = rng.uniform(0, 5000, n)
    road = rng.integers(0, 4, n)
    xy = np.column_stack([t, road * 1500.0 + rng.normal(0, 3, n)])
    xy[: n // 10] = xy[n // 10: 2 * (n // 10)]  # duplicates: ties broken by lowest index
    return xy


@pytest.mark.parametrize("cell_m", [None, 7.0, 400.0])
def test_nearest_matches_brute_force(cell_m: float | None) -> None:
    rng = np.random.default_rng(5)
    pts = _clustered(rng, 2000)
    grid = PointGrid(pts, cell_m=cell_m)
    q = np.vstack([rng.uniform(-3000, 8000, (300, 2)),  # inside, between roads, far outside
                   pts[:50], [[1e7, -1e7], [2500.0, 750.0]]])
    d, i = grid.nearest(q)
    want_d, want_i = _brute_nearest(pts, q)
    np.testing.assert_array_equal(d, want_d)
    np.testing.assert_array_equal(i, want_i)


def test_within_matches_brute_force_in_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_grid, "_PAIRS_PER_BATCH", 64)  # many small batches, same answer
    rng = np.random.default_rng(6)
    pts = _clustered(rng, 1500)
    q = rng.uniform(-500, 5500, (120, 2))
    r = rng.uniform(0, 900, 120)
    got_q, got_i = PointGrid(pts).within(q, r)
    d = np.hypot(*(pts[None, :, :] - q[:, None, :]).transpose(2, 0, 1))
    want_q, want_i = np.nonzero(d <= r[:, None])  # sorted by query, then index
    np.testing.assert_array_equal(got_q, want_q)
    np.testing.assert_array_equal(got_i, want_i)
    far_d, _ = PointGrid(pts).nearest(np.array([[1e6, 1e6]]))
    assert far_d[0] == pytest.approx(np.hypot(1e6 - pts[:, 0], 1e6 - pts[:, 1]).min())


def test_one_point_and_a_line_of_points() -> None:
    d, i = PointGrid(np.array([[3.0, 4.0]])).nearest(np.array([[0.0, 0.0], [3.0, 4.0]]))
    assert d.tolist() == [5.0, 0.0] and i.tolist() == [0, 0]
    line = np.column_stack([np.arange(1000.0) * 10, np.zeros(1000)])
    d, i = PointGrid(line).nearest(np.array([[4999.0, 3.0], [-50.0, 0.0]]))
    assert i.tolist() == [500, 0]
    assert d[1] == 50.0


def test_node_snap_matches_brute_force_in_local_metres(baltimore) -> None:
    rng = np.random.default_rng(7)
    lon = rng.uniform(baltimore.lon.min() - 0.02, baltimore.lon.max() + 0.02, 200)
    lat = rng.uniform(baltimore.lat.min() - 0.02, baltimore.lat.max() + 0.02, 200)
    s = snap(baltimore, lon, lat, strict=False, max_snap_m=1e9)
    nodes = snapping.local_xy(baltimore, baltimore.lon, baltimore.lat)
    _, want = _brute_nearest(nodes, snapping.local_xy(baltimore, lon, lat))
    np.testing.assert_array_equal(s.node, want)


def test_snap_to_edges_in_batches_equals_one_batch(baltimore,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(8)
    lon = rng.uniform(baltimore.lon.min(), baltimore.lon.max(), 300)
    lat = rng.uniform(baltimore.lat.min(), baltimore.lat.max(), 300)
    whole = snap_to_edges(baltimore, lon, lat, strict=False, max_snap_m=1e9)
    monkeypatch.setattr(snapping, "_BATCH", 7)
    parts = snap_to_edges(baltimore, lon, lat, strict=False, max_snap_m=1e9)
    for field in ("edge", "distance_m", "lon", "lat", "fraction"):
        np.testing.assert_array_equal(getattr(parts, field), getattr(whole, field))


def test_a_query_with_a_nan_or_infinite_coordinate_is_near_nothing() -> None:
    grid = PointGrid(np.array([[0.0, 0.0], [1.0, 1.0]]))
    q = np.array([[np.nan, 0.0], [np.inf, 0.0], [0.0, -np.inf], [0.9, 0.9]])
    dist, index = grid.nearest(q)  # used to loop for ever on the NaN
    assert index.tolist() == [-1, -1, -1, 1]
    assert np.isinf(dist[:3]).all() and dist[3] == pytest.approx(np.hypot(0.1, 0.1))
