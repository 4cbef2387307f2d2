"""Store fixtures: one ``store`` per backend, a throwaway PostGIS database per session.

Each PostGIS test gets its own schema in the session database (fast, and isolated even for
the append-only audit table); each GeoPackage test gets its own file.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from postgis_db import throwaway_database
from shapely.geometry import Polygon

from navigator.model import (
    Beds,
    BedType,
    Bundle,
    Channel,
    CrisisType,
    Eligibility,
    Hotline,
    Incident,
    Resource,
    ResourceKind,
    Team,
    TeamStatus,
)
from navigator.store import gpkg


@pytest.fixture(scope="session")
def postgis_database(test_database_url: str | None) -> Iterator[str]:
    """Create ``navigator_test_<random>`` with PostGIS for this session; drop it at the end."""
    with throwaway_database(test_database_url) as url:
        yield url








@pytest.fixture
def store(store_url: str) -> Iterator[Any]:
    """Return an open, migrated, empty store; closed after the test."""
    from navigator.store import open_store

    s = open_store(store_url)
    yield s
    s.close()


@dataclass
class RawDB:
    """Raw SQL access to a store's database that bypasses every Python check."""

    backend: str
    url: str

    def execute(self, query: str, params: dict[str, Any] | None = None) -> list[Any]:
        """Run one statement (``%(name)s`` placeholders) in its own transaction."""
        if self.backend == "postgis":
            import psycopg

            with psycopg.connect(self.url) as conn:
                cur = conn.execute(query, params)  # type: ignore[arg-type]
                return cur.fetchall() if cur.description else []
        import re

        conn = gpkg.connect(self.url)
        try:
            cur = conn.execute(re.sub(r"%\((\w+)\)s", r":\1", query), params or {})
            return [tuple(r) for r in cur.fetchall()]
        finally:
            conn.close()


@pytest.fixture
def raw_db(backend: str, store_url: str) -> RawDB:
    """Return raw SQL access to ``store_url``'s database, opening no store."""
    return RawDB(backend, store_url)


@pytest.fixture
def raw(raw_db: RawDB, store: Any) -> RawDB:
    """Return raw SQL access to the ``store`` fixture's database."""
    return raw_db


@pytest.fixture
def db_errors(backend: str) -> tuple[type[BaseException], ...]:
    """Return the driver exceptions a refused raw statement raises."""
    if backend == "postgis":
        import psycopg

        return (psycopg.Error,)
    return (sqlite3.Error,)


T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
NY = ZoneInfo("America/New_York")


@pytest.fixture
def sample() -> Bundle:
    """Return a small bundle using every record type and most fields."""
    area = Polygon([(-83.2, 39.8), (-82.8, 39.8), (-82.8, 40.2), (-83.2, 40.2)])
    resources = (
        Resource("faith", ResourceKind.SHELTER, "Faith Mission", -83.0, 39.96,
                 address="245 N Grant Ave", phone="614-224-6617", opening_hours="24/7",
                 beds=(Beds(BedType.SINGLE_WOMEN, 20, 5), Beds(BedType.SINGLE_MEN, 40, 0)),
                 services=("meals", "showers"), walk_in=True,
                 eligibility=Eligibility(genders=("female", "male"), min_age=18),
                 languages=("en", "es"), wheelchair=True, synthetic=True, source="test"),
        Resource("dv-safe", ResourceKind.SHELTER, "Safe House", -82.95, 39.99,
                 beds=(Beds(BedType.DV, 8, 2),), confidential=True, intake_phone="614-555-0100",
                 meeting_point_lon=-82.99, meeting_point_lat=39.98),
        Resource("clinic-1", ResourceKind.CLINIC, "Clinic One", -83.05, 40.05,
                 services=("primary_care",), opening_hours="Mo-Fr 08:00-17:00; PH off"),
        Resource("base-1", ResourceKind.TEAM_BASE, "Station 1", -83.01, 39.95),
    )
    hotlines = (
        Hotline("988", "988 Lifeline", "988", channels=(Channel.CALL, Channel.TEXT)),
        Hotline("local", "Franklin Crisis Line", "614-276-2273", area=area,
                languages=("en", "so"), synthetic=True),
    )
    teams = (
        Team("T1", "Mobile 1", "base-1", -83.01, 39.95, skills=("de-escalation",),
             languages=("en", "es"), shift_start=datetime(2026, 3, 1, 7, tzinfo=NY),
             shift_end=datetime(2026, 3, 1, 19, tzinfo=NY)),
        Team("T2", "Mobile 2", "base-1", -83.02, 39.94),
        Team("T3", "Mobile 3", "base-1", -83.03, 39.93, status=TeamStatus.OFF_DUTY),
    )
    incidents = tuple(
        Incident(f"I{i}", -83.0 + i / 100, 39.97, CrisisType.MENTAL_HEALTH, priority=1 + i % 4,
                 needed_languages=("es",) if i == 1 else (), created_at=T0, updated_at=T0,
                 notes=f"call {i}")
        for i in range(1, 6)
    )
    return Bundle(resources=resources, hotlines=hotlines, teams=teams, incidents=incidents,
                  notes=("test bundle",))


@pytest.fixture
def loaded(store: Any, sample: Bundle) -> Any:
    """Return the ``store`` with ``sample`` loaded."""
    store.load(sample, actor="loader")
    return store
