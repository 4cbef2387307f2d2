"""OSRM (osrm-bindings, in-process, CH) on the bench_peers.py instances: the Python >= 3.12 job.

Run by ``benchmarks/run_osrm_job.sh IN.json OUT.json`` in its own venv (osrm-bindings has
wheels for Python >= 3.12 only); imports nothing from Navigator. Builds OSRM's files offline
from the same .pbf with the wheel's own ``osrm-extract`` (car profile) and ``osrm-contract``,
once per .pbf (kept under ``--data-dir``), then times Q1, Q2, Q4, R and N with the instance
coordinates in IN.json and writes medians and answers to OUT.json. OSRM routes on its own
model of the .pbf (car.lua speeds, turn and signal penalties), so bench_peers.py compares
ETAs by ratio and rank order, not for equality.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import osrm


def build(pbf: Path, data_dir: Path) -> tuple[Path, dict]:
    sha = hashlib.sha256(pbf.read_bytes()).hexdigest()[:16]
    work = data_dir / f"{pbf.name.split('.')[0]}-{sha}"
    base = work / (pbf.name.split(".")[0] + ".osrm")
    info: dict = {"data": str(work)}
    if (work / "done").is_file():
        info.update(json.loads((work / "done").read_text()))
        return base, info
    work.mkdir(parents=True, exist_ok=True)
    src = work / pbf.name
    src.write_bytes(pbf.read_bytes())
    profile = Path(osrm.__file__).parent / "share" / "profiles" / "car.lua"
    for step, args in (("extract", ["-p", str(profile), str(src)]), ("contract", [str(base)])):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "osrm", step, "-t", "1", *args], check=True,
                       stdout=subprocess.DEVNULL)
        info[f"{step}_s"] = time.perf_counter() - t
    src.unlink()
    (work / "done").write_text(json.dumps({k: v for k, v in info.items() if k != "data"}))
    return base, info


def median_ms(fn, reps: int, budget_s: float) -> tuple[float, int]:
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < reps and (len(times) < 3 or time.perf_counter() - start < budget_s):
        t = time.perf_counter()
        fn(len(times))
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times), len(times)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("inp", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--data-dir", type=Path, required=True)
    args = ap.parse_args(argv)
    job = json.loads(args.inp.read_text())
    base, info = build(Path(job["pbf"]), args.data_dir)
    t = time.perf_counter()
    engine = osrm.OSRM(storage_config=str(base), algorithm="CH", use_shared_memory=False)
    info["load_s"] = time.perf_counter() - t
    lon, lat = job["lon"], job["lat"]
    K, reps, budget = job["K"], job["reps"], job["budget_s"]

    def xy(nodes):
        return [(lon[v], lat[v]) for v in nodes]

    def table(srcs, dsts):  # parameters built outside the timed call
        return osrm.TableParameters(coordinates=xy(srcs) + xy(dsts),
                                    sources=list(range(len(srcs))),
                                    destinations=list(range(len(srcs), len(srcs) + len(dsts))),
                                    annotations=["duration"], generate_hints=False)

    def durations(res):
        return [[float(x) if x is not None else None for x in row] for row in res["durations"]]

    params = {
        "Q1": [table(job["teams"][i], [job["incidents"][i]]) for i in range(K)],
        "Q2": [table([job["incidents"][i]], job["facilities500"][i]) for i in range(K)],
        "Q4": [table(job["origins"], job["facilities200"])],
        "R": [osrm.RouteParameters(coordinates=xy(job["pairs"][i]), geometries="geojson",
                                   overview="full", generate_hints=False) for i in range(K)],
        "N": [osrm.NearestParameters(coordinates=[(job["plon"][i], job["plat"][i])],
                                     generate_hints=False) for i in range(K)],
    }
    call = {"Q1": engine.Table, "Q2": engine.Table, "Q4": engine.Table, "R": engine.Route,
            "N": engine.Nearest}
    out: dict = {"osrm": info, "queries": {}}
    for q, plist in params.items():
        fn = call[q]
        ms, n = median_ms(lambda i, fn=fn, plist=plist: fn(plist[i % len(plist)]), reps, budget)
        answers = []
        t = time.perf_counter()
        for p in plist:
            res = fn(p)
            if q == "R":
                r = res["routes"][0]
                answers.append({"duration": float(r["duration"]),
                                "points": len(r["geometry"]["coordinates"])})
            elif q == "N":
                w = res["waypoints"][0]
                answers.append({"distance_m": float(w["distance"])})
            else:
                answers.append(durations(res))
        out["queries"][q] = {"ms": ms, "reps": n, "answers": answers,
                             "with_answers_ms": (time.perf_counter() - t) * 1e3 / len(plist)}
        print(f"osrm {q}: {ms:.3f} ms median of {n}", file=sys.stderr)
    args.out.write_text(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
