"""What every role's services share: the road network for the settings, the area's clock."""

from __future__ import annotations

import dataclasses
from collections.abc import Container
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from navigator.decide.results import ResponseTargets
from navigator.demo.city import demo_city
from navigator.errors import ValidationError
from navigator.roads import file_sha256, load_graph, network_timezone

if TYPE_CHECKING:
    from navigator.config import RegionDefinition, Settings
    from navigator.roads import TravelGraph
    from navigator.store import Store


def load_network(settings: Settings, osm_file: Path | None = None) -> TravelGraph:
    """Build the drive network of ``osm_file`` (default: the region's) or load its cache.

    The region is the store's (``settings.store_region``) when one is recorded, else the
    shipped ``settings.region``.
    """
    path = osm_file or demo_city(settings).osm_file
    return load_graph(path, cache_dir=settings.cache_dir,
                      turn_restrictions=settings.turn_restrictions,
                      turn_penalties=settings.turn_penalties)


def settings_for_store(settings: Settings, store: Store, *, shipped: str | None = None
                       ) -> Settings:
    """Return ``settings`` with the region recorded in ``store`` (unchanged when none is).

    The region's OSM and population files must still hold the bytes they held at
    ``navigator region init`` (SHA-256), so that every answer comes from the data the
    region was set up with.

    Parameters
    ----------
    settings, store
        Settings of the command or app, and its open store.
    shipped
        A shipped region asked for explicitly (``--region``): refused when the store
        records a region of its own.

    Raises
    ------
    ValidationError
        If the store records a region and ``shipped`` is given, or a region file vanished
        or changed; the message names the region used.
    """
    definition = store.region()
    if definition is None:
        return settings
    if shipped:
        msg = (f"the store was set up for the region {definition.name!r} (navigator region "
               f"init); --region {shipped} names a shipped region: leave --region out, or use "
               "another store")
        raise ValidationError(msg)
    check_region_files(definition)
    return dataclasses.replace(settings, store_region=definition)


def region_name(settings: Settings) -> str:
    """Return the name of the region ``settings`` answer for: the store's, else the shipped one."""
    return settings.store_region.name if settings.store_region else settings.region


#: Files a shapefile's layer is made of besides the ``.shp`` (the people are in the ``.dbf``).
_SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")


def layer_sha256(path: Path) -> str:
    """Return the SHA-256 of a data file; of every part of it for a shapefile (``.shp``)."""
    if path.suffix.lower() != ".shp":
        return file_sha256(path)
    import hashlib

    parts = sorted(p for p in path.parent.glob(path.stem + ".*")
                   if p.suffix.lower() in _SHAPEFILE_PARTS)
    digest = hashlib.sha256()
    for part in parts:
        digest.update(f"{part.suffix.lower()}:{file_sha256(part)}\n".encode())
    return digest.hexdigest()


def check_region_files(definition: RegionDefinition) -> None:
    """Refuse a recorded region whose OSM or population file vanished or changed.

    Raises
    ------
    ValidationError
        Naming the region, the file and what happened to it.
    """
    for label, path, sha in (("OSM file", definition.osm_file, definition.osm_sha256),
                             ("population file", definition.population_file,
                              definition.population_sha256)):
        where = f"region {definition.name!r} (recorded in the store)"
        if not Path(path).is_file():
            msg = (f"{where}: its {label} {path} is gone; put it back, or set the region up "
                   "again with navigator region init --replace")
            raise ValidationError(msg)
        now = layer_sha256(Path(path))
        if now != sha:
            msg = (f"{where}: its {label} {path} changed since navigator region init "
                   f"(SHA-256 {sha[:12]}… then, {now[:12]}… now); restore it, or set the "
                   "region up again with navigator region init --replace")
            raise ValidationError(msg)


@dataclass(frozen=True)
class AreaContext:
    """What decisions need to know about the area: clock, calendar, response targets."""

    timezone: str
    holidays: Container[date]
    targets: ResponseTargets


def area_context(graph: TravelGraph, settings: Settings, *, calendar: str | None = None,
                 zones: tuple[tuple[str, Any, float], ...] = ()) -> AreaContext:
    """Return the area's time zone (from the network's centre), holidays and targets.

    Parameters
    ----------
    graph
        Road network; its median node gives the time zone (offline, timezonefinder).
    settings
        ``response_target_s`` is the default target.
    calendar
        Holiday calendar, ``COUNTRY[-SUBDIVISION]`` of the ``holidays`` package (default:
        ``settings.holidays``, else the region's: the store's recorded calendar, or Ohio for
        Columbus, California for Imperial).
    zones
        ``(name, polygon EPSG:4326, target seconds)`` with their own response targets.
    """
    return AreaContext(timezone=network_timezone(graph),
                       holidays=_LazyCalendar(settings, calendar),
                       targets=ResponseTargets(settings.response_target_s, zones))


class _LazyCalendar(Container[date]):
    """A holiday calendar read on its first question (only ``PH`` opening-hours rules ask).

    The ``holidays`` package imports every country's module (~0.1 s): a decision whose places
    have no ``PH`` rule does not pay it. An unknown calendar is refused on that first question
    (the web app and ``navigator region init`` check theirs when they start).
    """

    def __init__(self, settings: Settings, code: str | None) -> None:
        self._settings, self._code = settings, code
        self._days: Container[date] | None = None

    def __contains__(self, day: object) -> bool:
        """Return whether ``day`` is a public holiday (the calendar is read the first time)."""
        if self._days is None:
            self._days = holiday_calendar(self._settings, self._code)
        return day in self._days


def holiday_calendar(settings: Settings, code: str | None = None) -> Container[date]:
    """Return the public holidays for ``PH`` opening-hours rules.

    ``code`` is ``COUNTRY`` or ``COUNTRY-SUBDIVISION`` as the ``holidays`` package names them
    (default ``settings.holidays``, else the region's: ``US-OH`` Columbus, ``US-CA`` Imperial).

    Raises
    ------
    ValidationError
        If the package knows no such calendar.
    """
    import holidays

    code = code or settings.holidays or demo_city(settings).holidays
    country, _, subdiv = code.partition("-")
    try:
        days: Container[date] = holidays.country_holidays(country.upper(),
                                                          subdiv=subdiv.upper() or None)
    except NotImplementedError as e:
        msg = (f"holidays={code!r}: not a calendar the holidays package knows (use COUNTRY "
               "or COUNTRY-SUBDIVISION, e.g. US-CA)")
        raise ValidationError(msg) from e
    return days


def checked_moment(at: datetime | None) -> datetime:
    """Return ``at`` (now when None), refusing naive datetimes."""
    if at is None:
        return datetime.now(UTC)
    if not isinstance(at, datetime) or at.tzinfo is None:
        msg = f"at must be a timezone-aware datetime, got {at!r}"
        raise ValidationError(msg)
    return at
