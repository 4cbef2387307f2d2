"""CLI decisions: wall time of ``find-bed`` and ``rank-teams`` as a user runs them.

Every figure is one fresh ``python -m navigator.cli ...`` process, timed from outside
(``time.perf_counter`` around ``subprocess.run``), on the Columbus demo store (GeoPackage):

- ``baseline``: ``python -c pass`` and ``python -c "import networkx"`` (the floor);
- ``warm``: in-process, graph cache and numba cache warm, no worker (median of ``--reps``);
- ``worker``: the same commands answered by ``navigator worker`` (median of ``--reps``);
  every worker answer is checked equal to the in-process one;
- ``cold``: in-process with no graph cache (the command builds the network; one run), numba
  warm;
- ``fresh``: in-process with an empty ``NUMBA_CACHE_DIR`` (a fresh install's first command:
  the kernels the command uses compile), and ``navigator warm-up`` from an empty cache (what
  ``navigator demo`` / ``region init`` pay once so that the first decision does not).

Usage::

    .venv/bin/python benchmarks/bench_cli.py                  # ~2-3 min
    .venv/bin/python benchmarks/bench_cli.py --reps 5 --fresh-reps 1 --json /tmp/cli.json

With ``--bytecode-cache`` the commands run with Python's bytecode cache on (in the run's
temporary folder, ``PYTHONPYCACHEPREFIX``), as an installed copy has it: a session with
``PYTHONDONTWRITEBYTECODE`` set and no ``__pycache__`` beside a source checkout otherwise
compiles Navigator's ~100 modules again in every command (about 0.1 s of CPU).

Results go to ``benchmarks/results/cli.json``. The load average is printed with them: the
machine is shared, so compare the ratios to the baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results" / "cli.json"
COMMANDS = {
    "find-bed": ["find-bed", "--lon", "-82.99", "--lat", "39.96", "--bed-type",
                 "single_women", "--at", "2026-11-23T21:30-05:00"],
    "rank-teams": ["rank-teams", "demo-incident-1"],
}


def _run(argv: list[str], env: dict[str, str], *, code: int = 0) -> tuple[float, str]:
    t = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t
    if done.returncode != code:
        msg = f"{argv} exited {done.returncode}: {done.stderr[-500:]}"
        raise RuntimeError(msg)
    return wall, done.stdout


def _cli(*words: str) -> list[str]:
    return [sys.executable, "-m", "navigator.cli", *words]


def _median(argv: list[str], env: dict[str, str], reps: int) -> tuple[float, str]:
    walls, out = [], ""
    for _ in range(reps):
        wall, out = _run(argv, env)
        walls.append(wall)
    return statistics.median(walls), out


def main() -> int:
    """Run the benchmark; print the table and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=7, help="runs per warm median")
    parser.add_argument("--fresh-reps", type=int, default=2,
                        help="runs with an empty numba cache (each compiles)")
    parser.add_argument("--json", type=Path, default=RESULTS, help="where to write results")
    parser.add_argument("--bytecode-cache", action="store_true",
                        help="run the commands with Python's bytecode cache on (in the temporary "
                             "folder), as an installed copy")
    opts = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-cli-"))
    runtime = Path(tempfile.mkdtemp(prefix="nb-", dir="/tmp"))
    runtime.chmod(0o700)
    cache = work / "cache"
    env = {**os.environ, "NAVIGATOR_STORE_URL": str(work / "demo.gpkg"),
           "NAVIGATOR_CACHE_DIR": str(cache), "XDG_RUNTIME_DIR": str(runtime)}
    if opts.bytecode_cache:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    out: dict[str, Any] = {"load_before": os.getloadavg(), "reps": opts.reps,
                           "cpus": os.cpu_count(),
                           "bytecode_cache": not env.get("PYTHONDONTWRITEBYTECODE")}
    try:
        setup, _ = _run(_cli("demo", "--no-serve", "--output", str(work / "demo.html")), env)
        out["setup_demo_s"] = setup
        out["baseline"] = {
            "python_pass_s": _median([sys.executable, "-c", "pass"], env, opts.reps)[0],
            "import_networkx_s": _median([sys.executable, "-c", "import networkx"], env,
                                         opts.reps)[0]}
        floor = out["baseline"]["import_networkx_s"]
        rows: dict[str, dict[str, float]] = {}
        expected: dict[str, str] = {}
        for name, words in COMMANDS.items():
            warm, expected[name] = _median(_cli(*words), env, opts.reps)
            rows[name] = {"warm_s": warm}
        _run(_cli("worker", "start"), env)
        try:
            for name, words in COMMANDS.items():
                via, answer = _median(_cli(*words), env, opts.reps)
                if answer != expected[name]:
                    msg = f"{name}: the worker's answer differs from the in-process one"
                    raise RuntimeError(msg)
                rows[name]["worker_s"] = via
        finally:
            _run(_cli("worker", "stop"), env)
        for name, words in COMMANDS.items():
            shutil.rmtree(cache, ignore_errors=True)  # one run each: it builds the network
            rows[name]["cold_graph_s"] = _run(_cli(*words), env)[0]
        for name, words in COMMANDS.items():
            fresh = []
            for _ in range(opts.fresh_reps):
                numba = tempfile.mkdtemp(prefix="numba-")
                fresh.append(_run(_cli(*words), {**env, "NUMBA_CACHE_DIR": numba})[0])
                shutil.rmtree(numba, ignore_errors=True)
            rows[name]["fresh_numba_s"] = statistics.median(fresh)
        warmups = []
        for _ in range(opts.fresh_reps):
            numba = tempfile.mkdtemp(prefix="numba-")
            env_fresh = {**env, "NUMBA_CACHE_DIR": numba}
            warmups.append(_run(_cli("warm-up"), env_fresh)[0])
            rows.setdefault("after-warm-up", {})
            first = _run(_cli(*COMMANDS["find-bed"]), env_fresh)[0]
            rows["after-warm-up"]["find_bed_s"] = first
            shutil.rmtree(numba, ignore_errors=True)
        out["warm_up_fresh_s"] = statistics.median(warmups)
        out["commands"] = rows
        out["ratio_to_import_networkx"] = {
            name: {k: v / floor for k, v in row.items()} for name, row in rows.items()}
    finally:
        out["load_after"] = os.getloadavg()
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(runtime, ignore_errors=True)
    _print(out)
    opts.json.parent.mkdir(parents=True, exist_ok=True)
    opts.json.write_text(json.dumps(out, indent=1))
    return 0


