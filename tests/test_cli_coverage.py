"""Planner commands end to end on the demo city and the real block-group population."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pytest
from clihelpers import cli_runner, demo_store

from navigator.store import open_store


@pytest.fixture(scope="module")
def store_path(columbus_graph, tmp_path_factory: pytest.TempPathFactory) -> str:  # type: ignore[no-untyped-def]
    return demo_store(columbus_graph, tmp_path_factory.mktemp("coverage-cli"))


@pytest.fixture
def run(store_path: str, graph_cache_dir: Path, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    return cli_runner(store_path, graph_cache_dir, capsys)


def test_coverage_counts_real_people_and_writes_layers(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "coverage.gpkg"
    data = json.loads(run("coverage", "--targets", "3,5,10", "--output", str(out), "--json"))
    rows = data["coverage"]
    covered = [r["people_covered"] for r in rows]
    assert covered == sorted(covered)  # a longer target never covers fewer people
    assert all(r["people_covered"] + r["people_uncovered"] == pytest.approx(514_431)
               for r in rows)
    assert any("outside the road network" in n for n in data["notes"])
    gaps = gpd.read_file(out, layer="gaps")
    assert gaps["people_uncovered"].is_monotonic_decreasing


def test_coverage_text_report_and_map(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = run("coverage", "--kind", "shelters", "--targets", "5,10", "--map",
              str(tmp_path / "m.html"))
    assert "people covered" in out and "Largest gaps" in out
    assert "cdn.jsdelivr" not in (tmp_path / "m.html").read_text()


def test_closing_colocated_bases_loses_coverage(run, store_path: str) -> None:  # type: ignore[no-untyped-def]
    store = open_store(store_path)
    bases = sorted(set(store.teams()["base_id"]))  # the stations teams work from
    store.close()
    closed = [a for i in bases[:2] for a in ("--close", i)]
    rows = json.loads(run("compare-scenarios", *closed, "--targets", "3,5", "--json"))
    assert all(r["covered_scenario"] <= r["covered_today"] for r in rows)
    assert all(r["newly_covered"] == 0 for r in rows)


def test_recommend_sites_beats_or_matches_greedy(run) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(run("recommend-sites", "--k", "2", "--target", "4", "--json"))
    assert data["status"] == "Optimal" and len(data["sites"]) == 2
    assert data["objective"] >= data["greedy_objective"]


def test_recommend_mexclp_with_a_busy_fraction_per_base(run, store_path: str) -> None:  # type: ignore[no-untyped-def]
    store = open_store(store_path)
    bases = sorted(set(store.teams()["base_id"]))
    store.close()
    busy = f"{bases[0]}=0.05,{bases[1]}=0.6"
    data = json.loads(run("recommend-sites", "--model", "mexclp", "--k", "2", "--target", "4",
                          "--busy", busy, "--json"))
    assert data["status"] == "Optimal" and data["model"] == "mexclp"
    assert any("2 base(s) with their own busy fraction" in n for n in data["notes"])
    assert f"'{bases[1]}' must be in [0, 1)" in run(
        "recommend-sites", "--model", "mexclp", "--target", "4", "--busy", f"{bases[1]}=1",
        code=1)


def test_json_output_is_only_json_in_a_fresh_process(store_path: str, graph_cache_dir: Path
                                                    ) -> None:
    """The MILP solver's once-per-process banner goes to stderr, not into ``--json`` output."""
    done = subprocess.run(
        [sys.executable, "-m", "navigator.cli", "recommend-sites", "--store", store_path,
         "--cache-dir", str(graph_cache_dir), "--k", "1", "--target", "4", "--json"],
        capture_output=True, text=True, check=True, timeout=600)
    assert json.loads(done.stdout)["model"] == "mclp"
    assert "Traceback" not in done.stderr


def test_recommend_says_when_nothing_is_needed(run) -> None:  # type: ignore[no-untyped-def]
    assert "no new site is needed" in run("recommend-sites", "--target", "60")


@pytest.mark.parametrize("argv, fragment", [
    (["coverage", "--targets", "0,5"], "positive"),
    (["coverage", "--targets", "nan"], "positive"),
    (["coverage", "--add-site=500,39"], "lon"),
    (["coverage", "--close", "no-such-base"], "no-such-base"),
    (["coverage", "--population", "/nonexistent.gpkg"], "nonexistent"),
    (["compare-scenarios"], "--close"),
])
def test_bad_input(run, argv: list[str], fragment: str) -> None:  # type: ignore[no-untyped-def]
    assert fragment in run(*argv, code=1)


@pytest.mark.parametrize("argv, fragment", [
    (["recommend-sites", "--k", "0"], "--k"),
    (["recommend-sites", "--target", "0"], "--target"),
    (["recommend-sites", "--model", "mexclp", "--busy", "station"], "BASE=FRACTION"),
    (["recommend-sites", "--model", "mexclp", "--target", "4", "--busy", "nowhere=0.3"],
     "'nowhere': no such base"),
    (["coverage", "--output", "/nonexistent/dir/x.gpkg"], "folder does not exist"),
])
def test_more_bad_input(run, argv: list[str], fragment: str) -> None:  # type: ignore[no-untyped-def]
    assert fragment in run(*argv, code=1)
