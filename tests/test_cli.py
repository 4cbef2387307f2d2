"""The ``navigator`` command end to end on the shipped demo data."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from navigator.cli import main


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("network-cache")


def test_demo_no_serve_writes_offline_map(tmp_path: Path, cache_dir: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "demo.gpkg"
    out = tmp_path / "demo.html"
    code = main(["demo", "--no-serve", "--store", str(store), "--output", str(out),
                 "--cache-dir", str(cache_dir)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "Road network:" in printed and "resources" in printed
    html = out.read_text()
    # Offline: no CDN links, Leaflet inlined, OSM credited, synthetic values labelled.
    assert "cdn.jsdelivr" not in html and "cdnjs" not in html and "code.jquery" not in html
    assert "data:text/javascript;base64" in html
    assert "OpenStreetMap contributors" in html
    assert "synthetic" in html
    # The confidential DV site never reaches the public map.
    from navigator.store import open_store

    s = open_store(str(store))
    try:
        dv = s.resources()
        dv = dv[dv["confidential"]]
        assert len(dv) == 1
        assert dv.iloc[0]["name"] not in html
        assert f"{dv.geometry.iloc[0].y:.5f}" not in html
    finally:
        s.close()


def test_init_db_reports_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init-db", "--store", str(tmp_path / "x.gpkg")]) == 0
    assert "schema version" in capsys.readouterr().out


@pytest.mark.parametrize("argv, fragment", [
    (["import", "/nonexistent/file.geojson"], "no such file"),
    (["build-network", "/nonexistent/roads.osm.pbf"], "roads.osm.pbf"),
    (["init-db", "--store", "/nonexistent/folder/x.gpkg"],
     "cannot open GeoPackage /nonexistent/folder/x.gpkg: folder /nonexistent/folder does not "
     "exist"),
])
def test_bad_input_is_a_message_and_nonzero_exit(argv: list[str], fragment: str, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code = main([*argv, *(["--cache-dir", str(tmp_path)] if argv[0] == "build-network" else [])])
    assert code != 0
    err = capsys.readouterr().err
    assert fragment in err
    assert "Traceback" not in err


def test_bad_setting_is_a_message(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("NAVIGATOR_MAX_SNAP_M", "nan")
    assert main(["init-db", "--store", str(tmp_path / "x.gpkg")]) == 1
    assert "NAVIGATOR_MAX_SNAP_M" in capsys.readouterr().err


def test_demo_refuses_to_replace_other_data(tmp_path: Path, cache_dir: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from navigator.store import open_store

    store = str(tmp_path / "mine.gpkg")
    data = tmp_path / "mine.geojson"
    data.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [-83.0, 39.96]},
         "properties": {"id": "mine-1", "kind": "clinic", "name": "My clinic"}}]}))
    assert main(["import", "--store", store, str(data)]) == 0
    argv = ["demo", "--no-serve", "--store", store, "--output", str(tmp_path / "d.html"),
            "--cache-dir", str(cache_dir)]
    assert main(argv) == 1
    assert "--replace" in capsys.readouterr().err
    s = open_store(store)
    try:
        assert list(s.resources()["id"]) == ["mine-1"]
    finally:
        s.close()
    assert main([*argv, "--replace"]) == 0
    assert main(argv) == 0  # the store now holds the demo: re-running it is fine


def test_import_replace_with_nothing_is_refused(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.geojson"
    empty.write_text('{"type": "FeatureCollection", "features": []}')
    assert main(["import", "--store", str(tmp_path / "x.gpkg"), "--replace", str(empty)]) == 1
    assert "refusing" in capsys.readouterr().err


def test_unknown_store_scheme(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init-db", "--store", "mysql://x/y"]) == 1
    assert "not supported" in capsys.readouterr().err


def test_a_decision_against_a_missing_store_is_refused(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.gpkg"
    assert main(["find-bed", "--lon", "-82.99", "--lat", "39.96", "--bed-type", "single_men",
                 "--store", str(missing)]) == 1
    assert f"no store at {missing}" in capsys.readouterr().err
    assert not missing.exists()  # not created empty


def _program(*words: str, code: str | None = None, shell: str = ""
             ) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "navigator.cli", *words] if code is None else \
        [sys.executable, "-c", code, *words]
    if shell:  # redirections of the program's descriptors, e.g. ">&-"
        argv = ["sh", "-c", f'exec "$@" {shell}', "sh", *argv]
    # Buffered as an installed copy: output not flushed before the exit would be lost.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    return subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False,
                          env=env)


def test_the_program_exits_with_its_status_and_all_its_output(tmp_path: Path) -> None:
    """``run`` ends the process without teardown: the status and every line still arrive."""
    store = tmp_path / "new.gpkg"
    done = _program("init-db", "--store", str(store))
    assert done.returncode == 0, done.stderr
    assert str(store) in done.stdout and done.stdout.endswith("\n") and store.exists()
    done = _program("find-bed", "--lon", "-82.99", "--lat", "39.96", "--bed-type",
                    "single_women", "--store", str(tmp_path / "none.gpkg"))
    assert done.returncode == 1
    assert done.stderr.startswith("navigator find-bed: error: no store at")


def test_the_program_waits_for_a_thread_still_running(tmp_path: Path) -> None:
    mark = tmp_path / "mark"
    probe = ("import sys, threading, time\n"
             "from pathlib import Path\n"
             "from navigator.cli.main import run\n"
             "def late(mark):\n"
             "    time.sleep(1.5)  # longer than init-db takes\n"
             "    mark.write_text('done')\n"
             "threading.Thread(target=late, args=(Path(sys.argv[1]),)).start()\n"
             "sys.argv[1:] = ['init-db', '--store', sys.argv[2]]\n"
             "run()\n")
    done = _program(str(mark), str(tmp_path / "s.gpkg"), code=probe)
    assert done.returncode == 0, done.stderr
    assert mark.read_text() == "done"


@pytest.mark.parametrize("closed", [">&-", "2>&-"])
def test_the_program_exits_with_its_status_when_started_with_a_stream_closed(
        tmp_path: Path, closed: str) -> None:
    store = tmp_path / "new.gpkg"
    done = _program("init-db", "--store", str(store), shell=closed)
    assert done.returncode == 0, done.stderr
    assert store.exists()


def test_what_exit_handlers_write_still_arrives(tmp_path: Path) -> None:
    probe = ("import atexit, sys\n"
             "from navigator.cli.main import run\n"
             "atexit.register(print, 'said at exit')\n"
             "sys.argv[1:] = ['init-db', '--store', sys.argv[1]]\n"
             "run()\n")
    done = _program(str(tmp_path / "s.gpkg"), code=probe)
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith("said at exit\n")
