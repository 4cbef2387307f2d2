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
_RULE = re.compile(rf"^(?P<days>[A-Za-z,\- ]+?)\s+(?P<times>{_TIME}-{_TIME}"
                   rf"(\s*,\s*{_TIME}-{_TIME})*)$")


def _days(spec: str, rule: str) -> list[int]:
    out: list[int] = []
    for part in spec.replace(" ", "").split(","):
        ends = part.split("-")
        try:
            idx = [OSM_DAYS.index(e.capitalize()) for e in ends]
        except ValueError as e:
            msg = f"opening_hours rule {rule!r}: unknown day in {part!r}"
            raise ValidationError(msg) from e
        if len(idx) == 1:
            out.append(idx[0])
        elif len(idx) == 2:
            a, b = idx
            out.extend(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
        else:
            msg = f"opening_hours rule {rule!r}: bad day range {part!r}"
            raise ValidationError(msg)
    return out


def schedule_rows(opening_hours: str) -> tuple[list[dict[str, str]], list[str]]:
    """Return HSDS schedule rows for an OSM ``opening_hours`` string, and the rules left out.

    Supported: ``24/7``, weekday rules such as ``Mo-Fr 08:00-17:00``, lists
    (``Sa,Su 09:00-12:00``), several time ranges (``Mo 08:00-12:00,13:00-17:00``) and
    overnight ranges (``Mo-Su 17:00-08:00``: ``closes_at`` before ``opens_at``). ``PH``
    (public holiday) rules and anything else are returned as left out; callers keep the full
    string elsewhere so nothing is lost.

    Returns
    -------
    rows, skipped
        Rows with ``freq``, ``byday``, ``opens_at``, ``closes_at`` (``HH:MM:SS``) and
        ``description``; the rules not expressed as rows.
    """
    rows: list[dict[str, str]] = []
    skipped: list[str] = []
    for rule in (r.strip() for r in opening_hours.split(";")):
        if not rule:
            continue
        if rule == "24/7":
            rows.append({"freq": "WEEKLY", "byday": ",".join(HSDS_DAYS),
                         "opens_at": "00:00:00", "closes_at": "23:59:00",
                         "description": "Open 24 hours, 7 days a week"})
            continue
        m = _RULE.match(rule)
        if m is None or m["days"].strip().upper().startswith("PH"):
            skipped.append(rule)
            continue
        byday = ",".join(HSDS_DAYS[d] for d in _days(m["days"], rule))
        for span in m["times"].split(","):
            opens, closes = (t.strip() for t in span.split("-"))
            rows.append({"freq": "WEEKLY", "byday": byday, "opens_at": f"{opens}:00",
                         "closes_at": f"{closes}:00", "description": rule})
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
    if len(spans) == 1:
        (only_days, times), = spans.items()
        if only_days == tuple(range(7)) and times in (["00:00-23:59"], ["00:00-24:00"]):
            return "24/7"
    return "; ".join(f"{_day_spec(list(days))} {','.join(times)}"
                     for days, times in spans.items())
