"""Fixtures of the Imperial County tests (``from imperialhelpers import *``): the rural region's
settings, its road network once per module and a store holding its demo, as of :data:`NOW`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from navigator.config import Settings
from navigator.demo.city import load_demo
from navigator.roads import TravelGraph
from navigator.services.context import load_network
from navigator.store import Store, open_store

LA = ZoneInfo("America/Los_Angeles")
#: A Tuesday noon in the county.
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=LA)

__all__ = ["imperial_graph", "settings", "store"]


@pytest.fixture(scope="module")
def settings(graph_cache_dir: Path) -> Settings:
    """Return settings for the ``imperial`` region with the session's network cache."""
    return Settings(cache_dir=graph_cache_dir, region="imperial")


@pytest.fixture(scope="module")
def imperial_graph(settings: Settings) -> TravelGraph:
    """Return the county's road network."""
    return load_network(settings)


@pytest.fixture(scope="module")
def store(imperial_graph: TravelGraph, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[Store]:
    """Return a GeoPackage store holding the county's demo (seed 2026, at :data:`NOW`)."""
    s = open_store(str(tmp_path_factory.mktemp("imperial") / "demo.gpkg"))
    load_demo(s, imperial_graph, seed=2026, now=NOW, region="imperial")
    yield s
    s.close()
