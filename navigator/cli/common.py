"""What every ``navigator`` command shares: settings and store options, the context, output."""

from __future__ import annotations

import argparse
import functools
import json
import math
import sys
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from navigator.config import Settings, settings_from_env
from navigator.errors import NavigatorError, ValidationError

if TYPE_CHECKING:
    from navigator.roads import TravelGraph
    from navigator.store import Store

__all__ = ["CliError", "Context", "Runner", "Subcommands", "add_command", "add_store_option",
           "minutes_text", "open_store", "parse_at", "print_json", "print_table",
           "run_in_context", "say", "settings_from_args", "store_settings"]

Runner = Callable[[argparse.Namespace, "Context"], int]


class Subcommands(Protocol):
    """The subcommands of the ``navigator`` parser (what ``add_subparsers`` returns)."""

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser:
        """Add and return the parser of subcommand ``name``."""


class CliError(NavigatorError):
    """A command cannot go on (bad file, missing option); printed without a traceback."""


class Context:
    """What a store command needs: settings, an open store and (lazily) the road graph."""

    def __init__(self, settings: Settings, store: Store, osm_file: Path | None) -> None:
        self.settings = settings
        self.store = store
        self._osm_file = osm_file
        self._graph: TravelGraph | None = None
        self._roads: TravelGraph | None = None

    @property
    def base_graph(self) -> TravelGraph:
        """Return the road network as built (loaded from the cache on first use)."""
        if self._graph is None:
            # services pull in the whole decision stack: only commands that route pay for it
            from navigator.services.context import load_network

            self._graph = load_network(self.settings, self._osm_file)
        return self._graph

    @property
    def graph(self) -> TravelGraph:
        """Return the network every query routes on: the road closures in force applied.

        Says on stderr (JSON output stays clean) when closures are in effect.
        """
        if self._roads is None:
            from navigator.services.closures import closure_summary, effective_graph

            self._roads = effective_graph(self.store, self.base_graph)
            summary = closure_summary(self._roads)
            if summary["closures_in_effect"]:
                print(f"Road closures in effect: {summary['closures_count']} closure(s), "
                      f"{summary['closed_edges']} road edges closed", file=sys.stderr)
        return self._roads


# -- settings and store --------------------------------------------------------------------
def settings_from_args(args: argparse.Namespace) -> Settings:
    """Return the settings: ``--store``, ``--cache-dir``, ``--region`` over ``NAVIGATOR_*``."""
    return settings_from_env(store_url=getattr(args, "store", None),
                             cache_dir=getattr(args, "cache_dir", None),
                             region=getattr(args, "region", None))


def store_settings(settings: Settings, store: Store, args: argparse.Namespace) -> Settings:
    """Return ``settings`` with the store's recorded region (``--region`` then refused)."""
    from navigator.services.context import settings_for_store

    return settings_for_store(settings, store, shipped=getattr(args, "region", None))


def open_store(settings: Settings) -> Store:
    """Return the store of ``settings.store_url``, open (close it when done)."""
    from navigator.store import open_store as open_url  # psycopg and pyogrio only when used

    return open_url(settings.store_url)


def run_in_context(args: argparse.Namespace, *, run: Runner) -> int:
    """Run a store command with its :class:`Context`; the store is closed afterwards.

    A decision needs data: a GeoPackage path that does not exist is refused (rather than
    created empty, which would answer "no open bed" from nothing). A region recorded in the
    store (``navigator region init``) gives the roads, population and calendar.
    """
    settings = settings_from_args(args)
    url = settings.store_url
    if "://" not in url and not Path(url).exists():
        msg = (f"no store at {url}: load one first (navigator demo, or navigator init-db and "
               "navigator import), or pass --store")
        raise CliError(msg)
    store = open_store(settings)
    try:
        settings = store_settings(settings, store, args)
        return int(run(args, Context(settings, store, args.osm_file)))
    finally:
        store.close()


# -- parser ------------------------------------------------------------------------------
def add_store_option(p: argparse.ArgumentParser) -> None:
    """Add ``--store URL``."""
    p.add_argument("--store", metavar="URL",
                   help="postgresql://... for PostGIS, or a GeoPackage path "
                        "(default: $NAVIGATOR_STORE_URL or ./navigator.gpkg)")


def _context_options(p: argparse.ArgumentParser) -> None:
    add_store_option(p)
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--actor", default="navigator cli", help="name recorded in the audit log")
    p.add_argument("--osm-file", type=Path, help="road extract (default: the region's)")
    p.add_argument("--cache-dir", type=Path, help="where built networks are cached")
    add_region_option(p)


def add_region_option(p: argparse.ArgumentParser) -> None:
    """Add ``--region``: the shipped region whose roads and population are used."""
    from navigator.model import Region

    p.add_argument("--region", choices=[r.value for r in Region], default=None,
                   help="shipped region: columbus (default, or $NAVIGATOR_REGION) or imperial "
                        "(Imperial County, CA, US side); a store set up with navigator "
                        "region init uses its own region")


def add_command(sub: Subcommands, name: str, run: Runner, help_: str
                ) -> argparse.ArgumentParser:
    """Add a subcommand run with a :class:`Context`; its docstring is the description.

    Every such command takes ``--store``, ``--json``, ``--actor``, ``--osm-file``,
    ``--cache-dir`` and ``--region``.
    """
    p = sub.add_parser(name, help=help_, description=(run.__doc__ or help_).strip())
    p.set_defaults(func=functools.partial(run_in_context, run=run))
    _context_options(p)
    return p


# -- input ---------------------------------------------------------------------------------
def parse_at(text: str | None) -> datetime | None:
    """Return the ``--at`` moment (None when not given); it must carry a UTC offset."""
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError as e:
        msg = f"--at {text!r} is not an ISO date-time such as 2026-11-23T21:30-05:00"
        raise ValidationError(msg) from e
    if value.tzinfo is None:
        msg = f"--at {text!r} needs a UTC offset, e.g. 2026-11-23T21:30-05:00"
        raise ValidationError(msg)
    return value


# -- output --------------------------------------------------------------------------------
def say(msg: str) -> None:
    """Print a progress line now (not buffered behind a long step)."""
    print(msg, flush=True)


def minutes_text(seconds: float | None, *, digits: int = 1) -> str:
    """Return seconds as ``"12.5 min"``, or ``"unreachable"`` for None and infinity."""
    if seconds is None or not math.isfinite(seconds):
        return "unreachable"
    return f"{seconds / 60:.{digits}f} min"


def print_json(data: Any) -> None:
    """Print ``data`` as indented JSON (dates and other objects as strings)."""
    print(json.dumps(data, indent=1, default=str, ensure_ascii=False))


def print_table(rows: Iterable[Iterable[object]]) -> None:
    """Print rows indented, cells separated by two spaces."""
    for row in rows:
        print("  " + "  ".join(str(c) for c in row))
