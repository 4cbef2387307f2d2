from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from navigator.config import DATA_DIR
from navigator.demo.bundle import demo_bundle
from navigator.model import Bundle

NOW = datetime(2026, 3, 2, 21, 30, tzinfo=ZoneInfo("America/New_York"))
POI_CSV = DATA_DIR / "poi" / "columbus_points_of_interest.csv"
COLUMBUS_GEOJSON = DATA_DIR / "osm" / "columbus_osm_pois.geojson"
BALTIMORE_GEOJSON = DATA_DIR / "osm" / "baltimore_osm_pois.geojson"
TEST_DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.fixture(scope="session")
def demo() -> Bundle:
    return demo_bundle(seed=2026, now=NOW)
