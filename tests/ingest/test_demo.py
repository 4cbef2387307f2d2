from __future__ import annotations

import dataclasses
import json
from datetime import datetime

import pytest
from shapely.geometry import Point, box

from navigator.demo.bundle import LOCAL_LANGUAGES, demo_bundle
from navigator.errors import ValidationError
from navigator.exchange.area import columbus_area
from navigator.exchange.osm_pois import distance_m
from navigator.model import BedType, Bundle, ResourceKind, TeamStatus
from navigator.roads import area_timezone
from tests.ingest.conftest import NOW


def _serialised(bundle: Bundle) -> str:
    def default(value: object) -> object:
        if isinstance(value, datetime):
            return value.isoformat()
        if hasattr(value, "wkt"):
            return value.wkt
        return str(value)

    return json.dumps(dataclasses.asdict(bundle), default=default, sort_keys=True)


def test_same_seed_gives_identical_output(demo):
    again = demo_bundle(seed=2026, now=NOW)
    assert _serialised(again) == _serialised(demo)
    other = demo_bundle(seed=7, now=NOW)
    assert _serialised(other) != _serialised(demo)
    # Real records do not depend on the seed.
    real = {r.id: r for r in demo.resources if not r.synthetic}
    assert real == {r.id: r for r in other.resources if not r.synthetic}


def test_every_coordinate_lies_in_the_area(demo):
    area = columbus_area()
    points = [(r.lon, r.lat) for r in demo.resources]
    points += [(r.meeting_point_lon, r.meeting_point_lat) for r in demo.resources
               if r.meeting_point_lon is not None]
    points += [(t.lon, t.lat) for t in demo.teams] + [(i.lon, i.lat) for i in demo.incidents]
    assert all(area.covers(Point(p)) for p in points)


def test_counts(demo):
    kinds = {k: sum(r.kind is k for r in demo.resources) for k in ResourceKind}
    assert kinds[ResourceKind.SHELTER] == 8 + 1  # eight real, one synthetic DV site
    assert kinds[ResourceKind.CRISIS_UNIT] == 2
    assert kinds[ResourceKind.HOSPITAL] >= 29
    assert len(demo.teams) == 12
    assert len(demo.incidents) == 6
    assert all(i.status == "open" for i in demo.incidents)
    statuses = [t.status for t in demo.teams]
    assert statuses.count(TeamStatus.AVAILABLE) >= 8


def test_every_synthetic_value_is_flagged(demo):
    for r in demo.resources:
        if r.beds or (r.opening_hours and r.source.startswith("City of Columbus")):
            assert r.synthetic, r.id
            assert "synthetic (seed 2026)" in r.source, r.id
        if not r.synthetic:
            # Untouched real records: no beds, hours or languages beyond the default.
            assert not r.beds and r.languages == ("en",), r.id
            assert r.source.startswith(("City of Columbus POI", "OSM ")), r.id
    assert all(t.synthetic and "synthetic" in t.source for t in demo.teams)
    assert all(i.synthetic and "synthetic" in i.notes for i in demo.incidents)
    for h in demo.hotlines:
        assert h.synthetic is (h.id != "988-lifeline")
        assert h.synthetic == ("(demo)" in h.name)


def test_988_is_real_and_nationwide(demo):
    (lifeline,) = [h for h in demo.hotlines if h.phone == "988"]
    assert lifeline.area is None and not lifeline.synthetic
    assert lifeline.source == "988lifeline.org"
    assert set(lifeline.channels) == {"call", "text", "chat"}
    assert lifeline.opening_hours == "24/7" and set(lifeline.languages) == {"en", "es"}


def test_local_hotlines_cover_franklin_county(demo):
    local = [h for h in demo.hotlines if h.area is not None]
    assert len(local) >= 3
    downtown = Point(-82.9988, 39.9612)
    assert all(h.area.covers(downtown) for h in local)
    assert all(not h.area.covers(Point(-83.5, 39.96)) for h in local)  # Madison County
    assert any("so" in h.languages and h.opening_hours != "24/7" for h in local)


