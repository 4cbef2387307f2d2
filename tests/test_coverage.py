"""Coverage: pure functions on arrays with known answers, and real outputs on the Columbus demo."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import geopandas as gpd
import numpy as np
import pytest
import shapely

from navigator.config import Settings
from navigator.decide.coverage import (
    CoverageSurface,
    check_targets,
    compare_scenarios,
    coverage_gaps,
    coverage_surface,
    hex_surface,
    population_coverage,
    unit_times,
)
from navigator.demo.city import load_demo
from navigator.demo.operations import DEMO_TEAM_BASES
from navigator.errors import ValidationError
from navigator.maps import coverage as coverage_maps
from navigator.roads import travel_times_from, travel_times_to
from navigator.services import new_sites, planning, reports, siting
from navigator.services import planner as cs
from navigator.store import Store, open_store

ROOT = Path(__file__).resolve().parent.parent
FRANKLIN = ROOT / "data" / "population" / "franklin_bg2010_population.gpkg"
NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=NY)  # a Tuesday noon


@pytest.fixture(scope="module")
def store(columbus_graph, tmp_path_factory) -> Iterator[Store]:
    s = open_store(str(tmp_path_factory.mktemp("cov") / "demo.gpkg"))
    load_demo(s, columbus_graph, seed=2026, now=NOW)
    yield s
    s.close()


@pytest.fixture(scope="module")
def demand(columbus_graph) -> reports.Demand:
    return reports.demand_units(columbus_graph, FRANKLIN)


# -- pure functions, known answers ------------------------------------------------------------
@pytest.mark.parametrize("bad", [0, -60, float("nan"), float("inf"), [], [900, 0], "soon"])
def test_invalid_targets(bad):
    with pytest.raises(ValidationError):
        check_targets(bad)


def test_targets_sorted_unique():
    assert check_targets([1800, 900, 900]).tolist() == [900.0, 1800.0]


def test_population_coverage_known_answer():
    t = np.array([100.0, 1000.0, 2000.0, np.inf])
    w = np.array([10.0, 20.0, 30.0, 40.0])
    c = population_coverage(t, w, [900, 1800, 3600])
    assert c.people_covered.tolist() == [10.0, 30.0, 60.0]
    assert c.people_uncovered.tolist() == [90.0, 70.0, 40.0]
    np.testing.assert_allclose(c.share_covered, [0.1, 0.3, 0.6])
    assert c.units_covered.tolist() == [1, 2, 3]
    assert c.people_unreachable == 40.0
    assert c.mean_time_s == pytest.approx((1000 + 20000 + 60000) / 60)
    assert c.to_frame()["target_min"].tolist() == [15.0, 30.0, 60.0]


def test_population_coverage_never_silently_zero():
    with pytest.raises(ValidationError, match="no people"):
        population_coverage([1.0, 2.0], [0.0, 0.0])
    with pytest.raises(ValidationError, match="unit"):
        population_coverage([1.0, 2.0], [1.0])


def _grid(times: list[float], people: list[float]) -> gpd.GeoDataFrame:
    """A 3x3 grid of 0.01-degree squares, row-major from the south-west."""
    boxes = [shapely.box(x * 0.01, y * 0.01, (x + 1) * 0.01, (y + 1) * 0.01)
             for y in range(3) for x in range(3)]
    return gpd.GeoDataFrame({"population": people, "time_s": times}, geometry=boxes, crs=4326)


def test_coverage_gaps_dissolve_and_rank():
    # uncovered (> 600 s): cells 0,1 (touching, 5+7 people) and cell 8 (50 people)
    times = [700, 800, 100, 100, 100, 100, 100, 100, np.inf]
    grid = _grid(times, [5, 7, 1, 1, 1, 1, 1, 1, 50])
    gaps = coverage_gaps(grid, grid["time_s"].to_numpy(), 600)
    assert gaps["rank"].tolist() == [1, 2]
    assert gaps["people_uncovered"].tolist() == [50, 12]
    assert gaps["n_areas"].tolist() == [1, 2]
    assert np.isinf(gaps["max_time_s"].iloc[0]) and gaps["max_time_s"].iloc[1] == 800
    assert gaps.geometry.iloc[1].area == pytest.approx(2e-4, rel=1e-3)
    assert gaps.crs.to_epsg() == 4326
    none = coverage_gaps(grid, np.zeros(9), 600)
    assert none.empty and list(none.columns)[:2] == ["rank", "people_uncovered"]


def _surface(t: list[float], label: str) -> CoverageSurface:
    arr = np.asarray(t, dtype=float)
    return CoverageSurface(arr, np.zeros(len(t), np.int64), ("f",), np.array([0]), "from",
                           label)


def test_compare_scenarios_known_answer():
    a = _surface([100, 1000, np.inf, 500], "today")
    b = _surface([100, 500, 700, np.inf], "new base")
    cmp = compare_scenarios(a, b, unit_nodes=[0, 1, 2, 3, -1], people=[1, 2, 4, 8, 16],
                            targets_s=[600])
    np.testing.assert_array_equal(cmp.node_delta_s, [0, -500, -np.inf, np.inf])
    assert cmp.people_newly_covered.tolist() == [2.0]  # unit 1 (unit 2 needs 700 s)
    assert cmp.people_newly_uncovered.tolist() == [8.0]
    assert np.isnan(cmp.unit_delta_s[4])  # off the network in both
    df = cmp.to_frame()
    assert df["covered_today"].tolist() == [9.0] and df["covered_new base"].tolist() == [3.0]
    with pytest.raises(ValidationError, match="both"):
        compare_scenarios(a, b, people=[1, 2, 3, 4])
    with pytest.raises(ValidationError, match="different road networks"):
        compare_scenarios(a, _surface([1.0], "x"))


# -- Columbus: surfaces against per-facility searches -----------------------------------------
def test_surface_equals_min_of_single_searches(columbus_graph):
    fac = np.array([10, 4000, 9000])
    for direction, one in (("from", travel_times_from), ("to", travel_times_to)):
        s = coverage_surface(columbus_graph, fac, direction=direction, facility_ids=("a", "b", "c"))
        each = np.vstack([one(columbus_graph, int(f)) for f in fac])
        np.testing.assert_allclose(s.time_s, each.min(axis=0), rtol=1e-12)
        fin = np.isfinite(s.time_s)
        np.testing.assert_allclose(each[s.facility[fin], np.flatnonzero(fin)], s.time_s[fin])
        assert s.facility_ids == ("a", "b", "c")


def test_surface_bad_inputs(columbus_graph):
    with pytest.raises(ValidationError, match="no facility"):
        coverage_surface(columbus_graph, [])
    with pytest.raises(ValidationError, match="ids"):
        coverage_surface(columbus_graph, [1, 2], facility_ids=("a",))


def test_hex_surface(columbus_graph):
    s = coverage_surface(columbus_graph, [10, 4000])
    hexes = hex_surface(columbus_graph, s, resolution=8)
    assert hexes.crs.to_epsg() == 4326
    assert hexes["n_nodes"].sum() == columbus_graph.n_nodes
    assert hexes["min_time_s"].min() == 0.0
    assert (hexes["min_time_s"] <= hexes["median_time_s"]).all()
    assert hexes.geometry.is_valid.all() and (hexes.geom_type == "Polygon").all()
    with pytest.raises(ValidationError, match="resolution"):
        hex_surface(columbus_graph, s, resolution=16)


def test_unit_times_centroid_and_median(columbus_graph, demand):
    s = coverage_surface(columbus_graph, [10, 4000])
    c = unit_times(columbus_graph, s, demand.population, demand.nodes)
    m = unit_times(columbus_graph, s, demand.population, demand.nodes, method="median")
    assert c.shape == m.shape == (len(demand.population.units),)
    np.testing.assert_array_equal(c[demand.nodes.snapped],
                                  s.time_s[demand.nodes.node[demand.nodes.snapped]])
    assert np.corrcoef(c[np.isfinite(c) & np.isfinite(m)],
                       m[np.isfinite(c) & np.isfinite(m)])[0, 1] > 0.9


# -- the service on the demo store -----------------------------------------------------------
def test_facilities_by_kind_and_time(store, columbus_graph):
    bases, notes = cs.facilities(store, columbus_graph, kind="team_bases")
    assert set(bases["id"]) == set(DEMO_TEAM_BASES) and (bases["node"] >= 0).all()
    assert "host a team" in notes[0]
    day, _ = cs.facilities(store, columbus_graph, kind="clinics", at=NOW)
    night, notes = cs.facilities(store, columbus_graph, kind="clinics",
                                 at=datetime(2026, 11, 25, 3, 0, tzinfo=NY))
    assert set(night["id"]) < set(day["id"])  # 24/7 hospitals stay, day clinics close
    assert "closed at" in notes[0]
    shelters, _ = cs.facilities(store, columbus_graph, kind="shelters", bed_type="families")
    assert 0 < len(shelters) < 9
    free, _ = cs.facilities(store, columbus_graph, kind="shelters", free_beds=True)
    beds = store.beds(free["id"])
    assert len(free) > 0 and beds.groupby("resource_id")["free"].sum().gt(0).all()
    shelters, _ = cs.facilities(store, columbus_graph, kind="shelters")
    assert "demo-dv-shelter" not in set(shelters["id"])
    teams, _ = cs.facilities(store, columbus_graph, kind="teams", at=NOW)
    assert 0 < len(teams) <= len(bases)
    with pytest.raises(ValidationError, match="kind"):
        cs.facilities(store, columbus_graph, kind="spaceports")


def test_report_real_outputs(store, columbus_graph, demand, tmp_path):
    run = cs.facility_surface(store, columbus_graph, kind="shelters")
    assert run.surface.direction == "to"
    rep = reports.coverage_report(columbus_graph, run, demand, targets_s=[300, 600, 900])
    table = rep.coverage.to_frame()
    assert table["people_covered"].is_monotonic_increasing
    assert rep.coverage.total_people == demand.population.total_people
    assert 0 < rep.coverage.share_covered[0] < 1  # 8 shelters do not reach all in 5 min
    assert rep.gaps["people_uncovered"].is_monotonic_decreasing
    assert rep.gaps["people_uncovered"].sum() == pytest.approx(
        rep.coverage.people_uncovered[0])
    assert any("left out" in n for n in rep.notes)
    # people per hex by areal weighting: most people live in cells that hold a road node
    assert 0.9 * rep.coverage.total_people < rep.hexes["population"].sum() <= (
        rep.coverage.total_people + 1e-6)
    assert rep.hex_gaps["people_uncovered"].is_monotonic_decreasing
    assert len(rep.hex_gaps) > 0
    gpkg = coverage_maps.export_layers({"hexes": rep.hexes, "units": rep.units, "gaps": rep.gaps},
                            tmp_path / "cov.gpkg")
    assert set(gpd.list_layers(gpkg)["name"]) == {"hexes", "units", "gaps"}
    back = gpd.read_file(gpkg, layer="units")
    assert len(back) == len(rep.units) and back.crs.to_epsg() == 4326
    nodes = cs.surface_nodes(columbus_graph, run)
    assert len(nodes) == columbus_graph.n_nodes and set(nodes["facility_id"].dropna()) <= set(
        run.facilities["id"])
    coverage_maps.export_layers({"nodes": nodes}, tmp_path / "nodes.gpkg")
    gj = coverage_maps.export_layers({"hexes": rep.hexes}, tmp_path / "hexes.geojson")
    text = gj.read_text()
    assert "Infinity" not in text and "NaN" not in text
    assert len(json.loads(text)["features"]) == len(rep.hexes)
    with pytest.raises(ValidationError, match="one layer"):
        coverage_maps.export_layers({"a": rep.hexes, "b": rep.gaps}, tmp_path / "x.geojson")
    html = coverage_maps.coverage_map(columbus_graph, rep).get_root().render()
    assert "Infinity" not in html and "gap #1" in html and "≤ 5 min" in html


def test_scenario_closed_and_added(store, columbus_graph, demand):
    base = cs.facility_surface(store, columbus_graph, kind="shelters", label="today")
    victim = base.facilities["id"].iloc[0]
    closed = cs.facility_surface(store, columbus_graph, kind="shelters", closed=[victim],
                                 label="closed")
    cmp, units = reports.compare(base, closed, demand, targets_s=[300, 600])
    fin = np.isfinite(cmp.node_delta_s)
    assert (cmp.node_delta_s[fin] >= -1e-9).all() and (cmp.node_delta_s[fin] > 0).any()
    assert cmp.people_newly_covered.tolist() == [0.0, 0.0]
    assert "delta_s" in units
    far = units.loc[units["delta_s"].idxmax() if units["delta_s"].notna().any() else 0]
    new = gpd.GeoDataFrame({"name": ["<img src=x onerror=alert(1)>"]},
                           geometry=[far.geometry.representative_point()], crs=4326)
    added = cs.facility_surface(store, columbus_graph, kind="shelters", added=new, label="added")
    cmp2, _ = reports.compare(base, added, demand, targets_s=[300])
    assert (cmp2.node_delta_s[np.isfinite(cmp2.node_delta_s)] <= 1e-9).all()
    assert cmp2.people_newly_uncovered.tolist() == [0.0]
    assert "new_site" in set(added.facilities["kind"])
    rep = reports.coverage_report(columbus_graph, added, demand, targets_s=[300])
    page = coverage_maps.coverage_map(columbus_graph, rep,
                                      facilities=added.facilities).get_root().render()
    assert "<img src=x onerror" not in page and "\\u003cimg src=x onerror" in page  # JSON data
    html = coverage_maps.delta_map(columbus_graph, units,
                                   label="one shelter closed").get_root().render()
    assert "one shelter closed" in html and "Infinity" not in html
    with pytest.raises(ValidationError, match="cannot close"):
        cs.facility_surface(store, columbus_graph, kind="shelters", closed=["nope"])
    with pytest.raises(ValidationError, match="no shelters left"):
        cs.facility_surface(store, columbus_graph, kind="shelters",
                            closed=list(base.facilities["id"]))


def test_recommend_sites_on_demo(store, columbus_graph, demand):
    cand = store.resources(kinds=["clinic", "hospital"])
    existing = store.resources(kinds=["team_base"])
    rec = siting.recommend_sites(columbus_graph, demand, cand, k=3, target_s=240, existing=existing)
    a = rec.allocation
    assert len(rec.sites) == 3 and a.status == "Optimal"
    assert a.objective >= a.greedy_objective
    assert a.forced.size == len(existing)
    lscp = siting.recommend_sites(columbus_graph, demand, cand, k=0, target_s=240, model="lscp")
    assert lscp.allocation.objective == len(lscp.sites) > 0
    with pytest.raises(ValidationError, match="candidate"):
        siting.recommend_sites(columbus_graph, demand, cand.iloc[:0], k=1, target_s=240)


def test_times_must_be_aware_and_hours_parse(store, columbus_graph):
    with pytest.raises(ValidationError, match="timezone-aware"):
        cs.facilities(store, columbus_graph, kind="clinics", at=datetime(2026, 11, 24, 12))
    with pytest.raises(ValidationError, match="timezone-aware"):
        cs.facilities(store, columbus_graph, kind="teams", at=datetime(2026, 11, 24, 12))
    # Thanksgiving 2026 (Nov 26): clinics with "PH off" close at noon, unlike the Tuesday
    tuesday, _ = cs.facilities(store, columbus_graph, kind="clinics", at=NOW)
    holiday, _ = cs.facilities(store, columbus_graph, kind="clinics",
                               at=datetime(2026, 11, 26, 12, 0, tzinfo=NY))
    assert len(holiday) < len(tuesday)
    no_ph, _ = cs.facilities(store, columbus_graph, kind="clinics",
                             at=datetime(2026, 11, 26, 12, 0, tzinfo=NY), holidays=())
    assert len(no_ph) == len(tuesday)


def test_demo_bases_leave_gaps_a_recommendation_closes(store, columbus_graph, demand):
    # The demo's 12 teams work from 4 stations: people live beyond 10 minutes, and two new
    # bases among the other public stations bring more of them within it.
    settings = Settings()
    cov = planning.assess_coverage(store, columbus_graph, settings, actor="test",
                                   targets_s=[600, 900], demand=demand)
    assert len(cov.facilities) == len(DEMO_TEAM_BASES)
    table = cov.report.coverage
    assert table.people_uncovered[0] > 0.1 * table.total_people  # beyond 10 min
    assert table.people_uncovered[1] > 0  # and some beyond 15 min
    plan = new_sites.recommend_new_sites(store, columbus_graph, settings, actor="test", k=2,
                                         target_s=600, demand=demand, time_limit_s=30)
    assert plan.needed and len(plan.sites) == 2
    assert plan.people_covered_before == pytest.approx(table.people_covered[0])
    assert plan.people_covered_after > plan.people_covered_before
    assert not set(plan.sites["id"]) & set(DEMO_TEAM_BASES)
    stations = set(store.resources(kinds=["team_base"])["id"]) - set(DEMO_TEAM_BASES)
    assert plan.candidates >= len(stations)  # the unused stations are candidates


def test_open_beds_coverage_counts_only_fresh_counts(columbus_graph, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from navigator.config import Settings
    from navigator.services import planning

    store = open_store(str(tmp_path / "stale.gpkg"))
    load_demo(store, columbus_graph, seed=7, history=True)  # about a third of counts stale
    every, _ = cs.facilities(store, columbus_graph, kind="shelters", free_beds=True)
    fresh, notes = cs.facilities(store, columbus_graph, kind="shelters", free_beds=True,
                                 fresh_hours=12.0)
    assert 0 < len(fresh) < len(every)
    assert any("confirmed them within 12 h" in n for n in notes)
    found = planning.assess_coverage(store, columbus_graph, Settings(store_url="x.gpkg"),
                                     actor="planner", kind="shelters", free_beds=True)
    assert set(found.facilities["id"]) == set(fresh["id"])
    store.close()
