"""Planner role services and isochrones on the Columbus demo: results, errors and audit entries."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import shapely

from navigator.config import Settings
from navigator.demo.city import load_demo
from navigator.errors import NotFoundError, UnreachableError, ValidationError
from navigator.roads import TravelGraph, point_isochrone, snap_to_edges
from navigator.services import new_sites, planning, reports
from navigator.services import planner as blocks
from navigator.services.isochrones import reachable_areas
from navigator.store import Store, open_store

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=ZoneInfo("America/New_York"))  # a Tuesday noon
DOWNTOWN = (-82.99, 39.96)


@pytest.fixture(scope="module")
def settings(graph_cache_dir: Path) -> Settings:
    return Settings(cache_dir=graph_cache_dir)


@pytest.fixture(scope="module")
def store(columbus_graph: TravelGraph, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[Store]:
    s = open_store(str(tmp_path_factory.mktemp("planning") / "demo.gpkg"))
    load_demo(s, columbus_graph, seed=2026, now=NOW)
    yield s
    s.close()


@pytest.fixture(scope="module")
def demand(columbus_graph: TravelGraph, settings: Settings) -> reports.Demand:
    return planning.load_demand(columbus_graph, settings)


def _last(store: Store, action: str):  # type: ignore[no-untyped-def]
    return store.audit_log(limit=1, action=action)[0]


def test_load_demand_defaults_to_the_demo_block_groups(demand: reports.Demand) -> None:
    assert demand.population.source.endswith("franklin_bg2010_population.gpkg")
    assert demand.population.total_people == pytest.approx(514_431)


def test_assess_coverage_equals_the_building_blocks_and_is_audited(
        store: Store, columbus_graph: TravelGraph, settings: Settings,
        demand: reports.Demand) -> None:
    found = planning.assess_coverage(store, columbus_graph, settings, actor="ana",
                                     kind="clinics", at=NOW, targets_s=[300, 600],
                                     gap_target_s=600, demand=demand)
    run = blocks.facility_surface(store, columbus_graph, kind="clinics", at=NOW)
    want = reports.coverage_report(columbus_graph, run, demand, targets_s=[300, 600],
                                   gap_target_s=600)
    np.testing.assert_array_equal(found.report.coverage.people_covered,
                                  want.coverage.people_covered)
    assert list(found.facilities["id"]) == list(run.facilities["id"])
    assert any("closed at" in n for n in found.report.notes)
    summary = found.summary()
    assert summary["facilities"] == len(run.facilities) and summary["target_s"] == 600
    assert summary["gaps"] == len(want.gaps)
    assert summary["people_beyond_target"] == pytest.approx(want.gaps["people_uncovered"].sum())
    assert summary["gap_hexes"] == int((want.hexes["min_time_s"] > 600).sum())
    entry = _last(store, "coverage_report")
    assert entry.actor == "ana" and entry.inputs["kind"] == "clinics"
    assert entry.inputs["at"] == NOW.isoformat() and entry.inputs["targets_s"] == [300, 600]
    assert entry.result == {k: summary[k] for k in ("facilities", "gaps",
                                                    "people_beyond_target")}


def test_assess_coverage_with_a_new_site(store: Store, columbus_graph: TravelGraph,
                                         settings: Settings, demand: reports.Demand) -> None:
    found = planning.assess_coverage(store, columbus_graph, settings, actor="ana",
                                     kind="shelters", added=[DOWNTOWN], demand=demand)
    new = found.facilities[found.facilities["kind"] == "new_site"]
    assert list(new["id"]) == ["new-1"] and list(new["name"]) == ["New site 1"]
    assert _last(store, "coverage_report").inputs["added"] == [list(DOWNTOWN)]


@pytest.mark.parametrize(("kwargs", "fragment"), [
    ({"added": [(500.0, 39.0)]}, "lon"),
    ({"added": [(-82.99,)]}, "(lon, lat)"),
    ({"closed": ["no-such-base"]}, "no-such-base"),
    ({"kind": "castles"}, "castles"),
    ({"targets_s": [0]}, "positive"),
    ({"population": planning.PopulationLayer()}, "not both"),
])
def test_assess_coverage_refuses_bad_input(store: Store, columbus_graph: TravelGraph,
                                           settings: Settings, demand: reports.Demand,
                                           kwargs: dict, fragment: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValidationError) as e:
        planning.assess_coverage(store, columbus_graph, settings, actor="ana",
                                 **{"demand": demand, **kwargs})
    assert fragment in str(e.value)


def test_compare_coverage_closing_loses_and_adding_gains(
        store: Store, columbus_graph: TravelGraph, settings: Settings,
        demand: reports.Demand) -> None:
    shelters = store.resources(kinds=["shelter"], include_confidential=False)["id"]
    closed = planning.compare_coverage(store, columbus_graph, settings, actor="ana",
                                       kind="shelters", close=[shelters.iloc[0]],
                                       targets_s=[300, 600], demand=demand)
    assert len(closed.scenario.facilities) == len(closed.base.facilities) - 1
    assert closed.added.empty
    for row in closed.rows():
        assert row["newly_covered"] == 0 and row["covered_after"] <= row["covered_before"]
        assert row["covered_before"] - row["newly_uncovered"] == pytest.approx(
            row["covered_after"])
    assert (closed.changed_units()["delta_s"] > 0).all()
    entry = _last(store, "coverage_compare")
    assert entry.inputs["close"] == [shelters.iloc[0]] and entry.result == {
        "targets": closed.rows()}

    added = planning.compare_coverage(store, columbus_graph, settings, actor="ana",
                                      kind="shelters", added=[DOWNTOWN], demand=demand)
    assert [tuple(p.coords[0]) for p in added.added.geometry] == [DOWNTOWN]
    assert all(r["newly_uncovered"] == 0 for r in added.rows())
    assert (added.changed_units()["delta_s"] < 0).all()


def test_recommend_new_sites_beats_greedy_and_is_audited(
        store: Store, columbus_graph: TravelGraph, settings: Settings,
        demand: reports.Demand) -> None:
    plan = new_sites.recommend_new_sites(store, columbus_graph, settings, actor="ana",
                                         kind="shelters", candidate_kinds=["clinic", "hospital"],
                                         k=2, target_s=300, time_limit_s=10, demand=demand)
    assert plan.needed and len(plan.sites) == 2 and plan.allocation is not None
    assert plan.allocation.status == "Optimal"
    assert not set(plan.sites["id"]) & set(plan.existing["id"])
    assert plan.people_covered_after >= plan.greedy_people_covered - 1e-6
    assert plan.people_covered_after > plan.people_covered_before
    assert plan.people_covered_after == pytest.approx(plan.allocation.objective)
    entry = _last(store, "coverage_recommend")
    assert entry.actor == "ana" and entry.inputs["k"] == 2 and entry.inputs["target_s"] == 300
    assert entry.result["sites"] == list(plan.sites["id"])
    assert entry.result["people_covered_after"] == pytest.approx(plan.people_covered_after)


def test_recommend_mexclp_takes_a_busy_fraction_per_base(
        store: Store, columbus_graph: TravelGraph, settings: Settings,
        demand: reports.Demand) -> None:
    def plan(busy):  # type: ignore[no-untyped-def]
        return new_sites.recommend_new_sites(store, columbus_graph, settings, actor="ana",
                                             k=2, target_s=240, model="mexclp", busy=busy,
                                             time_limit_s=30, solve_when_covered=True,
                                             demand=demand)

    plain = plan(None)
    bases = list(plain.existing["id"])
    assert plain.allocation is not None and plain.allocation.optimal
    # a base never busy serves better than one busy settings.team_busy_fraction of the time
    idle = plan({bases[0]: 0.0})
    assert idle.allocation is not None and idle.allocation.optimal
    assert idle.allocation.objective > plain.allocation.objective
    name = str(plain.existing["name"].iloc[0])
    by_name = plan({name: 0.0}) if (plain.existing["name"] == name).sum() == 1 else idle
    assert by_name.allocation is not None
    assert by_name.allocation.objective == pytest.approx(idle.allocation.objective)
    assert _last(store, "coverage_recommend").inputs["busy"] in ({bases[0]: 0.0}, {name: 0.0})
    with pytest.raises(ValidationError, match=f"base '{bases[1]}' must be in \\[0, 1\\)"):
        plan({bases[1]: 1.0})
    with pytest.raises(ValidationError, match="'no-such-base': no such base"):
        plan({"no-such-base": 0.2})
    # a candidate site with its own fraction (e.g. from a simulator run): never busy, the
    # same choice covers more, so the optimum can only rise
    chosen = str(plain.sites["id"].iloc[0])
    own = plan({chosen: 0.0})
    assert own.allocation is not None and own.allocation.optimal
    assert own.allocation.objective > plain.allocation.objective
    assert any("1 candidate site(s) with their own" in n for n in own.notes)
    with pytest.raises(ValidationError, match=f"candidate site '{chosen}' must be in"):
        plan({chosen: -0.1})


def test_recommend_new_sites_when_everyone_is_covered(
        store: Store, columbus_graph: TravelGraph, settings: Settings,
        demand: reports.Demand) -> None:
    plan = new_sites.recommend_new_sites(store, columbus_graph, settings, actor="ana",
                                         target_s=3600, demand=demand)
    assert not plan.needed and plan.sites.empty and plan.allocation is None
    assert plan.people_covered_before == plan.people_covered_after == plan.total_people
    assert any("no new site is needed" in n for n in plan.notes)
    entry = _last(store, "coverage_recommend")
    assert entry.result["needed"] is False and entry.result["sites"] == []
    solved = new_sites.recommend_new_sites(store, columbus_graph, settings, actor="ana", k=1,
                                           target_s=3600, solve_when_covered=True,
                                           demand=demand)
    assert solved.needed and len(solved.sites) == 1
    assert solved.people_covered_after == plan.total_people


def test_reachable_areas_from_a_point_equal_the_isochrones(
        store: Store, columbus_graph: TravelGraph, settings: Settings) -> None:
    found = reachable_areas(store, columbus_graph, settings, actor="ana",
                            limits_s=[300, 600], lon=DOWNTOWN[0], lat=DOWNTOWN[1])
    spot = snap_to_edges(columbus_graph, [DOWNTOWN[0]], [DOWNTOWN[1]])
    e, f = int(spot.edge[0]), float(spot.fraction[0])
    node = int(columbus_graph.indices[e] if f >= 0.5 else columbus_graph.edge_sources()[e])
    assert found.node == node and [a.limit_s for a in found.areas] == [600, 300]
    for area in found.areas:
        want = point_isochrone(columbus_graph, spot, area.limit_s)
        assert area.nodes == want.nodes.size and area.polygon.equals(want.polygon)
    assert found.areas[0].nodes > found.areas[1].nodes
    geojson = found.to_geojson()
    assert [f["properties"]["minutes"] for f in geojson["features"]] == [10, 5]
    assert shapely.geometry.shape(geojson["features"][1]["geometry"]).contains(
        shapely.Point(columbus_graph.lon[node], columbus_graph.lat[node]))
    entry = _last(store, "isochrone")
    assert entry.inputs == {"lon": DOWNTOWN[0], "lat": DOWNTOWN[1], "limits_s": [300, 600],
                            "direction": "from"}
    assert entry.result["areas"] == [{"limit_s": 600, "nodes": found.areas[0].nodes},
                                     {"limit_s": 300, "nodes": found.areas[1].nodes}]


def test_reachable_areas_from_a_facility_hide_confidential_sites(
        store: Store, columbus_graph: TravelGraph, settings: Settings) -> None:
    res = store.resources()
    public = res[~res["confidential"]].iloc[0]
    dv = res[res["confidential"]].iloc[0]
    found = reachable_areas(store, columbus_graph, settings, actor="ana", limits_s=[300],
                            facility_id=public["id"], direction="to")
    assert (found.lon, found.lat) == (public.geometry.x, public.geometry.y)
    assert found.facility_id == public["id"] and found.direction == "to"
    with pytest.raises(NotFoundError, match="no facility"):
        reachable_areas(store, columbus_graph, settings, actor="ana", limits_s=[300],
                        facility_id=dv["id"])
    with pytest.raises(NotFoundError, match="no facility"):
        reachable_areas(store, columbus_graph, settings, actor="ana", limits_s=[300],
                        facility_id="no-such-site")
    seen = reachable_areas(store, columbus_graph, settings, actor="admin", limits_s=[300],
                           facility_id=dv["id"], can_see_confidential=True)
    assert seen.areas[0].nodes > 0
    entry = _last(store, "isochrone")
    assert entry.inputs["facility_id"] == dv["id"] and "lon" not in entry.inputs


@pytest.mark.parametrize(("kwargs", "error", "fragment"), [
    ({}, ValidationError, "either"),
    ({"lon": -82.99}, ValidationError, "either"),
    ({"lon": -82.99, "lat": 39.96, "facility_id": "x"}, ValidationError, "either"),
    ({"lon": -82.99, "lat": 95.0}, ValidationError, "lat"),
    ({"lon": -82.99, "lat": 39.96, "limits_s": [-1]}, ValidationError, "positive"),
    ({"lon": -82.99, "lat": 39.96, "direction": "sideways"}, ValidationError, "direction"),
    ({"lon": 2.35, "lat": 48.85}, UnreachableError, "road"),
])
def test_reachable_areas_refuse_bad_input(store: Store, columbus_graph: TravelGraph,
                                          settings: Settings, kwargs: dict,  # type: ignore[type-arg]
                                          error: type[Exception], fragment: str) -> None:
    with pytest.raises(error, match=fragment):
        reachable_areas(store, columbus_graph, settings, actor="ana",
                        **{"limits_s": [300], **kwargs})
