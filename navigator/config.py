"""Settings: one frozen dataclass read from NAVIGATOR_* environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

from navigator.errors import ValidationError

#: Folder of the data the product ships (a git checkout's ``data/``).
DATA_DIR = Path(__file__).resolve().parent.parent / "data"
#: Turn penalty profiles ``NAVIGATOR_TURN_PENALTIES`` may name (navigator.roads.turn_costs).
TURN_PENALTY_PROFILES = ("osrm-car",)
#: Values of ``NAVIGATOR_ADMIN_2FA``.
ADMIN_2FA = ("optional", "required")
_FLOATS = frozenset({"max_snap_m", "hold_ttl_s", "response_target_s", "bed_fresh_hours",
                     "follow_up_first_h", "follow_up_second_h", "arrival_grace_s",
                     "session_idle_min", "session_max_h", "login_window_s", "login_lock_s",
                     "login_max_lock_s", "team_busy_fraction", "stale_position_min",
                     "position_skew_s", "closures_refresh_s", "checkin_interval_min",
                     "events_stream_s", "events_poll_s"})
_COUNTS = frozenset({"trusted_proxies", "login_max_failures", "login_address_max_failures",
                     "events_max_streams"})
_FLAGS = frozenset({"turn_restrictions"})
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
#: Settings no environment variable sets (the store records them).
_NOT_FROM_ENV = frozenset({"store_region"})
_SHA256 = frozenset("0123456789abcdef")


@dataclass(frozen=True)
class RegionDefinition:
    """The region a store was set up for by ``navigator region init``, recorded in the store.

    Attributes
    ----------
    name
        Name users see (``"Imperial County, CA"``).
    osm_file, osm_sha256
        Absolute path of the OSM extract and the SHA-256 of its bytes at init time.
    population_file, population_sha256, population_column, population_layer
        The population layer (polygons or points), its people column and layer ('' = first).
    timezone
        IANA time zone (from the network's centre, offline).
    holidays
        Public-holiday calendar (``COUNTRY[-SUBDIVISION]`` of the ``holidays`` package).
    rural
        Population given as points: clipped to the network's outline (convex hull) and
        snapped up to ``population_snap_m`` metres, as for Imperial's tract points.
    population_snap_m
        Units farther than this (metres) from a road count as uncovered.
    unit_name
        What the population units are called (plural), e.g. ``"census tracts"``.
    """

    name: str
    osm_file: str
    osm_sha256: str
    population_file: str
    population_sha256: str
    population_column: str
    timezone: str
    holidays: str
    population_layer: str = ""
    rural: bool = False
    population_snap_m: float = 1000.0
    unit_name: str = "population units"

    def __post_init__(self) -> None:
        for name in ("name", "osm_file", "population_file", "population_column", "timezone",
                     "holidays", "unit_name"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip() or len(value) > 1000:
                msg = f"region {name} must be a non-empty text of at most 1000 characters"
                raise ValidationError(msg)
        if len(self.name) > 200 or any(ord(c) < 32 for c in self.name):
            msg = "region name must be at most 200 printable characters"
            raise ValidationError(msg)
        for name in ("osm_sha256", "population_sha256"):
            value = getattr(self, name)
            if not isinstance(value, str) or len(value) != 64 or not set(value) <= _SHA256:
                msg = f"region {name} must be 64 lower-case hex digits, got {value!r}"
                raise ValidationError(msg)
        if not isinstance(self.population_layer, str) or len(self.population_layer) > 200:
            msg = "region population_layer must be a text of at most 200 characters"
            raise ValidationError(msg)
        check_positive("population_snap_m", self.population_snap_m)


def _default_cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "navigator"


@dataclass(frozen=True)
class Settings:
    """Everything Navigator can be configured with; passed explicitly, never read globally.

    Attributes
    ----------
    store_url
        ``postgresql://...`` for PostGIS, or a file path for the embedded GeoPackage.
    data_dir
        Folder holding the shipped data (OSM extracts, POIs, population).
    cache_dir
        Folder for built road-network caches.
    max_snap_m
        Largest distance, in metres, from a point to the road network before it is an error.
    hold_ttl_s
        Seconds a bed hold lasts before the bed returns.
    response_target_s
        Default response-time target, in seconds.
    tile_url, tile_attribution
        Optional raster tile server for maps; by default the road network is the basemap.
    secret_key
        Flask secret key (sessions, CSRF); generated per process when unset.
    bed_fresh_hours
        Hours a shelter's bed count stays fresh (``NAVIGATOR_BED_FRESH_HOURS``); older counts
        are never offered as free beds. A site may override it.
    follow_up_first_h, follow_up_second_h
        Hours after arrival when a referral's first and second follow-ups are due.
    arrival_grace_s
        Seconds past a referral's ETA before its arrival counts as overdue.
    session_idle_min
        Minutes without a request after which a login session ends (the dispatcher console
        reconnects its live stream every ``events_stream_s``, so an open console stays logged
        in; a closed laptop does not).
    session_max_h
        Hours after login at which a session ends however active it is (one shift).
    admin_2fa
        ``optional`` (default: the demo logins keep working) or ``required``: an admin without
        TOTP must enrol at the next login before the session starts.
    trusted_proxies
        Reverse proxies in front of the app whose ``X-Forwarded-For`` is trusted for the
        client address (0, the default: use the socket's peer address and ignore the header,
        which any client can forge).
    login_max_failures
        Failed logins of one account within ``login_window_s`` that lock it.
    login_address_max_failures
        Failed logins from one client address within ``login_window_s`` that lock it (higher:
        an office behind one NAT address shares it).
    login_window_s
        Seconds over which failures are counted.
    login_lock_s, login_max_lock_s
        Seconds of the first lock; each further lock of the same account or address doubles
        it, up to ``login_max_lock_s``.
    team_busy_fraction
        Share of the time a mobile team is busy (``NAVIGATOR_TEAM_BUSY_FRACTION``, default
        0.3), for busy-aware site recommendations (``mexclp``); must be below 1.
    region
        The shipped region whose roads and population the app uses when given no other
        (:class:`navigator.model.Region`: ``columbus``, the default, or ``imperial``).
    holidays
        Public-holiday calendar for opening hours (``NAVIGATOR_HOLIDAYS``): ``COUNTRY`` or
        ``COUNTRY-SUBDIVISION`` as the ``holidays`` package names them (``US-CA``, ``PT``);
        empty (the default) takes the region's (Columbus ``US-OH``, Imperial ``US-CA``).
    stale_position_min
        Minutes after which a team's last position fix is stale
        (``NAVIGATOR_STALE_POSITION_MIN``): ranking still routes from it but labels it, and
        the console flags it.
    position_skew_s
        Seconds a GPS ping's time may lie ahead of the server clock (device clock drift);
        a ping further in the future is refused.
    closures_refresh_s
        Seconds a process keeps its closed-road graph before asking the store whether a
        road closure changed (``NAVIGATOR_CLOSURES_REFRESH_S``, default 2: a closure written
        by one web worker holds in every worker within a few seconds).
    store_region
        The region recorded in the store (``navigator region init``); when set it wins over
        ``region`` for roads, population, time zone and holidays. Never read from the
        environment: :func:`navigator.services.context.settings_for_store` sets it.
    checkin_interval_min
        Minutes a team on scene may go without a safety check-in
        (``NAVIGATOR_CHECKIN_INTERVAL_MIN``, default 20); then every dispatcher's console
        shows an alert until the team checks in or a dispatcher acknowledges it.
    events_stream_s
        Seconds one live-console event stream (``/api/dispatch/events``) stays open before the
        browser reconnects (bounded so a stream never holds a server thread for long).
    events_poll_s
        Seconds between a stream's reads of the store's change counter on the GeoPackage
        (the live console's latency across worker processes there; one indexed read each).
        PostGIS streams wake on LISTEN/NOTIFY instead and poll only while their listening
        connection is down.
    events_max_streams
        Live streams one process serves at once (``NAVIGATOR_EVENTS_MAX_STREAMS``, default
        2). Each holds a server thread: keep it below gunicorn's ``--threads`` (4 in the
        production advice) so API calls always find a thread; a console refused a stream
        (503) polls instead.
    turn_restrictions
        Obey the OSM turn restrictions (``no_*``/``only_*`` relations, via a node) of the road
        network (``NAVIGATOR_TURN_RESTRICTIONS``, default on; ``0`` ignores them). Part of
        the road network's cache key.
    turn_penalties
        Turn penalty profile of the road network (``NAVIGATOR_TURN_PENALTIES``): ``""``, the
        default (turns cost nothing), or ``osrm-car`` (seconds per turn by its angle, per
        U-turn and per traffic signal, from OSRM's car profile). Part of the cache key.
    """

    store_url: str = "navigator.gpkg"
    data_dir: Path = DATA_DIR
    cache_dir: Path = field(default_factory=_default_cache_dir)
    max_snap_m: float = 500.0
    hold_ttl_s: float = 2 * 3600.0
    response_target_s: float = 3600.0
    tile_url: str | None = None
    tile_attribution: str | None = None
    secret_key: str | None = None
    bed_fresh_hours: float = 12.0
    follow_up_first_h: float = 24.0
    follow_up_second_h: float = 72.0
    arrival_grace_s: float = 1800.0
    session_idle_min: float = 60.0
    session_max_h: float = 12.0
    admin_2fa: str = "optional"
    trusted_proxies: int = 0
    login_max_failures: int = 5
    login_address_max_failures: int = 20
    login_window_s: float = 900.0
    login_lock_s: float = 60.0
    login_max_lock_s: float = 3600.0
    team_busy_fraction: float = 0.3
    region: str = "columbus"
    holidays: str = ""
    stale_position_min: float = 10.0
    position_skew_s: float = 60.0
    closures_refresh_s: float = 2.0
    store_region: RegionDefinition | None = None
    checkin_interval_min: float = 20.0
    events_stream_s: float = 30.0
    events_poll_s: float = 0.05
    events_max_streams: int = 2
    turn_restrictions: bool = True
    turn_penalties: str = ""

    def __post_init__(self) -> None:
        if not 0 <= self.team_busy_fraction < 1:
            msg = f"team_busy_fraction must be in [0, 1), got {self.team_busy_fraction!r}"
            raise ValidationError(msg)
        if self.admin_2fa not in ADMIN_2FA:
            msg = f"admin_2fa={self.admin_2fa!r} is not one of {', '.join(ADMIN_2FA)}"
            raise ValidationError(msg)
        if self.turn_penalties not in ("", *TURN_PENALTY_PROFILES):
            msg = (f"NAVIGATOR_TURN_PENALTIES={self.turn_penalties!r} is not one of "
                   f"{', '.join(TURN_PENALTY_PROFILES)} (or off)")
            raise ValidationError(msg)


def settings_from_env(environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    """Build settings from ``NAVIGATOR_*`` variables, then apply explicit overrides.

    Parameters
    ----------
    environ
        Mapping to read (``os.environ`` when None).
    **overrides
        Field values that win over the environment.

    Returns
    -------
    Settings
    """
    env = os.environ if environ is None else environ
    values: dict[str, object] = {}
    for f in fields(Settings):
        if f.name in _NOT_FROM_ENV:
            continue
        raw = env.get(f"NAVIGATOR_{f.name.upper()}")
        if raw is None or raw == "":
            continue
        values[f.name] = _coerce(f.name, raw)
    values.update({k: v for k, v in overrides.items() if v is not None})
    settings = Settings(**values)  # type: ignore[arg-type]
    check_positive("bed_fresh_hours", settings.bed_fresh_hours)
    return settings


def check_positive(name: str, value: object) -> float:
    """Return ``value`` as a float, or raise :class:`ValidationError` naming ``name``.

    For windows and durations (``bed_fresh_hours``, a site's ``fresh_hours``): a window of
    zero or less would make every count stale at once.
    """
    if isinstance(value, bool) or not isinstance(value, int | float) or not (
            value > 0 and value != float("inf")):
        msg = f"{name} must be a positive finite number, got {value!r}"
        raise ValidationError(msg)
    return float(value)


def _coerce(name: str, raw: str) -> object:
    if name in {"data_dir", "cache_dir"}:
        return Path(raw)
    if name in _COUNTS:
        try:
            count = int(raw)
        except ValueError as e:
            msg = f"NAVIGATOR_{name.upper()}={raw!r} is not a whole number"
            raise ValidationError(msg) from e
        if count < (0 if name == "trusted_proxies" else 1):
            msg = f"NAVIGATOR_{name.upper()}={raw!r} is too small"
            raise ValidationError(msg)
        return count
    if name == "admin_2fa":
        return raw.strip().lower()
    if name == "turn_penalties":
        profile = raw.strip().lower()
        return "" if profile in _FALSE | {"none"} else profile
    if name in _FLAGS:
        flag = raw.strip().lower()
        if flag not in _TRUE | _FALSE:
            msg = f"NAVIGATOR_{name.upper()}={raw!r} is not one of 1/0, true/false, yes/no, on/off"
            raise ValidationError(msg)
        return flag in _TRUE
    if name in _FLOATS:
        try:
            value = float(raw)
        except ValueError as e:
            msg = f"NAVIGATOR_{name.upper()}={raw!r} is not a number"
            raise ValidationError(msg) from e
        if not value > 0 or value == float("inf"):
            msg = f"NAVIGATOR_{name.upper()} must be a positive finite number, got {raw!r}"
            raise ValidationError(msg)
        return value
    return raw
