"""Settings: one frozen dataclass read from NAVIGATOR_* environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

from navigator.errors import ValidationError

#: Folder of the data the product ships (a git checkout's ``data/``).
DATA_DIR = Path(__file__).resolve().parent.parent / "data"


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
    if name in {"max_snap_m", "hold_ttl_s", "response_target_s", "bed_fresh_hours",
                "follow_up_first_h", "follow_up_second_h", "arrival_grace_s"}:
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
