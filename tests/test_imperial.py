"""The rural demo region: Imperial County, CA (US side): data, border, coverage gaps."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
from imperialhelpers import *  # noqa: F403  (fixtures)
from imperialhelpers import NOW
from shapely.geometry import Point

from navigator.config import Settings
from navigator.demo.city import demo_city
from navigator.demo.imperial import IMPERIAL_TEAM_BASES, imperial_bundle, us_side
from navigator.errors import ValidationError
from navigator.roads import TravelGraph
from navigator.services import new_sites, planning
from navigator.store import Store

ROOT = Path(__file__).resolve().parent.parent


def test_region_is_chosen_by_name(settings: Settings) -> None:
    city = demo_city(settings)
    assert city.region == "imperial" and city.timezone == "America/Los_Angeles"
    assert city.osm_file.is_file() and city.population_file.is_file()
    assert demo_city(Settings()).name == "Columbus, OH"
    with pytest.raises(ValidationError, match="region"):
        demo_city(Settings(region="atlantis"))


def test_tracts_keep_their_geoid_as_text() -> None:
    tracts = gpd.read_file(ROOT / "data" / "population" / "imperial_tracts2017_population.gpkg")
    assert len(tracts) == 31 and tracts["pop2017"].sum() == 179_957
    assert tracts["GEOID"].str.fullmatch(r"06025\d{6}").all()  # the leading 0 survives


def test_border_splits_calexico_from_mexicali() -> None:
    us = us_side()
    assert us.covers(Point(-115.4989, 32.6790))  # Calexico city hall
    assert us.covers(Point(-115.5631, 32.7920))  # El Centro
    assert not us.covers(Point(-115.4683, 32.6245))  # Mexicali centre
    assert not us.covers(Point(-114.7290, 32.7000))  # Los Algodones


def test_bundle_is_us_side_real_places_and_labelled_synthetic_operations() -> None:
    b = imperial_bundle(now=NOW)
    us = us_side()
    assert all(us.covers(Point(r.lon, r.lat)) for r in b.resources)
    assert not any(r.synthetic for r in b.resources)
    assert all("OpenStreetMap" in r.source for r in b.resources)
    assert {t.base_id for t in b.teams} == set(IMPERIAL_TEAM_BASES)
    assert all(t.synthetic for t in b.teams) and all(i.synthetic for i in b.incidents)
    assert all(i.created_at.utcoffset() == NOW.utcoffset() for i in b.incidents)
    notes = " ".join(b.notes)
    assert "16 OSM places south of the US-Mexico border" in notes
    assert "America/Los_Angeles" in notes
    again = imperial_bundle(now=NOW)
    assert again.teams == b.teams and again.incidents == b.incidents  # seeded


def test_rural_gaps_and_a_recommendation_that_closes_some(
        store: Store, imperial_graph: TravelGraph, settings: Settings) -> None:
    demand = planning.load_demand(imperial_graph, settings)
    assert demand.population.total_people == 179_957  # no tract clipped away
    cov = planning.assess_coverage(store, imperial_graph, settings, actor="test",
                                   targets_s=[900, 1800, 3600], demand=demand)
    assert len(cov.facilities) == len(IMPERIAL_TEAM_BASES)
    table = cov.report.coverage
    assert table.people_uncovered[2] > 0  # people beyond 60 minutes
    assert table.people_uncovered[0] > 0.2 * table.total_people  # a fifth beyond 15
    plan = new_sites.recommend_new_sites(store, imperial_graph, settings, actor="test", k=2,
                                         target_s=1800, demand=demand,
                                         candidate_kinds=["team_base"], time_limit_s=30)
    assert plan.people_covered_after > plan.people_covered_before
    assert not set(plan.sites["id"]) & set(IMPERIAL_TEAM_BASES)


def test_cli_names_tracts_and_unreachable_gaps(store: Store, settings: Settings,
                                               graph_cache_dir: Path,
                                               capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from navigator.cli import main

    monkeypatch.setenv("NAVIGATOR_REGION", "imperial")
    assert main(["coverage", "--store", store.url, "--cache-dir", str(graph_cache_dir),
                 "--targets", "15,30,60", "--top", "10"]) == 0
    out = capsys.readouterr().out
    assert "census tract" in out and "block group" not in out
    assert "1 census tracts" not in out
    assert "up to unreachable" not in out