def _print(out: dict[str, Any]) -> None:
    base = out["baseline"]
    print(f"load average {out['load_before'][0]:.2f} before, {out['load_after'][0]:.2f} "
          f"after; {out['cpus']} CPUs; medians of {out['reps']} runs; bytecode cache "
          f"{'on' if out['bytecode_cache'] else 'off'}")
    print(f"baseline: python -c pass {base['python_pass_s']:.3f} s, import networkx "
          f"{base['import_networkx_s']:.3f} s")
    print(f"{'command':<14}{'warm':>9}{'worker':>9}{'no graph':>10}{'no numba':>10}"
          "   (seconds; x import networkx)")
    ratios = out["ratio_to_import_networkx"]
    for name, row in out["commands"].items():
        if name == "after-warm-up":
            continue
        r = ratios[name]
        print(f"{name:<14}{row['warm_s']:>9.3f}{row['worker_s']:>9.3f}"
              f"{row['cold_graph_s']:>10.2f}{row['fresh_numba_s']:>10.2f}   "
              f"x{r['warm_s']:.1f} / x{r['worker_s']:.1f}")
    print(f"navigator warm-up from an empty numba cache: {out['warm_up_fresh_s']:.2f} s; "
          f"find-bed right after it: {out['commands']['after-warm-up']['find_bed_s']:.3f} s")


if __name__ == "__main__":
    sys.exit(main())
