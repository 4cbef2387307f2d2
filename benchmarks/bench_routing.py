"""Routing benchmark on the shipped Porto extract, against networkx in the same process.

Run ``python benchmarks/bench_routing.py`` (about 3 minutes); ``--scale`` adds a synthetic
~500k-node graph. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing as mp
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from routing_queries import K, instances, navigator_queries  # noqa: E402

PORTO = ROOT / "data" / "osm" / "porto_portugal.osm.pbf"
TARGETS_MS = {"Q1": 0.3, "Q2": 0.3, "Q3": 10.0, "Q4": 50.0, "Q5": 5.0, "R": 1.0, "N": 0.05,
              "N_edge": 0.1}


# -- cold build / warm load in child processes ---------------------------------------------

def _turns() -> bool:
    """Turn restrictions on unless ``NAVIGATOR_TURN_RESTRICTIONS=0`` (as the product)."""
    from navigator.config import settings_from_env

    return settings_from_env().turn_restrictions


def _child(stage: str, osm: str, cache_dir: str, queue: mp.Queue) -> None:
    t0 = time.perf_counter()
    from navigator.roads import build as network
    from navigator.roads import osm as osmread

    turns = _turns()

    t_import = time.perf_counter() - t0
    rss_import = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    c0 = time.process_time()
    if stage == "read":
        osmread.read_drive_ways(Path(osm))
    elif stage == "build":
        tg = network.build_graph(osm, turn_restrictions=turns)
        network.save_graph(tg, network.cache_path(osm, cache_dir, turn_restrictions=turns))
    elif stage == "load":
        network.load_graph(osm, cache_dir=cache_dir, turn_restrictions=turns)
    elif stage == "jit":
        from navigator.roads import _kernels

        _kernels.warm_up()
    queue.put({"stage": stage, "seconds": time.perf_counter() - t0, "import_s": t_import,
               "cpu_s": time.process_time() - c0,
               "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
               "peak_after_import_mb": rss_import})


def run_child(stage: str, osm: Path, cache_dir: Path, env: dict[str, str] | None = None) -> dict:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    old = dict(os.environ)
    os.environ.update(env or {})
    try:
        p = ctx.Process(target=_child, args=(stage, str(osm), str(cache_dir), queue))
        p.start()
        out = queue.get(timeout=900)
        p.join()
    finally:
        os.environ.clear()
        os.environ.update(old)
    return out


# -- timing helpers ----------------------------------------------------------------------

INTERLEAVED = False  # set by --interleaved: touch other memory between repetitions
_EVICT: list[np.ndarray] = []  # 64 MB, more than the last-level cache; made when first used,
# so a build/load child process (which imports this module) never counts it in its peak RSS


def evict() -> None:
    """Other work between queries: touch 64 MB so the graph and workspace leave the caches."""
    if not _EVICT:
        _EVICT.append(np.ones(8 << 20))
    np.add(_EVICT[0], 1.0, out=_EVICT[0])


def median_ms(fn: Callable[[int], object], reps: int) -> float:
    times = []
    for i in range(reps):
        if INTERLEAVED:
            evict()
        t = time.perf_counter()
        fn(i)
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times)


def reference_digraph(tg):  # min travel_time over parallel edges (never summed)
    """The search graph in networkx: with turn restrictions, its split nodes too (a search
    to node ``j`` reads ``tg.target_node[j]``, so the answers are turn-aware)."""
    import networkx as nx

    D = nx.DiGraph()
    D.add_nodes_from(range(tg.n_search_nodes))
    tails = tg.edge_sources()
    D.add_weighted_edges_from(zip(tails.tolist(), tg.indices.tolist(),
                                  tg.travel_time.tolist(), strict=True), weight="travel_time")
    return D


def bench_queries(tg, *, label: str, reps: int, nx_reps: int, nx_matrix_cols: int,
                  seed: int = 0) -> dict:
    import networkx as nx

    from navigator.roads import routing

    n = tg.n_nodes
    inst = instances(tg, seed)
    incidents, teams = inst["incidents"], inst["teams"]
    facilities500, facilities200 = inst["facilities500"], inst["facilities200"]
    origins = inst["origins"]
    ours = navigator_queries(tg, inst)
    ours_q1, ours_q2, ours_q3, ours_q4, ours_q5, ours_r = (ours[q] for q in
                                                           ("Q1", "Q2", "Q3", "Q4", "Q5", "R"))
    t0 = time.perf_counter()
    D = reference_digraph(tg)
    R = D.reverse(copy=False)
    nx_build_s = time.perf_counter() - t0
    end = tg.target_node  # where a search to a node ends (itself unless turn-restricted)
    res: dict[str, dict] = {}

    def nx_sp(G, s, cutoff=None):
        return nx.single_source_dijkstra_path_length(G, int(s), cutoff=cutoff,
                                                     weight="travel_time")

    # Q1: rank 100 teams driving to an incident (many-to-one)

    def nx_q1(i):
        d = nx_sp(R, end[incidents[i % K]])
        return np.array([d.get(int(t), np.inf) for t in teams[i % K]])

    check = [np.allclose(ours_q1(i), nx_q1(i), rtol=1e-9) for i in range(2)]
    res["Q1"] = {"what": "rank 100 teams -> 1 incident (many-to-one)",
                 "ours_ms": median_ms(ours_q1, reps), "nx_ms": median_ms(nx_q1, nx_reps),
                 "equal": all(check)}

    # Q2: nearest 5 of 500 facilities from a point

    def nx_q2(i):
        d = nx_sp(D, incidents[i % K])
        t = np.array([d.get(int(end[f]), np.inf) for f in facilities500[i % K]])
        return np.sort(t)[:5]

    check = [np.allclose(ours_q2(i), nx_q2(i), rtol=1e-9) for i in range(2)]
    res["Q2"] = {"what": "nearest 5 of 500 facilities (bounded search)",
                 "ours_ms": median_ms(ours_q2, reps), "nx_ms": median_ms(nx_q2, nx_reps),
                 "equal": all(check)}

    # Q3: nearest-facility time for every node, 200 facilities

    def nx_q3(i):
        d = nx.multi_source_dijkstra_path_length(D, set(facilities200.tolist()),
                                                 weight="travel_time")
        out = np.full(tg.n_search_nodes, np.inf)
        out[list(d)] = list(d.values())
        return out[end]

    res["Q3"] = {"what": "nearest of 200 facilities for every node (multi-source)",
                 "ours_ms": median_ms(ours_q3, reps), "nx_ms": median_ms(nx_q3, nx_reps),
                 "equal": bool(np.allclose(ours_q3(0), nx_q3(0), rtol=1e-9))}

    # Q4: 1000 x 200 matrix

    m = ours_q4(0)
    cols = facilities200[:nx_matrix_cols]

    def nx_q4_cols(i):
        per_col = [nx_sp(R, end[f]) for f in cols]
        return np.array([[d.get(int(o), np.inf) for o in origins] for d in per_col]).T

    nx_cols_ms = median_ms(nx_q4_cols, 1)
    res["Q4"] = {"what": "1000 x 200 travel-time matrix",
                 "ours_ms": median_ms(ours_q4, max(3, reps // 10)),
                 "nx_ms": nx_cols_ms * len(facilities200) / len(cols),
                 "nx_note": f"extrapolated from {len(cols)} of 200 reverse searches",
                 "equal": bool(np.allclose(m[:, : len(cols)], nx_q4_cols(0), rtol=1e-9))}

    # Q5: 15-minute isochrone (node set; polygon timed separately)

    def nx_q5(i):
        d = nx_sp(D, incidents[i % K], cutoff=900.0)
        return np.flatnonzero(np.isin(end, list(d)))

    res["Q5"] = {"what": "15-minute isochrone (reached nodes)",
                 "ours_ms": median_ms(ours_q5, reps), "nx_ms": median_ms(nx_q5, nx_reps),
                 "equal": bool(np.array_equal(ours_q5(0), nx_q5(0)))}
    res["Q5_polygon"] = {
        "what": "15-minute isochrone incl. concave hull polygon",
        "ours_ms": median_ms(lambda i: routing.isochrone(tg, int(incidents[i % K]), 900.0),
                             max(5, reps // 5)),
        "nx_ms": None, "equal": None}
    res["Q5_convex"] = {
        "what": "15-minute isochrone incl. convex hull polygon",
        "ours_ms": median_ms(
            lambda i: routing.isochrone(tg, int(incidents[i % K]), 900.0, hull="convex"),
            max(5, reps // 5)),
        "nx_ms": None, "equal": None}
    # R: one fastest route with its geometry; networkx: bidirectional Dijkstra + edge shapes
    pairs = inst["pairs"]
    from navigator.roads import snapping


    def nx_r(i):
        a, b = pairs[i % K]
        path = nx.bidirectional_dijkstra(D, int(a), int(end[b]), weight="travel_time")[1]
        e = [tg.indptr[x] + np.flatnonzero(tg.indices[tg.indptr[x]:tg.indptr[x + 1]] == y)[0]
             for x, y in itertools.pairwise(path)]
        return snapping.edge_vertices(tg, np.array(e, dtype=np.int64))[0]

    res["R"] = {"what": "one fastest route with geometry (CH query + unpacking)",
                "ours_ms": median_ms(ours_r, reps), "nx_ms": median_ms(nx_r, nx_reps),
                "equal": bool(all(np.isclose(ours_r(i).travel_time_s, nx.shortest_path_length(
                    D, int(pairs[i][0]), int(end[pairs[i][1]]), weight="travel_time"), rtol=1e-9)
                    for i in range(3)))}
    # N: snap one coordinate; reference: a bare KD-tree query (the floor)
    from scipy.spatial import cKDTree

    plon, plat = inst["plon"], inst["plat"]
    tree = cKDTree(np.column_stack([tg.lon, tg.lat]))
    ours["N_edge"](0)  # builds the edge index
    kd_ms = median_ms(lambda i: tree.query([plon[i % K], plat[i % K]]), reps)
    res["N"] = {"what": "snap one point to its node", "nx_ms": None, "equal": None,
                "ours_ms": median_ms(ours["N"], reps),
                "kdtree_ms": kd_ms}
    res["N_edge"] = {"what": "snap one point to the nearest edge (with fraction)",
                     "nx_ms": None, "equal": None, "kdtree_ms": kd_ms,
                     "ours_ms": median_ms(ours["N_edge"], reps)}
    # method choice: what "auto" picks against both methods, bounded queries
    for key, what, fn in (
        ("M_iso300", "5-min isochrone, no hull", lambda m: lambda i: routing.isochrone(
            tg, int(incidents[i % K]), 300.0, hull=None, method=m)),
        ("M_iso900", "15-min isochrone, no hull", lambda m: lambda i: routing.isochrone(
            tg, int(incidents[i % K]), 900.0, hull=None, method=m)),
        ("M_nf3600", "nearest of 200 facilities, cutoff 3600 s", lambda m: lambda i:
            routing.nearest_facility(tg, facilities200, cutoff_s=3600.0, method=m)),
        ("M_tt120", "times from a node, cutoff 120 s", lambda m: lambda i:
            routing.travel_times_from(tg, int(incidents[i % K]), cutoff_s=120.0, method=m)),
    ):
        per = {m: median_ms(fn(m), max(5, reps // 4)) for m in ("auto", "dijkstra", "phast")}
        res[key] = {"what": f"{what}: auto vs dijkstra {per['dijkstra']:.3f} / phast "
                            f"{per['phast']:.3f} ms", "ours_ms": per["auto"], "nx_ms": None,
                    "equal": None, "best_ms": min(per["dijkstra"], per["phast"])}
    for v in res.values():
        v["speedup"] = (v["nx_ms"] / v["ours_ms"]) if v.get("nx_ms") else None
    return {"graph": label, "nodes": n, "edges": tg.n_edges, "networkx_graph_build_s": nx_build_s,
            "queries": res}


# -- synthetic ~500k-node graph ------------------------------------------------------------

def synthetic_graph(tg, copies: int = 10, seed: int = 7):
    """Tile perturbed copies of a graph (2 rows) and stitch neighbours with two-way links."""
    from navigator.roads import build as network

    rng = np.random.default_rng(seed)
    # every search node of a turn-split graph becomes a plain node of the tiles
    n = tg.n_search_nodes
    tails = tg.edge_sources()
    node_lon, node_lat = tg.lon[tg.original_node], tg.lat[tg.original_node]
    w_deg = float(np.ptp(tg.lon)) * 1.02
    h_deg = float(np.ptp(tg.lat)) * 1.02
    cols = (copies + 1) // 2
    us, vs, tts, lns, lons, lats, ids = [], [], [], [], [], [], []
    for c in range(copies):
        r, q = divmod(c, cols)
        factor = rng.uniform(0.85, 1.15, tg.n_edges)
        us.append(tails + c * n)
        vs.append(tg.indices.astype(np.int64) + c * n)
        tts.append(tg.travel_time * factor)
        lns.append(tg.length)
        lons.append(node_lon + q * w_deg)
        lats.append(node_lat + r * h_deg)
        ids.append(np.arange(n, dtype=np.int64) + c * 10**11)
    lon, lat = np.concatenate(lons), np.concatenate(lats)
    # stitch: nodes near the shared border of neighbouring tiles, 200 links per border
    links = []
    east = np.argsort(node_lon)[-400:]
    west = np.argsort(node_lon)[:400]
    north = np.argsort(node_lat)[-400:]
    south = np.argsort(node_lat)[:400]
    for c in range(copies):
        r, q = divmod(c, cols)
        for other, a_side, b_side in ((c + 1, east, west), (c + cols, north, south)):
            if (other == c + 1 and q + 1 >= cols) or other >= copies:
                continue
            a = rng.choice(a_side, 200) + c * n
            b = rng.choice(b_side, 200) + other * n
            links.append((a, b))
    la = np.concatenate([a for a, _ in links])
    lb = np.concatenate([b for _, b in links])
    dist = network.great_circle_m(lat[la], lon[la], lat[lb], lon[lb])
    t_link = dist / (50 / 3.6)
    u = np.concatenate([*us, la, lb])
    v = np.concatenate([*vs, lb, la])
    tt = np.concatenate([*tts, t_link, t_link])
    ln = np.concatenate([*lns, dist, dist])
    u, v, tt, ln = network.min_parallel_edges(u, v, tt, ln)
    geom_ptr = np.zeros(len(u) + 1, dtype=np.int64)
    return network.assemble_graph(u, v, tt, ln, np.concatenate(ids), lon, lat, geom_ptr,
                             np.zeros((0, 2)), source="synthetic: 10 perturbed tiled copies of "
                             "Porto", settings_hash="synthetic")


# -- report ------------------------------------------------------------------------------

def table(block: dict) -> str:
    lines = [f"{block['graph']}: {block['nodes']:,} nodes, {block['edges']:,} edges",
             f"{'query':<11}{'ours median':>14}{'networkx':>14}{'speed-up':>11}{'target':>10}"
             f"{'equal':>7}  what"]
    for k, v in block["queries"].items():
        nx_ms = f"{v['nx_ms']:.2f} ms" if v.get("nx_ms") else "-"
        if v.get("kdtree_ms"):
            nx_ms = f"kd {v['kdtree_ms']:.3f}"
        sp = f"{v['speedup']:.0f}x" if v.get("speedup") else "-"
        tgt = f"<={TARGETS_MS[k]:g} ms" if k in TARGETS_MS else ""
        eq = "" if v.get("equal") is None else ("yes" if v["equal"] else "NO")
        note = f" ({v['nx_note']})" if v.get("nx_note") else ""
        lines.append(f"{k:<11}{v['ours_ms']:>11.3f} ms{nx_ms:>14}{sp:>11}{tgt:>10}{eq:>7}  "
                     f"{v['what']}{note}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "routing.json")
    ap.add_argument("--reps", type=int, default=100, help="repetitions per query (ours)")
    ap.add_argument("--nx-reps", type=int, default=10, help="repetitions per networkx query")
    ap.add_argument("--scale", action="store_true", help="also run a synthetic ~500k graph")
    ap.add_argument("--interleaved", action="store_true",
                    help="touch 64 MB of other memory before every repetition (cold caches)")
    ap.add_argument("--skip-build", action="store_true",
                    help="skip the child-process jit/read/build stages (use the user cache)")
    args = ap.parse_args(argv)
    global INTERLEAVED
    INTERLEAVED = args.interleaved

    out: dict = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                             "platform": platform.platform()}, "osm": str(PORTO.relative_to(ROOT))}
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp)
        if args.skip_build:
            from navigator.config import Settings

            cache = Settings().cache_dir
        if not args.skip_build:
            with tempfile.TemporaryDirectory() as numba_tmp:
                jit = run_child("jit", PORTO, cache, env={"NUMBA_CACHE_DIR": numba_tmp})
            stages = {s: run_child(s, PORTO, cache) for s in ("read", "build", "load")}
            print(f"numba JIT compile from scratch (all kernels, not in medians): "
                  f"{jit['seconds']:.1f} s")
            for s, r in stages.items():
                print(f"{s:<6} {r['seconds']:6.2f} s (CPU {r['cpu_s']:.2f} s)   peak RSS "
                      f"{r['peak_mb']:6.0f} MB (after "
                      f"imports {r['peak_after_import_mb']:.0f} MB, import "
                      f"{r['import_s']:.2f} s)")
            out["jit_compile_s"] = jit["seconds"]
            out["stages"] = stages
        from navigator.roads import _kernels
        from navigator.roads import build as network

        t = time.perf_counter()
        _kernels.warm_up()
        out["first_call_warm_up_s"] = time.perf_counter() - t
        tg = network.load_graph(PORTO, cache_dir=cache, turn_restrictions=_turns())
    out["interleaved"] = args.interleaved
    out["turn_restrictions"] = tg.turn_restricted
    print(f"turn restrictions {'ON' if tg.turn_restricted else 'OFF'} "
          "(NAVIGATOR_TURN_RESTRICTIONS=0 turns them off; networkx runs on the same search "
          "graph)")
    out["porto"] = bench_queries(tg, label="Porto (real OSM)" + (
        ", INTERLEAVED (64 MB touched before each repetition)" if args.interleaved else ""),
        reps=args.reps,
                                 nx_reps=args.nx_reps, nx_matrix_cols=10)
    print()
    print(table(out["porto"]))
    if args.scale:
        t = time.perf_counter()
        big = synthetic_graph(tg)
        out["synthetic_build_s"] = time.perf_counter() - t
        print(f"\nsynthetic graph built (incl. contraction hierarchy) in "
              f"{out['synthetic_build_s']:.0f} s")
        out["synthetic"] = bench_queries(big, label="synthetic 10x Porto (SYNTHETIC)",
                                         reps=max(5, args.reps // 5), nx_reps=1,
                                         nx_matrix_cols=1)
        print(table(out["synthetic"]))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=2, default=float) + "\n")
    print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
