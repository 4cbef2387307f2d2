"""GeoPackage specifics: the file is a real GeoPackage that GDAL/QGIS read."""

from __future__ import annotations

import math
import os
import sqlite3
import struct
import threading
from typing import Any

import geopandas as gpd
import pyogrio
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st
from shapely.geometry import MultiPolygon, Point, Polygon

from navigator.errors import StoreError
from navigator.model import Bundle
from navigator.store import gpkg, open_store
from navigator.store.embedded import GeoPackageStore


@pytest.fixture
def gpkg_store(tmp_path: Any, sample: Bundle) -> Any:
    store = open_store(str(tmp_path / "demo.gpkg"))
    store.load(sample, actor="loader")
    yield store
    store.close()


def test_header_says_geopackage(gpkg_store: Any) -> None:
    with open(gpkg_store.path, "rb") as f:
        header = f.read(100)
    assert header[:16] == b"SQLite format 3\x00"
    assert struct.unpack(">I", header[68:72])[0] == 0x47504B47  # application_id 'GPKG'
    assert struct.unpack(">I", header[60:64])[0] == 10300  # user_version


def test_gdal_lists_and_reads_layers(gpkg_store: Any, sample: Bundle) -> None:
    layers = dict(pyogrio.list_layers(gpkg_store.path))
    assert layers["resources"] == "Point" and layers["hotlines"] == "MultiPolygon"
    assert layers["teams"] == "Point" and layers["incidents"] == "Point"
    assert layers["beds"] is None and layers["audit"] is None
    frame = gpd.read_file(gpkg_store.path, layer="resources")
    assert frame.crs.to_epsg() == 4326
    by_id = frame.set_index("id")
    for r in sample.resources:
        assert by_id.loc[r.id, "geometry"] == Point(r.lon, r.lat)
        assert by_id.loc[r.id, "name"] == r.name
    hotlines = gpd.read_file(gpkg_store.path, layer="hotlines").set_index("id")
    assert hotlines.loc["local", "geometry"] == MultiPolygon([sample.hotlines[1].area])
    audit = gpd.read_file(gpkg_store.path, layer="audit")
    assert list(audit["action"]) == ["load"]
    assert str(audit["at"].dt.tz) == "UTC"


def test_gdal_reads_while_the_store_writes(gpkg_store: Any) -> None:
    gpkg_store.update_team("T2", actor="d", lon=-83.5, lat=40.5)
    teams = gpd.read_file(gpkg_store.path, layer="teams").set_index("id")
    assert teams.loc["T2", "geometry"] == Point(-83.5, 40.5)
    # The R-tree followed the move: GDAL's bbox filter uses it.
    near = gpd.read_file(gpkg_store.path, layer="teams", bbox=(-83.6, 40.4, -83.4, 40.6))
    assert list(near["id"]) == ["T2"]


def test_plain_sqlite_without_st_functions_hits_the_trap(gpkg_store: Any) -> None:
    plain = sqlite3.connect(gpkg_store.path)
    try:
        with pytest.raises(sqlite3.OperationalError, match="no such function: ST_"):
            plain.execute("UPDATE teams SET geom = geom WHERE id = 'T1'")
    finally:
        plain.close()
    conn = gpkg.connect(gpkg_store.path)
    try:
        conn.execute("UPDATE teams SET geom = geom WHERE id = 'T1'")
    finally:
        conn.close()


def test_refuses_a_non_geopackage_sqlite_file(tmp_path: Any) -> None:
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (x)")
    with pytest.raises(StoreError, match="not a GeoPackage"):
        open_store(str(path))


def test_missing_folder_is_a_store_error(tmp_path: Any) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        open_store(str(tmp_path / "nope" / "x.gpkg"))


def test_open_store_picks_the_backend(tmp_path: Any) -> None:
    store = open_store(str(tmp_path / "a.gpkg"))
    assert isinstance(store, GeoPackageStore)
    store.close()


