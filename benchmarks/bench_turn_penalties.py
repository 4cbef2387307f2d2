"""What the osrm-car turn penalties cost on the shipped Porto extract, and how ETAs change.

Run ``python benchmarks/bench_turn_penalties.py`` (about a minute): builds Porto without and
with ``turn_penalties="osrm-car"`` (turn restrictions on in both, as the product), times the
routing queries of ``routing_queries.py`` on both (CPU milliseconds per call, median over
the repetitions) and compares the Q1 ETAs and the route times. Writes
``benchmarks/results/turn_penalties.json``.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from routing_queries import K, instances, navigator_queries  # noqa: E402

PORTO = ROOT / "data" / "osm" / "porto_portugal.osm.pbf"
REPS = 40


def _cpu_ms(fn, reps: int) -> float:
    fn(0)  # compile and warm the memo
    times = []
    for i in range(reps):
        t0 = time.process_time()
        fn(i)
        times.append((time.process_time() - t0) * 1000)
    return statistics.median(times)


def main() -> dict:
    """Build, time and compare; return (and write) the figures."""
    from navigator.roads import build_graph

    out: dict = {"load_average": os.getloadavg(), "build_cpu_s": {}, "graph": {},
                 "query_cpu_ms": {}}
    graphs = {}
    for name, profile in (("off", ""), ("osrm-car", "osrm-car")):
        t0 = time.process_time()
        tg = build_graph(PORTO, turn_penalties=profile)
        out["build_cpu_s"][name] = round(time.process_time() - t0, 2)
        out["graph"][name] = {"intersections": tg.n_nodes, "search_nodes": tg.n_search_nodes,
                              "edges": tg.n_edges, "ch_edges": int(len(tg.up_indices)
                                                                  + len(tg.dn_indices))}
        graphs[name] = tg
    inst = instances(graphs["off"])
    answers: dict[str, dict[str, list]] = {}
    for name, tg in graphs.items():
        queries = navigator_queries(tg, inst)
        out["query_cpu_ms"][name] = {q: round(_cpu_ms(fn, REPS), 3) for q, fn in queries.items()}
        answers[name] = {"Q1": [queries["Q1"](i) for i in range(K)],
                         "R": [queries["R"](i).travel_time_s for i in range(K)]}
    q1_off = np.concatenate(answers["off"]["Q1"])
    q1_on = np.concatenate(answers["osrm-car"]["Q1"])
    ok = np.isfinite(q1_off) & (q1_off > 0)
    ratio = q1_on[ok] / q1_off[ok]
    extra = q1_on[ok] - q1_off[ok]
    r_ratio = np.array(answers["osrm-car"]["R"]) / np.array(answers["off"]["R"])
    out["q1_eta"] = {"pairs": int(ok.sum()), "ratio_median": round(float(np.median(ratio)), 4),
                     "ratio_p10": round(float(np.percentile(ratio, 10)), 4),
                     "ratio_p90": round(float(np.percentile(ratio, 90)), 4),
                     "extra_s_median": round(float(np.median(extra)), 1),
                     "extra_s_p90": round(float(np.percentile(extra, 90)), 1)}
    out["route_time_ratio_median"] = round(float(np.median(r_ratio)), 4)
    out["ratio_cpu_on_over_off"] = {
        q: round(out["query_cpu_ms"]["osrm-car"][q] / max(t, 1e-6), 2)
        for q, t in out["query_cpu_ms"]["off"].items()}
    out["ratio_cpu_on_over_off"]["build"] = round(
        out["build_cpu_s"]["osrm-car"] / out["build_cpu_s"]["off"], 2)
    (ROOT / "benchmarks" / "results" / "turn_penalties.json").write_text(
        json.dumps(out, indent=2) + "\n")
    return out


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
