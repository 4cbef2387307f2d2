"""The seeded routing query instances and Navigator's answers, shared by the benchmarks.

bench_routing.py times them against networkx, bench_peers.py against scipy, networkit,
pandana and OSRM: one definition of every instance and of what "ours" runs.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

K = 20  # distinct random instances per query, cycled through the repetitions


def instances(tg, seed: int = 0) -> dict:
    """The seeded query instances every routing benchmark uses (bench_peers.py too)."""
    rng = np.random.default_rng(seed)
    n = tg.n_nodes
    out = {"incidents": rng.integers(n, size=K),
           "teams": [rng.choice(n, 100, replace=False) for _ in range(K)],
           "facilities500": [rng.choice(n, 500, replace=False) for _ in range(K)],
           "facilities200": rng.choice(n, 200, replace=False),
           "origins": rng.choice(n, 1000, replace=False),
           "pairs": rng.integers(n, size=(K, 2))}
    out["plon"] = tg.lon[out["incidents"]] + rng.normal(0, 3e-4, K)
    out["plat"] = tg.lat[out["incidents"]] + rng.normal(0, 3e-4, K)
    return out


def navigator_queries(tg, inst: dict) -> dict[str, Callable[[int], object]]:
    """Navigator's answer to each benchmark query on instance ``i % K`` (bench_peers.py too)."""
    from navigator import roads
    from navigator.roads import routing

    inc, teams, f500 = inst["incidents"], inst["teams"], inst["facilities500"]
    f200, origins, pairs = inst["facilities200"], inst["origins"], inst["pairs"]

    def point(i):
        return inst["plon"][i % K:i % K + 1], inst["plat"][i % K:i % K + 1]

    return {
        "Q1": lambda i: routing.travel_times_to(tg, int(inc[i % K]), teams[i % K]),
        "Q2": lambda i: routing.k_nearest(tg, int(inc[i % K]), f500[i % K], k=5)[1],
        "Q3": lambda i: routing.nearest_facility(tg, f200).time_s,
        "Q4": lambda i: routing.travel_time_matrix(tg, origins, f200),
        "Q5": lambda i: routing.isochrone(tg, int(inc[i % K]), 900.0, hull=None).nodes,
        "R": lambda i: routing.route(tg, int(pairs[i % K][0]), int(pairs[i % K][1])),
        "N": lambda i: roads.snap(tg, *point(i)),
        "N_edge": lambda i: roads.snap_to_edges(tg, *point(i)),
    }
