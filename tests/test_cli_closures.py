"""Road-closure commands end to end on the demo city (embedded store)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clihelpers import demo_store
from shapely.geometry import LineString, box, mapping

from navigator.cli import main

PLACE = ["--lon", "-82.99", "--lat", "39.96"]


@pytest.fixture
def run(columbus_graph, tmp_path: Path, graph_cache_dir: Path,  # type: ignore[no-untyped-def]
        capsys: pytest.CaptureFixture[str]):
    path = demo_store(columbus_graph, tmp_path, seed=5)

    def go(*argv: str, code: int = 0) -> tuple[str, str]:
        result = main([argv[0], "--store", path, "--cache-dir", str(graph_cache_dir),
                       *argv[1:]])
        out = capsys.readouterr()
        assert result == code, out.err
        assert "Traceback" not in out.err
        return out.out, out.err

    return go


def test_close_rank_around_and_reopen(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    incident = run("new-incident", *PLACE, "--type", "mental_health")[0].strip()
    before = json.loads(run("rank-teams", incident, "--json")[0])
    route = LineString(before["options"][0]["route"]["geometry"]["coordinates"])
    middle = route.interpolate(0.5, normalized=True)
    piece = mapping(box(middle.x - 0.0005, middle.y - 0.0005, middle.x + 0.0005,
                        middle.y + 0.0005))
    path = tmp_path / "flood.geojson"
    path.write_text(json.dumps({"type": "Feature", "geometry": piece, "properties": {}}))
    out, _ = run("close-road", "--geojson", str(path), "--reason", "Flooding")
    assert out.startswith("closed closure-") and "Flooding" in out
    closure = out.split()[1].rstrip(":")
    assert closure in run("closures")[0]
    after, err = run("rank-teams", incident, "--json")
    assert "Road closures in effect: 1 closure(s)" in err
    ranked = json.loads(after)
    same = {o["team_id"]: o for o in ranked["options"]}.get(before["options"][0]["team_id"])
    assert same is None or same["eta_s"] > before["options"][0]["eta_s"]
    assert "reopened" in run("reopen-road", closure)[0]
    assert "already lifted" in run("reopen-road", closure, code=1)[1]
    assert "no road closures in force" in run("closures")[0]
    assert closure in run("closures", "--all")[0]
    again, err = run("rank-teams", incident, "--json")
    assert "closures" not in err
    assert json.loads(again)["options"][0]["eta_s"] == pytest.approx(
        before["options"][0]["eta_s"])


def test_bad_closure_files_are_refused(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sea = tmp_path / "sea.geojson"
    sea.write_text(json.dumps(mapping(box(-40, 30, -39.9, 30.1))))
    assert "outside the road network" in run("close-road", "--geojson", str(sea),
                                             "--reason", "x", code=1)[1]
    broken = tmp_path / "broken.geojson"
    broken.write_text("{")
    assert "not a readable GeoJSON" in run("close-road", "--geojson", str(broken),
                                           "--reason", "x", code=1)[1]
    inner = tmp_path / "inner.geojson"
    inner.write_text(json.dumps(mapping(box(-82.995, 39.955, -82.99, 39.96))))
    assert "reason is required" in run("close-road", "--geojson", str(inner), code=1)[1]
    assert "after the start" in run("close-road", "--geojson", str(inner), "--reason", "x",
                                    "--starts", "2026-03-01T12:00+00:00",
                                    "--expires", "2026-03-01T11:00+00:00", code=1)[1]
    assert "no road closures" in run("closures", "--all")[0]
