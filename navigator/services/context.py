"""What every role's services share: the road network for the settings, the area's clock."""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from navigator.decide.results import ResponseTargets
from navigator.demo.city import demo_city
from navigator.errors import ValidationError
from navigator.roads import load_graph, network_timezone

if TYPE_CHECKING:
    from navigator.config import Settings
    from navigator.roads import TravelGraph


def load_network(settings: Settings, osm_file: Path | None = None) -> TravelGraph:
    """Build the drive network of ``osm_file`` (default: the demo city's) or load its cache."""
    path = osm_file or demo_city(settings).osm_file
    return load_graph(path, cache_dir=settings.cache_dir)


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
        ``settings.holidays``, else the region's: Ohio for Columbus, California for Imperial).
    zones
        ``(name, polygon EPSG:4326, target seconds)`` with their own response targets.
    """
    return AreaContext(timezone=network_timezone(graph),
                       holidays=holiday_calendar(settings, calendar),
                       targets=ResponseTargets(settings.response_target_s, zones))


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
