"""Evacuee placement benchmark: 10,000 people, 30 shelters, on Columbus, end to end.

Run ``python benchmarks/bench_evacuation.py`` (about a minute). Target (issue #17): travel
times plus the solve in <= 10 s. Two cases, both seeded and synthetic (labelled so):

- ``groups``: 10,000 people in 2,000 splittable groups (people of one need at a road node, as
  a zone's pro-rated block groups are) and 30 shelters at random road nodes with capacity by
  need (general, fnss, medical, pets; 9,000 spaces, so some people stay unplaced). Stages:
  the CH many-to-many matrix, the optimal solve (HiGHS transportation LP), the greedy baseline,
  and networkx ``min_cost_flow`` on the same problem (integer seconds) as the reference.
- ``households``: the same 10,000 people as a households CSV (sizes 1-5, never split) through
  the whole service (:func:`navigator.services.evacuation.plan_evacuation`: parse, snap,
  matrix, optimal and greedy, audit) on a temporary GeoPackage holding 30 active surge
  shelters.

Each figure is the median of ``--repeat`` runs after one warm-up. Writes
``benchmarks/results/evacuation.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
COLUMBUS = ROOT / "data" / "osm" / "columbus.osm.pbf"
NEEDS = ("general", "fnss", "medical", "pets")
SHARES = (0.80, 0.12, 0.03, 0.05)


def median_of(fn: Any, repeat: int) -> tuple[float, Any]:
    fn()  # warm-up (numba, HiGHS)
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def shelters(rng: np.random.Generator, tg: Any, n: int = 30) -> tuple[np.ndarray, np.ndarray]:
    nodes = rng.choice(tg.n_nodes, n, replace=False)
    cap = np.column_stack([rng.integers(180, 300, n), rng.integers(15, 45, n),
                           rng.integers(0, 15, n), rng.integers(5, 25, n)])
    return nodes, cap


def networkx_total(need: np.ndarray, people: np.ndarray, t: np.ndarray, cap: np.ndarray
                   ) -> tuple[int, int]:
    """Return (placed, total integer seconds) by networkx min_cost_flow, per need."""
    import networkx as nx

    placed = total = 0
    big = int(t[np.isfinite(t)].max()) * (int(people.sum()) + 1) + 1
    for n in range(cap.shape[1]):
        rows = np.flatnonzero((need == n) & (people > 0))
        if not rows.size:
            continue
        g = nx.DiGraph()
        g.add_node("T", demand=int(people[rows].sum()))
        g.add_edge("U", "T", weight=0)
        for j in np.flatnonzero(cap[:, n] > 0):
            g.add_edge(("s", j), "T", weight=0, capacity=int(cap[j, n]))
        for i in rows:
            g.add_node(("g", i), demand=-int(people[i]))
            g.add_edge(("g", i), "U", weight=big)
            for j in np.flatnonzero((cap[:, n] > 0) & np.isfinite(t[i])):
                g.add_edge(("g", i), ("s", j), weight=int(t[i, j]))
        flow = nx.min_cost_flow(g)
        for i in rows:
            for key, f in flow[("g", i)].items():
                if f and key != "U":
                    placed += f
                    total += f * int(t[i, key[1]])
    return placed, total


def case_groups(tg: Any, repeat: int) -> dict[str, Any]:
    from navigator.decide.evacuation import place_evacuees
    from navigator.roads import travel_time_matrix

    rng = np.random.default_rng(17)
    nodes, cap = shelters(rng, tg)
    g = 2000
    origin = rng.choice(tg.n_nodes, g, replace=False)
    need = rng.choice(len(NEEDS), g, p=SHARES)
    people = rng.multinomial(10_000 - g, np.full(g, 1 / g)) + 1
    matrix_s, t = median_of(lambda: travel_time_matrix(tg, origin, nodes), repeat)
    ti = np.floor(t)  # integer seconds, so networkx (integer weights) solves the same problem
    opt_s, opt = median_of(lambda: place_evacuees(NEEDS, need, people, ti, cap), repeat)
    gr_s, gr = median_of(lambda: place_evacuees(NEEDS, need, people, ti, cap,
                                                method="greedy"), repeat)
    t0 = time.perf_counter()
    nx_placed, nx_total = networkx_total(need, people, ti, cap)
    nx_s = time.perf_counter() - t0
    assert (opt.placed, opt.total_time_s) == (nx_placed, nx_total), "optimal != networkx"
    return {"people": int(people.sum()), "groups": g, "shelters": len(nodes),
            "capacity": int(cap.sum()), "matrix_s": matrix_s, "optimal_s": opt_s,
            "end_to_end_s": matrix_s + opt_s, "greedy_s": gr_s, "networkx_min_cost_flow_s": nx_s,
            "optimal": _figures(opt), "greedy": _figures(gr),
            "networkx": {"placed": nx_placed, "total_time_s": nx_total},
            "optimal_equals_networkx": True}


def _figures(p: Any) -> dict[str, Any]:
    return {"placed": p.placed, "unplaced": int(p.unplaced.sum()),
            "unplaced_by_need": p.unplaced_by_need(), "total_time_s": p.total_time_s,
            "mean_time_s": p.mean_time_s, "worst_time_s": p.worst_time_s,
            "proven_optimal": p.proven_optimal}


def case_households(tg: Any, repeat: int) -> dict[str, Any]:
    from navigator.config import Settings
    from navigator.model import Beds, BedType, Bundle, Resource
    from navigator.services.evacuation import plan_evacuation
    from navigator.store import open_store

    rng = np.random.default_rng(18)
    nodes, cap = shelters(rng, tg)
    res = tuple(Resource(
        id=f"bench-surge-{j}", kind="evacuation_shelter", name=f"Bench surge shelter {j}",
        lon=float(tg.lon[v]), lat=float(tg.lat[v]), synthetic=True, source="synthetic bench",
        beds=tuple(Beds(BedType(n), int(c), int(c)) for n, c in zip(NEEDS, cap[j], strict=True)
                   if c)) for j, v in enumerate(nodes))
    sizes: list[int] = []
    while sum(sizes) < 10_000:
        sizes.append(int(min(rng.integers(1, 6), 10_000 - sum(sizes))))
    homes = rng.choice(tg.n_nodes, len(sizes))
    need = rng.choice(NEEDS, len(sizes), p=SHARES)
    lines = ["lon,lat,size,need"] + [f"{tg.lon[v]:.6f},{tg.lat[v]:.6f},{s},{n}"
                                     for v, s, n in zip(homes, sizes, need, strict=True)]
    text = "\n".join(lines) + "\n"
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "bench.gpkg")
        store = open_store(path)
        store.load(Bundle(resources=res), actor="bench", replace=True)
        for r in res:
            store.set_surge_active(r.id, True, actor="bench")
        settings = Settings(store_url=path)
        total_s, plan = median_of(lambda: plan_evacuation(
            store, tg, settings, actor="bench", households=text), repeat)
        store.close()
    s = plan.summary()
    return {"people": s["people"], "households": len(sizes), "shelters": s["shelters"],
            "capacity": int(cap.sum()), "end_to_end_s": total_s, "matrix_s": s["route_s"],
            "optimal_s": s["optimal"]["solve_s"], "greedy_s": s["greedy"]["solve_s"],
            "optimal": {k: s["optimal"][k] for k in ("placed", "unplaced", "unplaced_by_need",
                                                      "total_time_s", "mean_time_s",
                                                      "worst_time_s", "proven_optimal")},
            "greedy": {k: s["greedy"][k] for k in ("placed", "unplaced", "total_time_s",
                                                    "mean_time_s", "worst_time_s")}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cache-dir", type=Path, default=None, help="network cache (default: "
                    "the settings' NAVIGATOR_CACHE_DIR)")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" /
                    "evacuation.json")
    args = ap.parse_args()
    from navigator.config import settings_from_env
    from navigator.roads import load_graph

    tg = load_graph(COLUMBUS, cache_dir=args.cache_dir or settings_from_env().cache_dir)
    out = {"graph": {"nodes": tg.n_nodes, "edges": tg.n_edges}, "repeat": args.repeat,
           "target_s": 10.0, "machine": {"python": platform.python_version(),
                                          "cpus": os.cpu_count()},
           "groups": case_groups(tg, args.repeat),
           "households": case_households(tg, args.repeat)}
    for name in ("groups", "households"):
        c = out[name]
        print(f"{name}: {c['people']:,} people, {c['shelters']} shelters, capacity "
              f"{c['capacity']:,}: end to end {c['end_to_end_s']:.2f} s (matrix "
              f"{c['matrix_s']:.2f} s, optimal {c['optimal_s']:.2f} s, greedy "
              f"{c['greedy_s']:.3f} s)")
        for m in ("optimal", "greedy"):
            f = c[m]
            print(f"  {m:>8}: placed {f['placed']:,}, total {f['total_time_s'] / 3600:,.1f} "
                  f"person-hours, mean {f['mean_time_s'] / 60:.1f} min, worst "
                  f"{f['worst_time_s'] / 60:.1f} min")
    g = out["groups"]
    print(f"  networkx min_cost_flow: {g['networkx_min_cost_flow_s']:.2f} s, same total "
          f"({g['networkx']['total_time_s']:,} s) as optimal: {g['optimal_equals_networkx']}")
    args.out.write_text(json.dumps(out, indent=1, default=str) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
