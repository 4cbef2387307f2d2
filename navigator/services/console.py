"""The live dispatch console: change events for every open console, check-ins, addresses.

A console learns that something changed (incident, team status or position, assignment,
check-in) from the store's change counter (:meth:`navigator.store.base.Store.change_version`),
which every process's writes bump in their own transaction; so a write in one web worker
reaches consoles served by every other worker within ``settings.events_poll_s`` seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from navigator.decide.safety import checkin_due
from navigator.errors import StoreError, ValidationError
from navigator.model import IncidentStatus

if TYPE_CHECKING:
    from collections.abc import Sequence

    import geopandas as gpd

    from navigator.config import Settings
    from navigator.exchange.geocode import Geocoder
    from navigator.store import Store

__all__ = ["ConsoleEvent", "TeamCheck", "check_in", "console_events", "incident_board",
           "safety_board", "street_geocoder"]

#: Seconds between keep-alive events on a quiet stream (a closed client is noticed then).
KEEPALIVE_S = 10.0


@dataclass(frozen=True)
class ConsoleEvent:
    """One event of a console stream.

    Attributes
    ----------
    kind
        ``hello`` (nothing changed since the version the client had), ``change`` (reload),
        ``ping`` (keep-alive) or ``bye`` (the store stopped answering; reconnect later).
    version
        The dispatch change counter this event reflects (the client's ``Last-Event-ID``).
    """

    kind: Literal["hello", "change", "ping", "bye"]
    version: int


def console_events(store: Store, settings: Settings, *, since: int | None,
                   clock: Callable[[], float] = time.monotonic,
                   wait: Callable[[int, float], int] | None = None) -> Iterator[ConsoleEvent]:
    """Yield a console's events for ``settings.events_stream_s`` seconds, then stop.

    The first event says whether anything changed since version ``since`` (the last one the
    client saw; None: a first connection). Then each change yields one ``change`` event as
    soon as the store reports it (:meth:`Store.wait_for_change`: NOTIFY on PostGIS, a read
    of the change counter every ``settings.events_poll_s`` seconds on the GeoPackage); a
    quiet stream yields a ``ping`` every :data:`KEEPALIVE_S` seconds. The stream is bounded
    so it never holds a server thread for long: the browser reconnects with the last version
    and misses nothing. A store that stops answering ends the stream with ``bye``.

    ``wait(version, timeout_s)`` replaces the store's wait (tests drive a fake clock with it).
    """
    if wait is None:
        def wait(version: int, timeout_s: float) -> int:
            return store.wait_for_change(version, timeout_s=timeout_s,
                                         poll_s=settings.events_poll_s)
    end = clock() + settings.events_stream_s
    try:
        version = store.change_version()
    except StoreError:
        yield ConsoleEvent("bye", since or 0)
        return
    yield ConsoleEvent("hello" if since in (None, version) else "change", version)
    quiet_since = clock()
    while (left := end - clock()) > 0:
        try:
            current = wait(version, max(0.0, min(left, quiet_since + KEEPALIVE_S - clock())))
        except StoreError:
            yield ConsoleEvent("bye", version)
            return
        if current != version:
            version = current
            quiet_since = clock()
            yield ConsoleEvent("change", version)
        elif clock() - quiet_since >= KEEPALIVE_S:
            quiet_since = clock()
            yield ConsoleEvent("ping", version)


@dataclass(frozen=True)
class TeamCheck:
    """A team on scene and its safety check-in clock.

    Attributes
    ----------
    team_id, name
        The team.
    on_scene_at
        When it arrived on scene (aware UTC).
    checked_in_at, checked_in_by, note
        Its last check-in (None before the first).
    acknowledged_at, acknowledged_by
        The last acknowledgement of its overdue alert by a dispatcher.
    due_at
        When the next check-in is due.
    overdue_s
        Seconds past ``due_at`` (0: not overdue).
    """

    team_id: str
    name: str
    on_scene_at: datetime
    checked_in_at: datetime | None
    checked_in_by: str
    note: str
    acknowledged_at: datetime | None
    acknowledged_by: str
    due_at: datetime
    overdue_s: float

    @property
    def overdue(self) -> bool:
        """Whether the check-in is overdue (the console shows a red alert)."""
        return self.overdue_s > 0

    def to_dict(self) -> dict[str, Any]:
        """Return the check as plain JSON-ready values (ISO 8601 times)."""
        out: dict[str, Any] = {}
        for key, value in self.__dict__.items():
            out[key] = value.isoformat() if isinstance(value, datetime) else value
        out["overdue"] = self.overdue
        return out


def _epoch(values: Any) -> np.ndarray:
    return np.array([np.nan if v is None or v != v else v.timestamp() for v in values],
                    dtype=np.float64)


def safety_board(store: Store, settings: Settings, *, at: datetime | None = None
                 ) -> tuple[TeamCheck, ...]:
    """Return every team on scene with its check-in clock, the most overdue first.

    A team must check in every ``settings.checkin_interval_min`` minutes after arriving on
    scene; a dispatcher's acknowledgement of an overdue alert buys one more interval.
    """
    from navigator.services.context import checked_moment

    now = checked_moment(at)
    df = store.team_checkins()
    pick = [a if a is not None and a == a else u
            for a, u in zip(df["on_scene_at"], df["updated_at"], strict=True)]
    arrived = [p.to_pydatetime() for p in pick]
    due, overdue = checkin_due(_epoch(arrived), _epoch(df["checked_in_at"]),
                               _epoch(df["acknowledged_at"]), now_s=now.timestamp(),
                               interval_s=settings.checkin_interval_min * 60.0)

    def when(v: Any) -> datetime | None:
        return None if v is None or v != v else v.to_pydatetime()

    checks = [TeamCheck(team_id=r.team_id, name=r.name, on_scene_at=arrived[i],
                        checked_in_at=when(r.checked_in_at), checked_in_by=r.checked_in_by,
                        note=r.note, acknowledged_at=when(r.acknowledged_at),
                        acknowledged_by=r.acknowledged_by,
                        due_at=datetime.fromtimestamp(float(due[i]), UTC),
                        overdue_s=float(overdue[i]))
              for i, r in enumerate(df.itertuples(index=False))]
    return tuple(sorted(checks, key=lambda c: (-c.overdue_s, c.due_at, c.team_id)))


def check_in(store: Store, settings: Settings, *, team_id: str, actor: str, note: str = "",
             acknowledge: bool = False) -> TeamCheck:
    """Record a team's safety check-in (or a dispatcher's acknowledgement of its alert).

    Returns
    -------
    TeamCheck
        The team's clock afterwards.

    Raises
    ------
    NotFoundError
        Unknown team.
    ConflictError
        The team is not on scene (nothing written).
    """
    store.check_in(team_id, actor=actor, note=note, acknowledge=acknowledge)
    return next(c for c in safety_board(store, settings) if c.team_id == team_id)


def street_geocoder(settings: Settings) -> Geocoder | None:
    """Return the offline geocoder of the region's OSM extract (cached in ``cache_dir``).

    None when the extract is missing or unreadable: incidents are then listed without a
    street address rather than not at all.
    """
    from navigator.demo.city import demo_city
    from navigator.exchange.geocode import Geocoder

    path = demo_city(settings).osm_file
    try:
        return Geocoder.from_osm(path, cache_dir=settings.cache_dir)
    except (OSError, ValidationError):
        return None


def incident_board(store: Store, *, geocoder: Geocoder | None,
                   statuses: Sequence[IncidentStatus] | None = None,
                   max_distance_m: float = 150.0) -> gpd.GeoDataFrame:
    """Return incidents (default open and assigned) with their nearest street ``address``.

    The address is the nearest OSM address point, else ``"near <street>"`` (offline reverse
    lookup, :meth:`navigator.exchange.geocode.Geocoder.reverse`); empty beyond
    ``max_distance_m`` metres or without a geocoder.
    """
    found = store.incidents(statuses=list(statuses) if statuses is not None else
                            [IncidentStatus.OPEN, IncidentStatus.ASSIGNED])
    addresses = []
    for point in found.geometry:
        hit = geocoder.reverse(point.x, point.y, max_distance_m=max_distance_m) \
            if geocoder is not None else None
        addresses.append(hit.address if hit is not None else "")
    found["address"] = addresses
    return found
