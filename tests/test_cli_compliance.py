"""Compliance commands end to end on the demo city (embedded store): areas import / list /
delete, the report as table, JSON and CSV, and bad input as messages with exit 1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelpers import cli_runner, demo_store
from shapely.geometry import box, mapping

TARGETS = {"1": 600, "2": 1200, "3": 2400, "4": 4800}
CORE = (-83.0, 39.95, -82.98, 39.97)


@pytest.fixture
def run(columbus_graph, tmp_path: Path, graph_cache_dir: Path,  # type: ignore[no-untyped-def]
        capsys: pytest.CaptureFixture[str]):
    return cli_runner(demo_store(columbus_graph, tmp_path, seed=5), graph_cache_dir, capsys)


def _write(tmp_path: Path, name: str, *features: dict) -> str:  # type: ignore[type-arg]
    path = tmp_path / name
    path.write_text(json.dumps({"type": "FeatureCollection", "features": list(features)}))
    return str(path)


def _feature(area_id: str, bounds: tuple[float, ...], targets: dict | None = None,  # type: ignore[type-arg]
             name: str = "Core") -> dict:  # type: ignore[type-arg]
    return {"type": "Feature", "geometry": mapping(box(*bounds)),
            "properties": {"id": area_id, "name": name, "class": "urban",
                           "targets_s": targets or TARGETS}}


def test_areas_import_list_delete_and_report(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = run("compliance-areas", "list")
    assert "demo-core" in out and "Rest of the region (demo)" in out
    file = _write(tmp_path, "areas.geojson", _feature("core", CORE))
    out = run("compliance-areas", "import", file, "--replace")
    assert "core  Core  urban  P1=10 min P2=20 min P3=40 min P4=80 min" in out
    assert "demo-core" not in out
    listed = json.loads(run("compliance-areas", "list", "--json"))
    assert [f["id"] for f in listed["features"]] == ["core"]
    err = run("compliance-areas", "import", file, code=1)
    assert "already holds 'core'" in err
    incident = run("new-incident", "--lon", "-82.99", "--lat", "39.96", "--type",
                   "suicide_risk", "--priority", "1").strip()
    team = json.loads(run("rank-teams", incident, "--json"))["options"][0]["team_id"]
    run("assign", incident, team)
    run("team-status", team, "on_scene")
    out = run("compliance")
    assert "Core  P1  1 sent  1 arrived" in out and "few (n<5)" in out
    assert "(America/New_York)" in out and "outside every area  P1  0 sent" in out
    report = json.loads(run("compliance", "--json"))
    (row,) = [r for r in report["rows"] if r["area_id"] == "core" and r["priority"] == 1]
    assert (row["dispatched"], row["within_target"], row["target_s"]) == (1, 1.0, 600.0)
    csv_path = tmp_path / "c.csv"
    run("compliance", "--csv", str(csv_path), "--from", "2026-01-01", "--to", "2030-01-01")
    assert ",core,Core,urban,yes" in csv_path.read_text()
    out = run("compliance-areas", "delete", "core")
    assert out.strip() == "deleted compliance area core (Core)"
    err = run("compliance-areas", "delete", "core", code=1)
    assert "no compliance area 'core'" in err


@pytest.mark.parametrize(("features", "says"), [
    ([_feature("a", CORE, {**TARGETS, "5": 60})], "area 'Core': unknown priority '5'"),
    ([_feature("a", CORE, {**TARGETS, "1": -1})], "priority 1"),
    ([_feature("a", CORE, {**TARGETS, "1": 999999})], "at most 86400"),
    ([_feature("a", (-40.0, 30.0, -39.0, 31.0))], "holds no road"),
    ([_feature("a", CORE), _feature("a", CORE)], "given twice"),
])
def test_bad_area_files_exit_1_and_write_nothing(run, tmp_path: Path, features: list,  # type: ignore[no-untyped-def, type-arg]
                                                 says: str) -> None:
    before = run("compliance-areas", "list", "--json")
    err = run("compliance-areas", "import", _write(tmp_path, "bad.geojson", *features),
                 "--replace", code=1)
    assert says in err
    assert run("compliance-areas", "list", "--json") == before


def test_bad_periods_exit_1(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    err = run("compliance", "--from", "2026-12-02", "--to", "2026-12-01", code=1)
    assert "end after it starts" in err
    err = run("compliance", "--from", "2020-01-01", "--to", "2020-01-02", code=1)
    assert "no dispatch between 2020-01-01T00:00-05:00" in err
    err = run("compliance", "--targets", "1=0", code=1)
    assert "positive number of minutes" in err
    (tmp_path / "broken.geojson").write_text("{not json")
    err = run("compliance-areas", "import", str(tmp_path / "broken.geojson"), code=1)
    assert "not a readable GeoJSON file" in err
