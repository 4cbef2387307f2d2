"""``navigator`` commands for administrators: stores, road networks, the demo, data, accounts."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from navigator.cli.common import (
    CliError,
    add_region_option,
    add_store_option,
    open_store,
    print_json,
    say,
    settings_from_args,
    store_settings,
)
from navigator.exchange.formats import EXPORT_FORMATS, IMPORT_FORMATS
from navigator.model import Role

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable

    from tqdm import tqdm

    from navigator.cli.common import Subcommands
    from navigator.config import Settings
    from navigator.roads import TravelGraph

__all__ = ["cmd_add_user", "cmd_build_network", "cmd_demo", "cmd_export", "cmd_import",
           "cmd_init_db", "cmd_serve", "register"]


def _steps(total: int, desc: str) -> tqdm:
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="step", file=sys.stderr,
                bar_format="{desc}: {n}/{total} |{bar}| {elapsed} {postfix}")


def cmd_init_db(args: argparse.Namespace) -> int:
    """Create or upgrade the store's schema."""
    settings = settings_from_args(args)
    store = open_store(settings)
    try:
        version = store.migrate()
        say(f"store {settings.store_url} is at schema version {version}")
        for table, n in store.counts().items():
            say(f"  {table:<12} {n:>6}")
    finally:
        store.close()
    return 0


