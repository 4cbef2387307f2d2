"""``navigator simulate`` and ``simulate-sweep``: compare dispatch policies on a call stream.

Each command parses its options, calls one function of :mod:`navigator.services.simulation`
(which records the decision in the audit log) and prints what it returns.
"""

from __future__ import annotations

import argparse
import csv
import math
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from navigator.cli.common import Context, add_command, minutes_text, print_json
from navigator.errors import ValidationError
from navigator.model import DispatchPolicy

if TYPE_CHECKING:
    from navigator.cli.common import Subcommands
    from navigator.decide.sim_stream import ShiftTable

__all__ = ["parse_shifts", "register", "run_simulate", "run_sweep"]

_SHIFT = re.compile(r"^\s*([\w-]+)=(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)x(\d+)\s*$")


def parse_shifts(text: str | None) -> ShiftTable | None:
    """Return the shift table of ``--shifts day=7-19x12,night=19-7x8`` (None: the default)."""
    from navigator.decide.sim_stream import shifts_from_rows

    if text is None:
        return None
    rows = []
    for i, part in enumerate(text.split(",")):
        m = _SHIFT.match(part)
        if not m:
            msg = (f"--shifts item {i + 1} {part.strip()!r} must be NAME=START-ENDxTEAMS in "
                   "hours, e.g. day=7-19x12")
            raise ValidationError(msg)
        rows.append((m[1], float(m[2]), float(m[3]), int(m[4])))
    return shifts_from_rows(rows)


def _minutes(value: float | None, flag: str) -> float | None:
    if value is None:
        return None
    if not (math.isfinite(value) and value >= 0):
        msg = f"{flag} {value}: give a non-negative number of minutes"
        raise ValidationError(msg)
    return value * 60.0


def _ints(text: str, flag: str) -> list[int]:
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError as e:
        msg = f"{flag} {text!r} must be whole numbers separated by commas, e.g. 4,8,12"
        raise ValidationError(msg) from e


def _write_csv(rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    names = list(dict.fromkeys(k for r in rows for k in r))
    w = csv.DictWriter(sys.stdout, fieldnames=names, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)


def _m(seconds: float | None) -> str:
    return minutes_text(seconds).replace("unreachable", "n/a")


def _share(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.1%}"


def run_simulate(args: argparse.Namespace, ctx: Context) -> int:
    """Replay a call stream (synthetic, or --incidents CSV) through dispatch policies."""
    from navigator.services.simulation import simulate_policies

    incidents = Path(args.incidents) if args.incidents else None
    if incidents is not None and not incidents.is_file():
        msg = f"--incidents {incidents}: no such file"
        raise ValidationError(msg)
    run = simulate_policies(
        ctx.store, ctx.graph, ctx.settings, actor=args.actor, policies=args.policies,
        days=args.days, calls_per_day=args.calls_per_day, seed=args.seed, incidents=incidents,
        teams=args.teams, base_ids=args.base or None, shifts=parse_shifts(args.shifts),
        target_s=_minutes(args.target, "--target"),
        slack_s=_minutes(args.slack, "--slack") or 0.0,
        batch_every_s=_minutes(args.batch_every, "--batch-every") or 0.0)
    if args.json:
        print_json(run.summary())
        return 0
    if args.csv:
        _write_csv(run.rows())
        return 0
    s = run.summary()
    print(f"{s['calls']} calls, {s['teams']} teams, {s['days']:g} days "
          f"(travel times {run.timings_s['matrix']:.1f} s, simulation "
          f"{run.timings_s['simulate']:.1f} s)")
    print(f"  {'policy':<9} {'p50':>9} {'p90':>9} {'in target':>9} {'unserved':>8} "
          f"{'waited':>6} {'busy':>6} {'preempt':>7}")
    for r in run.reports:
        o = r.overall
        print(f"  {r.policy:<9} {_m(o['p50_s']):>9} {_m(o['p90_s']):>9} "
              f"{_share(o['share_within_target']):>9} {o['unserved']:>8} {r.calls_waited:>6} "
              f"{_share(r.utilisation):>6} {r.preemptions:>7}")
    print("  p90 by priority: " + "; ".join(
        f"{r.policy} " + " ".join(f"P{b['priority']} {_m(b['p90_s'])}" for b in r.by_priority)
        for r in run.reports))
    for note in run.notes:
        print(f"  - {note}")
    return 0


def run_sweep(args: argparse.Namespace, ctx: Context) -> int:
    """Run policies x team counts x base sets on one synthetic stream (Dask with --scheduler)."""
    from navigator.services.simulation import sweep_policies

    run = sweep_policies(
        ctx.store, ctx.graph, ctx.settings, actor=args.actor, policies=args.policies,
        team_counts=_ints(args.teams, "--teams") if args.teams else (),
        base_sets=[[b for b in s.split(",") if b.strip()] for s in args.bases or ()],
        days=args.days, calls_per_day=args.calls_per_day, seed=args.seed,
        target_s=_minutes(args.target, "--target"), scheduler=args.scheduler)
    rows = run.rows()
    if args.json:
        print_json({"cells": rows, "timings_s": run.timings_s})
        return 0
    if args.csv:
        _write_csv(rows)
        return 0
    for r in rows:
        print(f"  {r['label']:<34} p50 {_m(r['p50_s']):>9}  p90 {_m(r['p90_s']):>9}  "
              f"in target {_share(r['share_within_target']):>6}  unserved {r['unserved']}")
    return 0


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--policies", nargs="+", choices=[d.value for d in DispatchPolicy],
                   default=[d.value for d in DispatchPolicy],
                   help="policies to compare (default: all four; the first is the reference)")
    p.add_argument("--days", type=float, default=30.0, help="days of synthetic calls")
    p.add_argument("--calls-per-day", type=float, default=50.0, help="mean calls a day")
    p.add_argument("--seed", type=int, default=7, help="random seed of the synthetic calls")
    p.add_argument("--target", type=float, help="response target, minutes (default: "
                                                "NAVIGATOR_RESPONSE_TARGET_S)")
    p.add_argument("--csv", action="store_true", help="print the figures as CSV")


def register(sub: Subcommands) -> None:
    """Add ``simulate`` and ``simulate-sweep`` to the ``navigator`` parser."""
    p = add_command(sub, "simulate", run_simulate, "compare dispatch policies on a call stream")
    _common(p)
    p.add_argument("--incidents", help="CSV of past calls: time, lon, lat, priority, type, "
                                       "on_scene_min (instead of synthetic calls)")
    p.add_argument("--teams", type=int, help="simulate the first N of the store's teams")
    p.add_argument("--base", action="append", help="base the teams at this resource id, in "
                                                   "turn (repeatable)")
    p.add_argument("--shifts", help="shift table NAME=START-ENDxTEAMS,... in hours "
                                    "(default day=7-19xALL,night=19-7x2/3)")
    p.add_argument("--slack", type=float, default=3.0,
                   help="coverage-aware: minutes behind the nearest team (default 3)")
    p.add_argument("--batch-every", type=float, default=5.0,
                   help="batch: minutes between re-optimisations (default 5)")
    p = add_command(sub, "simulate-sweep", run_sweep,
                    "policies x team counts x base sets (sequential or Dask)")
    _common(p)
    p.add_argument("--teams", help="team counts, e.g. 4,8,12 (default: the store's)")
    p.add_argument("--bases", action="append",
                   help="a base set: resource ids separated by commas (repeatable)")
    p.add_argument("--scheduler", default="sync",
                   help="sync (default), processes, or a Dask scheduler address")
