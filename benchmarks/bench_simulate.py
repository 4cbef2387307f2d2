"""Dispatch-policy simulator benchmark: 30 days x ~50 calls a day x 4 policies on Columbus.

Run ``python benchmarks/bench_simulate.py`` (about 1-2 minutes on 2 cores; the first run also
builds the Columbus cache); ``--scale`` adds 100k incidents on Columbus and 1,500 incidents on
the synthetic ~500k-node graph of ``bench_routing.py`` (10 tiled copies of Porto, a few more
minutes). Target (issue #15): the whole Columbus comparison (synthetic stream, travel times,
four policies, reports) in <= 30 s, median of ``--reps`` runs.

Baselines measured in the same run: the travel-time rows built with networkx for a sample of
the places (extrapolated to all, checked equal to ours within 1e-9), and each policy's time
as a ratio to the closest-idle policy (the reference). Prints medians and writes
``benchmarks/results/simulate.json``.
"""

from __future__ import annotations

import argparse
import dataclasses
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
sys.path.insert(0, str(ROOT / "benchmarks"))
PORTO = ROOT / "data" / "osm" / "porto_portugal.osm.pbf"
POLICIES = ("closest", "coverage", "preempt", "batch")


def _median(times: list[float]) -> float:
    return statistics.median(times)


def bench_columbus(cache_dir: Path, reps: int) -> tuple[dict[str, Any], Any, Any]:
    from navigator.config import Settings
    from navigator.demo.city import load_demo
    from navigator.services.context import load_network
    from navigator.services.planning import load_demand
    from navigator.services.simulation import simulate_policies
    from navigator.store import open_store

    tmp = Path(tempfile.mkdtemp())
    settings = Settings(store_url=str(tmp / "demo.gpkg"), cache_dir=cache_dir)
    t = time.perf_counter()
    graph = load_network(settings)
    load_s = time.perf_counter() - t
    store = open_store(settings.store_url)
    load_demo(store, graph, seed=7)
    t = time.perf_counter()
    demand = load_demand(graph, settings)
    demand_s = time.perf_counter() - t
    simulate_policies(store, graph, settings, actor="bench", days=1, demand=demand)  # warm-up
    totals, runs = [], []
    for _ in range(reps):
        t = time.perf_counter()
        run = simulate_policies(store, graph, settings, actor="bench", days=30,
                                calls_per_day=50, seed=7, target_s=900.0, demand=demand)
        totals.append(time.perf_counter() - t)
        runs.append(run)
    run = runs[-1]
    # per policy, medians over reps
    per_policy: dict[str, list[float]] = {p: [] for p in POLICIES}
    from navigator.decide.simulate import simulate

    for _ in range(reps):
        for p in POLICIES:
            t = time.perf_counter()
            simulate(run.input, [p])
            per_policy[p].append(time.perf_counter() - t)
    ref = _median(per_policy["closest"])
    out = {
        "graph": "Columbus (real OSM)", "nodes": int(graph.n_nodes), "edges": int(graph.n_edges),
        "calls": len(run.input.stream), "teams": len(run.input.fleet.names),
        "places": len(run.input.nodes), "graph_load_s": load_s, "demand_load_s": demand_s,
        "total_median_s": _median(totals), "total_runs_s": totals, "target_s": 30.0,
        "meets_target": _median(totals) <= 30.0,
        "matrix_s": run.timings_s["matrix"],
        "policy_median_s": {p: _median(v) for p, v in per_policy.items()},
        "policy_ratio_to_closest": {p: _median(v) / ref for p, v in per_policy.items()},
        "results": {r.policy: {k: r.summary()[k] for k in (
            "p50_s", "p90_s", "share_within_target", "unserved", "utilisation",
            "calls_waited", "preemptions")} for r in run.reports},
    }
    out["networkx"] = networkx_rows(graph, run.input.nodes, run.input.time_s)
    store.close()
    return out, graph, run


def networkx_rows(graph: Any, nodes: np.ndarray, ours: np.ndarray, sample: int = 20
                  ) -> dict[str, Any]:
    """Time networkx single-source searches for ``sample`` rows; check them equal ours."""
    import networkx as nx

    from navigator.roads import to_networkx

    G = to_networkx(graph)
    ids = list(G.nodes)
    rng = np.random.default_rng(1)
    rows = rng.choice(len(nodes), min(sample, len(nodes)), replace=False)
    t = time.perf_counter()
    worst = 0.0
    for r in rows:
        d = nx.single_source_dijkstra_path_length(G, ids[int(nodes[r])], weight="travel_time")
        row = np.array([d.get(ids[int(n)], np.inf) for n in nodes])
        finite = np.isfinite(row)
        assert np.array_equal(finite, np.isfinite(ours[r]))
        worst = max(worst, float(np.max(np.abs(row[finite] - ours[r][finite])
                                        / np.maximum(row[finite], 1e-9))))
    per_row = (time.perf_counter() - t) / len(rows)
    return {"rows_sampled": len(rows), "per_row_s": per_row,
            "extrapolated_matrix_s": per_row * len(nodes), "max_relative_error": worst}