def _open_fds(path: str) -> int:
    """Return how many of this process's file descriptors are open on ``path`` (or its -wal).

    Counting only the store's files keeps other threads of the test process (a background
    contraction, a geocoder build) from moving the count.
    """
    target = os.path.realpath(path)
    found = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            link = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:  # closed meanwhile
            continue
        found += link.startswith(target)
    return found


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc/self/fd")
def test_short_lived_threads_leave_no_connections_behind(gpkg_store: Any) -> None:
    """A web server runs each request in a new thread: 1,000 of them must not pile up fds."""
    gpkg_store.counts()
    path = gpkg_store.url
    before = _open_fds(path)
    errors: list[BaseException] = []

    def request(i: int) -> None:
        try:
            if i % 2:
                gpkg_store.record("ping", actor=f"t{i}")
            else:
                gpkg_store.counts()
        except BaseException as e:  # collected: a thread's exception would be lost
            errors.append(e)

    counts = []
    for batch in range(50):  # 20 at a time, 1,000 threads in all
        threads = [threading.Thread(target=request, args=(batch * 20 + i,)) for i in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        counts.append(_open_fds(path))
    assert errors == []
    # Idle connections hold the file and its -wal each; SQLite may also keep the file
    # descriptor of a connection closed while others hold locks, for the next open to reuse.
    # Either way the count depends on how many ran at once (20), not on how many ran.
    bound = before + 2 * (20 + gpkg_store.max_idle_connections)
    assert max(counts) <= bound, counts
    # a leak would grow with every batch (one connection per thread: 20 per batch, 900 from
    # batch 5 to the last); SQLite's deferred closes move it by a few, whatever the batch
    assert counts[-1] - counts[4] < 20, counts
    assert gpkg_store.counts()["audit"] == 1 + 500
    gpkg_store.close()
    assert _open_fds(path) < before


# -- GeoPackage binary ---------------------------------------------------------------------------
coords = st.tuples(st.floats(-180, 180), st.floats(-90, 90))


@given(coords)
def test_point_blob_round_trips(xy: tuple[float, float]) -> None:
    point = Point(*xy)
    blob = gpkg.to_gpkg(point)
    assert blob is not None and blob[:2] == b"GP"
    assert struct.unpack_from("<i", blob, 4)[0] == 4326
    assert gpkg.from_gpkg(blob) == point
    assert gpkg._envelope(blob) == (xy[0], xy[0], xy[1], xy[1])
    assert gpkg._st_is_empty(blob) == 0


@given(st.lists(coords, min_size=3, max_size=12))
def test_polygon_envelope_matches_bounds(points: list[tuple[float, float]]) -> None:
    hull = shapely.convex_hull(shapely.MultiPoint(points))
    if not isinstance(hull, Polygon):
        return
    blob = gpkg.to_gpkg(hull)
    minx, miny, maxx, maxy = hull.bounds
    assert gpkg._envelope(blob) == (minx, maxx, miny, maxy)
    assert gpkg.from_gpkg(blob) == hull


def test_empty_and_null_geometries() -> None:
    assert gpkg.to_gpkg(None) is None and gpkg.from_gpkg(None) is None
    blob = gpkg.to_gpkg(Point())
    assert gpkg._st_is_empty(blob) == 1 and gpkg._envelope(blob) is None
    assert gpkg._st_is_empty(None) is None


def test_reads_big_endian_blobs_without_envelope() -> None:
    wkb = shapely.to_wkb(Point(-83.0, 40.0), byte_order=0)
    blob = struct.pack(">2sBBi", b"GP", 0, 0b0000_0000, 4326) + wkb
    assert gpkg.from_gpkg(blob) == Point(-83.0, 40.0)
    assert gpkg._envelope(blob) == (-83.0, -83.0, 40.0, 40.0)


def test_rejects_non_geopackage_blobs() -> None:
    with pytest.raises(ValueError, match="GP"):
        gpkg.from_gpkg(b"XX" + bytes(6))


def test_nan_coordinates_are_refused_by_not_null(tmp_path: Any) -> None:
    """SQLite turns a NaN parameter into NULL; NOT NULL is what refuses it."""
    conn = sqlite3.connect(":memory:")
    assert conn.execute("SELECT ?", (math.nan,)).fetchone()[0] is None
    conn.close()
