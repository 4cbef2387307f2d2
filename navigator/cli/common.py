"""What every ``navigator`` command shares: settings and store options, the context, output."""

from __future__ import annotations

import argparse
import dataclasses
import functools
import hashlib
import json
import math
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from navigator.config import Settings, settings_from_env
from navigator.errors import NavigatorError, ValidationError

if TYPE_CHECKING:
    from navigator.roads import TravelGraph
    from navigator.store import Store

__all__ = ["Caller", "CliError", "Context", "NetworkSource", "Runner", "Subcommands",
           "add_command", "add_store_option", "minutes_text", "open_store", "osm_file_of",
           "parse_at",
           "print_json", "print_table", "run_in_context", "say", "settings_from_args",
           "store_settings", "worker_key"]

Runner = Callable[[argparse.Namespace, "Context"], int]
#: Where a context gets its road network: ``(settings, osm_file) -> TravelGraph``.
NetworkSource = Callable[[Settings, "Path | None"], "TravelGraph"]


class Subcommands(Protocol):
    """The subcommands of the ``navigator`` parser (what ``add_subparsers`` returns)."""

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser:
        """Add and return the parser of subcommand ``name``."""


class CliError(NavigatorError):
    """A command cannot go on (bad file, missing option); printed without a traceback."""


class Context:
    """What a store command needs: settings, an open store and (lazily) the road graph."""

    def __init__(self, settings: Settings, store: Store, osm_file: Path | None, *,
                 network: NetworkSource | None = None) -> None:
        self.settings = settings
        self.store = store
        self._osm_file = osm_file
        self._network = network
        self._graph: TravelGraph | None = None
        self._roads: TravelGraph | None = None

    @property
    def base_graph(self) -> TravelGraph:
        """Return the road network as built (loaded from the cache on first use)."""
        if self._graph is None:
            if self._network is None:
                # services pull in the whole decision stack: only commands that route pay
                from navigator.services.context import load_network

                self._network = load_network
            self._graph = self._network(self.settings, self._osm_file)
        return self._graph

    @property
    def graph(self) -> TravelGraph:
        """Return the network every query routes on: the road closures in force applied.

        Says on stderr (JSON output stays clean) when closures are in effect. The store's
        closures are read on every command, also in a long-running worker.
        """
        if self._roads is None:
            from navigator.services.closures import closure_summary, effective_graph

            self._roads = effective_graph(self.store, self.base_graph, refresh_s=0.0)
            summary = closure_summary(self._roads)
            if summary["closures_in_effect"]:
                print(f"Road closures in effect: {summary['closures_count']} closure(s), "
                      f"{summary['closed_edges']} road edges closed", file=sys.stderr)
        return self._roads


@dataclass(frozen=True)
class Caller:
    """Whom a long-running worker runs a command for: their environment and folder.

    Attributes
    ----------
    environ
        The caller's ``NAVIGATOR_*`` variables (the worker's own are not used).
    cwd
        The caller's working directory: relative paths in options and settings are theirs.
    network
        The worker's warm road networks.
    """

    environ: Mapping[str, str]
    cwd: Path
    network: NetworkSource


# -- settings and store --------------------------------------------------------------------
def settings_from_args(args: argparse.Namespace, *, environ: Mapping[str, str] | None = None,
                       cwd: Path | None = None) -> Settings:
    """Return the settings: ``--store``, ``--cache-dir``, ``--region`` over ``NAVIGATOR_*``.

    With ``cwd``, relative paths (a GeoPackage store, folders) are made absolute against it,
    as a worker answering for a caller in that folder must.
    """
    settings = settings_from_env(environ, store_url=getattr(args, "store", None),
                                 cache_dir=getattr(args, "cache_dir", None),
                                 region=getattr(args, "region", None))
    if cwd is None:
        return settings
    paths: dict[str, object] = {
        f.name: cwd / value for f in dataclasses.fields(settings)
        if isinstance(value := getattr(settings, f.name), Path) and not value.is_absolute()}
    url = settings.store_url
    if "://" not in url and not os.path.isabs(url):
        paths["store_url"] = str(cwd / url)
    return dataclasses.replace(settings, **paths)  # type: ignore[arg-type]


def osm_file_of(args: argparse.Namespace, cwd: Path) -> Path | None:
    """Return ``--osm-file`` made absolute against ``cwd`` (None when not given)."""
    path: Path | None = getattr(args, "osm_file", None)
    return None if path is None else cwd / path


def worker_key(args: argparse.Namespace, *, environ: Mapping[str, str], cwd: Path) -> str:
    """Return the key of the worker that may answer ``args``: one per store and graph.

    The store (its absolute path, or its URL), the road extract (``--osm-file``), the network
    cache folder and the shipped region; 64 hex digits.
    """
    settings = settings_from_args(args, environ=environ, cwd=cwd)
    osm = osm_file_of(args, cwd)
    url = settings.store_url
    parts = [url if "://" in url else os.path.realpath(url),
             "" if osm is None else os.path.realpath(osm),
             os.path.realpath(settings.cache_dir), settings.region]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def store_settings(settings: Settings, store: Store, args: argparse.Namespace) -> Settings:
    """Return ``settings`` with the store's recorded region (``--region`` then refused)."""
    from navigator.services.context import settings_for_store

    return settings_for_store(settings, store, shipped=getattr(args, "region", None))


def open_store(settings: Settings) -> Store:
    """Return the store of ``settings.store_url``, open (close it when done)."""
    from navigator.store import open_store as open_url  # psycopg and pyogrio only when used

    return open_url(settings.store_url)


def run_in_context(args: argparse.Namespace, *, run: Runner, caller: Caller | None = None
                   ) -> int:
    """Run a store command with its :class:`Context`; the store is closed afterwards.

    A decision needs data: a GeoPackage path that does not exist is refused (rather than
    created empty, which would answer "no open bed" from nothing). A region recorded in the
    store (``navigator region init``) gives the roads, population and calendar. A worker
    passes the ``caller`` it answers for (the store is opened, and read, for every command).
    """
    if caller is None:
        settings = settings_from_args(args)
        osm_file, network = args.osm_file, None
    else:
        settings = settings_from_args(args, environ=caller.environ, cwd=caller.cwd)
        osm_file, network = osm_file_of(args, caller.cwd), caller.network
    url = settings.store_url
    if "://" not in url and not Path(url).exists():
        msg = (f"no store at {url}: load one first (navigator demo, or navigator init-db and "
               "navigator import), or pass --store")
        raise CliError(msg)
    store = open_store(settings)
    try:
        settings = store_settings(settings, store, args)
        return int(run(args, Context(settings, store, osm_file, network=network)))
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
