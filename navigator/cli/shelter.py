"""``navigator`` commands for shelter staff: report a site's beds, or apply a nightly census.

Each command parses its options, calls one function of :mod:`navigator.services.shelter` and
prints what it returns. ``--actor`` is the staff account the report is made as: it must be a
``shelter`` account tied to the site (or an admin).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from navigator.cli.common import CliError, Context, add_command, parse_at, print_json, print_table
from navigator.model import BedType, SiteStatus

if TYPE_CHECKING:
    import argparse

    from navigator.cli.common import Subcommands
    from navigator.model import SiteBeds

__all__ = ["register", "run_census", "run_freshness", "run_report_beds"]

_BEDS = re.compile(r"^(?P<type>[a-z_]+)=(?P<capacity>\d+)/(?P<occupied>\d+)(?:/(?P<out>\d+))?$")


def _counts(values: list[str]) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for text in values:
        m = _BEDS.match(text.strip())
        if m is None:
            msg = (f"--beds {text!r}: expected TYPE=CAPACITY/OCCUPIED[/OUT_OF_SERVICE], e.g. "
                   "single_men=40/35/2")
            raise CliError(msg)
        if m["type"] not in {b.value for b in BedType}:
            msg = f"--beds {text!r}: bed type must be one of {', '.join(BedType)}"
            raise CliError(msg)
        counts[m["type"]] = {"capacity": int(m["capacity"]), "occupied": int(m["occupied"]),
                             "out_of_service": int(m["out"] or 0)}
    return counts


def _print_site(site: SiteBeds) -> None:
    print(f"{site.name} [{site.resource_id}]: {site.status}"
          + (f" - {site.note}" if site.note else ""))
    print_table((b.bed_type, f"free {b.free}", f"capacity {b.capacity}",
                 f"occupied {b.occupied}", f"out {b.out_of_service}", f"held {b.held}",
                 f"reported {b.reported_at.isoformat(timespec='minutes')}" if b.reported_at
                 else "never reported", f"by {b.reported_by}" if b.reported_by else "")
                for b in site.beds)


def run_report_beds(args: argparse.Namespace, ctx: Context) -> int:
    """Report a site's beds per type (free beds are derived: capacity - occupied - out - held)."""
    from navigator import services
    from navigator.jsonsafe import json_safe

    if not args.beds and args.status is None:
        msg = "nothing to report: give --beds TYPE=CAPACITY/OCCUPIED[/OUT] and/or --status"
        raise CliError(msg)
    site = services.report_beds(ctx.store, ctx.settings, resource_id=args.site,
                                counts=_counts(args.beds or []), status=args.status,
                                note=args.note, actor=args.actor, at=parse_at(args.at))
    if args.json:
        print_json(json_safe(site))
    else:
        _print_site(site)
    return 0


def run_census(args: argparse.Namespace, ctx: Context) -> int:
    """Apply a nightly census CSV (resource_id, bed_type, capacity, occupied, ...): all or none."""
    from navigator import services
    from navigator.jsonsafe import json_safe

    path = Path(args.file)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        msg = f"cannot read census {path}: {e}"
        raise CliError(msg) from e
    sites = services.import_census(ctx.store, ctx.settings, text=text, actor=args.actor)
    if args.json:
        print_json(json_safe(sites))
        return 0
    for site in sites:
        _print_site(site)
    return 0


def run_freshness(args: argparse.Namespace, ctx: Context) -> int:
    """Give a site its own freshness window (``--hours``) or the setting's (``--default``)."""
    from navigator import services
    from navigator.jsonsafe import json_safe

    if (args.hours is None) == (not args.default):
        msg = "give --hours H (a positive number) or --default"
        raise CliError(msg)
    site = services.set_site_freshness(ctx.store, resource_id=args.site, hours=args.hours,
                                       actor=args.actor)
    if args.json:
        print_json(json_safe(site))
    else:
        window = f"{site.fresh_hours:g} h" if site.fresh_hours else "the setting's"
        print(f"{site.name} ({site.resource_id}): counts stay fresh for {window}")
    return 0


def register(sub: Subcommands) -> None:
    """Add the shelter-staff commands to the ``navigator`` parser's subcommands ``sub``."""
    p = add_command(sub, "report-beds", run_report_beds, "report a shelter's beds and status")
    p.add_argument("site", help="the shelter's resource id")
    p.add_argument("--beds", action="append", metavar="TYPE=CAP/OCC[/OUT]",
                   help="one bed type: capacity/occupied[/out of service] (repeatable)")
    p.add_argument("--status", choices=[s.value for s in SiteStatus], help="site status")
    p.add_argument("--note", help="a note for caseworkers (e.g. 'intake closes at 22:00')")
    p.add_argument("--at", help="when the count was taken (ISO 8601 with offset; default now)")

    p = add_command(sub, "census", run_census, "apply a nightly bed census CSV, all or nothing")
    p.add_argument("file", help="CSV: resource_id, bed_type, capacity, occupied, "
                                "out_of_service, reported_at")

    p = add_command(sub, "site-freshness", run_freshness,
                    "give a shelter its own freshness window (admins)")
    p.add_argument("site", help="the shelter's resource id")
    p.add_argument("--hours", type=float, help="hours a count stays fresh (> 0)")
    p.add_argument("--default", action="store_true", help="use NAVIGATOR_BED_FRESH_HOURS again")
