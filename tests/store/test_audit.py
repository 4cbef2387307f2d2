"""The audit log is append-only against every SQL path and hash-chained, on both backends."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from navigator.model import BedType
from navigator.store import gpkg, open_store
from navigator.store.audit import GENESIS, AuditVerification, entry_hash, verify_chain

CHAIN = "SELECT id, at, actor, action, subject, inputs, result, prev_hash, hash FROM audit"


@pytest.fixture
def busy(loaded: Any) -> Any:
    """Return the loaded store after a few more audited writes (6 entries in all)."""
    hold = loaded.hold_bed("faith", BedType.SINGLE_WOMEN, actor="nav", ttl_s=600)
    loaded.confirm_hold(hold.id, actor="intake")
    loaded.record("rank_teams", actor="planner", subject="I1", inputs={"k": 3})
    a = loaded.assign_team("T1", "I1", actor="dispatcher", eta_s=120.0)
    loaded.finish_assignment(a.id, actor="dispatcher", status="completed")
    return loaded


def _ids(raw: Any) -> list[int]:
    return [r[0] for r in raw.execute("SELECT id FROM audit ORDER BY id")]


def _unprotect(raw: Any) -> None:
    """Take the append-only triggers away, as someone with the owner's rights could."""
    if raw.backend == "postgis":
        raw.execute("ALTER TABLE audit DISABLE TRIGGER USER")
    else:
        for name in ("audit_no_update", "audit_no_delete"):
            raw.execute(f"DROP TRIGGER {name}")


# -- the chain ------------------------------------------------------------------------------------
def test_an_intact_log_verifies(busy: Any, raw: Any) -> None:
    result = busy.verify_audit()
    assert isinstance(result, AuditVerification)
    assert result == AuditVerification(ok=True, checked=6, head_hash=result.head_hash)
    last = raw.execute("SELECT hash FROM audit ORDER BY id DESC LIMIT 1")[0][0]
    assert result.head_hash == last and len(last) == 64
    first = raw.execute("SELECT prev_hash FROM audit ORDER BY id LIMIT 1")[0][0]
    assert first == GENESIS


def test_an_empty_log_verifies(store: Any) -> None:
    assert store.verify_audit() == AuditVerification(ok=True, checked=0)


def test_a_changed_entry_is_named(busy: Any, raw: Any) -> None:
    _unprotect(raw)
    third = _ids(raw)[2]
    raw.execute("UPDATE audit SET actor = 'mallory' WHERE id = %(id)s", {"id": third})
    result = busy.verify_audit()
    assert (result.ok, result.broken_id, result.checked) == (False, third, 2)
    assert "contents do not match its hash" in result.reason and str(third) in result.reason


def test_a_changed_entry_with_a_recomputed_hash_breaks_the_next_link(busy: Any,
                                                                     raw: Any) -> None:
    _unprotect(raw)
    ids = _ids(raw)
    (row,) = [dict(zip(("id", "at", "actor", "action", "subject", "inputs", "result",
                        "prev_hash", "hash"), r, strict=True))
              for r in raw.execute(f"{CHAIN} WHERE id = %(id)s", {"id": ids[2]})]
    row["actor"] = "mallory"
    raw.execute("UPDATE audit SET actor = 'mallory', hash = %(h)s WHERE id = %(id)s",
                {"h": entry_hash(row, row["prev_hash"]), "id": ids[2]})
    result = busy.verify_audit()
    assert (result.ok, result.broken_id) == (False, ids[3])
    assert "prev_hash is not the hash of the entry before it" in result.reason


def test_a_deleted_middle_entry_is_found(busy: Any, raw: Any) -> None:
    _unprotect(raw)
    ids = _ids(raw)
    raw.execute("DELETE FROM audit WHERE id = %(id)s", {"id": ids[3]})
    result = busy.verify_audit()
    assert (result.ok, result.broken_id, result.checked) == (False, ids[4], 3)
    assert "deleted" in result.reason


def test_a_deleted_first_entry_is_found(busy: Any, raw: Any) -> None:
    _unprotect(raw)
    ids = _ids(raw)
    raw.execute("DELETE FROM audit WHERE id = %(id)s", {"id": ids[0]})
    assert busy.verify_audit().broken_id == ids[1]


def test_numbers_survive_the_round_trip_into_the_hash(store: Any) -> None:
    """jsonb keeps 1e16 as 10000000000000000 and 1e300 as 1 followed by 300 zeros."""
    awkward = {"int_float": 2.0, "big": 1e16, "huge": 1e300, "tiny": 1.5e-300, "neg0": -0.0,
               "tenth": 0.1, "sum": 0.1 + 0.2, "bigint": 2**60, "nested": [1e20, {"x": 3.5}],
               "flag": True, "none": None, "text": "é ✓ \"q\" \\ \n"}
    store.record("awkward", actor="t", inputs=awkward, result={"n": 12345678901234567890})
    assert store.verify_audit() == AuditVerification(ok=True, checked=1,
                                                     head_hash=store.verify_audit().head_hash)


