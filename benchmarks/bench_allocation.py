"""Location-allocation benchmark: every model on the real Columbus instance, spopt beside it.

Run ``python benchmarks/bench_allocation.py`` (a few minutes; spopt's dense p-median is most
of it). Targets (issue #18): p-median <= 2 s for p <= 10 and <= 10 s for p = 20, on the real
instance (500 candidate road nodes x the 472 block groups the extract covers) and on 887
demand units x the same 500 candidates (the 472 block groups plus 415 seeded random road
nodes carrying populations resampled from them: synthetic, labelled so). Each of ours is the
median of ``--repeat`` runs; spopt 0.7 (PuLP + HiGHS, dense) runs once per case in the same
process, with ``--spopt-limit`` seconds as its time limit. ``--settings`` measures the HiGHS
options per model (the table behind ``navigator.decide._locate.HIGHS_OPTIONS``).
Writes ``benchmarks/results/allocation.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
COLUMBUS = ROOT / "data" / "osm" / "columbus.osm.pbf"
FRANKLIN = ROOT / "data" / "population" / "franklin_bg2010_population.gpkg"


def instances(cache_dir: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Return the real 500 x 472 instance and the 500 x 887 one, full matrices (seconds)."""
    from navigator.decide.allocation import cost_matrix
    from navigator.roads import load_graph
    from navigator.services.reports import demand_units

    tg = load_graph(COLUMBUS, cache_dir=cache_dir)
    demand = demand_units(tg, FRANKLIN)
    cand = np.random.default_rng(0).choice(tg.n_nodes, 500, replace=False)  # as bench_coverage
    c = cost_matrix(tg, cand, demand.nodes.node)
    rng = np.random.default_rng(1)
    extra = rng.choice(tg.n_nodes, 415, replace=False)
    c887 = np.c_[c, cost_matrix(tg, cand, extra)]
    w887 = np.r_[demand.people, rng.choice(demand.people, 415)]
    return {"real_500x472": (c, demand.people), "synthetic_500x887": (c887, w887)}


#: Thread-count variables recorded with each run (measured: no effect on 2 cores, README).
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS")
CPU_S: list[float] = []  # CPU seconds (this process, all threads) of the last median_run


def median_run(fn: Any, repeat: int) -> tuple[float, list[float], Any]:
    """Return the median wall seconds, every run's, and the last result (CPU in CPU_S)."""
    times, out = [], None
    CPU_S.clear()
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        times.append(time.perf_counter() - t0)
        CPU_S.append(time.process_time() - c0)
    return statistics.median(times), times, out


def spopt_pmedian(c: np.ndarray, w: np.ndarray, p: int, limit_s: float) -> dict:
    import pulp
    from spopt.locate import PMedian

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # spopt's PuLP deprecation noise (TRAPS.md)
        t0, c0 = time.perf_counter(), time.process_time()
        m = PMedian.from_cost_matrix(c.T, w, p_facilities=p)
        try:
            m.solve(pulp.HiGHS(msg=False, timeLimit=limit_s))
        except RuntimeError as e:  # spopt raises when HiGHS stops with no solution
            return {"seconds": time.perf_counter() - t0, "cpu_s": time.process_time() - c0,
                    "objective": None, "hit_limit": True, "error": str(e)}
        secs = time.perf_counter() - t0
    sites = [j for j, v in enumerate(m.fac_vars) if v.value() > 0.5]
    value = float((w * c[sites].min(axis=0)).sum())
    return {"seconds": secs, "cpu_s": time.process_time() - c0, "objective": value,
            "hit_limit": secs >= limit_s}


def spopt_cover(c: np.ndarray, w: np.ndarray, k: int, target_s: float) -> dict:
    import pulp
    from spopt.locate import LSCP, MCLP

    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        m = MCLP.from_cost_matrix(c.T, w, service_radius=target_s, p_facilities=k)
        m.solve(pulp.HiGHS(msg=False))
        out["mclp_s"] = time.perf_counter() - t0
        sites = [j for j, v in enumerate(m.fac_vars) if v.value() > 0.5]
        out["mclp_objective"] = float(w[(c[sites] <= target_s).any(axis=0)].sum())
        coverable = (c <= target_s).any(axis=0)
        t0 = time.perf_counter()
        m2 = LSCP.from_cost_matrix(c.T[coverable], target_s)
        m2.solve(pulp.HiGHS(msg=False))
        out["lscp_s"] = time.perf_counter() - t0
        out["lscp_objective"] = float(sum(v.value() > 0.5 for v in m2.fac_vars))
    return out