def test_exactly_one_confidential_site(demo):
    (dv,) = [r for r in demo.resources if r.confidential]
    assert dv.synthetic and "not a real shelter" in dv.source
    assert dv.beds == (dv.beds[0],) and dv.beds[0].bed_type is BedType.DV
    assert dv.intake_phone and not dv.address and not dv.phone
    assert distance_m(dv.lon, dv.lat, dv.meeting_point_lon, dv.meeting_point_lat) >= 500


def test_shelter_profiles_fit_the_places(demo):
    by_id = {r.id: r for r in demo.resources}
    ywca_family = by_id["columbus-poi-5797639"]
    assert {b.bed_type for b in ywca_family.beds} == {BedType.FAMILIES}
    faith_men = by_id["columbus-poi-5797659"]
    assert {b.bed_type for b in faith_men.beds} == {BedType.SINGLE_MEN}
    assert faith_men.eligibility.genders == ("male",)
    van_buren = by_id["columbus-poi-5790296"]
    assert {b.bed_type for b in van_buren.beds} == {BedType.SINGLE_MEN, BedType.SINGLE_WOMEN}
    hours = [r.opening_hours for r in demo.resources if r.kind is ResourceKind.SHELTER]
    assert hours.count("24/7") >= 6 and "Mo-Su 19:00-07:00" in hours
    assert any(b.bed_type is BedType.YOUTH for r in demo.resources for b in r.beds)
    langs = {lang for r in demo.resources for lang in r.languages}
    assert set(LOCAL_LANGUAGES) <= langs


def test_care_sites(demo):
    hospitals = [r for r in demo.resources if r.kind is ResourceKind.HOSPITAL]
    er = [r for r in hospitals if "emergency" in r.services]
    assert er and all(r.opening_hours == "24/7" and r.walk_in for r in er)
    clinics = [r for r in demo.resources if r.kind is ResourceKind.CLINIC]
    assert all(r.opening_hours for r in clinics)
    assert any("PH off" in r.opening_hours for r in clinics)
    # The city's YES flags survive enrichment.
    all_seasons = next(r for r in clinics if r.id == "columbus-poi-5787841")
    assert {"womens_health", "pediatrics", "primary_care"} <= set(all_seasons.services)


def test_teams_are_based_at_real_stations_with_shifts_around_now(demo):
    bases = {r.id: r for r in demo.resources if r.kind is ResourceKind.TEAM_BASE}
    for t in demo.teams:
        assert t.base_id in bases and not bases[t.base_id].synthetic
        assert t.shift_start.utcoffset() is not None
        assert t.shift_start < NOW
    on_duty = [t for t in demo.teams if t.status is not TeamStatus.OFF_DUTY]
    assert all(t.shift_end > NOW for t in on_duty)
    ending_soon = [t for t in on_duty if (t.shift_end - NOW).total_seconds() < 3600]
    assert len(ending_soon) == 2
    skills = {s for t in demo.teams for s in t.skills}
    assert {"clinician", "peer_support"} <= skills


def test_notes_say_what_is_real_and_clipped(demo):
    text = " ".join(demo.notes)
    assert "clipped" in text and "synthetic" in text and "duplicate" in text


def test_timezone_comes_from_the_place():
    assert area_timezone(-82.99, 39.96) == "America/New_York"
    assert area_timezone(-122.3, 37.8) == "America/Los_Angeles"


def test_smaller_area_is_respected():
    area = box(-83.05, 39.93, -82.95, 40.01)
    bundle = demo_bundle(seed=1, now=NOW, area=area)
    assert all(area.covers(Point(r.lon, r.lat)) for r in bundle.resources)
    assert all(area.covers(Point(t.lon, t.lat)) for t in bundle.teams)
    assert all(area.covers(Point(i.lon, i.lat)) for i in bundle.incidents)


def test_naive_now_is_refused():
    with pytest.raises(ValidationError, match="timezone-aware"):
        demo_bundle(now=datetime(2026, 3, 2, 21, 30))