def bench_100k(run: Any) -> dict[str, Any]:
    """100k synthetic incidents over a year on Columbus, the fleet tiled to carry the load."""
    from navigator.decide.sim_stream import default_shifts, synthetic_stream
    from navigator.decide.simulate import Fleet, simulate

    inp = run.input
    graph_nodes = inp.nodes
    un = inp.unit_node
    stream = synthetic_stream(un, inp.unit_people, np.zeros(graph_nodes.max() + 1),
                              np.zeros(graph_nodes.max() + 1), days=365, calls_per_day=274,
                              seed=7)
    copies = 5
    f = inp.fleet
    fleet = Fleet(tuple(f"{n}-{c}" for c in range(copies) for n in f.names),
                  np.tile(f.start_node, copies), np.tile(f.base_node, copies))
    big = dataclasses.replace(inp, stream=stream, fleet=fleet,
                              shifts=default_shifts(len(fleet.names)),
                              call_target_s=np.full(len(stream), 900.0),
                              call_area=("all",) * len(stream), horizon_s=365 * 86400.0)
    times, results = {}, {}
    for p in POLICIES:
        t = time.perf_counter()
        (r,) = simulate(big, [p])
        times[p] = time.perf_counter() - t
        results[p] = {k: r.summary()[k] for k in ("p50_s", "p90_s", "unserved", "utilisation")}
    return {"calls": len(stream), "teams": len(fleet.names), "days": 365,
            "policy_s": times, "calls_per_s": {p: len(stream) / s for p, s in times.items()},
            "results": results}


def bench_synthetic_graph(cache_dir: Path) -> dict[str, Any]:
    """1,500 calls x 4 policies on the ~500k-node synthetic graph (tiled Porto)."""
    from bench_routing import synthetic_graph

    from navigator.decide.sim_stream import default_shifts, synthetic_stream
    from navigator.decide.simulate import Fleet, SimulationInput, places_needed, simulate
    from navigator.roads import load_graph, travel_time_matrix

    porto = load_graph(PORTO, cache_dir=cache_dir)
    t = time.perf_counter()
    big = synthetic_graph(porto)
    build_s = time.perf_counter() - t
    rng = np.random.default_rng(7)
    units = rng.choice(big.n_nodes, 1000, replace=False)
    people = rng.pareto(1.5, units.size) * 100 + 50
    stream = synthetic_stream(units, people, big.lon, big.lat, days=30, calls_per_day=50,
                              seed=7)
    teams = rng.choice(units, 12, replace=False)
    fleet = Fleet(tuple(f"t{i}" for i in range(12)), teams, teams)
    nodes = places_needed(stream, [fleet], units)
    t = time.perf_counter()
    T = travel_time_matrix(big, nodes, nodes)
    matrix_s = time.perf_counter() - t
    inp = SimulationInput(stream=stream, fleet=fleet, shifts=default_shifts(12), nodes=nodes,
                          time_s=T, call_target_s=np.full(len(stream), 900.0),
                          call_area=("all",) * len(stream), unit_node=units,
                          unit_people=people, unit_target_s=np.full(units.size, 900.0),
                          horizon_s=30 * 86400.0)
    t = time.perf_counter()
    simulate(inp, POLICIES)
    sim_s = time.perf_counter() - t
    return {"graph": "synthetic 10x Porto (SYNTHETIC)", "nodes": int(big.n_nodes),
            "edges": int(big.n_edges), "build_s": build_s, "calls": len(stream),
            "places": len(nodes), "matrix_s": matrix_s, "simulate_4_policies_s": sim_s,
            "total_without_build_s": matrix_s + sim_s}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--scale", action="store_true", help="also 100k incidents and the ~500k "
                                                         "node synthetic graph")
    ap.add_argument("--cache-dir", type=Path, default=None)
    ap.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" /
                    "simulate.json")
    args = ap.parse_args()
    from navigator.config import Settings

    cache = args.cache_dir or Settings().cache_dir
    out: dict[str, Any] = {"machine": {"platform": platform.platform(),
                                       "cpus": os.cpu_count(),
                                       "python": platform.python_version()}}
    col, _, run = bench_columbus(cache, args.reps)
    out["columbus"] = col
    print(f"Columbus: {col['calls']} calls x 4 policies, {col['teams']} teams, "
          f"{col['places']} places ({col['nodes']:,} nodes)")
    print(f"  end to end (stream, travel times, 4 policies, reports): median "
          f"{col['total_median_s']:.2f} s (target <= 30 s) over {args.reps} runs")
    print(f"  travel times {col['matrix_s']:.2f} s; networkx would take "
          f"{col['networkx']['extrapolated_matrix_s']:.1f} s "
          f"({col['networkx']['per_row_s'] * 1e3:.0f} ms a row, max rel. error "
          f"{col['networkx']['max_relative_error']:.1e})")
    for p in POLICIES:
        r = col["results"][p]
        ratio = col["policy_ratio_to_closest"][p]
        print(f"  {p:<9} {col['policy_median_s'][p]:6.2f} s ({ratio:.1f}x closest)  "
              f"p50 {r['p50_s'] / 60:5.1f} min  p90 {r['p90_s'] / 60:5.1f} min  "
              f"within 15 min {r['share_within_target']:.1%}")
    if args.scale:
        out["columbus_100k"] = big = bench_100k(run)
        print(f"100k: {big['calls']} calls over 365 days, {big['teams']} teams:")
        for p in POLICIES:
            print(f"  {p:<9} {big['policy_s'][p]:6.1f} s ({big['calls_per_s'][p]:,.0f} calls/s)")
        out["synthetic_500k"] = syn = bench_synthetic_graph(cache)
        print(f"synthetic graph {syn['nodes']:,} nodes (built in {syn['build_s']:.0f} s): "
              f"{syn['calls']} calls, {syn['places']} places, travel times "
              f"{syn['matrix_s']:.1f} s, 4 policies {syn['simulate_4_policies_s']:.1f} s")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=2, default=float) + "\n")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
