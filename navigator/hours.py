"""Opening hours: the canonical parser of Navigator's OSM ``opening_hours`` subset.

Supported syntax (rules separated by ``;``, later rules override earlier ones for the days
they name, as in OSM):

- ``24/7``; ``off`` / ``closed`` (closed on every day);
- weekday rules ``Mo-Fr 08:00-17:00``, lists and wrapping ranges ``Sa,Su``, ``Fr-Mo``;
- several time ranges ``08:00-12:00,13:00-17:00``; ``24:00`` as an end time;
- overnight ranges ``Mo-Su 17:00-08:00``: open from 17:00 until 08:00 the next morning;
- public holidays ``PH off`` / ``PH 10:00-14:00`` (a holiday rule overrides the weekday
  rule of that date; ``off`` closes the whole date, including a spill from the night before);
- ``Mo-Fr 08:00-17:00 off`` style suffixes are not supported and raise ``ValidationError``.

An empty string means *unknown*: :func:`is_open` returns ``unknown_open`` for it.
Times are wall-clock times in the area's time zone; holidays are any container of
:class:`datetime.date` (e.g. ``holidays.country_holidays("US", subdiv="OH")``), passed in by the
caller, never fetched. :mod:`navigator.ingest.schedule` should build on :func:`parse_hours`.
"""

from __future__ import annotations

import re
from collections.abc import Container
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from navigator.errors import ValidationError

__all__ = [
    "OSM_DAYS",
    "OpeningHours",
    "Rule",
    "closes_at",
    "is_open",
    "next_open",
    "open_intervals",
    "parse_hours",
]

#: OSM day abbreviations in week order (``datetime.weekday()`` order).
OSM_DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
_DAY = {d.lower(): i for i, d in enumerate(OSM_DAYS)}
_TIME = re.compile(r"^([01]?\d|2[0-4]):([0-5]\d)$")
_DAY_MIN = 24 * 60


@dataclass(frozen=True)
class Rule:
    """One ``;``-separated rule.

    Attributes
    ----------
    days
        Weekdays the rule names (0 = Monday); empty for a public-holiday rule.
    holiday
        True for a ``PH`` rule (applies on public holidays, whatever the weekday).
    spans
        ``(start, end)`` in minutes after midnight; ``end <= start`` spills into the next
        day; empty means closed (``off``).
    """

    days: frozenset[int]
    holiday: bool
    spans: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class OpeningHours:
    """A parsed ``opening_hours`` string.

    Attributes
    ----------
    text
        The string as given.
    rules
        Rules in order; later ones override earlier ones. Empty when ``unknown``.
    unknown
        True for an empty string (hours not known).
    """

    text: str
    rules: tuple[Rule, ...]
    unknown: bool = False

    def spans_on(self, day: date, *, holidays: Container[date] = ()) -> tuple[
            tuple[int, int], ...] | None:
        """Return the spans of the rule in force on ``day`` (None when no rule names it)."""
        found: tuple[tuple[int, int], ...] | None = None
        # the calendar is asked only by a PH rule (it may be read on that first question)
        is_holiday = any(rule.holiday for rule in self.rules) and day in holidays
        for rule in self.rules:
            if (rule.holiday and is_holiday) or (not rule.holiday and day.weekday() in rule.days):
                found = rule.spans
        return found


def _minutes(text: str, rule: str) -> int:
    m = _TIME.match(text.strip())
    if m is None:
        msg = f"opening_hours rule {rule!r}: {text!r} is not a time HH:MM"
        raise ValidationError(msg)
    value = int(m[1]) * 60 + int(m[2])
    if value > _DAY_MIN:
        msg = f"opening_hours rule {rule!r}: {text!r} is after 24:00"
        raise ValidationError(msg)
    return value


def _spans(text: str, rule: str) -> tuple[tuple[int, int], ...]:
    if text.lower() in {"off", "closed"}:
        return ()
    out = []
    for part in text.split(","):
        ends = part.split("-")
        if len(ends) != 2:
            msg = f"opening_hours rule {rule!r}: {part.strip()!r} is not a range HH:MM-HH:MM"
            raise ValidationError(msg)
        start, end = (_minutes(e, rule) for e in ends)
        if start == _DAY_MIN:
            msg = f"opening_hours rule {rule!r}: a range cannot start at 24:00"
            raise ValidationError(msg)
        out.append((start, end))
    return tuple(out)