def test_entries_from_before_the_chain_are_counted_not_checked(
        backend: str, store_url: str, raw_db: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Upgrading a log written before migration 3 starts the chain at the first new entry."""
    if backend == "postgis":
        from navigator.store import postgis as module
        from navigator.store.postgis import PostGISStore as Backend
    else:
        from navigator.store import gpkg as module  # type: ignore[no-redef]
        from navigator.store.embedded import GeoPackageStore as Backend  # type: ignore[assignment]
    shipped = module.migrations()
    monkeypatch.setattr(module, "migrations", lambda: shipped[:2])
    old = Backend(store_url)
    assert old.migrate() == 2
    old.close()
    for actor in ("old-1", "old-2"):
        raw_db.execute("INSERT INTO audit (at, actor, action) VALUES (%(at)s, %(a)s, 'legacy')",
                    {"at": "2025-01-01T00:00:00.000Z", "a": actor})
    monkeypatch.setattr(module, "migrations", lambda: shipped)
    upgraded = open_store(store_url)
    try:
        upgraded.record("after", actor="new")
        upgraded.record("after", actor="new")
        result = upgraded.verify_audit()
        assert (result.ok, result.checked, result.unchained) == (True, 2, 2)
    finally:
        upgraded.close()


def test_verify_chain_reports_a_missing_hash_after_the_chain_began() -> None:
    entry = {"id": 1, "at": "2026-01-01T00:00:00.000Z", "actor": "a", "action": "x",
             "subject": "", "inputs": "{}", "result": "{}", "prev_hash": GENESIS}
    entry["hash"] = entry_hash(entry, GENESIS)
    later = {**entry, "id": 2, "prev_hash": None, "hash": None}
    result = verify_chain([entry, later])
    assert (result.ok, result.broken_id, result.checked) == (False, 2, 1)
    assert "no hash" in result.reason


# -- append-only on every SQL path ----------------------------------------------------------------
#: Statements that would rewrite entry 1 on the GeoPackage; each must be refused.
GPKG_REWRITES = {
    "update": "UPDATE audit SET actor = 'mallory' WHERE id = 1",
    "update_or_replace": "UPDATE OR REPLACE audit SET id = 1 WHERE id = 2",
    "delete": "DELETE FROM audit WHERE id = 1",
    "insert_or_replace": ("INSERT OR REPLACE INTO audit (id, at, actor, action, prev_hash, hash) "
                          "SELECT id, at, 'mallory', action, prev_hash, hash FROM audit "
                          "WHERE id = 1"),
    "replace": ("REPLACE INTO audit (id, at, actor, action, prev_hash, hash) "
                "SELECT id, at, 'mallory', action, prev_hash, hash FROM audit WHERE id = 1"),
    "upsert": ("INSERT INTO audit (id, at, actor, action, prev_hash, hash) "
               "SELECT id, at, 'mallory', action, prev_hash, hash FROM audit WHERE id = 1 "
               "ON CONFLICT (id) DO UPDATE SET actor = excluded.actor"),
    "upsert_nothing": ("INSERT INTO audit (id, at, actor, action, prev_hash, hash) "
                       "SELECT id, at, 'mallory', action, prev_hash, hash FROM audit "
                       "WHERE id = 1 ON CONFLICT DO NOTHING"),
    "insert_before_the_end": ("INSERT INTO audit (id, at, actor, action, prev_hash, hash) "
                              "SELECT 0, at, 'mallory', action, prev_hash, hash FROM audit "
                              "WHERE id = 1"),
    "insert_without_hash": ("INSERT INTO audit (at, actor, action) "
                            "VALUES ('2026-01-01T00:00:00.000Z', 'mallory', 'forged')"),
}


@pytest.mark.parametrize("statement", list(GPKG_REWRITES.values()), ids=list(GPKG_REWRITES))
def test_geopackage_refuses_every_rewrite(tmp_path: Any, sample: Any, statement: str) -> None:
    store = open_store(str(tmp_path / "a.gpkg"))
    try:
        store.load(sample, actor="loader")
        store.record("second", actor="x")
        conn = gpkg.connect(store.path)
        try:
            before = conn.execute(f"{CHAIN} ORDER BY id").fetchall()
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                conn.execute(statement)
            assert conn.execute(f"{CHAIN} ORDER BY id").fetchall() == before
        finally:
            conn.close()
        assert store.verify_audit().ok and store.verify_audit().checked == 2
    finally:
        store.close()


def test_upsert_over_an_entry_is_refused(busy: Any, raw: Any, db_errors: Any) -> None:
    """ON CONFLICT DO UPDATE is an UPDATE: refused even for the owner (trigger)."""
    override = "OVERRIDING SYSTEM VALUE " if raw.backend == "postgis" else ""
    before = raw.execute(f"{CHAIN} ORDER BY id")
    with pytest.raises(db_errors, match="append-only"):
        raw.execute("INSERT INTO audit (id, at, actor, action, prev_hash, hash) "
                    f"{override}SELECT id, at, 'mallory', action, prev_hash, hash FROM audit "
                    "WHERE id = (SELECT min(id) FROM audit) "
                    "ON CONFLICT (id) DO UPDATE SET actor = excluded.actor")
    assert raw.execute(f"{CHAIN} ORDER BY id") == before
    assert busy.verify_audit().ok
