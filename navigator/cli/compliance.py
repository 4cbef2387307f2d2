"""Compliance commands: the response-time report by area and priority, and its areas."""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from navigator.cli.common import add_command, minutes_text, print_json, print_table

if TYPE_CHECKING:
    from navigator.cli.common import Context, Subcommands


def _moment(text: str) -> datetime:
    """Parse an ISO 8601 date or time (argparse type); without an offset it is local time."""
    try:
        return datetime.fromisoformat(text)
    except ValueError as e:
        msg = f"{text!r} is not an ISO 8601 date or time (e.g. 2026-12-01T08:00)"
        raise argparse.ArgumentTypeError(msg) from e


def run_compliance(args: argparse.Namespace, ctx: Context) -> int:
    """Response times against targets by compliance area and priority over a period.

    Times without a UTC offset are local time in the store's area. Cells with fewer than
    five arrivals are flagged "few". Table, --json or --csv FILE.
    """
    from navigator import services
    from navigator.roads import network_timezone

    report = services.compliance_report(
        ctx.store, start=args.start, end=args.end,
        timezone=network_timezone(ctx.base_graph),
        targets_min=services.parse_targets(args.targets))
    if args.csv:
        with open(args.csv, "w", encoding="utf-8", newline="") as f:
            f.write(report.to_csv())
        print(f"wrote {args.csv}")
        return 0
    if args.json:
        print_json(report.to_dict())
        return 0
    print(f"dispatch to on scene, {report.start.isoformat(timespec='minutes')} .. "
          f"{report.end.isoformat(timespec='minutes')} ({report.timezone})")
    if report.synthetic:
        print(f"{report.synthetic} of these dispatches are synthetic (demo data): their times "
              "are not real")
    print_table((r["area_name"], f"P{r['priority']}", f"{r['dispatched']} sent",
                 f"{r['arrived']} arrived",
                 "p50 " + minutes_text(r["p50_s"]) if r["p50_s"] is not None else "p50 -",
                 "p90 " + minutes_text(r["p90_s"]) if r["p90_s"] is not None else "p90 -",
                 "target " + minutes_text(r["target_s"]),
                 "-" if r["within_target"] is None else f"{100 * r['within_target']:.0f}% within",
                 "few (n<5)" if r["few"] else "")
                for r in report.records())
    return 0


def run_import_areas(args: argparse.Namespace, ctx: Context) -> int:
    """Import compliance areas from GeoJSON (all or nothing; --replace the areas held).

    Each Polygon / MultiPolygon feature needs properties ``name``, ``class`` and
    ``targets_s`` (seconds per priority 1-4, e.g. {"1": 900, "2": 1800, "3": 3600,
    "4": 7200}); ``id`` is optional. Every area must hold a road of the network.
    """
    from navigator import services
    from navigator.services.compliance_areas import read_area_file

    held = services.import_compliance_areas(ctx.store, ctx.base_graph,
                                            read_area_file(args.file), actor=args.actor,
                                            replace=args.replace)
    return _print_areas(args, held)


def run_list_areas(args: argparse.Namespace, ctx: Context) -> int:
    """List the compliance areas and their targets."""
    from navigator import services

    return _print_areas(args, services.list_compliance_areas(ctx.store))


def run_delete_area(args: argparse.Namespace, ctx: Context) -> int:
    """Delete one compliance area (audited)."""
    from navigator import services
    from navigator.services.compliance_areas import area_dict

    gone = services.delete_compliance_area(ctx.store, area_id=args.area_id, actor=args.actor)
    if args.json:
        print_json(area_dict(gone))
    else:
        print(f"deleted compliance area {gone.id} ({gone.name})")
    return 0


def _print_areas(args: argparse.Namespace, areas: list) -> int:  # type: ignore[type-arg]
    from navigator.services.compliance_areas import areas_geojson

    if args.json:
        print_json(areas_geojson(areas))
        return 0
    if not areas:
        print("no compliance areas: every incident counts against the default targets")
    print_table((a.id, a.name, a.area_class, " ".join(
        f"P{p}={minutes_text(s, digits=0)}" for p, s in a.targets_s.items())) for a in areas)
    return 0


def register(sub: Subcommands) -> None:
    """Add ``compliance`` and ``compliance-areas import|list|delete`` to ``sub``."""
    p = add_command(sub, "compliance", run_compliance,
                    "response times vs targets by area and priority (default: last 12 h)")
    p.add_argument("--from", dest="start", type=_moment,
                   help="period start (ISO 8601; no offset: the area's local time)")
    p.add_argument("--to", dest="end", type=_moment, help="period end (default: now)")
    p.add_argument("--targets", help="default minutes per priority outside every area, e.g. "
                                     "1=15,2=30 (defaults 1=20,2=30,3=60,4=120)")
    p.add_argument("--csv", metavar="FILE", help="write the report as CSV")
    areas = sub.add_parser("compliance-areas", help="compliance areas: import, list, delete",
                           description="Areas with their own response-time targets.")
    actions = areas.add_subparsers(dest="areas_command", metavar="ACTION", required=True)
    p = add_command(actions, "import", run_import_areas, "import areas from a GeoJSON file")
    p.add_argument("file", type=Path, help="GeoJSON Feature or FeatureCollection (EPSG:4326)")
    p.add_argument("--replace", action="store_true", help="replace every area held")
    add_command(actions, "list", run_list_areas, "list the areas and their targets")
    p = add_command(actions, "delete", run_delete_area, "delete one area")
    p.add_argument("area_id")