def _days(text: str, rule: str) -> frozenset[int]:
    out: set[int] = set()
    for part in text.split(","):
        ends = [e.strip().lower() for e in part.split("-")]
        if len(ends) > 2 or any(e not in _DAY for e in ends):
            msg = f"opening_hours rule {rule!r}: unknown day or range {part.strip()!r}"
            raise ValidationError(msg)
        a, b = _DAY[ends[0]], _DAY[ends[-1]]
        out.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
    return frozenset(out)


@lru_cache(maxsize=1024)
def parse_hours(text: str) -> OpeningHours:
    """Parse an OSM ``opening_hours`` string of the supported subset.

    Parameters
    ----------
    text
        E.g. ``"Mo-Fr 08:00-17:00; Sa 10:00-14:00; PH off"``; ``""`` means unknown.

    Returns
    -------
    OpeningHours

    Raises
    ------
    ValidationError
        If the string uses syntax outside the subset (the message names the rule).
    """
    if not isinstance(text, str):
        msg = f"opening_hours must be a string, got {text!r}"
        raise ValidationError(msg)
    if not text.strip():
        return OpeningHours(text=text, rules=(), unknown=True)
    rules: list[Rule] = []
    week = frozenset(range(7))
    for raw in text.split(";"):
        rule = raw.strip()
        if not rule:
            continue
        if rule == "24/7":
            rules.append(Rule(week, False, ((0, _DAY_MIN),)))
            continue
        if rule.lower() in {"off", "closed"}:
            rules.append(Rule(week, False, ()))
            continue
        head, _, times = rule.partition(" ")
        # "Sa, Su 10:00-12:00": the day list may hold spaces after commas.
        while times and head.endswith(","):
            more, _, times = times.strip().partition(" ")
            head += more
        times = times.strip()
        if not times:
            if _TIME.match(head.split("-")[0].strip()) is not None:
                rules.append(Rule(week, False, _spans(head, rule)))  # "08:00-17:00": every day
                continue
            msg = f"opening_hours rule {rule!r}: no times (e.g. 'Mo-Fr 08:00-17:00')"
            raise ValidationError(msg)
        spans = _spans(times.replace(" ", ""), rule)
        parts = [p.strip() for p in head.split(",")]
        holiday = any(p.upper() == "PH" for p in parts)
        weekdays = [p for p in parts if p.upper() != "PH"]
        if holiday:
            rules.append(Rule(frozenset(), True, spans))
        if weekdays:
            rules.append(Rule(_days(",".join(weekdays), rule), False, spans))
    return OpeningHours(text=text, rules=tuple(rules))


def _zone(tz: str | ZoneInfo | timezone) -> ZoneInfo | timezone:
    if isinstance(tz, str):
        try:
            return ZoneInfo(tz)
        except (KeyError, ValueError) as e:
            msg = f"unknown time zone {tz!r}"
            raise ValidationError(msg) from e
    return tz


def _local(at: datetime, tz: str | ZoneInfo | timezone) -> datetime:
    if not isinstance(at, datetime) or at.tzinfo is None:
        msg = f"at must be a timezone-aware datetime, got {at!r}"
        raise ValidationError(msg)
    return at.astimezone(_zone(tz)).replace(tzinfo=None)


def open_intervals(hours: str | OpeningHours, first: date, last: date, *,
                   holidays: Container[date] = ()) -> list[tuple[datetime, datetime]]:
    """Return the open intervals, naive local wall-clock datetimes, from ``first`` to ``last``.

    Overnight spans spill into the next day; the spill of ``first - 1 day`` is included.
    Touching intervals are merged. Unknown hours give no intervals.
    """
    oh = hours if isinstance(hours, OpeningHours) else parse_hours(hours)
    if not any(rule.holiday for rule in oh.rules):
        # No PH rule: the calendar plays no part, and the same hours on the same days are
        # asked about by every search of the day.
        return list(_weekly_intervals(oh, first, last))
    return _intervals(oh, first, last, holidays)


@lru_cache(maxsize=4096)
def _weekly_intervals(oh: OpeningHours, first: date, last: date
                      ) -> tuple[tuple[datetime, datetime], ...]:
    return tuple(_intervals(oh, first, last, ()))


