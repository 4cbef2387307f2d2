"""Past calls for the dispatch-policy simulator: a CSV of time, place, priority, type, minutes.

Columns (a header row, names case-insensitive): ``time`` (ISO 8601; without a UTC offset the
area's local time), ``lon``, ``lat`` (EPSG:4326 degrees), ``priority`` (1 most urgent to 4),
``type`` (a :class:`~navigator.model.CrisisType` value) and ``on_scene_min`` (minutes the team
spent there). Every error names the file, the line and the field.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from navigator.errors import ValidationError
from navigator.model import CrisisType

__all__ = ["CALL_COLUMNS", "MAX_CALLS", "PastCalls", "read_calls"]

#: The columns a calls CSV must have.
CALL_COLUMNS = ("time", "lon", "lat", "priority", "type", "on_scene_min")
#: Most calls one file may hold.
MAX_CALLS = 500_000


@dataclass(frozen=True)
class PastCalls:
    """Calls read from a file, in file order; ``line`` is each call's line in the file."""

    source: str
    time: tuple[datetime, ...]
    lon: tuple[float, ...]
    lat: tuple[float, ...]
    priority: tuple[int, ...]
    crisis_type: tuple[str, ...]
    on_scene_min: tuple[float, ...]
    line: tuple[int, ...]


def _number(text: str, where: str, field: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        msg = f"{where}: {field} {text!r} is not a finite number"
        raise ValidationError(msg)
    return value


def _time(text: str, where: str, tz: ZoneInfo) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError as e:
        msg = f"{where}: time {text!r} is not an ISO 8601 date-time such as 2026-11-23T21:30"
        raise ValidationError(msg) from e
    return value if value.tzinfo else value.replace(tzinfo=tz)


def read_calls(source: str | Path, *, timezone: str, text: str | None = None) -> PastCalls:
    """Read a calls CSV (a path, or ``text`` with ``source`` naming it).

    Parameters
    ----------
    source
        The file, or the name of ``text`` in messages.
    timezone
        IANA zone of times without an offset (the area's).
    text
        The CSV itself (e.g. an upload); None reads ``source``.

    Raises
    ------
    ValidationError
        A missing column, no calls, too many, or a bad value (file, line and field named).
    """
    name = str(source)
    if text is None:
        try:
            text = Path(source).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as e:
            msg = f"cannot read calls from {name}: {e}"
            raise ValidationError(msg) from e
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in CALL_COLUMNS if c not in header]
    if missing:
        msg = f"{name}: missing column(s) {', '.join(missing)} (need {', '.join(CALL_COLUMNS)})"
        raise ValidationError(msg)
    tz = ZoneInfo(timezone)
    types = {t.value for t in CrisisType}
    cols: dict[str, list[object]] = {c: [] for c in (*CALL_COLUMNS, "line")}
    for row in reader:
        where = f"{name} line {reader.line_num}"
        if len(cols["line"]) >= MAX_CALLS:
            msg = f"{name}: more than {MAX_CALLS} calls"
            raise ValidationError(msg)
        fields = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k is not None}
        if None in row:
            msg = f"{where}: more values than columns"
            raise ValidationError(msg)
        lon = _number(fields["lon"], where, "lon")
        lat = _number(fields["lat"], where, "lat")
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            msg = f"{where}: lon, lat ({lon}, {lat}) are not degrees on Earth"
            raise ValidationError(msg)
        prio = _number(fields["priority"], where, "priority")
        if prio not in (1, 2, 3, 4):
            msg = f"{where}: priority {fields['priority']!r} must be 1 (most urgent) to 4"
            raise ValidationError(msg)
        if fields["type"] not in types:
            msg = (f"{where}: type {fields['type']!r} is unknown; use one of "
                   f"{', '.join(sorted(types))}")
            raise ValidationError(msg)
        minutes = _number(fields["on_scene_min"], where, "on_scene_min")
        if not 0 <= minutes <= 24 * 60:
            msg = f"{where}: on_scene_min {minutes:g} must be 0 to 1440 minutes"
            raise ValidationError(msg)
        for key, value in (("time", _time(fields["time"], where, tz)), ("lon", lon),
                           ("lat", lat), ("priority", int(prio)), ("type", fields["type"]),
                           ("on_scene_min", minutes), ("line", reader.line_num)):
            cols[key].append(value)
    if not cols["line"]:
        msg = f"{name}: no calls"
        raise ValidationError(msg)
    return PastCalls(name, *(tuple(cols[c]) for c in (*CALL_COLUMNS, "line")))  # type: ignore[arg-type]
