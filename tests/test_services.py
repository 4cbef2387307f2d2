"""Decision services end to end on the Columbus demo, on the GeoPackage and PostGIS stores."""

from __future__ import annotations

import itertools
import json
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from servicehelpers import *  # noqa: F403  (fixtures)
from servicehelpers import CLIENT, NOW
from shapely.geometry import Point

from navigator import services as sv
from navigator.errors import ConflictError, NoAvailableResourceError, ValidationError
from navigator.model import AssignmentStatus, BedType, Bundle, HoldStatus, TeamStatus
from navigator.roads import point_travel_time_matrix, snap_to_edges

LON, LAT = CLIENT


def _dv(demo: Bundle) -> Any:
    return next(r for r in demo.resources if r.confidential)


def _shelters_with(demo: Bundle, bed_type: BedType) -> list[Any]:
    return [r for r in demo.resources if any(b.bed_type == bed_type for b in r.beds)]


def test_find_beds_ranks_open_free_beds_by_road_time(store, columbus_graph, settings, area) -> None:
    result = sv.find_beds(store, columbus_graph, settings, lon=LON, lat=LAT,
                          needs={"bed_type": "single_men", "gender": "male", "age": 40},
                          at=NOW, k=3, actor="cw1", area=area)
    assert result.matches
    etas = [m.eta_s for m in result.matches]
    assert etas == sorted(etas)
    client = snap_to_edges(columbus_graph, [LON], [LAT])
    for m in result.matches:
        assert m.open_now and m.free_beds and m.free_beds > 0 and m.reason == "match"
        site = snap_to_edges(columbus_graph, [m.lon], [m.lat])
        assert m.eta_s == pytest.approx(
            float(point_travel_time_matrix(columbus_graph, client, site)[0, 0]))
        assert m.route is not None and m.route.travel_time_s == pytest.approx(m.eta_s)
        assert m.route.geometry.coords[0] == pytest.approx((client.lon[0], client.lat[0]))
        assert m.route.geometry.coords[-1] == pytest.approx((site.lon[0], site.lat[0]))
        assert m.distance_m == pytest.approx(m.route.length_m)
    json.dumps(result.to_dict(), allow_nan=False)
    entry = store.audit_log(limit=1, action="find_bed")[0]
    assert entry.actor == "cw1" and entry.inputs["needs"]["bed_type"] == "single_men"
    assert entry.result["candidates"][0]["resource_id"] == result.matches[0].resource_id


def test_no_bed_gives_message_and_alternatives(store, columbus_graph, settings, area, demo) -> None:
    for r in _shelters_with(demo, BedType.YOUTH):
        cap = next(b.capacity for b in r.beds if b.bed_type == BedType.YOUTH)
        store.set_beds(r.id, BedType.YOUTH, capacity=cap, free=0, actor="test")
    with pytest.raises(NoAvailableResourceError,
                       match="no open bed of type youth within 30 minutes") as e:
        sv.find_beds(store, columbus_graph, settings, lon=LON, lat=LAT, needs={"bed_type": "youth"},
                     at=NOW, actor="cw1", area=area)
    assert e.value.alternatives
    assert {a.reason for a in e.value.alternatives} <= {"other_bed_type", "closed",
                                                        "beyond_limit"}
    assert store.audit_log(limit=1, action="find_bed")[0].result["message"].startswith("no ")


def test_closed_now_but_opening_soon_is_an_alternative(store, columbus_graph, settings, area,
                                                       demo) -> None:
    night = [r for r in _shelters_with(demo, BedType.SINGLE_MEN) if r.opening_hours != "24/7"]
    assert night  # the demo has night-only men's shelters
    for r in _shelters_with(demo, BedType.SINGLE_MEN):
        cap = next(b.capacity for b in r.beds if b.bed_type == BedType.SINGLE_MEN)
        free = 5 if r in night else 0
        store.set_beds(r.id, BedType.SINGLE_MEN, capacity=cap, free=free, actor="test")
    with pytest.raises(NoAvailableResourceError) as e:
        sv.find_beds(store, columbus_graph, settings, lon=LON, lat=LAT,
                     needs={"bed_type": "single_men"}, at=NOW, actor="cw1", area=area,
                     max_time_s=3600.0)
    closed = [a for a in e.value.alternatives if a.reason == "closed"]
    assert closed and all(a.opens_at is not None and a.opens_at > NOW for a in closed)
    # Later that evening they are open and found.
    late = NOW.replace(hour=21)
    found = sv.find_beds(store, columbus_graph, settings, lon=LON, lat=LAT,
                         needs={"bed_type": "single_men"}, at=late, actor="cw1", area=area,
                         max_time_s=3600.0)
    assert {m.resource_id for m in found.matches} <= {r.id for r in night}


