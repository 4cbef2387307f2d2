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


def area_context(graph: TravelGraph, settings: Settings, *, country: str = "US",
                 subdiv: str | None = "OH",
                 zones: tuple[tuple[str, Any, float], ...] = ()) -> AreaContext:
    """Return the area's time zone (from the network's centre), holidays and targets.

    Parameters
    ----------
    graph
        Road network; its median node gives the time zone (offline, timezonefinder).
    settings
        ``response_target_s`` is the default target.
    country, subdiv
        Holiday calendar of the ``holidays`` package (default: US, Ohio: the demo city).
    zones
        ``(name, polygon EPSG:4326, target seconds)`` with their own response targets.
    """
    import holidays

    tz = network_timezone(graph)
    calendar = holidays.country_holidays(country, subdiv=subdiv)
    return AreaContext(timezone=tz, holidays=calendar,
                       targets=ResponseTargets(settings.response_target_s, zones))


def checked_moment(at: datetime | None) -> datetime:
    """Return ``at`` (now when None), refusing naive datetimes."""
    if at is None:
        return datetime.now(UTC)
    if not isinstance(at, datetime) or at.tzinfo is None:
        msg = f"at must be a timezone-aware datetime, got {at!r}"
        raise ValidationError(msg)
    return at
