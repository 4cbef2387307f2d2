"""Caseworker and dispatcher commands end to end on the demo city (embedded store)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelpers import cli_runner

from navigator.demo.city import load_demo
from navigator.store import open_store

PLACE = ["--lon", "-82.99", "--lat", "39.96"]


@pytest.fixture
def store_path(columbus_graph, tmp_path: Path) -> str:  # type: ignore[no-untyped-def]
    path = str(tmp_path / "demo.gpkg")
    store = open_store(path)
    load_demo(store, columbus_graph, seed=5)
    store.close()
    return path


@pytest.fixture
def run(store_path: str, graph_cache_dir: Path, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    return cli_runner(store_path, graph_cache_dir, capsys)


def test_find_bed_ranks_by_road_time(run) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(run("find-bed", *PLACE, "--bed-type", "single_women", "--json"))
    etas = [m["eta_s"] for m in data["matches"]]
    assert etas and etas == sorted(etas)
    assert all(m["free_beds"] > 0 and m["bed_type"] == "single_women" for m in data["matches"])


def test_no_bed_is_a_clear_message_with_alternatives(run) -> None:  # type: ignore[no-untyped-def]
    err = run("find-bed", *PLACE, "--bed-type", "youth", "--max-minutes", "0.5", code=1)
    assert "no open bed of type youth" in err and "alternatives" in err


def test_hotlines_always_offer_988(run) -> None:  # type: ignore[no-untyped-def]
    assert "988" in run("hotlines", *PLACE)


def test_hold_twice_with_one_key_takes_one_bed(run, store_path: str) -> None:  # type: ignore[no-untyped-def]
    match = json.loads(run("find-bed", *PLACE, "--bed-type", "single_women", "--json"))
    rid = match["matches"][0]["resource_id"]
    before = match["matches"][0]["free_beds"]
    first = run("hold", rid, "single_women", "--key", "retry-1")
    assert run("hold", rid, "single_women", "--key", "retry-1") == first
    store = open_store(store_path)
    try:
        beds = store.beds([rid])
        assert int(beds[beds.bed_type == "single_women"].free.iloc[0]) == before - 1
    finally:
        store.close()
    hold_id = first.split()[1].rstrip(":")
    assert "released" in run("release-hold", hold_id)
    assert hold_id in run("release-hold", hold_id, code=1)


def test_dispatch_cycle(run) -> None:  # type: ignore[no-untyped-def]
    incident = run("new-incident", *PLACE[:4], "--type", "mental_health", "--priority", "1")
    incident = incident.strip()
    ranking = json.loads(run("rank-teams", incident, "--json"))
    team = ranking["options"][0]["team_id"]
    assert "ETA" in run("assign", incident, team)
    assert "already assigned" in run("assign", incident, team, code=1)
    assert "on_scene" in run("team-status", team, "on_scene")
    plan = json.loads(run("batch", "--json"))
    opt, greedy = plan["optimal"], plan["greedy"]
    # optimal leaves no more urgent calls unassigned than greedy, priority by priority
    left = [[p[k] for k in sorted(p)] for p in (opt["unassigned_by_priority"],
                                                greedy["unassigned_by_priority"])]
    assert left[0] <= left[1]
    if left[0] == left[1]:
        assert opt["weighted_total_s"] <= greedy["weighted_total_s"] + 1e-6


def test_misfit_team_needs_an_override(run) -> None:  # type: ignore[no-untyped-def]
    incident = run("new-incident", *PLACE[:4], "--type", "youth", "--skill", "telepathy",
                   "--language", "tlh").strip()
    shown = run("rank-teams", incident)
    assert "what each lacks" in shown and "lacks telepathy" in shown
    team = json.loads(run("rank-teams", incident, "--json"))["options"][0]["team_id"]
    refused = run("assign", incident, team, code=1)
    assert "lacks skill telepathy" in refused and "override" in refused
    sent = run("assign", incident, team, "--override", "nearest; interpreter by phone")
    assert "override: nearest; interpreter by phone" in sent


@pytest.mark.parametrize("argv, fragment", [
    (["find-bed", "--lon", "nan", "--lat", "39.96", "--bed-type", "families"], "finite"),
    (["find-bed", "--lon", "-82.99", "--lat", "39.96", "--bed-type", "castle"], "bed_type"),
    (["find-bed", *PLACE, "--bed-type", "families", "--at", "yesterday"], "--at"),
    (["new-incident", "--lon", "-82.99", "--lat", "95", "--type", "mental_health"], "lat"),
    (["new-incident", "--lon", "-40", "--lat", "35", "--type", "mental_health"], "road network"),
    (["new-incident", "--lon", "39.96", "--lat", "-82.99", "--type", "welfare_check"],
     "road network"),
    (["rank-teams", "no-such-incident"], "no-such-incident"),
    (["team-status", "no-such-team", "available"], "no-such-team"),
])
def test_bad_input(run, argv: list[str], fragment: str) -> None:  # type: ignore[no-untyped-def]
    assert fragment in run(*argv, code=1)


def test_new_incident_with_an_intake_assessment(run) -> None:  # type: ignore[no-untyped-def]
    out = run("new-incident", "--lon", "-82.99", "--lat", "39.96", "--type", "mental_health",
              "--weapons", "--minors-present")
    assert "triage: priority 1, send co-responder team with law enforcement" in out
    assert "weapons reported" in out and "minors present" in out
    data = json.loads(run("new-incident", "--lon", "-82.99", "--lat", "39.96", "--type",
                          "welfare_check", "--json"))
    assert data["triage"] is None and data["priority"] == 2


def test_area_incident_by_radius_and_file_then_refined(run, tmp_path: Path, store_path: str  # type: ignore[no-untyped-def]
                                                       ) -> None:
    out = run("new-incident", *PLACE, "--radius-m", "900", "--type", "mental_health")
    incident = out.split()[0]
    assert "area incident" in out and "radius 900 m" in out
    ranked = run("rank-teams", incident)
    assert "expected" in ranked and "worst" in ranked and "road nodes" in ranked
    square = {"type": "Polygon", "coordinates": [[[-83.0, 39.95], [-82.98, 39.95],
                                                  [-82.98, 39.97], [-83.0, 39.97],
                                                  [-83.0, 39.95]]]}
    (tmp_path / "area.geojson").write_text(json.dumps(square), encoding="utf-8")
    data = json.loads(run("new-incident", "--area", str(tmp_path / "area.geojson"), "--type",
                          "welfare_check", "--json"))
    assert data["area"] and data["area_radius_m"] is None
    assert "area cleared" in run("locate-incident", incident, *PLACE)
    store = open_store(store_path)
    try:
        assert not store.incident(incident).is_area
        assert store.audit_log(limit=1)[0].action == "set_incident_location"
    finally:
        store.close()


@pytest.mark.parametrize("argv, fragment", [
    (["new-incident", *PLACE, "--radius-m", "0", "--type", "mental_health"], "radius_m"),
    (["new-incident", *PLACE, "--radius-m", "nan", "--type", "mental_health"], "radius_m"),
    (["new-incident", "--lon", "-40", "--lat", "35", "--radius-m", "500", "--type",
      "mental_health"], "no road node"),
    (["new-incident", "--radius-m", "500", "--type", "mental_health"], "lon"),
    (["new-incident", "--area", "/no/such/area.geojson", "--type", "mental_health"],
     "area.geojson"),
    (["locate-incident", "no-such-incident", *PLACE], "no-such-incident"),
])
def test_bad_area_input(run, argv: list[str], fragment: str, store_path: str) -> None:  # type: ignore[no-untyped-def]
    store = open_store(store_path)
    before = len(store.incidents())
    store.close()
    assert fragment in run(*argv, code=1)
    store = open_store(store_path)
    try:
        assert len(store.incidents()) == before
    finally:
        store.close()


def test_bad_area_file_contents(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bowtie = {"type": "Polygon", "coordinates": [[[-83.0, 39.95], [-82.98, 39.97],
                                                  [-82.98, 39.95], [-83.0, 39.97],
                                                  [-83.0, 39.95]]]}
    (tmp_path / "bowtie.geojson").write_text(json.dumps(bowtie), encoding="utf-8")
    (tmp_path / "junk.geojson").write_text("{nope", encoding="utf-8")
    assert "invalid polygon" in run("new-incident", "--area", str(tmp_path / "bowtie.geojson"),
                                    "--type", "mental_health", code=1)
    assert "GeoJSON" in run("new-incident", "--area", str(tmp_path / "junk.geojson"),
                            "--type", "mental_health", code=1)
    # review: a file that is not UTF-8 was a UnicodeDecodeError traceback
    (tmp_path / "binary.geojson").write_bytes(b"\xff\xfe\x00garbage")
    assert "GeoJSON" in run("new-incident", "--area", str(tmp_path / "binary.geojson"),
                            "--type", "mental_health", code=1)
    (tmp_path / "deep.geojson").write_text("[" * 100_000, encoding="utf-8")
    assert "nested too deeply" in run("new-incident", "--area", str(tmp_path / "deep.geojson"),
                                      "--type", "mental_health", code=1)
