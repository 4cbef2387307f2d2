"""``navigator region init``: set up a store for any county from its files alone."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from navigator.cli.common import add_store_option, print_json, say, settings_from_args
from navigator.exchange.formats import IMPORT_FORMATS

if TYPE_CHECKING:
    import argparse

    from navigator.cli.common import Subcommands

__all__ = ["cmd_region_init", "register"]


def cmd_region_init(args: argparse.Namespace) -> int:
    """Build a region's store: drive network, population, resources, time zone, calendar.

    Every input is read and checked before anything is written; a failure leaves the store
    as it was (a new GeoPackage is not created). The region (name, files with their SHA-256,
    population column, time zone, holidays) is recorded in the store, so every later
    command and ``navigator serve --store URL`` use it with no other setting.
    """
    from navigator.services.region import init_region

    settings = settings_from_args(args)
    setup = init_region(settings, name=args.name, osm_file=args.osm,
                        population_file=args.population,
                        population_column=args.population_column,
                        population_layer=args.population_layer, resources=args.resources,
                        resources_format=args.resources_format, holidays=args.holidays,
                        skip_unlocated=args.skip_unlocated, replace=args.replace,
                        actor=args.actor, progress=not args.json and sys.stderr.isatty())
    if args.json:
        print_json(setup.summary())
        return 0
    d = setup.definition
    say(f"Region {d.name}: store {setup.store_url} "
        f"{'created' if setup.created else 'updated'}")
    say(f"  roads      {setup.nodes:,} nodes, {setup.edges:,} edges from {d.osm_file} "
        f"(cached in {settings.cache_dir}); area {setup.area_bounds}")
    say(f"  people     {setup.units:,} {d.unit_name}, {setup.people:,.0f} people from "
        f"{d.population_file} (column {d.population_column}); left out: "
        f"{setup.clipped_units:,} units, {setup.clipped_people:,.0f} people outside the "
        "road network's area")
    say(f"  clock      {d.timezone} (from the network's centre, offline), holidays "
        f"{d.holidays}")
    for note in setup.notes:
        say(f"  - {note}")
    if setup.report is not None:
        say("Resources:")
        print(setup.report.to_text())
    else:
        say("Resources: none imported (add them with navigator import --store ...)")
    say(f"Next: navigator add-user NAME --role admin --store {setup.store_url}, then "
        f"navigator serve --store {setup.store_url}")
    return 0


def register(sub: Subcommands) -> None:
    """Add ``navigator region init`` to the ``navigator`` parser's subcommands ``sub``."""
    region = sub.add_parser("region", help="set up a store for your own county",
                            description="Set up a store for a region from its files.")
    actions = region.add_subparsers(dest="region_command", metavar="ACTION", required=True)
    p = actions.add_parser("init", help="build a region's store from OSM, population and "
                                        "resource files",
                           description=(cmd_region_init.__doc__ or "").strip())
    p.set_defaults(func=cmd_region_init, command="region init")
    p.add_argument("--osm", required=True, type=Path, metavar="FILE",
                   help="OSM extract (.osm, .osm.bz2, .osm.pbf) of the region")
    p.add_argument("--population", required=True, type=Path, metavar="FILE",
                   help="population units (polygons or points; GeoPackage, shapefile, "
                        "GeoJSON, ...)")
    p.add_argument("--population-column", default="population", metavar="COL",
                   help="column holding people per unit (default: population)")
    p.add_argument("--population-layer", metavar="LAYER",
                   help="layer of a multi-layer population file (default: the first)")
    p.add_argument("--resources", type=Path, metavar="HSDS_OR_GEOJSON_OR_CSV",
                   help="resource directory to import (HSDS 1.x-3.x folder/zip/JSON, GeoJSON, "
                        "CSV)")
    p.add_argument("--resources-format", choices=["auto", *IMPORT_FORMATS], default="auto",
                   help="format of --resources (default: from the name)")
    p.add_argument("--name", required=True, help="the region's name, as users see it")
    p.add_argument("--holidays", metavar="US-XX",
                   help="public-holiday calendar, COUNTRY or COUNTRY-SUBDIVISION (default: "
                        "the time zone's country)")
    p.add_argument("--skip-unlocated", action="store_true",
                   help="leave out (and report) HSDS locations without coordinates")
    p.add_argument("--replace", action="store_true",
                   help="set up even a store that holds data or a region (both replaced; "
                        "the audit log is kept)")
    add_store_option(p)
    p.add_argument("--cache-dir", type=Path, help="where built networks are cached")
    p.add_argument("--actor", default="navigator region init",
                   help="name recorded in the audit log")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
