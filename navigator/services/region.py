"""Any county in one command: build a region's store from an OSM extract, people and resources.

:func:`init_region` reads and checks every input before it writes anything: the drive
network is built (and cached), the population layer is read as hostile input (CRS, column,
negative or missing people, empty, nothing inside the network's area) and clipped, the
resource directory is read completely, the time zone comes from the network's centre
(offline) and the holiday calendar is checked. Only then is the store written: resources
through :func:`navigator.services.directory.import_directory` (one transaction, with its
report), then the region definition (:class:`navigator.config.RegionDefinition`). A
GeoPackage that did not exist is built under a temporary name and moved into place at the
end, so a failure leaves no file behind.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from navigator.config import RegionDefinition
from navigator.errors import ConflictError, NavigatorError, ValidationError
from navigator.model import Bundle
from navigator.roads import file_sha256, load_graph, network_area, network_timezone
from navigator.services.context import holiday_calendar, layer_sha256
from navigator.services.worker import ready_kernels

if TYPE_CHECKING:
    from navigator.config import Settings
    from navigator.decide.population import Population
    from navigator.exchange.report import ImportReport
    from navigator.roads import TravelGraph
    from navigator.store import Store

__all__ = ["RegionSetup", "default_holidays", "init_region"]

#: Snap limits (metres): polygon units (block groups) and point units (tract points, which
#: are statistical, not homes, and may lie kilometres from a rural road).
POLYGON_SNAP_M = 1000.0
POINT_SNAP_M = 5000.0


@dataclass(frozen=True)
class RegionSetup:
    """What :func:`init_region` built: the recorded region and what went in, with notes."""

    definition: RegionDefinition
    store_url: str
    nodes: int
    edges: int
    area_bounds: tuple[float, float, float, float]
    units: int
    people: float
    clipped_units: int
    clipped_people: float
    report: ImportReport | None
    created: bool
    notes: tuple[str, ...]

    def summary(self) -> dict[str, object]:
        """Return a JSON-serialisable summary (``navigator region init --json``)."""
        return {"region": dataclasses.asdict(self.definition), "store": self.store_url,
                "created": self.created,
                "network": {"nodes": self.nodes, "edges": self.edges,
                            "area_bounds": list(self.area_bounds)},
                "population": {"units": self.units, "people": self.people,
                               "clipped_units": self.clipped_units,
                               "clipped_people": self.clipped_people},
                "resources": None if self.report is None else self.report.to_dict(),
                "notes": list(self.notes)}


def default_holidays(timezone: str) -> str:
    """Return the country of an IANA time zone as a holiday calendar code (``"US"``).

    Read offline from the tz database's ``zone.tab``; the subdivision (a state's own
    holidays) cannot be told from the zone, so pass ``--holidays US-XX`` for it.

    Raises
    ------
    ValidationError
        If no country is known for the zone.
    """
    import zoneinfo

    for folder in zoneinfo.TZPATH:
        table = Path(folder) / "zone.tab"
        if not table.is_file():
            continue
        for line in table.read_text(encoding="utf-8").splitlines():
            parts = line.split("\t")
            if not line.startswith("#") and len(parts) >= 3 and parts[2] == timezone:
                return parts[0]
    msg = (f"no country is known for the time zone {timezone!r}: pass --holidays COUNTRY or "
           "COUNTRY-SUBDIVISION (e.g. US-CA)")
    raise ValidationError(msg)


def _input_file(label: str, path: str | Path) -> Path:
    path = Path(path).expanduser()
    if not path.exists():
        msg = f"{label} {path}: no such file"
        raise ValidationError(msg)
    if not path.is_file():
        msg = f"{label} {path}: not a file"
        raise ValidationError(msg)
    return path.resolve()


def _people(graph: TravelGraph, path: Path, *, column: str, layer: str | None
            ) -> tuple[Population, bool]:
    """Return the population clipped to the network, and whether its units are points."""
    from navigator.decide.population import clip_population, load_population

    pop = load_population(path, layer=layer, column=column)
    kinds = set(pop.units.geom_type.unique())
    points = kinds == {"Point"}
    if not points and "Point" in kinds:
        msg = f"population layer {path} mixes points and polygons; give one kind of unit"
        raise ValidationError(msg)
    area = network_area(graph)
    return clip_population(pop, area.convex_hull if points else area), points


def init_region(settings: Settings, *, name: str, osm_file: str | Path,
                population_file: str | Path, population_column: str,
                population_layer: str | None = None, resources: str | Path | None = None,
                resources_format: str = "auto", holidays: str | None = None,
                skip_unlocated: bool = False, replace: bool = False, actor: str,
                progress: bool = False) -> RegionSetup:
    """Set up a store for a region from files alone; all or nothing.

    Parameters
    ----------
    settings
        ``store_url`` (created when it is a GeoPackage path that does not exist) and
        ``cache_dir`` (where the built network is cached).
    name
        Region name users see.
    osm_file
        OSM extract (.osm, .osm.bz2, .osm.pbf); the drive network is built from it.
    population_file, population_column, population_layer
        Population units (polygons or points, any CRS GDAL knows) and their people column.
    resources, resources_format
        Optional resource directory (HSDS 1.x-3.x, GeoJSON, CSV), imported with a report;
        resources outside the network's area are left out and named in the report's notes.
    holidays
        Holiday calendar ``COUNTRY[-SUBDIVISION]`` (default: the time zone's country).
    skip_unlocated
        Leave out (and report) HSDS locations without coordinates.
    replace
        Allow a store that already holds data or a region: both are replaced.
    actor
        Who sets the region up, for the audit log.
    progress
        Show progress bars on stderr while importing.

    Returns
    -------
    RegionSetup

    Raises
    ------
    ValidationError, NetworkBuildError
        If an input is missing or malformed; nothing is written.
    ConflictError
        If the store holds data or a region and ``replace`` is False; nothing is written.
    """
    from navigator.exchange.formats import read_bundle_report

    name = name.strip() if isinstance(name, str) else name
    if not isinstance(name, str) or not name or len(name) > 200 or any(
            ord(c) < 32 for c in name):
        msg = "--name must be 1 to 200 printable characters"
        raise ValidationError(msg)
    osm = _input_file("OSM file", osm_file)
    pop_path = _input_file("population file", population_file)
    res_path = None if resources is None else Path(resources).expanduser().resolve()
    if res_path is not None and not res_path.exists():
        msg = f"resources {res_path}: no such file or folder"
        raise ValidationError(msg)
    graph = load_graph(osm, cache_dir=settings.cache_dir,
                       turn_restrictions=settings.turn_restrictions,
                       turn_penalties=settings.turn_penalties)
    zone = network_timezone(graph)
    calendar = (holidays or default_holidays(zone)).strip().upper()
    holiday_calendar(settings, calendar)
    population, points = _people(graph, pop_path, column=population_column,
                                 layer=population_layer)
    if res_path is not None:  # read and check it all now; import_directory reads it again
        read_bundle_report(res_path, fmt=resources_format, skip_unlocated=skip_unlocated)
    definition = RegionDefinition(
        name=name, osm_file=str(osm), osm_sha256=file_sha256(osm),
        population_file=str(pop_path), population_sha256=layer_sha256(pop_path),
        population_column=population_column, population_layer=population_layer or "",
        timezone=zone, holidays=calendar, rural=points,
        population_snap_m=POINT_SNAP_M if points else POLYGON_SNAP_M,
        unit_name="population points" if points else "population areas")
    notes = [] if holidays else [f"holidays {calendar}: national only (pass --holidays "
                                 "COUNTRY-SUBDIVISION for regional ones)"]
    if points:
        notes.append(f"population given as points: clipped to the road network's outline, "
                     f"units farther than {POINT_SNAP_M:.0f} m from a road count as uncovered")
    url = settings.store_url
    target = None if "://" in url else Path(url).expanduser()
    created = target is not None and not target.exists()
    work_url = url
    if created and target is not None:
        if not target.parent.is_dir():
            msg = f"store {target}: folder {target.parent} does not exist"
            raise ValidationError(msg)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial",
                                   dir=target.parent)
        os.close(fd)
        os.unlink(tmp)
        work_url = tmp
    report = None
    try:
        report = _write(work_url, definition, graph, res_path, resources_format=resources_format,
                        skip_unlocated=skip_unlocated, replace=replace, actor=actor,
                        progress=progress)
        if created and target is not None:
            os.replace(work_url, target)
    except (NavigatorError, OSError):
        if created:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(work_url + suffix).unlink(missing_ok=True)
        raise
    ready_kernels(graph)  # the store's first decision then neither compiles nor indexes
    return RegionSetup(
        definition=definition, store_url=url, nodes=graph.n_nodes, edges=graph.n_road_edges,
        area_bounds=tuple(round(float(b), 5) for b in network_area(graph).bounds),  # type: ignore[arg-type]
        units=len(population.units), people=population.total_people,
        clipped_units=population.clipped_units, clipped_people=population.clipped_people,
        report=report, created=created, notes=tuple(notes))


def _write(url: str, definition: RegionDefinition, graph: TravelGraph, resources: Path | None,
           *, resources_format: str, skip_unlocated: bool, replace: bool, actor: str,
           progress: bool) -> ImportReport | None:
    """Write the store: resources (with their report), then the region; close it."""
    from navigator.services.directory import import_directory
    from navigator.store import open_store

    store = open_store(url)
    try:
        store.migrate()
        _check_empty(store, definition, replace=replace)
        report = None
        if resources is not None:
            report = import_directory(store, resources, actor=actor, fmt=resources_format,
                                      replace=replace, skip_unlocated=skip_unlocated,
                                      area=network_area(graph), progress=progress)
        elif replace:
            store.load(Bundle(), actor=actor, replace=True)
        store.set_region(definition, actor=actor)
    finally:
        store.close()
    return report


def _check_empty(store: Store, definition: RegionDefinition, *, replace: bool) -> None:
    if replace:
        return
    held = {k: n for k, n in store.counts().items()
            if k in ("resources", "hotlines", "teams", "incidents") and n}
    recorded = store.region()
    if held or recorded is not None:
        what = ", ".join(f"{n} {k}" for k, n in held.items())
        has = (f"region {recorded.name!r}" if recorded else "") + (
            (" and " if recorded and what else "") + what)
        msg = (f"the store already holds {has}; setting up {definition.name!r} would replace "
               "it. Use a new store, or pass --replace")
        raise ConflictError(msg)
