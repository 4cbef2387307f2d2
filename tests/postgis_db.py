"""Throwaway PostGIS databases and schemas for tests (``NAVIGATOR_TEST_DATABASE_URL``)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote, urlsplit, urlunsplit

import pytest


def with_database(url: str, dbname: str) -> str:
    """Return ``url`` pointing at database ``dbname``."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{dbname}"))


def with_search_path(url: str, schema: str) -> str:
    """Return ``url`` whose connections use ``schema`` (then ``public``) as search_path."""
    parts = urlsplit(url)
    options = quote(f"-csearch_path={schema},public")
    query = f"{parts.query}&options={options}" if parts.query else f"options={options}"
    return urlunsplit(parts._replace(query=query))


@contextmanager
def throwaway_database(admin_url: str | None, *, prefix: str = "navigator_test"
                       ) -> Iterator[str]:
    """Create ``<prefix>_<random>`` with PostGIS, yield its URL, and drop it afterwards.

    Skips the test when ``admin_url`` (the ``test_database_url`` fixture) is None.
    """
    if admin_url is None:
        pytest.skip("NAVIGATOR_TEST_DATABASE_URL is not set")
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = with_database(admin_url, name)
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        yield url
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def throwaway_schema(database_url: str) -> Iterator[str]:
    """Create a fresh schema in ``database_url``, yield a URL using it, drop it afterwards."""
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    yield with_search_path(database_url, schema)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')

