"""OSM ``opening_hours`` strings to and from Open Referral HSDS schedule rows."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from navigator.errors import ValidationError

#: OSM day abbreviations in week order, and the HSDS (RFC 5545) ``byday`` codes.
OSM_DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
HSDS_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_TIME = r"([01]\d|2[0-4]):([0-5]\d)"


def _clock(minutes: int) -> str:
    return f"{min(minutes, 23 * 60 + 59) // 60:02d}:{min(minutes, 23 * 60 + 59) % 60:02d}"


def schedule_rows(opening_hours: str) -> tuple[list[dict[str, str]], list[str]]:
    """Return HSDS schedule rows for an OSM ``opening_hours`` string, and what they leave out.

    The string is read with :func:`navigator.hours.parse_hours` (the one parser of our
    subset), so later rules override earlier ones exactly as when deciding "open now". The
    weekly result becomes one row per day group and time range: ``24/7`` is every day
    00:00-23:59; overnight ranges (``Mo-Su 17:00-08:00``) have ``closes_at`` before
    ``opens_at``. Public-holiday rules, and strings outside the subset, cannot be HSDS weekly
    rows: they are returned as left out, and callers keep the full string elsewhere.

    Returns
    -------
    rows, skipped
        Rows with ``freq``, ``byday``, ``opens_at``, ``closes_at`` (``HH:MM:SS``) and
        ``description``; the rules not expressed as rows.
    """
    from navigator.hours import parse_hours

    try:
        parsed = parse_hours(opening_hours)
    except ValidationError:
        return [], [opening_hours]
    week: dict[int, tuple[tuple[int, int], ...]] = {}
    skipped: list[str] = []
    for rule in parsed.rules:
        if rule.holiday:
            times = ",".join(f"{_clock(a)}-{_clock(b)}" for a, b in rule.spans)
            skipped.append(f"PH {times or 'off'}")
            continue
        for day in rule.days:
            week[day] = rule.spans
    if len(week) == 7 and set(week.values()) == {((0, 24 * 60),)}:
        return [{"freq": "WEEKLY", "byday": ",".join(HSDS_DAYS), "opens_at": "00:00:00",
                 "closes_at": "23:59:00", "description": "24/7"}], skipped
    groups: dict[tuple[tuple[int, int], ...], list[int]] = {}
    for day in sorted(week):
        if week[day]:
            groups.setdefault(week[day], []).append(day)
    rows: list[dict[str, str]] = []
    for spans, days in groups.items():
        times = ",".join(f"{_clock(a)}-{_clock(b)}" for a, b in spans)
        description = f"{_day_spec(days)} {times}"
        for a, b in spans:
            rows.append({"freq": "WEEKLY", "byday": ",".join(HSDS_DAYS[d] for d in days),
                         "opens_at": f"{_clock(a)}:00", "closes_at": f"{_clock(b)}:00",
                         "description": description})
    return rows, skipped


def _hhmm(value: object) -> str:
    text = str(value or "").strip()
    m = re.fullmatch(rf"{_TIME}(:[0-5]\d)?", text)
    if m is None:
        msg = f"HSDS schedule time {text!r} is not HH:MM or HH:MM:SS"
        raise ValidationError(msg)
    return text[:5]


def _day_spec(days: list[int]) -> str:
    parts: list[str] = []
    i = 0
    while i < len(days):
        j = i
        while j + 1 < len(days) and days[j + 1] == days[j] + 1:
            j += 1
        if j - i >= 2:
            parts.append(f"{OSM_DAYS[days[i]]}-{OSM_DAYS[days[j]]}")
        else:
            parts.extend(OSM_DAYS[d] for d in days[i:j + 1])
        i = j + 1
    return ",".join(parts)


def opening_hours_from_rows(rows: Iterable[Mapping[str, Any]]) -> str:
    """Return an OSM ``opening_hours`` string for HSDS schedule rows (weekly ones only).

    Rows with the same days are merged (``Mo 08:00-12:00,13:00-17:00``); a week of
    00:00-23:59 (or 24:00) is ``24/7``. Rows without ``opens_at``/``closes_at`` are ignored.

    Raises
    ------
    ValidationError
        If a row's day code or time is malformed.
    """
    spans: dict[tuple[int, ...], list[str]] = {}
    for row in rows:
        if not row.get("opens_at") or not row.get("closes_at"):
            continue
        if (row.get("freq") or "WEEKLY").upper() != "WEEKLY":
            continue
        codes = [c.strip().upper() for c in str(row.get("byday") or "").split(",") if c.strip()]
        try:
            # RFC 5545 allows a numeric prefix (1MO); HSDS weekly rows do not use it.
            days = sorted({HSDS_DAYS.index(c[-2:]) for c in codes}) or list(range(7))
        except ValueError as e:
            msg = f"HSDS schedule byday {row.get('byday')!r} holds an unknown day code"
            raise ValidationError(msg) from e
        span = f"{_hhmm(row['opens_at'])}-{_hhmm(row['closes_at'])}"
        spans.setdefault(tuple(days), [])
        if span not in spans[tuple(days)]:
            spans[tuple(days)].append(span)
    # Day groups with the same times become one rule (1.x packages give a row per weekday).
    merged: dict[tuple[str, ...], list[int]] = {}
    for day_group, times in spans.items():
        merged.setdefault(tuple(times), []).extend(day_group)
    spans = {tuple(sorted(set(days))): list(times) for times, days in merged.items()}
    if len(spans) == 1:
        (only_days, times), = spans.items()
        if only_days == tuple(range(7)) and times in (["00:00-23:59"], ["00:00-24:00"]):
            return "24/7"
    return "; ".join(f"{_day_spec(list(days))} {','.join(times)}"
                     for days, times in spans.items())