def _leaks(text: str, dv: Any) -> list[str]:
    """Return the DV site's address, or any lon/lat pair within ~20 m of it, found in text."""
    found = [dv.address] if dv.address and dv.address in text else []
    numbers = [float(x) for x in re.findall(r"-?\d+\.\d+", text)]
    for x, y in itertools.pairwise(numbers):
        if abs(x - dv.lon) < 2e-4 and abs(y - dv.lat) < 2e-4:
            found.append(f"{x}, {y}")
    return found


def test_confidential_site_hidden_without_access(store, columbus_graph, settings, area,
                                                  demo) -> None:
    dv = _dv(demo)
    result = sv.find_beds(store, columbus_graph, settings, lon=LON, lat=LAT,
                          needs={"bed_type": "dv"}, at=NOW, actor="cw1", area=area,
                          can_see_confidential=False)
    m = result.matches[0]
    assert m.resource_id == dv.id and m.at_meeting_point and m.address == ""
    assert (m.lon, m.lat) == (dv.meeting_point_lon, dv.meeting_point_lat)
    assert m.phone == dv.intake_phone
    meeting = snap_to_edges(columbus_graph, [dv.meeting_point_lon], [dv.meeting_point_lat])
    assert m.route is not None
    assert m.route.geometry.coords[-1] == pytest.approx((meeting.lon[0], meeting.lat[0]))
    dv_at = snap_to_edges(columbus_graph, [dv.lon], [dv.lat])
    assert (int(dv_at.edge[0]) not in m.route.edges.tolist()
            or int(dv_at.edge[0]) == int(meeting.edge[0]))
    texts = [json.dumps(result.to_dict()), repr(result)]
    for entry in store.audit_log(limit=5):
        texts.append(json.dumps({"i": entry.inputs, "r": entry.result}))
    for text in texts:
        assert _leaks(text, dv) == []
    # Roles with access see the site itself.
    seen = sv.find_beds(store, columbus_graph, settings, lon=LON, lat=LAT, needs={"bed_type": "dv"},
                        at=NOW, actor="advocate", area=area, can_see_confidential=True)
    assert (seen.matches[0].lon, seen.matches[0].lat) == (dv.lon, dv.lat)


def test_find_services_walk_in_psychiatric(store, columbus_graph, settings, area) -> None:
    result = sv.find_services(store, columbus_graph, settings, lon=LON, lat=LAT,
                              needs={"service": "psychiatric", "walk_in": True}, at=NOW,
                              actor="cw1", area=area)
    assert result.matches
    for m in result.matches:
        assert "psychiatric" in m.services and m.walk_in and m.open_now
        assert m.kind in {"clinic", "hospital", "crisis_unit"}
    units = sv.find_services(store, columbus_graph, settings, lon=LON, lat=LAT,
                             needs={"kinds": ["crisis_unit"]}, at=NOW, actor="cw1", area=area)
    assert {m.kind for m in units.matches} == {"crisis_unit"}
    assert store.audit_log(limit=1)[0].action == "find_service"


def test_hotlines_local_first_and_988_always(store, settings, demo) -> None:
    lines = sv.hotlines_for(store, settings, lon=LON, lat=LAT, at=NOW, actor="cw1")
    assert lines[-1].phone == "988" and lines[-1].national
    assert any(not h.national for h in lines)
    # A language no line speaks still gets the 988 fallback.
    only = sv.hotlines_for(store, settings, lon=LON, lat=LAT, at=NOW, language="zz",
                           actor="cw1")
    assert [h.phone for h in only] == ["988"] and only[0].fallback
    # Outside the county only national lines serve.
    far = sv.hotlines_for(store, settings, lon=-80.0, lat=40.44, at=NOW, actor="cw1")
    assert all(h.national for h in far)
    local = [h for h in demo.hotlines if h.area is not None]
    assert all(h.area.covers(Point(LON, LAT)) for h in local[:1])