def row(a: Any) -> dict:
    return {"objective": a.objective, "greedy_objective": a.greedy_objective, "gap": a.gap,
            "mip_gap": a.mip_gap, "optimal": a.optimal, "status": a.status,
            "source": a.source, "solver_s": a.solve_time_s, "sites": a.sites.tolist()}


def bench_pmedian(inst: dict, ps: list[int], spopt_ps: set[int], repeat: int,
                  limit_s: float) -> list[dict]:
    from navigator.decide.allocation import p_median

    c0, w0 = inst["real_500x472"]
    p_median(c0[:50, :50], w0[:50], p=2)  # numba kernels: load (or compile) once
    out = []
    for name, (c, w) in inst.items():
        for p in ps:
            med, times, a = median_run(lambda c=c, w=w, p=p: p_median(c, w, p=p), repeat)
            r = {"instance": name, "p": p, "median_s": med, "all_s": times, **row(a),
                 "target_s": 2.0 if p <= 10 else 10.0, "loadavg_1min": os.getloadavg()[0],
                 "median_cpu_s": statistics.median(CPU_S)}
            r["met"] = med <= r["target_s"] and a.optimal
            line = (f"[p-median] {name} p={p:2d}: {med:6.2f} s (median of {repeat}; "
                    f"{'optimal' if a.optimal else a.status}, gap vs greedy "
                    f"{100 * a.gap:.2f} %) target {r['target_s']:.0f} s "
                    f"{'met' if r['met'] else 'MISSED'}; CPU {r['median_cpu_s']:.2f} s, load "
                    f"{r['loadavg_1min']:.1f}")
            print(line, flush=True)
            if p in spopt_ps:
                s = spopt_pmedian(c, w, p, limit_s)
                r["spopt"] = s
                same = s["objective"] is not None and \
                    abs(s["objective"] - a.objective) <= 1e-6 * a.objective
                found = "no solution" if s["objective"] is None else f"same optimum: {same}"
                print(f"    spopt {s['seconds']:.1f} s (CPU {s['cpu_s']:.1f} s)"
                      f"{' (time limit)' if s['hit_limit'] else ''} = "
                      f"{s['seconds'] / med:.0f}x ours, {found}", flush=True)
            out.append(r)
    return out


def bench_models(inst: dict, k: int, target_s: float, busy: float, repeat: int,
                 limit_s: float) -> dict:
    from navigator.decide import allocation as al

    c, w = inst["real_500x472"]
    # a busy fraction per candidate (seeded, 0.2-0.6): MEXCLP by outer approximation
    site_q = np.random.default_rng(5).choice([0.2, 0.3, 0.4, 0.5, 0.6], c.shape[0])
    lim = {"time_limit_s": limit_s}
    runs = {"mclp": lambda: al.max_coverage(c, w, k=k, target_s=target_s, **lim),
            "lscp": lambda: al.min_sites(c, w, target_s=target_s, **lim),
            "mexclp": lambda: al.expected_coverage(c, w, k=k, target_s=target_s, busy=busy,
                                                   **lim),
            "mexclp_site_busy": lambda: al.expected_coverage(
                c, w, k=k, target_s=target_s, busy=busy, site_busy=site_q, **lim),
            "backup": lambda: al.backup_coverage(c, w, k=k, target_s=target_s, **lim),
            "p_center": lambda: al.p_center(c, w, p=k, **lim)}
    out: dict[str, Any] = {}
    for name, fn in runs.items():
        med, times, a = median_run(fn, repeat)
        out[name] = {"median_s": med, "all_s": times, **row(a),
                     "loadavg_1min": os.getloadavg()[0], "median_cpu_s": statistics.median(CPU_S)}
        print(f"[{name}] k={k} target {target_s:.0f} s: {med:.2f} s (CPU "
              f"{out[name]['median_cpu_s']:.2f} s, load {out[name]['loadavg_1min']:.1f}), "
              f"{a.objective_name} "
              f"{a.objective:,.1f} ({'optimal' if a.optimal else a.status}), greedy "
              f"{a.greedy_objective:,.1f} (gap {100 * a.gap:.2f} %)", flush=True)
    mclp = set(out["mclp"]["sites"])
    out["mexclp_differs_from_mclp"] = set(out["mexclp"]["sites"]) != mclp
    s = spopt_cover(c, w, k, target_s)
    out["spopt"] = s
    print(f"  spopt MCLP {s['mclp_s']:.2f} s ({s['mclp_s'] / out['mclp']['median_s']:.1f}x, "
          f"objective {s['mclp_objective']:,.0f}); LSCP {s['lscp_s']:.2f} s "
          f"({s['lscp_s'] / out['lscp']['median_s']:.1f}x, {s['lscp_objective']:.0f} sites)")
    return out


