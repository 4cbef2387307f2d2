"""``navigator region init``: a county from files alone, used by every command and the app."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from clihelpers import cli_runner
from postgis_db import throwaway_database

from navigator.cli import main
from navigator.config import Settings
from navigator.services.accounts import create_user
from navigator.store import open_store

BACKENDS = ["gpkg", pytest.param("postgis", marks=pytest.mark.postgis)]

ROOT = Path(__file__).resolve().parent.parent
IMPERIAL_OSM = ROOT / "data" / "osm" / "imperial_county_drive.osm.bz2"
IMPERIAL_TRACTS = ROOT / "data" / "population" / "imperial_tracts2017_population.gpkg"
HEADER = ("id,kind,name,lon,lat,address,phone,opening_hours,services,walk_in,"
          "eligibility_genders,eligibility_min_age,eligibility_max_age,eligibility_families,"
          "languages,wheelchair,pets,beds_single_women_capacity,beds_single_women_free,source")
#: A shelter and a clinic in El Centro, and a clinic far outside the extract (clipped).
RESOURCES = "\n".join((
    HEADER,
    "ec1,shelter,El Centro test shelter,-115.5631,32.7920,100 Main St,760-555-0100,24/7,"
    "meals,true,female,18,,false,en;es,yes,no,12,4,test fixture",
    "ec2,clinic,El Centro test clinic,-115.5500,32.7800,,760-555-0101,"
    "Mo-Fr 08:00-17:00; PH off,primary_care,false,,,,,en,true,false,,,test fixture",
    "far1,clinic,Far away clinic,-117.5,34.9,,760-555-0102,Mo-Fr 08:00-17:00,primary_care,"
    "false,,,,,en,true,false,,,test fixture", ""))


def _init(store: Path | str, cache: Path, *extra: str, osm: Path = IMPERIAL_OSM,
          population: Path = IMPERIAL_TRACTS, column: str = "pop2017") -> list[str]:
    return ["region", "init", "--osm", str(osm), "--population", str(population),
            "--population-column", column, "--name", "Imperial County, CA",
            "--holidays", "US-CA", "--store", str(store), "--cache-dir", str(cache), *extra]


@pytest.fixture(scope="module")
def region_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("region")
    (folder / "resources.csv").write_text(RESOURCES, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def region_store(region_dir: Path, graph_cache_dir: Path) -> Path:
    """Return a GeoPackage set up by ``navigator region init`` (Imperial tracts, resources)."""
    path = region_dir / "imperial.gpkg"
    code = main(_init(path, graph_cache_dir, "--resources", str(region_dir / "resources.csv")))
    assert code == 0 and path.is_file()
    return path


def test_init_prints_what_went_in_and_records_the_region(
        region_dir: Path, graph_cache_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = region_dir / "printed.gpkg"
    assert main(_init(path, graph_cache_dir, "--resources",
                      str(region_dir / "resources.csv"))) == 0
    out = capsys.readouterr().out
    assert "Region Imperial County, CA: store" in out and "created" in out
    assert "31 population points, 179,957 people" in out
    assert "America/Los_Angeles (from the network's centre, offline), holidays US-CA" in out
    assert "clinic: 1 imported, 1 skipped" in out  # the far clinic lies outside the roads
    assert "outside the road network's area (e.g. far1)" in out
    assert "stored: 2 resources" in out
    store = open_store(str(path))
    try:
        region = store.region()
        assert region is not None and region.name == "Imperial County, CA"
        assert region.osm_file == str(IMPERIAL_OSM.resolve())
        assert region.population_column == "pop2017" and region.rural
        assert region.timezone == "America/Los_Angeles" and region.holidays == "US-CA"
        assert len(region.osm_sha256) == 64
        assert store.counts()["resources"] == 2
        assert {e.action for e in store.audit_log(limit=5)} >= {"import_directory",
                                                               "set_region"}
    finally:
        store.close()


def test_json_summary_is_valid_json(region_dir: Path, graph_cache_dir: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_init(region_dir / "json.gpkg", graph_cache_dir, "--json")) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["population"]["units"] == 31 and summary["resources"] is None
    assert summary["region"]["timezone"] == "America/Los_Angeles"


def test_every_command_uses_the_store_region(region_store: Path, graph_cache_dir: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    run = cli_runner(str(region_store), graph_cache_dir, capsys)
    out = run("find-bed", "--lon", "-115.55", "--lat", "32.80", "--bed-type", "single_women",
              "--gender", "female", "--age", "30")
    assert "El Centro test shelter" in out and "4 free single_women" in out
    out = run("coverage", "--kind", "shelters")
    assert "179,957 people in the network area" in out and "population point" in out
    err = run("find-bed", "--lon", "-115.55", "--lat", "32.80", "--bed-type",
              "single_women", "--region", "columbus", code=1)
    assert "set up for the region 'Imperial County, CA'" in err


def test_the_app_serves_the_store_region(region_store: Path, graph_cache_dir: Path) -> None:
    from web import create_app

    store = open_store(str(region_store))
    try:
        create_user(store, "cw1", "caseworker", "a long test password 1", actor="test")
    finally:
        store.close()
    # No graph, no region setting: the store's region gives the roads.
    app = create_app(Settings(store_url=str(region_store), cache_dir=graph_cache_dir),
                     test_config={"SESSION_COOKIE_SECURE": False})
    c = app.test_client()
    token = re.search(r'name="csrf-token" content="([^"]+)"',
                      c.get("/auth/login").get_data(as_text=True))
    assert token is not None
    r = c.post("/auth/login", data={"username": "cw1", "password": "a long test password 1",
                                    "csrf_token": token.group(1)})
    assert r.status_code == 302
    headers = {"X-CSRFToken": c.get("/api/csrf").get_json()["csrf_token"]}
    found = c.post("/api/beds/search", json={"lon": -115.55, "lat": 32.80,
                                             "bed_type": "single_women"}, headers=headers)
    assert found.status_code == 200, found.get_json()
    best = found.get_json()["features"][0]["properties"]
    assert best["name"] == "El Centro test shelter"
    held = c.post("/api/holds", json={"resource_id": best["resource_id"],
                                      "bed_type": "single_women",
                                      "idempotency_key": "region-1"}, headers=headers)
    assert held.status_code == 201 and held.get_json()["timezone"] == "America/Los_Angeles"


def test_a_changed_or_vanished_file_is_refused(region_dir: Path, graph_cache_dir: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    population = region_dir / "tracts-copy.gpkg"
    shutil.copyfile(IMPERIAL_TRACTS, population)
    path = region_dir / "changing.gpkg"
    assert main(_init(path, graph_cache_dir, population=population)) == 0
    capsys.readouterr()
    run = cli_runner(str(path), graph_cache_dir, capsys)
    with population.open("ab") as f:
        f.write(b"changed")
    err = run("coverage", "--kind", "shelters", code=1)
    assert "region 'Imperial County, CA'" in err and "changed since navigator region init" in err
    population.unlink()
    err = run("coverage", "--kind", "shelters", code=1)
    assert "tracts-copy.gpkg is gone" in err


def _bad_population(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _point(people: object, crs: str = "EPSG:4326") -> str:
    return json.dumps({"type": "FeatureCollection",
                       "crs": {"type": "name", "properties": {"name": crs}},
                       "features": [{"type": "Feature", "properties": {"pop2017": people},
                                     "geometry": {"type": "Point",
                                                  "coordinates": [-115.55, 32.79]}}]})


BAD_INPUTS: dict[str, tuple[Callable[[Path], dict[str, Path | str]], str]] = {
    "missing OSM file": (lambda d: {"osm": d / "nowhere.osm.pbf"}, "no such file"),
    "not OSM": (lambda d: {"osm": ROOT / "tests" / "data" / "network" / "corrupt.osm.pbf"},
                "OSM"),
    "missing population": (lambda d: {"population": d / "nowhere.gpkg"}, "no such file"),
    "no such column": (lambda d: {"column": "people"}, "has no column 'people'"),
    "negative people": (lambda d: {"population": _bad_population(d, "neg.geojson",
                                                                 _point(-5))},
                        "negative"),
    "people as text": (lambda d: {"population": _bad_population(d, "txt.geojson",
                                                                _point("many"))},
                       "non-numeric"),
    "empty layer": (lambda d: {"population": _bad_population(
        d, "empty.geojson", '{"type": "FeatureCollection", "features": []}')}, "is empty"),
    "metres labelled as degrees": (lambda d: {"population": _bad_population(
        d, "utm.geojson", _point(10).replace("-115.55, 32.79", "630000, 3628000"))}, "CRS"),
    "people outside the roads": (lambda d: {"population": _bad_population(
        d, "far.geojson", _point(10).replace("-115.55, 32.79", "10.0, 50.0"))}, "overlap"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_inputs_are_refused_and_no_store_is_created(
        case: str, region_dir: Path, graph_cache_dir: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    make, words = BAD_INPUTS[case]
    folder = region_dir / case.replace(" ", "-")
    folder.mkdir()
    options = make(folder)
    path = folder / "store.gpkg"
    kwargs = {k: v for k, v in options.items() if k in ("osm", "population")}
    argv = _init(path, graph_cache_dir, **kwargs,  # type: ignore[arg-type]
                 column=str(options.get("column", "pop2017")))
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "navigator region init: error:" in err
    assert words in err, err
    assert sorted(p.name for p in folder.iterdir() if "store" in p.name) == []


def test_resources_failing_import_leave_no_store(region_dir: Path, graph_cache_dir: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    bad = region_dir / "bad.csv"
    bad.write_text(HEADER + "\nx1,castle,A castle,-115.55,32.79" + ",," * 7 + "\n",
                   encoding="utf-8")
    path = region_dir / "never.gpkg"
    assert main(_init(path, graph_cache_dir, "--resources", str(bad))) == 1
    err = capsys.readouterr().err
    assert "bad.csv" in err and "castle" in err
    assert not path.exists()
    assert not [p for p in region_dir.iterdir() if p.name.startswith(".never.gpkg")]


def test_an_existing_store_is_unchanged_by_a_failed_or_refused_init(
        region_store: Path, region_dir: Path, graph_cache_dir: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    store = open_store(str(region_store))
    try:
        before = store.counts()
        assert main(_init(region_store, graph_cache_dir, "--name", "Other")) == 1
        assert "already holds region 'Imperial County, CA'" in capsys.readouterr().err
        bad = region_dir / "bad-replace.csv"
        bad.write_text(HEADER + "\nx1,shelter,,-115.55,32.79" + ",," * 7 + "\n",
                       encoding="utf-8")
        assert main(_init(region_store, graph_cache_dir, "--replace", "--resources",
                          str(bad))) == 1
        assert "bad-replace.csv" in capsys.readouterr().err
        assert store.counts() == before
        region = store.region()
        assert region is not None and region.name == "Imperial County, CA"
    finally:
        store.close()


def test_demo_refuses_a_region_store(region_store: Path, graph_cache_dir: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["demo", "--store", str(region_store), "--cache-dir", str(graph_cache_dir),
                 "--no-serve", "--replace"])
    assert code == 1
    assert "set up for the region 'Imperial County, CA'" in capsys.readouterr().err


@pytest.fixture(scope="module")
def postgis_database(test_database_url: str | None) -> Iterator[str]:
    """Create a throwaway PostGIS database for this module; drop it at the end."""
    with throwaway_database(test_database_url) as url:
        yield url


@pytest.mark.parametrize("backend", BACKENDS)
def test_both_backends_take_a_region_and_refuse_a_failed_replace(
        backend: str, store_url: str, region_dir: Path, graph_cache_dir: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    resources = str(region_dir / "resources.csv")
    assert main(_init(store_url, graph_cache_dir, "--resources", resources)) == 0
    capsys.readouterr()
    run = cli_runner(store_url, graph_cache_dir, capsys)
    assert "El Centro test shelter" in run("find-bed", "--lon", "-115.55", "--lat", "32.80",
                                           "--bed-type", "single_women")
    store = open_store(store_url)
    try:
        before = store.counts()
        bad = region_dir / f"bad-{backend}.csv"
        bad.write_text(HEADER + "\nx1,shelter,,-115.55,32.79" + ",," * 7 + "\n",
                       encoding="utf-8")
        assert main(_init(store_url, graph_cache_dir, "--replace", "--name", "Other",
                          "--resources", str(bad))) == 1
        assert store.counts() == before
        region = store.region()
        assert region is not None and region.name == "Imperial County, CA"
    finally:
        store.close()


def test_a_shapefile_is_checked_by_all_its_parts(region_dir: Path, graph_cache_dir: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    import geopandas as gpd

    folder = region_dir / "shapefile"
    folder.mkdir()
    tracts = gpd.read_file(IMPERIAL_TRACTS).to_crs(32611)  # UTM 11N metres: reprojected back
    tracts.to_file(folder / "tracts.shp")
    path = folder / "store.gpkg"
    assert main(_init(path, graph_cache_dir, population=folder / "tracts.shp")) == 0
    assert "179,957 people" in capsys.readouterr().out
    tracts.assign(pop2017=tracts["pop2017"] * 2).to_file(folder / "tracts.shp")
    err = cli_runner(str(path), graph_cache_dir, capsys)("coverage", code=1)
    assert "tracts.shp changed since navigator region init" in err
