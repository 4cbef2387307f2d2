"""Races: many writers at once never double-book a bed or a team, on either backend."""

from __future__ import annotations

import multiprocessing
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from navigator.errors import ConflictError
from navigator.model import (
    Beds,
    BedType,
    Bundle,
    CrisisType,
    Incident,
    Resource,
    ResourceKind,
    Team,
)
from navigator.store import open_store
from navigator.store.embedded import GeoPackageStore

BEDS = 10
HOLDERS = 50

RACE = Bundle(
    resources=(Resource("s1", ResourceKind.SHELTER, "Shelter", -83.0, 40.0,
                        beds=(Beds(BedType.FAMILIES, BEDS, BEDS),)),
               Resource("b1", ResourceKind.TEAM_BASE, "Base", -83.0, 40.0)),
    teams=tuple(Team(f"T{j}", f"Team {j}", "b1", -83.0, 40.0) for j in range(1, 11)),
    incidents=tuple(Incident(f"I{i}", -83.0, 40.0, CrisisType.WELFARE_CHECK)
                    for i in range(10)),
)


def _race(n: int, work: Callable[[int], Any]) -> Counter[str]:
    """Run ``work(i)`` in ``n`` threads released together; count outcomes by kind."""
    barrier = threading.Barrier(n)

    def attempt(i: int) -> str:
        barrier.wait()
        try:
            work(i)
        except ConflictError:
            return "conflict"
        return "ok"

    with ThreadPoolExecutor(max_workers=n) as pool:
        return Counter(pool.map(attempt, range(n)))


@pytest.fixture
def race_store(store_url: str, backend: str) -> Any:
    """Return a store with :data:`RACE` loaded and a connection per racing thread."""
    if backend == "postgis":
        from navigator.store.postgis import PostGISStore

        s: Any = PostGISStore(store_url, max_connections=HOLDERS)
        s.migrate()
    else:
        s = open_store(store_url)  # one SQLite connection per thread
    s.load(RACE, actor="setup")
    yield s
    s.close()


def test_parallel_holds_take_each_bed_once(race_store: Any) -> None:
    outcomes = _race(HOLDERS, lambda i: race_store.hold_bed(
        "s1", BedType.FAMILIES, actor=f"nav{i}", ttl_s=600))
    assert outcomes == Counter(ok=BEDS, conflict=HOLDERS - BEDS)
    assert race_store.resource("s1").beds[0].free == 0
    assert race_store.counts()["holds"] == BEDS
    assert len(race_store.audit_log(limit=100, action="hold_bed")) == BEDS


def test_parallel_repeats_of_one_key_take_one_bed(race_store: Any) -> None:
    held: list[str] = []

    def hold(i: int) -> None:
        h = race_store.hold_bed("s1", BedType.FAMILIES, actor="nav", ttl_s=600,
                                idempotency_key="double-click")
        held.append(h.id)

    assert _race(20, hold) == Counter(ok=20)
    assert len(set(held)) == 1
    assert race_store.resource("s1").beds[0].free == BEDS - 1


def test_parallel_assignments_of_one_team_make_one(race_store: Any) -> None:
    outcomes = _race(10, lambda i: race_store.assign_team("T1", f"I{i}", actor=f"d{i}"))
    assert outcomes == Counter(ok=1, conflict=9)
    active = race_store.assignments(active_only=True)
    assert len(active) == 1 and race_store.team("T1").status == "en_route"
    assigned = race_store.incidents(statuses=["assigned"])
    assert list(assigned["id"]) == list(active["incident_id"])


def test_parallel_dispatchers_send_one_team_to_one_incident(race_store: Any) -> None:
    outcomes = _race(10, lambda i: race_store.assign_team(f"T{i + 1}", "I0", actor=f"d{i}"))
    assert outcomes == Counter(ok=1, conflict=9)
    active = race_store.assignments(active_only=True)
    assert list(active["incident_id"]) == ["I0"]
    assert len(race_store.teams(statuses=["en_route"])) == 1


def test_parallel_release_and_confirm_of_one_hold(race_store: Any) -> None:
    hold = race_store.hold_bed("s1", BedType.FAMILIES, actor="nav", ttl_s=600)

    def finish(i: int) -> None:
        if i % 2:
            race_store.release_hold(hold.id, actor=f"n{i}")
        else:
            race_store.confirm_hold(hold.id, actor=f"n{i}")

    assert _race(10, finish) == Counter(ok=1, conflict=9)
    free = race_store.resource("s1").beds[0].free
    status = race_store.hold(hold.id).status
    assert (status, free) in {("released", BEDS), ("confirmed", BEDS - 1)}


# -- GeoPackage across processes -----------------------------------------------------------------
def _hold_in_process(path: str) -> str:
    """Open the GeoPackage in this process and try to hold one bed."""
    store = GeoPackageStore(path)
    try:
        store.hold_bed("s1", BedType.FAMILIES, actor="worker", ttl_s=600)
    except ConflictError:
        return "conflict"
    finally:
        store.close()
    return "ok"


def _open_in_process(path: str) -> int:
    """Create-or-open the GeoPackage in this process; return its schema version."""
    store = GeoPackageStore(path)
    try:
        return store.migrate()
    finally:
        store.close()


@pytest.mark.slow
def test_processes_share_one_geopackage(tmp_path: Any) -> None:
    path = str(tmp_path / "shared.gpkg")
    context = multiprocessing.get_context("spawn")
    with context.Pool(4) as pool:
        versions = pool.map(_open_in_process, [path] * 4)
        assert len(set(versions)) == 1 and versions[0] >= 2  # all at the latest schema
        with GeoPackageStore(path) as store:
            store.load(RACE, actor="setup")
        outcomes = Counter(pool.map(_hold_in_process, [path] * 30, chunksize=1))
    assert outcomes == Counter(ok=BEDS, conflict=30 - BEDS)
    with GeoPackageStore(path) as store:
        assert store.resource("s1").beds[0].free == 0
        assert store.counts()["holds"] == BEDS


def test_parallel_writers_keep_one_audit_chain(race_store: Any) -> None:
    """Every write appends to one hash chain; racing writers neither fork nor deadlock it."""
    def write(i: int) -> None:
        if i % 3 == 0:
            race_store.hold_bed("s1", BedType.FAMILIES, actor=f"nav{i}", ttl_s=600)
        elif i % 3 == 1:
            race_store.record("note", actor=f"planner{i}", inputs={"i": i})
        else:
            race_store.update_team(f"T{i % 10 + 1}", actor=f"d{i}", lon=-83.0 + i / 1000,
                                   lat=40.0)

    outcomes = _race(HOLDERS, write)
    assert outcomes["ok"] + outcomes["conflict"] == HOLDERS
    assert outcomes["conflict"] == max(0, len(range(0, HOLDERS, 3)) - BEDS)
    result = race_store.verify_audit()
    assert result.ok, result.reason
    assert result.checked == race_store.counts()["audit"] == 1 + outcomes["ok"]
