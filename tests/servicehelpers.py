"""Fixtures of the service tests (``from servicehelpers import *``): the demo bundle once per
module on the session's Columbus graph, a store per test on either backend (a throwaway
PostGIS database per module, one schema per test, as tests/store does).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from postgis_db import throwaway_database

from navigator.config import Settings
from navigator.model import Bundle
from navigator.roads import TravelGraph

NY = ZoneInfo("America/New_York")
#: A Wednesday afternoon: day clinics open, night shelters closed.
NOW = datetime(2026, 3, 4, 14, 0, tzinfo=NY)
#: Downtown Columbus, EPSG:4326.
CLIENT = (-82.99, 39.96)

__all__ = ["area", "demo", "postgis_database", "settings", "staff", "store"]


@pytest.fixture(scope="module")
def settings(graph_cache_dir: Path) -> Settings:
    """Return the default settings with the session's network cache."""
    return Settings(cache_dir=graph_cache_dir)


@pytest.fixture(scope="module")
def demo(columbus_graph: TravelGraph) -> Bundle:
    """Return the seeded demo bundle for :data:`NOW`."""
    from navigator.demo.bundle import demo_bundle
    from navigator.roads import network_area

    return demo_bundle(seed=2026, now=NOW, area=network_area(columbus_graph))


@pytest.fixture(scope="module")
def area(columbus_graph: TravelGraph, settings: Settings) -> Any:
    """Return the area context (New York time, US/OH holidays, default target)."""
    from navigator.services import area_context

    return area_context(columbus_graph, settings)


@pytest.fixture(scope="module")
def postgis_database(test_database_url: str | None) -> Iterator[str]:
    """Create a throwaway PostGIS database for this module; drop it at the end."""
    with throwaway_database(test_database_url) as url:
        yield url








@pytest.fixture
def store(store_url: str, demo: Bundle) -> Iterator[Any]:
    """Return an open store holding the demo bundle; closed after the test."""
    from navigator.store import open_store

    s = open_store(store_url)
    s.load(demo, actor="loader")
    yield s
    s.close()


@pytest.fixture
def staff(store: Any) -> tuple[str, str]:
    """Return (shelter id, other shelter id); ``staff1`` reports for the first only.

    Also makes the caseworker ``cw1`` and the admin ``boss``.
    """
    from navigator.services.accounts import create_user

    beds = store.beds()
    shelters = sorted(beds[(beds["bed_type"] == "single_men") & (beds["free"] > 1)]
                      ["resource_id"])
    create_user(store, "staff1", "shelter", "staff1-password", actor="test")
    create_user(store, "cw1", "caseworker", "cw1-password-x", actor="test")
    create_user(store, "boss", "admin", "boss-password", actor="test")
    store.set_user_sites("staff1", [shelters[0]], actor="test")
    return shelters[0], shelters[1]
