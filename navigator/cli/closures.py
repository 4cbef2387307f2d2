"""Road-closure commands: close roads from a GeoJSON file, list closures, reopen one."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from navigator.cli.common import add_command, parse_at, print_json, print_table

if TYPE_CHECKING:
    from navigator.cli.common import Context, Subcommands


def run_close_road(args: argparse.Namespace, ctx: Context) -> int:
    """Close the roads of a GeoJSON file (one closure per feature; polygons or lines).

    A feature's ``reason`` property is used when ``--reason`` is not given. Every feature is
    checked before any is stored: an invalid geometry, one outside the road network or
    closing nearly all of it, a missing reason or an expiry not after the start is refused.
    """
    from navigator.services import closures

    made = closures.create_closure(ctx.store, ctx.base_graph,
                                   geojson=closures.read_closure_file(args.geojson),
                                   reason=args.reason, actor=args.actor,
                                   starts_at=parse_at(args.starts),
                                   expires_at=parse_at(args.expires))
    if args.json:
        print_json(made.to_dict())
        return 0
    for closure, edges in zip(made.closures, made.closed_edges, strict=True):
        until = closure.expires_at.isoformat() if closure.expires_at else "reopened"
        print(f"closed {closure.id}: {edges} road edges, until {until} ({closure.reason})")
    return 0


def run_closures(args: argparse.Namespace, ctx: Context) -> int:
    """List the road closures in force now (with --all: every closure, lifted ones too)."""
    from navigator.services import closures

    found = closures.list_closures(ctx.store, include_inactive=args.all)
    if args.json:
        print_json(closures.closures_geojson(found))
        return 0
    if not found:
        print("no road closures" + ("" if args.all else " in force"))
        return 0
    print_table([(c.id, c.geometry.geom_type, c.starts_at.isoformat(timespec="minutes"),
                  c.expires_at.isoformat(timespec="minutes") if c.expires_at else "-",
                  f"lifted {c.lifted_at.isoformat(timespec='minutes')}" if c.lifted_at
                  else "", c.reason) for c in found])
    return 0


def run_reopen_road(args: argparse.Namespace, ctx: Context) -> int:
    """Reopen the roads of a closure now (audited)."""
    from navigator.services import closures

    done = closures.lift_closure(ctx.store, closure_id=args.closure_id, actor=args.actor)
    if args.json:
        print_json(closures.closure_dict(done))
    else:
        print(f"reopened {done.id} ({done.reason})")
    return 0


def register(sub: Subcommands) -> None:
    """Add the road-closure commands to the ``navigator`` parser's subcommands ``sub``."""
    p = add_command(sub, "close-road", run_close_road, "close roads from a GeoJSON file")
    p.add_argument("--geojson", type=Path, required=True,
                   help="GeoJSON Geometry, Feature or FeatureCollection (EPSG:4326)")
    p.add_argument("--reason", help="why the roads are closed (shown on every map)")
    p.add_argument("--starts", metavar="AT", help="from when (ISO time with offset; default now)")
    p.add_argument("--expires", metavar="AT",
                   help="until when (ISO time with offset; default until reopened)")
    p = add_command(sub, "closures", run_closures, "list road closures")
    p.add_argument("--all", action="store_true", help="also closures lifted or expired")
    p = add_command(sub, "reopen-road", run_reopen_road, "reopen a closure's roads")
    p.add_argument("closure_id")
