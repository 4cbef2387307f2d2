"""The compliance report (by area and priority) on both backends, its pure core on small
arrays, and the GeoJSON reader of compliance areas."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from servicehelpers import *  # noqa: F403  (fixtures)
from servicehelpers import CLIENT

from navigator import services as sv
from navigator.decide.compliance import compliance_by_group, compliance_by_priority
from navigator.errors import NotFoundError, ValidationError
from navigator.exchange.compliance_areas import compliance_areas_from_geojson
from navigator.model import CrisisType, Incident, TeamStatus
from navigator.services.compliance import OUTSIDE, compliance_report, report_period


def test_compliance_by_priority_on_small_arrays() -> None:
    rows = compliance_by_priority([1, 1, 1, 2, 3], [600.0, 1200.0, np.nan, 3000.0, np.nan],
                                  targets_s={1: 900.0, 2: 1800.0, 3: 3600.0, 4: 7200.0})
    one, two, three, four = rows
    assert (one.dispatched, one.arrived, one.p50_s, one.within_target) == (3, 2, 900.0, 0.5)
    assert one.p90_s == pytest.approx(1140.0)
    assert (two.within_target, three.arrived, three.p50_s) == (0.0, 0, None)
    assert (four.dispatched, four.within_target) == (0, None)
    with pytest.raises(ValueError, match="priority"):
        compliance_by_priority([5], [1.0], targets_s={1: 1.0})


def test_report_measures_dispatch_to_on_scene_per_priority(store, columbus_graph,
                                                          settings) -> None:
    start = datetime.now(UTC) - timedelta(minutes=1)
    teams = store.teams(statuses=[TeamStatus.AVAILABLE])["id"].tolist()
    sent = []
    for i, priority in enumerate((1, 1, 3)):
        inc = Incident(id=f"inc-c{i}", lon=CLIENT[0], lat=CLIENT[1], priority=priority,
                       crisis_type=CrisisType.WELFARE_CHECK)
        sv.add_incident(store, columbus_graph, settings, inc, actor="d")
        sent.append(sv.assign_team(store, columbus_graph, settings, incident_id=inc.id,
                                   team_id=teams[i], actor="d"))
    # two teams arrive; the third call is cancelled before its team gets there
    sv.update_team(store, team_id=teams[0], actor="d", status=TeamStatus.ON_SCENE)
    sv.update_team(store, team_id=teams[2], actor="d", status=TeamStatus.ON_SCENE)
    sv.finish_assignment(store, assignment_id=sent[1].id, actor="d", status="cancelled")
    sv.update_team(store, team_id=teams[1], actor="d", status=TeamStatus.ON_SCENE)  # later
    end = datetime.now(UTC) + timedelta(minutes=1)
    report = compliance_report(store, start=start, end=end)
    by = {r.priority: r for r in report.rows}
    assert (by[1].dispatched, by[1].arrived, by[1].within_target) == (2, 1, 1.0)
    assert 0 <= by[1].p50_s < 60 and by[1].target_s == 20 * 60
    assert (by[3].dispatched, by[3].arrived) == (1, 1)
    assert by[2].dispatched == 0 and by[2].p50_s is None
    strict = compliance_report(store, start=start, end=end, targets_min={1: 1e-9})
    assert strict.rows[0].within_target == 0.0
    lines = report.to_csv().splitlines()
    assert lines[0].startswith("priority,dispatched,arrived,p50_min")
    assert lines[1].startswith("1,2,1,0.0,0.0,20.0,100.0,")
    # no area: every row is "outside every area", and each is flagged few (n < 5)
    assert {report.areas[r.group].name for r in report.rows} == {OUTSIDE}
    assert all(r.few for r in report.rows)
    # a period before any dispatch has nothing to report
    with pytest.raises(NotFoundError, match="no dispatch"):
        compliance_report(store, start=start - timedelta(days=2), end=start - timedelta(days=1))
    for bad in ({"start": end, "end": start},
                {"start": start, "end": end, "timezone": "Mars/Olympus"},
                {"start": start, "end": end, "targets_min": {1: 0}},
                {"start": start, "end": end, "targets_min": {1: float("nan")}}):
        with pytest.raises(ValidationError):
            compliance_report(store, **bad)  # type: ignore[arg-type]


def test_compliance_by_group_on_small_arrays() -> None:
    rows = compliance_by_group([0, 0, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1, 2],
                               [100.0, 900.0, 10, 20, 30, 40, 2000.0, np.nan],
                               targets_s=[{1: 600.0, 2: 1200.0}, {1: 60.0, 2: 90.0}])
    by = {(r.group, r.priority): r for r in rows}
    assert len(rows) == 4
    assert (by[0, 1].dispatched, by[0, 1].within_target, by[0, 1].few) == (2, 0.5, True)
    assert (by[1, 1].arrived, by[1, 1].within_target, by[1, 1].few) == (5, 0.8, False)
    assert by[1, 1].p50_s == 30.0 and by[1, 1].target_s == 60.0
    assert (by[1, 2].dispatched, by[1, 2].arrived, by[1, 2].p90_s) == (1, 0, None)
    assert (by[0, 2].dispatched, by[0, 2].within_target) == (0, None)
    with pytest.raises(ValueError, match="outside"):
        compliance_by_group([2], [1], [1.0], targets_s=[{1: 1.0}])
    with pytest.raises(ValueError, match="priority"):
        compliance_by_group([0], [3], [1.0], targets_s=[{1: 1.0}])


def _areas(*features: dict) -> dict:  # type: ignore[type-arg]
    return {"type": "FeatureCollection", "features": list(features)}


def _feature(area_id: str, name: str, bounds: tuple[float, float, float, float],
             targets: dict[str, float], cls: str = "urban") -> dict:  # type: ignore[type-arg]
    import shapely.geometry

    return {"type": "Feature", "properties": {"id": area_id, "name": name, "class": cls,
                                              "targets_s": targets},
            "geometry": shapely.geometry.mapping(shapely.geometry.box(*bounds))}


TARGETS = {"1": 600, "2": 1200, "3": 2400, "4": 4800}
#: Around CLIENT (downtown): a small core inside a big area; ANOTHER lies outside both.
SMALL = (-83.0, 39.95, -82.98, 39.97)
BIG = (-83.1, 39.90, -82.90, 40.00)
ANOTHER = (-83.12, 40.02)


def test_report_attributes_incidents_to_the_smallest_area(store, columbus_graph,
                                                          settings) -> None:
    sv.import_compliance_areas(store, columbus_graph, _areas(
        _feature("big", "Whole city", BIG, {**TARGETS, "1": 1e-3}, "rural"),
        _feature("small", "Core", SMALL, TARGETS)), actor="planner")
    start = datetime.now(UTC) - timedelta(minutes=1)
    teams = store.teams(statuses=[TeamStatus.AVAILABLE])["id"].tolist()
    places = [CLIENT, (-82.95, 39.93), ANOTHER]
    for i, (lon, lat) in enumerate(places):
        inc = Incident(id=f"inc-a{i}", lon=lon, lat=lat, priority=1,
                       crisis_type=CrisisType.SUICIDE_RISK)
        sv.add_incident(store, columbus_graph, settings, inc, actor="d")
        sv.assign_team(store, columbus_graph, settings, incident_id=inc.id, team_id=teams[i],
                       actor="d")
        time.sleep(0.01)  # on scene after the 1 ms target even on a fast, idle machine
        sv.update_team(store, team_id=teams[i], actor="d", status=TeamStatus.ON_SCENE)
    report = compliance_report(store, start=start, end=datetime.now(UTC) + timedelta(minutes=1),
                               timezone="America/New_York", targets_min={1: 1e-9})
    assert [a.id for a in report.areas] == ["big", "small", None]
    p1 = {report.areas[r.group].id: r for r in report.rows if r.priority == 1}
    # CLIENT is in both: the smaller core wins; the second point only in the big area
    assert (p1["small"].dispatched, p1["small"].within_target) == (1, 1.0)
    assert (p1["big"].dispatched, p1["big"].within_target) == (1, 0.0)  # a 1 ms target
    assert (p1[None].dispatched, p1[None].within_target) == (1, 0.0)  # default, overridden
    assert p1["small"].target_s == 600.0 and p1[None].target_s == 60 * 1e-9
    assert report.start.utcoffset() == timedelta(hours=-5)  # shown in the area's zone
    data = report.to_dict()
    assert data["timezone"] == "America/New_York" and "smallest" in data["rule"]
    assert {r["area_name"] for r in data["rows"]} == {"Whole city", "Core", OUTSIDE}
    assert len(data["rows"]) == 12 and data["min_arrivals"] == 5
    header, *lines = report.to_csv().splitlines()
    assert header.endswith("area_id,area_name,area_class,few_arrivals")
    assert any(",small,Core,urban,yes" in line for line in lines)
    # deleting the core moves its incident to the big area
    sv.delete_compliance_area(store, area_id="small", actor="planner")
    again = compliance_report(store, start=start, end=datetime.now(UTC) + timedelta(minutes=1))
    assert [r.dispatched for r in again.rows if r.priority == 1] == [2, 1]


def test_csv_neutralises_formula_names(store, columbus_graph, settings) -> None:
    sv.import_compliance_areas(store, columbus_graph, _areas(
        _feature("f", "=HYPERLINK(\"http://x\")", BIG, TARGETS)), actor="planner")
    start = datetime.now(UTC) - timedelta(minutes=1)
    team = store.teams(statuses=[TeamStatus.AVAILABLE])["id"].iloc[0]
    inc = Incident(id="inc-f", lon=CLIENT[0], lat=CLIENT[1], crisis_type=CrisisType.YOUTH)
    sv.add_incident(store, columbus_graph, settings, inc, actor="d")
    sv.assign_team(store, columbus_graph, settings, incident_id=inc.id, team_id=team, actor="d")
    text = compliance_report(store, start=start).to_csv()
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text


def test_naive_period_is_local_time() -> None:
    since, until = report_period(datetime(2026, 7, 1, 8), datetime(2026, 7, 1, 20),
                                 timezone="America/New_York")
    assert since.isoformat() == "2026-07-01T08:00:00-04:00"
    assert until.astimezone(UTC).hour == 0
    since, _ = report_period(None, until, timezone="UTC")
    assert until - since == timedelta(hours=12)
    with pytest.raises(ValidationError, match="end after"):
        report_period(until, since, timezone="UTC")
    for far in (datetime(1, 1, 1), datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31)):
        with pytest.raises(ValidationError, match="1970 and 2200"):
            report_period(far, None, timezone="America/New_York")


@pytest.mark.parametrize(("change", "says"), [
    ({"geometry": {"type": "Point", "coordinates": [-83.0, 39.96]}}, "not one of"),
    ({"geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1]]]}}, "unreadable"),
    ({"properties": {"name": "x", "class": "urban"}}, "targets_s"),
    ({"properties": {"class": "urban", "targets_s": TARGETS}}, "name"),
    ({"properties": {"name": "x", "targets_s": TARGETS}}, "class"),
    ({"properties": {"name": "x", "class": "u", "targets_s": {**TARGETS, "7": 60}}},
     "unknown priority"),
    ({"properties": {"name": "x", "class": "u", "targets_s": {**TARGETS, "2": -60}}},
     "priority 2"),
    ({"properties": {"name": "x", "class": "u", "targets_s": {**TARGETS, "3": 1e9}}},
     "at most"),
    ({"properties": {"name": "x", "class": "u", "targets_s": {**TARGETS, "4": "soon"}}},
     "priority 4"),
    ({"properties": {"name": "x" * 201, "class": "u", "targets_s": TARGETS}}, "1-200"),
])
def test_reader_refuses_bad_features(change: dict, says: str) -> None:  # type: ignore[type-arg]
    feature = {**_feature("a", "A", SMALL, TARGETS), **change}
    with pytest.raises(ValidationError, match=says):
        compliance_areas_from_geojson(_areas(_feature("ok", "Fine", BIG, TARGETS), feature))


def test_import_refuses_areas_off_the_network_and_writes_nothing(store, columbus_graph) -> None:
    before = len(store.audit_log(limit=1000))
    for bad in (_feature("sea", "At sea", (-40.0, 30.0, -39.0, 31.0), TARGETS),
                _feature("swap", "Swapped", (39.95, -83.0, 39.97, -82.98), TARGETS)):
        with pytest.raises(ValidationError, match="no road"):
            sv.import_compliance_areas(store, columbus_graph,
                                       _areas(_feature("ok", "Fine", BIG, TARGETS), bad),
                                       actor="planner")
    bowtie = {"type": "Feature", "properties": {"name": "Bow", "class": "u",
                                                "targets_s": TARGETS},
              "geometry": {"type": "Polygon", "coordinates": [[[-83.0, 39.95], [-82.98, 39.97],
                                                               [-82.98, 39.95], [-83.0, 39.97],
                                                               [-83.0, 39.95]]]}}
    with pytest.raises(ValidationError, match="invalid"):
        sv.import_compliance_areas(store, columbus_graph, bowtie, actor="planner")
    assert store.compliance_areas() == [] and len(store.audit_log(limit=1000)) == before


def test_the_demo_has_two_areas_and_labelled_synthetic_dispatches(columbus_graph,
                                                                  tmp_path) -> None:
    from navigator.demo.city import load_demo
    from navigator.store import open_store

    store = open_store(str(tmp_path / "demo.gpkg"))
    try:
        _, notes = load_demo(store, columbus_graph, seed=7, history=True)
        assert [a.id for a in store.compliance_areas()] == ["demo-core", "demo-rest"]
        assert any("synthetic dispatch history: 12" in n for n in notes)
        report = compliance_report(store, timezone="America/New_York")
        assert report.synthetic == 12 and report.to_dict()["synthetic_dispatches"] == 12
        sent = {report.areas[r.group].id: 0 for r in report.rows}
        for r in report.rows:
            sent[report.areas[r.group].id] += r.dispatched
        assert sent == {"demo-core": 6, "demo-rest": 6, None: 0}
        # the history leaves every team as it found it
        assert store.assignments(active_only=True).empty
    finally:
        store.close()