def test_hotlines_with_an_empty_store_synthesize_988(tmp_path, settings) -> None:
    from navigator.store import open_store

    empty = open_store(str(tmp_path / "empty.gpkg"))
    try:
        lines = sv.hotlines_for(empty, settings, lon=LON, lat=LAT, at=NOW, actor="cw1")
    finally:
        empty.close()
    assert len(lines) == 1
    line = lines[0]
    assert (line.phone, line.text_number, line.chat_url, line.fallback) == (
        "988", "988", "https://988lifeline.org/chat", True)
    assert line.languages == ("en", "es") and line.opening_hours == "24/7"


def test_hold_confirm_release_and_idempotency(store, settings, demo) -> None:
    shelter = next(r for r in _shelters_with(demo, BedType.SINGLE_WOMEN)
                   if any(b.free for b in r.beds if b.bed_type == BedType.SINGLE_WOMEN))
    h1 = sv.hold_bed(store, settings, resource_id=shelter.id, bed_type="single_women",
                     actor="cw1", idempotency_key="k1", now=NOW)
    again = sv.hold_bed(store, settings, resource_id=shelter.id, bed_type="single_women",
                        actor="cw1", idempotency_key="k1", now=NOW)
    assert again.id == h1.id
    assert h1.expires_at - h1.created_at == timedelta(seconds=settings.hold_ttl_s)
    confirmed = sv.confirm_hold(store, hold_id=h1.id, actor="cw1", now=NOW)
    assert confirmed.status is HoldStatus.CONFIRMED
    h2 = sv.hold_bed(store, settings, resource_id=shelter.id, bed_type="single_women",
                     actor="cw1", now=NOW)
    assert sv.release_hold(store, hold_id=h2.id, actor="cw1", now=NOW).status is HoldStatus.RELEASED
    with pytest.raises(ConflictError):
        sv.release_hold(store, hold_id=h2.id, actor="cw1", now=NOW)
    with pytest.raises(ValidationError):
        sv.hold_bed(store, settings, resource_id=shelter.id, bed_type="suite", actor="cw1")


def test_rank_teams_by_eta_to_the_incident(store, columbus_graph, settings, area) -> None:
    inc = store.incidents().iloc[0]
    ranking = sv.rank_teams(store, columbus_graph, settings, incident_id=inc["id"], at=NOW,
                            actor="d1", area=area, k=20)
    assert ranking.options
    spot = snap_to_edges(columbus_graph, [inc.geometry.x], [inc.geometry.y])
    teams = store.teams().set_index("id")
    for o in ranking.options:
        t = teams.loc[o.team_id]
        assert t["status"] == "available"
        at = snap_to_edges(columbus_graph, [t.geometry.x], [t.geometry.y])
        assert o.eta_s == pytest.approx(
            float(point_travel_time_matrix(columbus_graph, at, spot)[0, 0]))
        assert o.fits_skills and o.fits_language
        assert o.route is not None and o.route.travel_time_s == pytest.approx(o.eta_s)
        assert o.route.geometry.coords[0] == pytest.approx((at.lon[0], at.lat[0]))
        assert o.route.geometry.coords[-1] == pytest.approx((spot.lon[0], spot.lat[0]))
        assert o.meets_target == (o.eta_s <= settings.response_target_s)
        assert 0.0 <= o.uncovered_share <= 1.0
    ok = [o.score_s for o in ranking.options if o.shift_ok]
    assert ok == sorted(ok)
    json.dumps(ranking.to_dict(), allow_nan=False)
    assert store.audit_log(limit=1)[0].action == "rank_teams"
    more = sv.rank_teams(store, columbus_graph, settings, incident_id=inc["id"], at=NOW, actor="d1",
                         area=area, k=20, include_returning=True, skill_policy="penalty")
    assert len(more.options) > len(ranking.options)
    assert "returning" in {o.status for o in more.options}


