"""Fixtures for the decision services: the Columbus graph and demo once per module, a store
per test on either backend (a throwaway PostGIS database per session, as tests/store does).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import pytest

from navigator.config import Settings
from navigator.model import Bundle
from navigator.network import TravelGraph

NY = ZoneInfo("America/New_York")
#: A Wednesday afternoon: day clinics open, night shelters closed.
NOW = datetime(2026, 3, 4, 14, 0, tzinfo=NY)
#: Downtown Columbus, EPSG:4326.
CLIENT = (-82.99, 39.96)
__all__ = ["area", "backend", "decisions_database", "demo", "graph", "settings", "store",
           "store_url"]

BACKENDS = ["gpkg", pytest.param("postgis", marks=pytest.mark.postgis)]


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Return settings with a per-module network cache."""
    return Settings(cache_dir=tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="module")
def graph(settings: Settings) -> TravelGraph:
    """Return the Columbus drive network (built once per module)."""
    from navigator.planner import load_network

    return load_network(settings)


@pytest.fixture(scope="module")
def demo(graph: TravelGraph) -> Bundle:
    """Return the seeded demo bundle for :data:`NOW`."""
    from navigator.ingest import demo_bundle
    from navigator.planner import network_area

    return demo_bundle(seed=2026, now=NOW, area=network_area(graph))


@pytest.fixture(scope="module")
def area(graph: TravelGraph, settings: Settings) -> Any:
    """Return the area context (New York time, US/OH holidays, default target)."""
    from navigator.services import area_context

    return area_context(graph, settings)


def _with(url: str, *, path: str | None = None, schema: str | None = None) -> str:
    parts = urlsplit(url)
    if path is not None:
        parts = parts._replace(path=path)
    if schema is not None:
        options = quote(f"-csearch_path={schema},public")
        query = f"{parts.query}&options={options}" if parts.query else f"options={options}"
        parts = parts._replace(query=query)
    return urlunsplit(parts)


@pytest.fixture(scope="module")
def decisions_database(test_database_url: str | None) -> Iterator[str]:
    """Create a throwaway PostGIS database for this module; drop it at the end."""
    if test_database_url is None:
        pytest.skip("NAVIGATOR_TEST_DATABASE_URL is not set")
    import psycopg

    name = f"navigator_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(test_database_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = _with(test_database_url, path=f"/{name}")
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        yield url
    finally:
        with psycopg.connect(test_database_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Return the backend name: ``gpkg`` or ``postgis``."""
    return str(request.param)


@pytest.fixture
def store_url(backend: str, request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    """Return the URL of an empty store of ``backend``."""
    if backend != "postgis":
        yield str(tmp_path / "navigator.gpkg")
        return
    import psycopg

    db = request.getfixturevalue("decisions_database")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    yield _with(db, schema=schema)
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def store(store_url: str, demo: Bundle) -> Iterator[Any]:
    """Return an open store holding the demo bundle; closed after the test."""
    from navigator.store import open_store

    s = open_store(store_url)
    s.load(demo, actor="loader")
    yield s
    s.close()