def cmd_build_network(args: argparse.Namespace) -> int:
    """Build (or load from cache) the drive network of an OSM file."""
    from navigator.services.context import load_network

    settings = settings_from_args(args)
    started = time.perf_counter()
    graph = load_network(settings, Path(args.osm_file) if args.osm_file else None)
    rules = "turn restrictions" if not settings.turn_penalties else (
        f"{settings.turn_penalties} turn penalties"
        + (" and turn restrictions" if settings.turn_restrictions else ""))
    turns = (f"{rules} at {graph.n_restricted_nodes:,} intersections"
             if graph.turn_restricted else "no turn restrictions"
             + ("" if settings.turn_restrictions else " (NAVIGATOR_TURN_RESTRICTIONS=0)"))
    say(f"{graph.source}: {graph.n_nodes:,} nodes, {graph.n_road_edges:,} edges "
        f"(largest strongly connected part), {turns}, in "
        f"{time.perf_counter() - started:.1f} s; cache in {settings.cache_dir}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Load a demo region (Columbus, or ``--region imperial``) and serve (or write) its map."""
    from navigator import maps
    from navigator.demo.city import demo_city, load_demo
    from navigator.services.accounts import ensure_demo_users
    from navigator.services.context import load_network
    from navigator.services.worker import ready_kernels

    settings = settings_from_args(args)
    city = demo_city(settings)
    with _steps(4, f"Loading the {city.name} demo") as bar:
        bar.set_postfix_str("road network")
        graph = load_network(settings)
        bar.update()
        bar.set_postfix_str("routing kernels")  # compiled once per install, then cached
        ready_kernels(graph)
        bar.update()
        bar.set_postfix_str("store")
        store = open_store(settings)
        recorded = store.region()
        if recorded is not None:
            store.close()
            msg = (f"the store {settings.store_url} was set up for the region "
                   f"{recorded.name!r} by navigator region init: load the demo into "
                   "another store (--store)")
            raise CliError(msg)
        bar.update()
        bar.set_postfix_str("demo data")
        try:
            counts, notes = load_demo(store, graph, seed=args.seed, replace_other=args.replace,
                                      history=True, region=city.region)
            logins = ensure_demo_users(store)
        except BaseException:
            store.close()
            raise
        bar.update()
    say(f"Road network: {graph.n_nodes:,} nodes, {graph.n_road_edges:,} edges from "
        f"{Path(graph.source).name}")
    say(f"Store {settings.store_url}: " + ", ".join(f"{n} {k}" for k, n in counts.items()))
    for note in notes:  # long lists of clipped places are cut to one line
        say(f"  - {note if len(note) <= 240 else note[:239] + '…'}")
    try:
        if args.no_serve:
            out = Path(args.output)
            maps.overview_map(store, graph, settings=settings).save(str(out))
            say(f"Wrote the offline demo map to {out.resolve()}")
            return 0
    finally:
        store.close()
    say("Demo logins (demo only; add real users with `navigator add-user`):")
    for username, password, role in logins:
        say(f"  {role:<11} {username} / {password}")
    return _serve(settings, graph, host=args.host, port=args.port, demo=True)


def _serve(settings: Settings, graph: TravelGraph, *, host: str, port: int, demo: bool) -> int:
    try:
        from web import create_app
    except ImportError as e:
        msg = f"the web app needs the 'web' extra: pip install 'navigator[web]' ({e})"
        raise CliError(msg) from e
    # Plain http on loopback: the session cookie cannot carry Secure (gunicorn behind TLS does).
    local = host in ("127.0.0.1", "localhost", "::1")
    app = create_app(settings=settings, graph=graph,
                     test_config={"SESSION_COOKIE_SECURE": False} if local else None)
    say(f"Navigator{' demo' if demo else ''} is running at http://{host}:{port}/"
        "  (Ctrl+C to stop)")
    from werkzeug.serving import run_simple

    run_simple(host, port, app, threaded=True, use_reloader=False)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the web app on the store's data (use gunicorn in production)."""
    from navigator.services.context import load_network

    settings = settings_from_args(args)
    store = open_store(settings)
    try:
        settings = store_settings(settings, store, args)
    finally:
        store.close()
    if settings.store_region is not None:
        say(f"Region {settings.store_region.name} (recorded in the store)")
    graph = load_network(settings, Path(args.osm_file) if args.osm_file else None)
    return _serve(settings, graph, host=args.host, port=args.port, demo=False)


def cmd_import(args: argparse.Namespace) -> int:
    """Import resources from HSDS (1.x-3.x), GeoJSON or CSV, all or nothing, with a report."""
    from navigator.services.directory import import_directory

    settings = settings_from_args(args)
    geocoder = None
    if args.geocode:
        from navigator.exchange.geocode import Geocoder

        geocoder = Geocoder.from_osm(args.geocode, cache_dir=settings.cache_dir)
    store = open_store(settings)
    try:
        report = import_directory(store, Path(args.path), actor=args.actor, fmt=args.format,
                                  replace=args.replace, skip_unlocated=args.skip_unlocated,
                                  geocoder=geocoder, encoding=args.encoding,
                                  progress=not args.json and sys.stderr.isatty())
    finally:
        store.close()
    if args.json:
        print_json(report.to_dict())
    else:
        say(f"Imported {args.path} into {settings.store_url}")
        print(report.to_text())
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Export the store's resources as HSDS, GeoJSON or GeoPackage."""
    from navigator.exchange.formats import write_export

    settings = settings_from_args(args)
    store = open_store(settings)
    try:
        written = write_export(store, Path(args.path), fmt=args.format,
                               include_confidential=args.include_confidential,
                               overwrite=args.overwrite)
    finally:
        store.close()
    say(f"Exported {written} to {args.path}")
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    """Verify the audit log's hash chain; name the first broken entry (exit 1 if any)."""
    from navigator.jsonsafe import json_safe

    settings = settings_from_args(args)
    store = open_store(settings)
    try:
        result = store.verify_audit()
    finally:
        store.close()
    if args.json:
        print_json(json_safe(result))
    elif result.ok:
        say(f"audit log intact: {result.checked} chained entries verified"
            + (f", {result.unchained} older entries from before the chain" if result.unchained
               else "") + (f"; head hash {result.head_hash}" if result.head_hash else ""))
    else:
        say(f"audit log BROKEN at entry {result.broken_id}: {result.reason} "
            f"({result.checked} entries before it verified)")
    return 0 if result.ok else 1


def cmd_add_user(args: argparse.Namespace) -> int:
    """Add a web-app account (password from a prompt, or one line on stdin)."""
    import getpass

    from navigator.services.accounts import create_user

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif not sys.stdin.isatty():
        msg = "no terminal to ask the password on: pipe it with --password-stdin"
        raise CliError(msg)
    else:
        password = getpass.getpass(f"Password for {args.username}: ")
        if password != getpass.getpass("Repeat it: "):
            msg = "the passwords differ"
            raise CliError(msg)
    store = open_store(settings_from_args(args))
    try:
        user = create_user(store, args.username, args.role, password, actor=args.actor)
    finally:
        store.close()
    say(f"Added {user.role} {user.username}")
    return 0


# -- parser --------------------------------------------------------------------------------
def _add_server(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p.add_argument("--port", type=int, default=5000, help="port to listen on")


def _add_cache_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cache-dir", type=Path, help="where built networks are cached")


def register(sub: Subcommands) -> None:
    """Add the administration commands to the ``navigator`` parser's subcommands ``sub``."""
    def add(name: str, func: Callable[[argparse.Namespace], int], help_: str
            ) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=(func.__doc__ or help_).strip())
        p.set_defaults(func=func)
        return p

    p = add("init-db", cmd_init_db, "create or upgrade the store's schema")
    add_store_option(p)

    p = add("build-network", cmd_build_network, "build and cache the drive network of an OSM file")
    p.add_argument("osm_file", nargs="?", help=".osm/.osm.bz2/.osm.pbf (default: Columbus)")
    _add_cache_dir(p)

    p = add("demo", cmd_demo, "load the demo region (Columbus by default) and open its map")
    add_region_option(p)
    add_store_option(p)
    _add_server(p)
    p.add_argument("--seed", type=int, default=2026, help="seed of the synthetic demo values")
    p.add_argument("--replace", action="store_true",
                   help="load the demo even into a store holding other data (it is replaced; "
                        "the audit log is kept)")
    p.add_argument("--no-serve", action="store_true",
                   help="write a standalone offline HTML map instead of serving the web app")
    p.add_argument("--output", default="navigator-demo.html", help="map file for --no-serve")
    _add_cache_dir(p)

    p = add("serve", cmd_serve, "serve the web app on the store's data")
    add_store_option(p)
    _add_server(p)
    p.add_argument("--osm-file", help="road extract (default: Columbus)")
    _add_cache_dir(p)

    p = add("import", cmd_import,
            "import resources (HSDS CSV/JSON, GeoJSON, CSV), all or nothing; progress "
            "bars on stderr when it is a terminal")
    add_store_option(p)
    p.add_argument("path", help="file or folder to import")
    p.add_argument("--format", choices=["auto", *IMPORT_FORMATS], default="auto",
                   help="input format (default: from the file name)")
    p.add_argument("--replace", action="store_true",
                   help="replace everything in the store (the audit log is kept)")
    p.add_argument("--actor", default="navigator import", help="name recorded in the audit log")
    p.add_argument("--skip-unlocated", action="store_true",
                   help="leave out (and report) HSDS locations without coordinates instead of "
                        "refusing the import")
    p.add_argument("--geocode", metavar="OSM_FILE",
                   help="place HSDS addresses without coordinates with an offline geocoder "
                        "built from this OSM extract")
    p.add_argument("--encoding", help="text encoding of HSDS CSV files without a BOM "
                                      "(default UTF-8)")
    p.add_argument("--json", action="store_true", help="print the import report as JSON")

    p = add("export", cmd_export, "export resources (HSDS CSV/JSON, GeoJSON, GeoPackage)")
    add_store_option(p)
    p.add_argument("path", help="output file or folder")
    p.add_argument("--format", choices=["auto", *EXPORT_FORMATS], default="auto",
                   help="output format (default: from the file name)")
    p.add_argument("--include-confidential", action="store_true",
                   help="include confidential (DV) sites; never for HSDS exports")
    p.add_argument("--overwrite", action="store_true", help="replace an existing file")

    p = add("audit", cmd_audit, "check the append-only audit log (hash chain)")
    add_store_option(p)
    p.add_argument("action", choices=["verify"], help="verify: check every entry's hash")
    p.add_argument("--json", action="store_true", help="print the result as JSON")

    p = add("add-user", cmd_add_user, "add a web-app account with a role")
    add_store_option(p)
    p.add_argument("username")
    p.add_argument("--role", required=True, choices=[r.value for r in Role])
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    p.add_argument("--actor", default="navigator add-user", help="name recorded in the audit log")