def test_rank_teams_shift_end_and_coverage(store, columbus_graph, settings) -> None:
    from navigator.services import area_context

    inc = store.incidents().iloc[0]["id"]
    late = NOW + timedelta(hours=7)  # some demo shifts end within the hour
    flagged = sv.rank_teams(store, columbus_graph, settings, incident_id=inc, at=late,
                            actor="d1", k=20, skill_policy="penalty")
    shift = [o.shift_ok for o in flagged.options]
    assert False in shift and shift == sorted(shift, reverse=True)  # short shifts last
    kept = sv.rank_teams(store, columbus_graph, settings, incident_id=inc, at=late,
                         actor="d1", k=20, skill_policy="penalty", exclude_short_shift=True)
    assert all(o.shift_ok for o in kept.options)
    # A tight target makes departures matter; preferring coverage keeps ETAs in tolerance.
    tight = area_context(columbus_graph, settings.__class__(cache_dir=settings.cache_dir,
                                                   response_target_s=240.0))
    base = sv.rank_teams(store, columbus_graph, settings, incident_id=inc, at=NOW, actor="d1", k=20,
                         area=tight, skill_policy="penalty")
    assert any(o.coverage_loss > 0 for o in base.options)
    pref = sv.rank_teams(store, columbus_graph, settings, incident_id=inc, at=NOW, actor="d1", k=20,
                         area=tight, skill_policy="penalty", prefer_coverage=True,
                         tolerance_s=600.0)
    assert pref.options[0].score_s <= base.options[0].score_s + 600.0
    assert pref.options[0].coverage_loss <= base.options[0].coverage_loss


def test_assign_lifecycle_and_conflict(store, columbus_graph, settings, area) -> None:
    inc = store.incidents().iloc[0]["id"]
    best = sv.rank_teams(store, columbus_graph, settings, incident_id=inc, at=NOW, actor="d1",
                         area=area).options[0]
    a = sv.assign_team(store, columbus_graph, settings, incident_id=inc, team_id=best.team_id,
                       actor="d1")
    assert a.eta_s == pytest.approx(best.eta_s)
    assert store.team(best.team_id).status is TeamStatus.EN_ROUTE
    other = store.incidents(statuses=["open"]).iloc[0]["id"]
    with pytest.raises(ConflictError):
        sv.assign_team(store, columbus_graph, settings, incident_id=other, team_id=best.team_id,
                       actor="d2")
    assert sv.update_team(store, team_id=best.team_id, actor="d1",
                          status="on_scene").status is TeamStatus.ON_SCENE
    done = sv.finish_assignment(store, assignment_id=a.id, actor="d1")
    assert done.status is AssignmentStatus.COMPLETED
    assert store.team(best.team_id).status is TeamStatus.RETURNING


@pytest.mark.parametrize("objective", ["total", "bottleneck"])
def test_plan_batch_optimal_not_worse_than_greedy(store, columbus_graph, settings,
                                                  objective) -> None:
    plan = sv.plan_batch(store, columbus_graph, settings, actor="d1", objective=objective,
                         skill_policy="penalty")
    opt, greedy = plan.optimal, plan.greedy
    assert len(opt.pairs) >= len(greedy.pairs)
    if len(opt.pairs) == len(greedy.pairs):
        key = "weighted_total_s" if objective == "total" else "worst_s"
        assert getattr(opt, key) <= getattr(greedy, key) + 1e-9
    teams = [t for t, _, _ in opt.pairs]
    assert len(teams) == len(set(teams))
    assert np.isfinite([e for _, _, e in opt.pairs]).all()
    json.dumps(plan.to_dict(), allow_nan=False)
    assert store.audit_log(limit=1)[0].action == "plan_batch"


@pytest.mark.postgis
@pytest.mark.parametrize("backend", ["postgis"], indirect=True)
def test_parallel_holds_and_assignments_on_postgis(store, columbus_graph, settings, demo) -> None:
    shelter = _shelters_with(demo, BedType.FAMILIES)[0]
    store.set_beds(shelter.id, BedType.FAMILIES, capacity=50, free=10, actor="test")

    def hold(i: int) -> str:
        try:
            sv.hold_bed(store, settings, resource_id=shelter.id, bed_type="families",
                        actor=f"cw{i}")
            return "ok"
        except ConflictError:
            return "conflict"

    with ThreadPoolExecutor(max_workers=50) as pool:
        outcomes = list(pool.map(hold, range(50)))
    assert outcomes.count("ok") == 10 and outcomes.count("conflict") == 40
    assert int(store.beds([shelter.id]).query("bed_type == 'families'")["free"].iloc[0]) == 0

    team = store.teams(statuses=[TeamStatus.AVAILABLE]).iloc[0]["id"]
    incidents = store.incidents(statuses=["open"])["id"].tolist()

    def assign(i: int) -> str:
        try:
            sv.assign_team(store, columbus_graph, settings,
                           incident_id=incidents[i % len(incidents)], team_id=team,
                           actor=f"d{i}")
            return "ok"
        except ConflictError:
            return "conflict"

    with ThreadPoolExecutor(max_workers=12) as pool:
        outcomes = list(pool.map(assign, range(12)))
    assert outcomes.count("ok") == 1