def _intervals(oh: OpeningHours, first: date, last: date, holidays: Container[date]
               ) -> list[tuple[datetime, datetime]]:
    raw: list[tuple[datetime, datetime]] = []
    day = first - timedelta(days=1)
    while day <= last:
        spans = oh.spans_on(day, holidays=holidays)
        midnight = datetime(day.year, day.month, day.day)
        for start, end in spans or ():
            stop = end if end > start else end + _DAY_MIN
            raw.append((midnight + timedelta(minutes=start), midnight + timedelta(minutes=stop)))
        day += timedelta(days=1)
    # An explicit "off" (or a PH rule) closes its whole date, the night-before spill included.
    closed_days = {d for d in _dates(first - timedelta(days=1), last)
                   if oh.spans_on(d, holidays=holidays) == ()}
    cut: list[tuple[datetime, datetime]] = []
    for a, b in raw:
        for d in sorted(closed_days):
            lo = datetime(d.year, d.month, d.day)
            hi = lo + timedelta(days=1)
            if a < lo < b:
                b = lo
            elif lo <= a < hi:
                a = min(b, hi)
        if a < b:
            cut.append((a, b))
    cut.sort()
    merged: list[tuple[datetime, datetime]] = []
    for a, b in cut:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


def _dates(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def is_open(hours: str | OpeningHours, at: datetime, *, tz: str | ZoneInfo | timezone,
            holidays: Container[date] = (), unknown_open: bool = False) -> bool:
    """Return whether a place is open at a moment.

    Parameters
    ----------
    hours
        OSM ``opening_hours`` string (or parsed); ``""`` means unknown.
    at
        Timezone-aware moment; converted to ``tz`` before comparing wall-clock times.
    tz
        The area's IANA time zone, e.g. ``"America/New_York"``.
    holidays
        Dates that are public holidays in the area (for ``PH`` rules).
    unknown_open
        What to answer for unknown hours (default: closed).

    Raises
    ------
    ValidationError
        If ``at`` is naive, ``tz`` unknown or ``hours`` malformed.
    """
    oh = hours if isinstance(hours, OpeningHours) else parse_hours(hours)
    local = _local(at, tz)
    if oh.unknown:
        return unknown_open
    return any(a <= local < b for a, b in open_intervals(oh, local.date(), local.date(),
                                                         holidays=holidays))


def _aware(local: datetime, zone: ZoneInfo | timezone) -> datetime:
    # Normalise through UTC so wall times in a DST gap land on a real instant.
    return local.replace(tzinfo=zone).astimezone(UTC).astimezone(zone)


def next_open(hours: str | OpeningHours, at: datetime, *, tz: str | ZoneInfo | timezone,
              holidays: Container[date] = (), horizon_days: int = 8) -> datetime | None:
    """Return the first moment at or after ``at`` when the place is open, in ``tz``.

    Returns ``at`` (converted to ``tz``) when it is open then; None when the hours are
    unknown or it does not open within ``horizon_days``.
    """
    oh = hours if isinstance(hours, OpeningHours) else parse_hours(hours)
    zone = _zone(tz)
    local = _local(at, zone)
    if oh.unknown:
        return None
    for a, b in open_intervals(oh, local.date(), local.date() + timedelta(days=horizon_days),
                               holidays=holidays):
        if a <= local < b:
            return at.astimezone(zone)
        if a > local:
            return _aware(a, zone)
    return None


def closes_at(hours: str | OpeningHours, at: datetime, *, tz: str | ZoneInfo | timezone,
              holidays: Container[date] = (), horizon_days: int = 8) -> datetime | None:
    """Return when the opening that holds ``at`` ends, in ``tz``.

    None when closed at ``at``, when the hours are unknown, or when it stays open beyond
    ``horizon_days`` (e.g. ``24/7``).
    """
    oh = hours if isinstance(hours, OpeningHours) else parse_hours(hours)
    zone = _zone(tz)
    local = _local(at, zone)
    if oh.unknown:
        return None
    last = local.date() + timedelta(days=horizon_days)
    for a, b in open_intervals(oh, local.date(), last, holidays=holidays):
        if a <= local < b:
            return None if b >= datetime(last.year, last.month, last.day) else _aware(b, zone)
    return None
