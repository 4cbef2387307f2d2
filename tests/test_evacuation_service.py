"""Evacuee placement on the demo Columbus data: the service, its inputs, and the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from clihelpers import cli_runner

from navigator.config import Settings
from navigator.demo.city import load_demo
from navigator.errors import ValidationError
from navigator.services.evacuation import csv_cell, evacuation_shelters, plan_evacuation
from navigator.services.evacuees import parse_zone, zone_groups
from navigator.services.planning import load_demand
from navigator.store import open_store

ZONE = {"type": "Polygon", "coordinates": [[[-83.02, 39.95], [-82.97, 39.95], [-82.97, 39.98],
                                            [-83.02, 39.98], [-83.02, 39.95]]]}


@pytest.fixture(scope="module")
def demo_store(columbus_graph: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    path = tmp_path_factory.mktemp("evac") / "demo.gpkg"
    store = open_store(str(path))
    load_demo(store, columbus_graph, seed=7)
    yield store
    store.close()


@pytest.fixture(scope="module")
def demand(columbus_graph: Any) -> Any:
    return load_demand(columbus_graph, Settings())


def test_zone_people_are_the_units_pro_rated_by_area(demand: Any) -> None:
    import geopandas as gpd

    zone = parse_zone(ZONE)
    groups, note = zone_groups(demand, zone)
    units = demand.population.units
    eq = units.to_crs(6933)
    inside = eq.intersection(gpd.GeoSeries([zone], crs=4326).to_crs(6933).iloc[0]).area
    want = (units["population"] * inside / eq.area).round().sum()
    assert groups["people"].sum() == want
    shares = groups.groupby("need")["people"].sum() / want
    assert shares["general"] == pytest.approx(0.80, abs=0.01)
    assert "pro-rated" in note and not groups["whole"].any()
    # a zone a tenth the size holds fewer people, never more
    small = {"type": "Polygon", "coordinates": [[[-83.0, 39.96], [-82.995, 39.96],
                                                 [-82.995, 39.965], [-83.0, 39.96]]]}
    assert 0 < zone_groups(demand, parse_zone(small))[0]["people"].sum() < want


def test_service_places_into_the_active_surge_shelter_only(columbus_graph: Any, demo_store: Any,
                                                           demand: Any) -> None:
    settings = Settings()
    offered, notes = evacuation_shelters(demo_store, columbus_graph, settings)
    assert "1 shelter(s) offered" in notes[-1]
    assert offered["id"].tolist() == ["demo-surge-1"]  # demo: one active, others inactive
    plan = plan_evacuation(demo_store, columbus_graph, settings, actor="planner", zone=ZONE,
                           demand=demand)
    opt, gr = plan.placements["optimal"], plan.placements["greedy"]
    free = offered[[f"free_{n}" for n in ("general", "fnss", "medical", "pets")]].to_numpy()
    assert (opt.load <= free).all() and (gr.load <= free).all()
    assert opt.placed == gr.placed == int(free.sum())  # more people than room: all filled
    assert opt.total_time_s <= gr.total_time_s
    assert opt.unplaced_by_need()["medical"] == plan.groups[plan.groups["need"] == "medical"][
        "people"].sum()  # demo-surge-1 takes no medical evacuees
    entry = demo_store.audit_log(limit=1)[0]
    assert entry.action == "place_evacuees" and entry.result["optimal"]["placed"] == opt.placed
    rows = plan.assignments("optimal")
    assert sum(r["people"] for r in rows) == int(plan.groups["people"].sum())  # nobody dropped


def test_households_far_from_roads_are_unplaced_with_a_reason(columbus_graph: Any,
                                                              demo_store: Any) -> None:
    text = "lon,lat,size,need\n-83.0,39.96,4,general\n-84.5,41.0,2,general\n"
    plan = plan_evacuation(demo_store, columbus_graph, Settings(), actor="t", households=text)
    p = plan.placements["optimal"]
    assert p.flow[0].sum() == 4 and p.unplaced.tolist() == [0, 2]
    assert p.reason[1] == "unreachable by road"
    assert any("from a road" in n for n in plan.notes)


@pytest.mark.parametrize(("zone", "match"), [
    ("{not json", "not GeoJSON"),
    ({"type": "FeatureCollection", "features": []}, "exactly one feature"),
    ({"type": "Polygon", "coordinates": [[[-83.0, 39.9], [-83.0, 39.9], [-83.0, 39.9],
                                          [-83.0, 39.9]]]}, "no area|invalid"),
    ({"type": "Polygon", "coordinates": [[[500.0, 39.9], [501.0, 39.9], [501.0, 40.0],
                                          [500.0, 39.9]]]}, "longitude/latitude"),
])
def test_bad_zones_are_refused(zone: Any, match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        parse_zone(zone)


def test_a_zone_with_no_people_is_refused(demand: Any) -> None:
    import dataclasses

    empty = dataclasses.replace(demand.population,
                                units=demand.population.units.assign(population=0.0))
    with pytest.raises(ValidationError, match="no population"):
        zone_groups(dataclasses.replace(demand, population=empty), parse_zone(ZONE))


def test_csv_cells_never_start_a_formula() -> None:
    assert [csv_cell(v) for v in ("=1+1", "+1", "-1", "@A1", "\tx", "ok", None, 3)] == [
        "'=1+1", "'+1", "'-1", "'@A1", "'\tx", "ok", "", "3"]


def test_cli_activates_and_places(columbus_graph: Any, graph_cache_dir: Path, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    path = str(tmp_path / "cli.gpkg")
    store = open_store(path)
    load_demo(store, columbus_graph, seed=7)
    store.close()
    run = cli_runner(path, graph_cache_dir, capsys)
    out = run("activate-shelter", "demo-surge-2", "--note", "river flood")
    assert "demo-surge-2 is active" in out
    assert "already active" in run("activate-shelter", "demo-surge-2", code=1)
    assert "not an evacuation_shelter" in run("activate-shelter", "demo-dv-shelter", code=1)
    listed = json.loads(run("surge-shelters", "--json"))
    assert [s["active"] for s in listed] == [True, True, False, False]
    zone = tmp_path / "zone.geojson"
    zone.write_text(json.dumps(ZONE))
    csv_path = tmp_path / "out.csv"
    out = run("place-evacuees", "--zone", str(zone), "--csv", str(csv_path))
    assert "optimal: placed 840" in out and "greedy: placed 840" in out
    assert csv_path.read_text().startswith("method,group_id,need,people")
    got = json.loads(run("place-evacuees", "--zone", str(zone), "--method", "greedy", "--json"))
    assert "optimal" not in got and got["greedy"]["placed"] == 840
    households = tmp_path / "h.csv"
    households.write_text("lon,lat,size,need\n-83.0,39.96,0,general\n")
    assert "size=0" in run("place-evacuees", "--households", str(households), code=1)
    assert "one of them" in run("place-evacuees", code=1)
    assert "demo-surge-2 is inactive" in run("activate-shelter", "demo-surge-2", "--off")