def test_unknown_area_lines_never_answer_and_988_leads_in_a_crisis(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from navigator import services
    from navigator.config import Settings
    from navigator.model import AREA_UNKNOWN_PREFIX, Bundle, Channel, Hotline
    from navigator.store import open_store

    store = open_store(str(tmp_path / "lines.gpkg"))
    laundry = Hotline(id="laundry", name="Suds Laundry", phone="614-555-0199",
                      channels=(Channel.CALL,), languages=("en",), opening_hours="",
                      area=None, source=AREA_UNKNOWN_PREFIX + "HSDS import")
    local = Hotline(id="local", name="County Crisis Line", phone="614-555-0101",
                    channels=(Channel.CALL,), languages=("en",), opening_hours="24/7",
                    area=None, source="county")
    store.load(Bundle(hotlines=(laundry, local)), actor="test", replace=True)
    settings = Settings(store_url=str(tmp_path / "lines.gpkg"))
    found = services.hotlines_for(store, settings, lon=-82.99, lat=39.96, actor="t")
    assert "laundry" not in [m.hotline_id for m in found]
    assert [m.phone for m in found][-1] == "988"
    crisis = services.hotlines_for(store, settings, lon=-82.99, lat=39.96, actor="t",
                                   crisis=True)
    assert crisis[0].phone == "988" and "laundry" not in [m.hotline_id for m in crisis]
    store.close()


# -- live positions, nothing fits, overrides ---------------------------------------------------
def test_report_positions_moves_the_team_and_ranking_uses_it(store, columbus_graph, settings,
                                                              area) -> None:
    from navigator.errors import NotFoundError, UnreachableError
    from navigator.model import PositionPing

    inc = store.incidents(statuses=["open"]).iloc[0]
    team = store.teams(statuses=["available"]).iloc[0]["id"]
    at = NOW + timedelta(minutes=1)
    here = PositionPing(float(inc.geometry.x), float(inc.geometry.y), at)
    done = sv.report_positions(store, columbus_graph, settings, team_id=team, actor="gps",
                               pings=[PositionPing(LON, LAT, NOW), here], at=at)
    assert done.applied and done.team.position_at == at
    assert (done.team.lon, done.team.lat) == (here.lon, here.lat)
    # the team now stands at the incident: ranked first, fresh at ranking time, stale later
    fresh = sv.rank_teams(store, columbus_graph, settings, incident_id=inc["id"], actor="d1",
                          at=at + timedelta(minutes=2), area=area, skill_policy="penalty", k=3)
    first = fresh.options[0]
    assert first.team_id == team and first.eta_s < 60
    assert first.position_age_s == pytest.approx(120) and not first.position_stale
    later = sv.rank_teams(store, columbus_graph, settings, incident_id=inc["id"], actor="d1",
                          at=at + timedelta(minutes=settings.stale_position_min + 1), area=area,
                          skill_policy="penalty", k=3)
    assert later.options[0].position_stale and "stale position" in later.message
    assert later.options[0].eta_s == pytest.approx(first.eta_s)  # still from the latest fix
    before = store.audit_log(limit=1)[0].id
    for bad, err in ((PositionPing(LON, LAT, at + timedelta(hours=1)), ValidationError),
                     (PositionPing(-100.0, 30.0, at + timedelta(seconds=5)), UnreachableError),
                     (PositionPing(LAT, LON, at + timedelta(seconds=5)), Exception)):
        with pytest.raises(err):
            sv.report_positions(store, columbus_graph, settings, team_id=team, actor="gps",
                                pings=[here, bad], at=at)
    with pytest.raises(NotFoundError):
        sv.report_positions(store, columbus_graph, settings, team_id="no-such-team",
                            actor="gps", pings=[here], at=at)
    assert store.audit_log(limit=1)[0].id == before
    assert store.team(team) == done.team


def test_nothing_fits_ranks_nearest_with_what_they_lack(store, columbus_graph, settings,
                                                        area) -> None:
    from navigator.model import CrisisType, Incident

    inc = Incident(id="inc-nofit", lon=LON, lat=LAT, crisis_type=CrisisType.YOUTH, priority=1,
                   needed_skills=("telepathy",), needed_languages=("tlh",))
    sv.add_incident(store, columbus_graph, settings, inc, actor="d1")
    ranking = sv.rank_teams(store, columbus_graph, settings, incident_id=inc.id, at=NOW,
                            actor="d1", area=area, k=3)
    assert ranking.nothing_fits and len(ranking.options) == 3
    assert "what each lacks" in ranking.message
    etas = [o.eta_s for o in ranking.options]
    assert etas == sorted(etas)
    for o in ranking.options:
        assert o.missing_skills == ("telepathy",) and o.missing_languages == ("tlh",)
        assert not o.fits_skills and not o.fits_language and o.route is not None
    json.dumps(ranking.to_dict(), allow_nan=False)
    team = ranking.options[0].team_id
    with pytest.raises(ConflictError, match=r"lacks skill telepathy, language \(tlh\)"):
        sv.assign_team(store, columbus_graph, settings, incident_id=inc.id, team_id=team,
                       actor="d1")
    with pytest.raises(ConflictError, match="override reason"):
        sv.assign_team(store, columbus_graph, settings, incident_id=inc.id, team_id=team,
                       actor="d1", override_reason="   ")
    assert store.incident(inc.id).status == "open"
    a = sv.assign_team(store, columbus_graph, settings, incident_id=inc.id, team_id=team,
                       actor="d1", override_reason="nearest team; interpreter by phone")
    assert a.override_reason == "nearest team; interpreter by phone"
    entry = store.audit_log(limit=1, action="assign_team")[0]
    assert entry.inputs["override_reason"] == "nearest team; interpreter by phone"


def test_holiday_calendar_follows_the_region_and_the_setting() -> None:
    from datetime import date

    from navigator.config import settings_from_env
    from navigator.services.context import holiday_calendar

    chavez = date(2027, 3, 31)  # a California state holiday, not an Ohio one
    assert chavez in holiday_calendar(settings_from_env({}, region="imperial"))
    assert chavez not in holiday_calendar(settings_from_env({}))
    assert chavez in holiday_calendar(settings_from_env({"NAVIGATOR_HOLIDAYS": "us-ca"}))
    assert date(2027, 6, 10) in holiday_calendar(settings_from_env({"NAVIGATOR_HOLIDAYS": "PT"}))
    for bad in ("XX", "US-ZZ"):
        with pytest.raises(ValidationError, match="holidays"):
            holiday_calendar(settings_from_env({"NAVIGATOR_HOLIDAYS": bad}))


def test_the_area_calendar_is_read_on_its_first_question(columbus_graph) -> None:
    from datetime import date, datetime
    from zoneinfo import ZoneInfo

    from navigator.config import settings_from_env
    from navigator.hours import is_open, parse_hours
    from navigator.services.context import area_context

    ctx = area_context(columbus_graph, settings_from_env({"NAVIGATOR_HOLIDAYS": "us-ca"}))
    assert date(2027, 3, 31) in ctx.holidays and date(2027, 3, 30) not in ctx.holidays
    bad = area_context(columbus_graph, settings_from_env({"NAVIGATOR_HOLIDAYS": "XX"}))
    monday = datetime(2026, 11, 23, 12, tzinfo=ZoneInfo(ctx.timezone))
    # no PH rule: the calendar is never asked, so even an unknown one answers
    assert is_open(parse_hours("Mo-Fr 08:00-17:00"), monday, tz=bad.timezone,
                   holidays=bad.holidays)
    with pytest.raises(ValidationError, match="holidays"):
        is_open(parse_hours("Mo-Fr 08:00-17:00; PH off"), monday, tz=bad.timezone,
                holidays=bad.holidays)
