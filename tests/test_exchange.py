"""Import and export through the CLI: format detection, round trips, all-or-nothing imports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from navigator.cli import main
from navigator.demo.city import load_demo
from navigator.exchange.formats import export_format, import_format
from navigator.store import open_store


@pytest.fixture(scope="module")
def demo_store(columbus_graph, tmp_path_factory: pytest.TempPathFactory) -> str:  # type: ignore[no-untyped-def]
    path = str(tmp_path_factory.mktemp("exchange") / "demo.gpkg")
    store = open_store(path)
    load_demo(store, columbus_graph, seed=11)
    store.close()
    return path


@pytest.mark.parametrize("name, fmt", [("a.geojson", "geojson"), ("a.gpkg", "gpkg"),
                                       ("a.json", "hsds-json"), ("a.zip", "hsds-csv"),
                                       ("folder", "hsds-csv")])
def test_export_format_from_name(name: str, fmt: str) -> None:
    assert export_format(Path(name)) == fmt


def test_unknown_format_is_a_clear_error(tmp_path: Path) -> None:
    from navigator.errors import ValidationError

    with pytest.raises(ValidationError, match="--format"):
        import_format(tmp_path / "a.xlsx")


@pytest.mark.parametrize("name", ["out.geojson", "out.json", "hsds", "out.zip"])
def test_export_then_import_round_trip(name: str, demo_store: str, tmp_path: Path) -> None:
    out = tmp_path / name
    assert main(["export", "--store", demo_store, str(out)]) == 0
    target = str(tmp_path / "copy.gpkg")
    assert main(["import", "--store", target, str(out)]) == 0
    src, dst = open_store(demo_store), open_store(target)
    try:
        public = src.resources(include_confidential=False)
        copied = dst.resources()
        assert set(copied["id"]) == set(public["id"])
        assert not copied["confidential"].any()
        row = public.iloc[0]
        twin = copied.set_index("id").loc[row["id"]]
        assert twin["name"] == row["name"]
        assert twin.geometry.distance(row.geometry) < 1e-7
    finally:
        src.close()
        dst.close()


def test_hsds_export_never_holds_confidential_site(demo_store: str, tmp_path: Path) -> None:
    store = open_store(demo_store)
    try:
        dv = store.resources()
        dv = dv[dv["confidential"]].iloc[0]
    finally:
        store.close()
    out = tmp_path / "all.json"
    assert main(["export", "--store", demo_store, "--include-confidential", str(out)]) == 0
    text = out.read_text()
    assert dv["name"] not in text and f"{dv.geometry.y:.5f}" not in text


def test_bad_import_changes_nothing(demo_store: str, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.geojson"
    good = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [-83.0, 39.96]},
            "properties": {"id": "new-1", "kind": "clinic", "name": "New clinic"}}
    worse = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [-83.0, 95.0]},
             "properties": {"id": "new-2", "kind": "clinic", "name": "Bad clinic"}}
    bad.write_text(json.dumps({"type": "FeatureCollection", "features": [good, worse]}))
    store = open_store(demo_store)
    before = store.counts()
    store.close()
    assert main(["import", "--store", demo_store, str(bad)]) == 1
    err = capsys.readouterr().err
    assert "feature 1" in err and "new-2" in err and "lat" in err
    store = open_store(demo_store)
    try:
        assert store.counts() == before
    finally:
        store.close()


def test_export_never_overwrites_silently_nor_writes_over_the_store(
        demo_store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "resources.geojson"
    out.write_text("keep me")
    assert main(["export", "--store", demo_store, str(out)]) == 1
    err = capsys.readouterr().err
    assert "exists: pass --overwrite" in err and "Traceback" not in err
    assert out.read_text() == "keep me"
    assert main(["export", "--store", demo_store, "--overwrite", str(out)]) == 0
    assert out.read_text().startswith("{")
    before = Path(demo_store).stat().st_size
    assert main(["export", "--store", demo_store, "--overwrite", demo_store]) == 1
    err = capsys.readouterr().err
    assert "is the store itself" in err and "Traceback" not in err
    assert Path(demo_store).stat().st_size == before
