"""Snapping to nodes is the exact nearest node in snapping's local metres (brute force)."""

from __future__ import annotations

import numpy as np

from navigator.roads import snap, snapping


def test_node_snap_matches_brute_force_in_local_metres(baltimore) -> None:
    rng = np.random.default_rng(7)
    lon = rng.uniform(baltimore.lon.min() - 0.02, baltimore.lon.max() + 0.02, 200)
    lat = rng.uniform(baltimore.lat.min() - 0.02, baltimore.lat.max() + 0.02, 200)
    s = snap(baltimore, lon, lat, strict=False, max_snap_m=1e9)
    nodes = snapping.local_xy(baltimore, baltimore.lon, baltimore.lat)
    q = snapping.local_xy(baltimore, lon, lat)
    d = np.hypot(*(nodes[None, :, :] - q[:, None, :]).transpose(2, 0, 1))
    np.testing.assert_array_equal(s.node, d.argmin(axis=1))
