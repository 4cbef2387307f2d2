"""Road-closure benchmark on Porto: time to apply a closure, and queries while it is in effect.

Run ``python benchmarks/bench_closures.py`` (about 3-5 minutes on 2 cores; the first run also
builds the Porto cache). For closed areas covering about 1 %, 5 % and 20 % of the edges (discs
around the network's centre, radius found by bisection):

- apply: ``edges_in_area`` for the polygon (first call builds the edge STRtree, then medians),
  ``with_closures`` (derived graph, Dijkstra fallbacks), the re-contraction of the hierarchy
  for the closed times (what ``contract="background"`` runs in its thread), and the first
  ``snap_to_edges`` on the derived graph (builds its open-road index);
- queries, medians over seeded instances, for the plain graph, the derived graph before the
  re-contracted hierarchy is in (``stale``: Dijkstra fallbacks) and after (``recontracted``),
  with scipy's and networkx's Dijkstra on the same modified graph (closed edges removed) in the
  same run: ranking 100 teams for an incident (``travel_times_to``), one route, a 20 x 200
  matrix, a 15-minute isochrone. Every answer is checked equal to scipy's (1e-9 relative).

Prints the table and writes ``benchmarks/results/closures.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PORTO = ROOT / "data" / "osm" / "porto_portugal.osm.pbf"
SHARES = (0.01, 0.05, 0.20)


def median_ms(fn: Callable[[int], Any], reps: int) -> float:
    times = []
    for i in range(reps):
        t0 = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def disc(tg: Any, share: float) -> Any:
    """Return a disc (EPSG:4326) around the centre closing about ``share`` of the edges."""
    import shapely

    from navigator.roads import edges_in_area

    cx, cy = float(np.median(tg.lon)), float(np.median(tg.lat))
    lo, hi = 0.0, float(max(np.ptp(tg.lon), np.ptp(tg.lat)))
    for _ in range(25):
        r = (lo + hi) / 2
        n = edges_in_area(tg, shapely.Point(cx, cy).buffer(r)).size
        lo, hi = (r, hi) if n < share * tg.n_edges else (lo, r)
    return shapely.Point(cx, cy).buffer(hi)


def instances(tg: Any, closed: np.ndarray, n: int = 20) -> list[dict[str, Any]]:
    """Seeded query instances whose nodes touch an open road (so queries are not trivial)."""
    ok = np.isfinite(tg.travel_time)
    ok[closed] = False
    usable = np.unique(np.concatenate([tg.edge_sources()[ok], tg.indices[ok]]))
    rng = np.random.default_rng(17)
    return [{"incident": int(rng.choice(usable)), "teams": rng.choice(usable, 100),
             "a": int(rng.choice(usable)), "b": int(rng.choice(usable)),
             "orig": rng.choice(usable, 20), "dest": rng.choice(usable, 200)}
            for _ in range(n)]


def bench_share(tg: Any, share: float, reps: int, nx_reps: int) -> dict[str, Any]:
    import networkx as nx
    import scipy.sparse as sp
    from scipy.sparse.csgraph import dijkstra

    from navigator import roads
    from navigator.roads import _search
    from navigator.roads.closures import recontracted

    poly = disc(tg, share)
    closed = roads.edges_in_area(tg, poly)
    out: dict[str, Any] = {"target_share": share, "closed_edges": int(closed.size),
                           "closed_share": closed.size / tg.n_edges}
    out["edges_in_area_ms"] = median_ms(lambda i: roads.edges_in_area(tg, poly), reps)
    out["with_closures_ms"] = median_ms(
        lambda i: roads.with_closures(tg, closed, contract="never"), reps)
    stale = roads.with_closures(tg, closed, contract="never")
    t0 = time.perf_counter()
    fresh = recontracted(stale)
    out["recontract_s"] = time.perf_counter() - t0
    done = roads.with_closures(tg, closed, contract="never")
    done.cached(_search.contracted).graph = fresh
    probe = roads.with_closures(tg, closed, contract="never")
    t0 = time.perf_counter()
    roads.snap_to_edges(probe, [float(np.median(tg.lon))], [float(np.median(tg.lat))],
                        max_snap_m=20000)
    out["first_snap_s"] = time.perf_counter() - t0
    out["snap_ms"] = median_ms(lambda i: roads.snap_to_edges(
        probe, [float(np.median(tg.lon))], [float(np.median(tg.lat))], max_snap_m=20000), reps)

    inst = instances(tg, closed)
    keep = np.isfinite(stale.travel_time)
    src = tg.edge_sources()[keep]
    csr = sp.csr_matrix((stale.travel_time[keep], (src, tg.indices[keep])),
                        shape=(tg.n_nodes,) * 2)
    csr_t = csr.T.tocsr()
    G = nx.DiGraph()
    G.add_weighted_edges_from(zip(src.tolist(), tg.indices[keep].tolist(),
                                  stale.travel_time[keep].tolist(), strict=True),
                              weight="travel_time")
    G.add_nodes_from(range(tg.n_nodes))
    R = G.reverse(copy=False)

    def q(i: int) -> dict[str, Any]:
        return inst[i % len(inst)]

    def check(got: np.ndarray, ref: np.ndarray) -> None:
        np.testing.assert_array_equal(np.isinf(got), np.isinf(ref))
        fin = np.isfinite(ref)
        np.testing.assert_allclose(got[fin], ref[fin], rtol=1e-9, atol=1e-9)

    queries = {
        "rank_100_teams": (
            lambda g, i: roads.travel_times_to(g, q(i)["incident"], q(i)["teams"]),
            lambda i: dijkstra(csr_t, indices=q(i)["incident"])[q(i)["teams"]],
            lambda i: nx.single_source_dijkstra_path_length(R, q(i)["incident"],
                                                            weight="travel_time")),
        "route": (
            lambda g, i: _route_time(roads, g, q(i)["a"], q(i)["b"]),
            lambda i: dijkstra(csr, indices=q(i)["a"])[q(i)["b"]],
            lambda i: _nx_route(nx, G, q(i)["a"], q(i)["b"])),
        "matrix_20x200": (
            lambda g, i: roads.travel_time_matrix(g, q(i)["orig"], q(i)["dest"]),
            lambda i: dijkstra(csr, indices=q(i)["orig"])[:, q(i)["dest"]],
            lambda i: [nx.single_source_dijkstra_path_length(G, int(o), weight="travel_time")
                       for o in q(i)["orig"]]),
        "isochrone_15min": (
            lambda g, i: _iso(roads, g, q(i)["a"]),
            lambda i: _iso_ref(dijkstra(csr, indices=q(i)["a"], limit=900.0)),
            lambda i: nx.single_source_dijkstra_path_length(G, q(i)["a"], cutoff=900.0,
                                                            weight="travel_time")),
    }
    graphs = {"plain": tg, "stale": stale, "recontracted": done}
    out["queries"] = {}
    for name, (ours, scipy_fn, nx_fn) in queries.items():
        for i in range(len(inst)):  # exact on the modified graph, both engines
            ref = np.asarray(scipy_fn(i), dtype=float)
            check(np.asarray(ours(stale, i), dtype=float), ref)
            check(np.asarray(ours(done, i), dtype=float), ref)
        row = {k: median_ms(lambda i, g=g, f=ours: f(g, i), reps) for k, g in graphs.items()}
        row["scipy_ms"] = median_ms(scipy_fn, max(3, reps // 10))
        row["networkx_ms"] = median_ms(nx_fn, nx_reps)
        row["ratio_scipy_stale"] = row["scipy_ms"] / row["stale"]
        row["ratio_scipy_recontracted"] = row["scipy_ms"] / row["recontracted"]
        row["ratio_networkx_stale"] = row["networkx_ms"] / row["stale"]
        out["queries"][name] = row
    assert _search.ch_graph(stale) is None and _search.ch_graph(done) is fresh
    return out


def _route_time(roads: Any, g: Any, a: int, b: int) -> float:
    from navigator.errors import UnreachableError

    try:
        return float(roads.route(g, a, b).travel_time_s)
    except UnreachableError:
        return float("inf")


def _nx_route(nx: Any, G: Any, a: int, b: int) -> float:
    try:
        return float(nx.bidirectional_dijkstra(G, a, b, weight="travel_time")[0])
    except nx.NetworkXNoPath:
        return float("inf")


def _iso(roads: Any, g: Any, a: int) -> np.ndarray:
    iso = roads.isochrone(g, a, 900.0, hull=None)
    out = np.full(g.n_nodes, np.inf)
    out[iso.nodes] = iso.time_s
    return out


def _iso_ref(dist: np.ndarray) -> np.ndarray:
    return np.where(dist <= 900.0, dist, np.inf)


def table(res: dict[str, Any]) -> str:
    lines = [f"{'closure':>8} {'edges':>6} {'area ms':>8} {'derive ms':>9} {'recontract s':>12} "
             f"{'1st snap s':>10}"]
    for r in res["closures"]:
        lines.append(f"{r['closed_share']:8.1%} {r['closed_edges']:6d} "
                     f"{r['edges_in_area_ms']:8.2f} {r['with_closures_ms']:9.2f} "
                     f"{r['recontract_s']:12.2f} {r['first_snap_s']:10.2f}")
    lines.append("")
    lines.append(f"{'closure':>8} {'query':<16} {'plain':>8} {'stale':>8} {'recontr.':>8} "
                 f"{'scipy':>8} {'networkx':>9}   (ms, medians)")
    for r in res["closures"]:
        for name, row in r["queries"].items():
            lines.append(f"{r['closed_share']:8.1%} {name:<16} {row['plain']:8.3f} "
                         f"{row['stale']:8.3f} {row['recontracted']:8.3f} "
                         f"{row['scipy_ms']:8.2f} {row['networkx_ms']:9.1f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", type=Path,
                    default=ROOT / "benchmarks" / "results" / "closures.json")
    ap.add_argument("--reps", type=int, default=40, help="repetitions per query (ours)")
    ap.add_argument("--nx-reps", type=int, default=3, help="repetitions per networkx query")
    ap.add_argument("--cache-dir", type=Path, default=None,
                    help="road-network cache folder (default: the user cache)")
    args = ap.parse_args(argv)
    from navigator.roads import _kernels, edges_in_area, load_graph

    _kernels.warm_up()
    t0 = time.perf_counter()
    tg = load_graph(PORTO, cache_dir=args.cache_dir)
    out: dict[str, Any] = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "platform": platform.platform(), "loadavg_at_start": os.getloadavg()},
        "osm": str(PORTO.relative_to(ROOT)), "nodes": tg.n_nodes, "edges": tg.n_edges,
        "load_s": time.perf_counter() - t0}
    import shapely

    t0 = time.perf_counter()
    edges_in_area(tg, shapely.Point(float(tg.lon[0]), float(tg.lat[0])).buffer(0.001))
    out["edge_tree_first_call_s"] = time.perf_counter() - t0
    out["closures"] = [bench_share(tg, s, args.reps, args.nx_reps) for s in SHARES]
    print(f"Porto: {tg.n_nodes} nodes, {tg.n_edges} edges; edge STRtree built on first "
          f"edges_in_area in {out['edge_tree_first_call_s']:.2f} s")
    print(table(out))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=2, default=float) + "\n")
    print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
