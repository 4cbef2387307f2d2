"""Opening hours: parsing, overnight spills, holidays, DST days, unknown hours."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import holidays as holidays_pkg
import pytest

from navigator.errors import ValidationError
from navigator.hours import closes_at, is_open, next_open, parse_hours

NY = ZoneInfo("America/New_York")
TZ = "America/New_York"
OH = holidays_pkg.country_holidays("US", subdiv="OH", years=range(2025, 2028))


def at(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=NY)


# 2026-03-02 is a Monday.
@pytest.mark.parametrize(("hours", "when", "expected"), [
    ("Mo-Fr 08:00-17:00; Sa 10:00-14:00", at(2026, 3, 2, 8), True),
    ("Mo-Fr 08:00-17:00; Sa 10:00-14:00", at(2026, 3, 2, 17), False),  # end exclusive
    ("Mo-Fr 08:00-17:00; Sa 10:00-14:00", at(2026, 3, 2, 7, 59), False),
    ("Mo-Fr 08:00-17:00; Sa 10:00-14:00", at(2026, 3, 7, 11), True),
    ("Mo-Fr 08:00-17:00; Sa 10:00-14:00", at(2026, 3, 8, 11), False),  # Sunday
    ("Mo-Fr 08:00-12:00,13:00-17:00", at(2026, 3, 3, 12, 30), False),
    ("Mo-Fr 08:00-12:00,13:00-17:00", at(2026, 3, 3, 13, 30), True),
    ("Mo-Fr 08:00-12:00, 13:00-17:00", at(2026, 3, 3, 13, 30), True),
    ("Sa, Su 10:00-12:00", at(2026, 3, 8, 11), True),
    ("24/7", at(2026, 3, 4, 3), True),
    ("off", at(2026, 3, 4, 12), False),
    ("Mo-Su 17:00-08:00", at(2026, 3, 4, 7, 59), True),  # spill from Tuesday night
    ("Mo-Su 17:00-08:00", at(2026, 3, 4, 8), False),
    ("Mo-Su 17:00-08:00", at(2026, 3, 4, 23), True),
    ("Mo-Su 17:00-08:00", at(2026, 3, 4, 12), False),
    ("Su 20:00-02:00", at(2026, 3, 9, 1), True),  # Sunday -> Monday wrap
    ("Su 20:00-02:00", at(2026, 3, 9, 2), False),
    ("Fr-Mo 10:00-12:00", at(2026, 3, 8, 11), True),  # wrapping day range
    ("Fr-Mo 10:00-12:00", at(2026, 3, 4, 11), False),
    ("Mo-Fr 08:00-24:00", at(2026, 3, 2, 23, 59), True),
    ("Mo-Fr 09:00-17:00; We off", at(2026, 3, 4, 10), False),  # later rule overrides
    ("08:00-17:00", at(2026, 3, 8, 9), True),  # no days: every day
])
def test_is_open(hours: str, when: datetime, expected: bool) -> None:
    assert is_open(hours, when, tz=TZ) is expected


def test_at_is_converted_to_area_time_zone() -> None:
    # 13:30 UTC is 08:30 in New York (EST, UTC-5) on a Monday.
    assert is_open("Mo-Fr 08:00-17:00", datetime(2026, 3, 2, 13, 30, tzinfo=UTC), tz=TZ)
    assert not is_open("Mo-Fr 08:00-17:00", datetime(2026, 3, 2, 12, 30, tzinfo=UTC), tz=TZ)


def test_public_holidays_with_us_ohio_calendar() -> None:
    christmas = at(2026, 12, 25, 10)  # a Friday
    assert date(2026, 12, 25) in OH
    assert not is_open("Mo-Fr 08:00-17:00; PH off", christmas, tz=TZ, holidays=OH)
    assert is_open("Mo-Fr 08:00-17:00; PH off", christmas, tz=TZ)  # no calendar given
    assert is_open("Mo-Fr 08:00-17:00; PH 10:00-14:00", christmas, tz=TZ, holidays=OH)
    assert not is_open("Mo-Fr 08:00-17:00; PH 10:00-14:00", at(2026, 12, 25, 15), tz=TZ,
                       holidays=OH)
    # A holiday rule opens a weekend holiday too (July 4th 2026 is a Saturday).
    assert is_open("Mo-Fr 08:00-17:00; PH 10:00-14:00", at(2026, 7, 4, 11), tz=TZ,
                   holidays=OH)
    # "off" closes the holiday's early morning too, spill from the night before included.
    assert not is_open("Mo-Su 17:00-08:00; PH off", at(2026, 12, 25, 6), tz=TZ, holidays=OH)
    assert is_open("Mo-Su 17:00-08:00; PH off", at(2026, 12, 26, 6), tz=TZ, holidays=OH) is False
    assert is_open("Mo-Su 17:00-08:00; PH off", at(2026, 12, 26, 18), tz=TZ, holidays=OH)


def test_dst_change_days() -> None:
    # 2026-03-08 02:00 EST -> 03:00 EDT; 2026-11-01 02:00 EDT -> 01:00 EST (both Sundays).
    spring = datetime(2026, 3, 8, 7, 30, tzinfo=UTC)  # 03:30 EDT
    assert is_open("Su 03:00-04:00", spring, tz=TZ)
    assert not is_open("Su 03:00-04:00", datetime(2026, 3, 8, 6, 30, tzinfo=UTC), tz=TZ)  # 01:30
    # A shelter opening at 02:30 (a wall time that does not exist) opens at 03:00 EDT.
    opened = next_open("Su 02:30-05:00", datetime(2026, 3, 8, 5, 0, tzinfo=UTC), tz=TZ)
    assert opened is not None
    assert opened.astimezone(UTC) == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    # Fall back: 01:30 happens twice, and both are open for 01:00-02:00.
    first = datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT
    second = datetime(2026, 11, 1, 6, 30, tzinfo=UTC)  # 01:30 EST
    assert is_open("Su 01:00-02:00", first, tz=TZ)
    assert is_open("Su 01:00-02:00", second, tz=TZ)
    # Overnight across the change: 17:00 Sat to 08:00 Sun EST is 16 real hours.
    close = closes_at("Mo-Su 17:00-08:00", datetime(2026, 11, 1, 4, 0, tzinfo=UTC), tz=TZ)
    assert close is not None
    assert close.astimezone(UTC) == datetime(2026, 11, 1, 13, 0, tzinfo=UTC)


def test_next_open_and_closes_at() -> None:
    hours = "Mo-Fr 08:00-17:00; PH off"
    friday_evening = at(2026, 12, 24, 18)  # Thursday; Friday is Christmas
    nxt = next_open(hours, friday_evening, tz=TZ, holidays=OH)
    assert nxt == at(2026, 12, 28, 8)
    assert nxt is not None and nxt.tzinfo is not None
    assert next_open(hours, at(2026, 3, 2, 9), tz=TZ) == at(2026, 3, 2, 9)
    assert closes_at(hours, at(2026, 3, 2, 9), tz=TZ) == at(2026, 3, 2, 17)
    assert closes_at(hours, at(2026, 3, 2, 18), tz=TZ) is None
    assert closes_at("24/7", at(2026, 3, 2, 18), tz=TZ) is None
    assert closes_at("Mo-Su 17:00-08:00", at(2026, 3, 2, 18), tz=TZ) == at(2026, 3, 3, 8)
    assert next_open("off", at(2026, 3, 2, 18), tz=TZ) is None


def test_unknown_hours() -> None:
    assert parse_hours("").unknown
    assert not is_open("", at(2026, 3, 2, 12), tz=TZ)
    assert is_open("  ", at(2026, 3, 2, 12), tz=TZ, unknown_open=True)
    assert next_open("", at(2026, 3, 2, 12), tz=TZ) is None


@pytest.mark.parametrize("bad", ["Mo-Fx 08:00-17:00", "Mo-Fr 8-17", "Mo-Fr 08:00-25:00",
                                 "Mo-Fr", "Mo-Fr 24:00-08:00", "sunrise-sunset"])
def test_malformed_hours_raise(bad: str) -> None:
    with pytest.raises(ValidationError, match="opening_hours"):
        parse_hours(bad)


def test_naive_datetime_and_unknown_zone_raise() -> None:
    with pytest.raises(ValidationError, match="timezone-aware"):
        is_open("24/7", datetime(2026, 3, 2, 12), tz=TZ)
    with pytest.raises(ValidationError, match="time zone"):
        is_open("24/7", at(2026, 3, 2, 12), tz="Mars/Olympus")


def test_parsed_rules_for_schedule_reuse() -> None:
    oh = parse_hours("Mo-Fr 08:00-12:00,13:00-17:00; PH off")
    assert [(sorted(r.days), r.holiday, r.spans) for r in oh.rules] == [
        ([0, 1, 2, 3, 4], False, ((480, 720), (780, 1020))), ([], True, ())]


def test_intervals_kept_for_weekly_hours_are_never_shared_with_holiday_rules() -> None:
    from navigator.hours import open_intervals

    christmas = date(2026, 12, 25)  # a Friday
    weekly, with_ph = "Mo-Fr 08:00-17:00", "Mo-Fr 08:00-17:00; PH off"
    first = open_intervals(weekly, christmas, christmas, holidays=OH)
    eve = (datetime(2026, 12, 24, 8), datetime(2026, 12, 24, 17))  # the day before counts too
    assert first == [eve, (datetime(2026, 12, 25, 8), datetime(2026, 12, 25, 17))]
    again = open_intervals(weekly, christmas, christmas)
    assert again == first and again is not first  # a copy each time: callers may change it
    again.clear()
    assert open_intervals(weekly, christmas, christmas, holidays=OH) == first
    # a PH rule asks the calendar every time: another calendar, another answer
    assert open_intervals(with_ph, christmas, christmas, holidays=OH) == [eve]
    assert open_intervals(with_ph, christmas, christmas, holidays=()) == first
    assert is_open(with_ph, at(2026, 12, 25, 9), tz=TZ, holidays=OH) is False
    assert is_open(weekly, at(2026, 12, 25, 9), tz=TZ, holidays=OH) is True