def bench_settings(inst: dict, repeat: int) -> dict:
    """Median solve seconds per model under each HiGHS option pair (presolve, FJ)."""
    from navigator.decide import _locate
    from navigator.decide import allocation as al

    c, w = inst["real_500x472"]
    runs = {"mclp": lambda: al.max_coverage(c, w, k=5, target_s=300),
            "lscp": lambda: al.min_sites(c, w, target_s=300),
            "p_median": lambda: al.p_median(c, w, p=20)}
    saved = {m: dict(o) for m, o in _locate.HIGHS_OPTIONS.items()}
    out: dict[str, dict[str, float]] = {}
    try:
        for model, fn in runs.items():
            out[model] = {}
            for presolve in ("on", "off"):
                for fj in (True, False):
                    _locate.HIGHS_OPTIONS[model] = {
                        "presolve": presolve, "mip_heuristic_run_feasibility_jump": fj}
                    med, _, _ = median_run(fn, repeat)
                    out[model][f"presolve={presolve},fj={fj}"] = med
            print(f"[settings] {model}: " + ", ".join(f"{k} {v:.2f} s"
                                                      for k, v in out[model].items()))
    finally:
        _locate.HIGHS_OPTIONS.update(saved)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", type=Path,
                    default=ROOT / "benchmarks" / "results" / "allocation.json")
    ap.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "navigator")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--p", default="3,5,10,20")
    ap.add_argument("--spopt-p", default="3,5,10,20", help="p values spopt runs ('' = none)")
    ap.add_argument("--spopt-limit", type=float, default=600.0)
    ap.add_argument("--settings", action="store_true")
    ap.add_argument("--time-limit", type=float, default=60.0,
                    help="time limit of the other models, seconds (the library default)")
    ap.add_argument("--models-repeat", type=int, help="runs per other model (default --repeat)")
    ap.add_argument("--only", choices=("p_median", "models"),
                    help="run one part; the other's results already in --json are kept")
    args = ap.parse_args(argv)
    import highspy

    from navigator.decide._locate import _new_highs

    _new_highs(highspy)  # HiGHS's once-per-process banner to stderr, before spopt's PuLP runs
    inst = instances(args.cache_dir)
    out: dict[str, Any] = json.loads(args.json.read_text()) if args.only and \
        args.json.exists() else {}
    out["machine"] = {"python": platform.python_version(), "cpus": os.cpu_count(),
                      "platform": platform.platform(), "loadavg_at_start": os.getloadavg(),
                      "threads_env": {k: os.environ.get(k) for k in THREAD_VARS},
                      "note": "shared 2-core machine: timings are noisy"}
    ps = [int(x) for x in args.p.split(",")]
    spopt_ps = {int(x) for x in args.spopt_p.split(",") if x}
    if args.only != "models":
        out["p_median"] = bench_pmedian(inst, ps, spopt_ps, args.repeat, args.spopt_limit)
    if args.only != "p_median":
        out["models"] = bench_models(inst, 5, 300.0, 0.4, args.models_repeat or args.repeat,
                                     args.time_limit)
    if args.settings:
        out["settings"] = bench_settings(inst, args.repeat)
    out["loadavg_at_end"] = os.getloadavg()
    if args.only != "models":
        met = all(r["met"] for r in out["p_median"])
        print(f"\np-median targets met: {met}; load average {out['loadavg_at_end'][0]:.1f}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=2, default=float) + "\n")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
