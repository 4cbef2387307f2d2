"""``navigator`` commands for disasters: surge shelter activation and evacuee placement.

Each command parses its options, calls one service function (which writes the audit entry)
and prints what it returns.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from navigator.cli.common import Context, add_command, minutes_text, parse_at, print_json
from navigator.errors import ValidationError
from navigator.model import PLACEMENT_METHODS

if TYPE_CHECKING:
    from navigator.cli.common import Subcommands

__all__ = ["register", "run_activate", "run_place", "run_surge_list"]


def _read(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        msg = f"{what} {path}: cannot be read ({e})"
        raise ValidationError(msg) from e


def run_activate(args: argparse.Namespace, ctx: Context) -> int:
    """Activate a surge (evacuation) shelter, or deactivate it with --off; audited."""
    from navigator.jsonsafe import json_safe
    from navigator.services.surge import set_surge_shelter

    site = set_surge_shelter(ctx.store, resource_id=args.resource_id, active=not args.off,
                             actor=args.actor, opens_at=parse_at(args.opens_at),
                             note=args.note or "")
    if args.json:
        print_json(json_safe(site))
        return 0
    if site.active:
        print(f"Surge shelter {site.resource_id} is active, open from "
              f"{site.opens_at.isoformat() if site.opens_at else 'now'}")
    else:
        print(f"Surge shelter {site.resource_id} is inactive (hidden from the maps)")
    return 0


def run_surge_list(args: argparse.Namespace, ctx: Context) -> int:
    """List the surge shelters: active or not, since when, free spaces by need."""
    from navigator.jsonsafe import json_safe
    from navigator.model import SURGE_NEEDS
    from navigator.services.surge import surge_shelters

    found = surge_shelters(ctx.store)
    cols = ["id", "name", "active", "opens_at",
            *(f"free_{n.value}" for n in SURGE_NEEDS)]
    if args.json:
        print_json(json_safe(found[cols].to_dict(orient="records")))
        return 0
    if found.empty:
        print("No surge shelters in the store")
    for r in found.itertuples(index=False):
        free = ", ".join(f"{n.value} {getattr(r, 'free_' + n.value)}" for n in SURGE_NEEDS)
        state = f"active since {r.opens_at.isoformat()}" if r.active else "inactive"
        print(f"  {r.id}  {r.name}: {state}; free {free}")
    return 0


def run_place(args: argparse.Namespace, ctx: Context) -> int:
    """Place an evacuation zone's people (or a households CSV) into open shelters by road time."""
    from navigator.services.evacuation import plan_evacuation

    if (args.zone is None) == (args.households is None):
        msg = "place-evacuees needs --zone FILE.geojson or --households FILE.csv (one of them)"
        raise ValidationError(msg)
    if args.csv is not None and not args.csv.resolve().parent.is_dir():
        msg = f"--csv {args.csv}: its folder does not exist"
        raise ValidationError(msg)
    methods = PLACEMENT_METHODS if args.method == "both" else (args.method,)
    plan = plan_evacuation(
        ctx.store, ctx.graph, ctx.settings, actor=args.actor,
        zone=_read(args.zone, "--zone") if args.zone else None,
        households=_read(args.households, "--households") if args.households else None,
        methods=methods)
    if args.csv:
        args.csv.write_text(plan.to_csv(), encoding="utf-8")
    summary = plan.summary()
    if args.json:
        print_json({**summary, "shelter_loads": {m: plan.shelter_loads(m) for m in methods}})
        return 0
    print(f"{summary['people']:,} people in {summary['groups']} groups; "
          f"{summary['shelters']} shelters offered")
    for m in methods:
        s = summary[m]
        print(f"  {m:>8}: placed {s['placed']:,}, unplaced {s['unplaced']:,}; total "
              f"{s['total_time_s'] / 3600:,.1f} person-hours, mean "
              f"{minutes_text(s['mean_time_s'])}, worst {minutes_text(s['worst_time_s'])}")
        left = {k: v for k, v in s["unplaced_by_need"].items() if v}
        if left:
            print("            unplaced by need: "
                  + ", ".join(f"{k} {v:,}" for k, v in left.items())
                  + "; why: " + ", ".join(f"{k} {v:,}" for k, v in
                                         s["unplaced_by_reason"].items()))
    for load in plan.shelter_loads(methods[0]):
        if load["placed"]:
            print(f"  {load['id']}: {load['placed']:,} placed ("
                  + ", ".join(f"{k} {v}" for k, v in load["load"].items() if v) + ")")
    for note in plan.notes:
        print(f"  - {note}")
    if args.csv:
        print(f"Wrote the assignments to {args.csv}")
    return 0


def register(sub: Subcommands) -> None:
    """Add the disaster commands to the ``navigator`` parser's subcommands ``sub``."""
    p = add_command(sub, "activate-shelter", run_activate,
                    "open a surge (evacuation) shelter for evacuees, or close it with --off")
    p.add_argument("resource_id", help="the evacuation_shelter resource id")
    p.add_argument("--off", action="store_true", help="deactivate instead")
    p.add_argument("--opens-at", help="when it opens (ISO 8601 with offset; default now)")
    p.add_argument("--note", help="why (e.g. the incident), at most 500 characters")

    add_command(sub, "surge-shelters", run_surge_list,
                "surge shelters: active or not, free spaces by need")

    p = add_command(sub, "place-evacuees", run_place,
                    "place a zone's people into open shelters by road time")
    p.add_argument("--zone", type=Path, help="evacuation zone: GeoJSON (Multi)Polygon")
    p.add_argument("--households", type=Path,
                   help="households CSV: lon, lat, size, need (general, fnss, medical, pets)")
    p.add_argument("--method", choices=[*PLACEMENT_METHODS, "both"], default="both",
                   help="optimal (HiGHS), greedy (nearest until full) or both (default)")
    p.add_argument("--csv", type=Path, help="write the assignments as CSV")
