"""PostGIS specifics: connection errors, migrations, typed geometry columns, indexes."""

from __future__ import annotations

import threading
from typing import Any

import psycopg
import pytest
from shapely.geometry import Point

from navigator.errors import StoreError
from navigator.model import Bundle
from navigator.store import open_store
from navigator.store.postgis import PostGISStore, migrations, redact


@pytest.mark.parametrize("url", [
    "postgresql://nav:s3cret@127.0.0.1:1/navigator",  # nothing listens on port 1
    "postgresql://nav:s3cret@[bad",
])
def test_unreachable_or_bad_url_is_a_store_error_without_password(url: str) -> None:
    with pytest.raises(StoreError, match="cannot connect to PostGIS at postgresql://nav@") as info:
        open_store(url)
    assert "s3cret" not in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_redact() -> None:
    assert redact("postgresql://u:p@ss@h:5/db?x=1") == "postgresql://u@h:5/db?x=1"
    assert redact("postgresql://u@h/db") == "postgresql://u@h/db"
    assert redact("host=h password='a b' user=u") == "host=h password=*** user=u"


@pytest.fixture
def pg(postgis_url: str, sample: Bundle) -> Any:
    store = open_store(postgis_url)
    store.load(sample, actor="loader")
    yield store
    store.close()


def _query(url: str, query: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(query).fetchall()


@pytest.mark.postgis
def test_missing_database_is_a_store_error(postgis_database: str) -> None:
    url = postgis_database.rsplit("/", 1)[0] + "/navigator_no_such_db"
    with pytest.raises(StoreError, match="navigator_no_such_db"):
        open_store(url)


@pytest.mark.postgis
def test_migrations_are_recorded_and_safe_to_race(postgis_url: str) -> None:
    store = PostGISStore(postgis_url)
    versions: list[int] = []
    threads = [threading.Thread(target=lambda: versions.append(store.migrate()))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    files = [(version, name) for version, name, _ in migrations()]
    assert files[:4] == [(1, "0001_init.sql"), (2, "0002_users.sql"),
                         (3, "0003_audit_chain.sql"), (4, "0004_app_role.sql")]
    assert (5, "0005_other_kind.sql") in files
    assert versions == [files[-1][0]] * 4
    assert _query(postgis_url, "SELECT version, name FROM schema_migrations ORDER BY 1") == files
    store.close()


@pytest.mark.postgis
def test_columns_are_typed_and_indexed(pg: Any, postgis_url: str) -> None:
    types = dict(_query(postgis_url, "SELECT f_table_name || '.' || f_geometry_column, "
                        "type || ',' || srid FROM geometry_columns "
                        "WHERE f_table_schema = current_schema()"))
    assert types == {"resources.geom": "POINT,4326", "teams.geom": "POINT,4326",
                     "incidents.geom": "POINT,4326", "hotlines.geom": "MULTIPOLYGON,4326",
                     "road_closures.geom": "GEOMETRY,4326",
                     "incidents.area": "MULTIPOLYGON,4326",
                     "compliance_areas.geom": "GEOMETRY,4326"}
    gist = {r[0] for r in _query(postgis_url, "SELECT tablename FROM pg_indexes WHERE "
                                 "schemaname = current_schema() AND indexdef LIKE '%gist%'")}
    assert gist == {"resources", "teams", "incidents", "hotlines", "road_closures",
                    "compliance_areas"}


@pytest.mark.postgis
@pytest.mark.parametrize(("geom", "constraint"), [
    ("'SRID=4326;POINT EMPTY'", "resources_geom_in_range"),
    ("'SRID=4326;POINT(NaN NaN)'", "resources_geom_in_range"),
    ("'SRID=4326;POINT(200 95)'", "resources_geom_in_range"),
    ("'SRID=3857;POINT(0 0)'", "SRID"),
])
def test_database_refuses_bad_geometries(pg: Any, postgis_url: str, geom: str,
                                         constraint: str) -> None:
    with pytest.raises(psycopg.Error, match=constraint):
        _query(postgis_url, "INSERT INTO resources (geom, id, kind, name) VALUES "
               f"({geom}::geometry, 'raw', 'clinic', 'Raw')")


@pytest.mark.postgis
def test_database_refuses_invalid_hotline_area(pg: Any, postgis_url: str) -> None:
    bowtie = "'SRID=4326;MULTIPOLYGON(((0 0, 1 1, 1 0, 0 1, 0 0)))'"
    with pytest.raises(psycopg.Error, match="hotlines_area_valid"):
        _query(postgis_url, f"INSERT INTO hotlines (id, name, phone, geom) VALUES "
               f"('h', 'H', '1', {bowtie}::geometry)")


@pytest.mark.postgis
def test_pool_connections_speak_shapely(pg: Any) -> None:
    with pg._transaction(write=False) as tx:
        (row,) = tx.fetch("SELECT geom FROM resources WHERE id = %(id)s", {"id": "faith"})
        assert row["geom"] == Point(-83.0, 39.96)
        tx.fetch("SELECT %(g)s::geometry AS g", {"g": Point(1, 2)})


@pytest.mark.postgis
def test_truncate_of_audit_is_refused(pg: Any, postgis_url: str) -> None:
    with pytest.raises(psycopg.Error, match="append-only"):
        _query(postgis_url, "TRUNCATE audit")
    assert pg.counts()["audit"] == 1


def test_repr_keeps_the_password_out() -> None:
    store = object.__new__(PostGISStore)
    store.url = "postgresql://nav:s3cret@127.0.0.1:5432/navigator"
    assert "s3cret" not in repr(store) and "nav@127.0.0.1" in repr(store)


def test_a_long_schema_name_still_writes_and_is_listened_to(postgis_database: str,
                                                             sample: Bundle) -> None:
    """Review: ``pg_notify`` refuses channels over 63 bytes, so every write of a store in a
    schema of 46 or more bytes failed; now such a schema's channel is hashed."""
    import time

    from postgis_db import with_search_path

    from navigator.model import CrisisType, Incident

    schema = "long_schema_" + "x" * 50  # 62 bytes: a legal name
    with psycopg.connect(postgis_database, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    store = open_store(with_search_path(postgis_database, schema))
    try:
        store.load(sample, actor="loader")
        v0 = store.change_version()
        assert store.wait_for_change(v0, timeout_s=0.2) == v0  # starts the listener
        deadline = time.monotonic() + 10.0
        while not store._listener.listening and time.monotonic() < deadline:  # type: ignore[attr-defined]
            time.sleep(0.05)
        assert store._listener.listening  # type: ignore[attr-defined]
        seen = store._listener.seen  # type: ignore[attr-defined]
        store.add_incident(Incident("I-long", -83.0, 40.0, CrisisType.WELFARE_CHECK),
                           actor="d")
        assert store.change_version() > v0
        while store._listener.seen == seen and time.monotonic() < deadline:  # type: ignore[attr-defined]
            time.sleep(0.05)
        assert store._listener.seen > seen  # the NOTIFY arrived  # type: ignore[attr-defined]
    finally:
        store.close()
        with psycopg.connect(postgis_database, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
