"""PostGIS appends audit entries in one statement (``audit_head``) and holds a bed in one.

The chain is hashed in the database around the head it locks; these tests check that the
hash is the one :func:`navigator.store.audit.entry_hash` computes, that the head cannot be
removed or forged unnoticed, and that a fresh hold costs one statement however busy the store.
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest
from psycopg import errors as pg_errors

from navigator.errors import ConflictError, NotFoundError, StoreError
from navigator.model import BedType, Bundle
from navigator.store import open_store, rows
from navigator.store.audit import GENESIS, chain_parts, entry_hash
from navigator.store.postgis import PostGISStore

ENTRY = {"at": "2026-03-01T12:00:00.123Z", "actor": "nurse \"é\"", "action": "hold_bed",
         "subject": "h-1", "inputs": {"ttl_s": 7200.0, "key": None, "list": [1, 2.5, "x"]},
         "result": {"expires_at": "2026-03-01T14:00:00.123000+00:00", "free": 17}}


def test_chain_parts_around_the_head_give_the_entry_hash() -> None:
    prev = hashlib.sha256(b"x").hexdigest()
    prefix, suffix = chain_parts(ENTRY)
    assert hashlib.sha256((prefix + prev + suffix).encode()).hexdigest() == entry_hash(ENTRY,
                                                                                      prev)
    without = {**ENTRY, "result": {"expires_at": ENTRY["result"]["expires_at"]}}
    prefix, middle, tail = chain_parts(without, filled="free")
    text = prefix + prev + middle + "17" + tail
    assert hashlib.sha256(text.encode()).hexdigest() == entry_hash(ENTRY, prev)


def test_a_filled_key_must_sort_last() -> None:
    with pytest.raises(ValueError, match="must sort after"):
        chain_parts({**ENTRY, "result": {"zone": 1}}, filled="free")


@pytest.fixture
def pg(postgis_url: str, sample: Bundle) -> Iterator[PostGISStore]:
    store = open_store(postgis_url)
    assert isinstance(store, PostGISStore)
    store.load(sample, actor="loader")
    yield store
    store.close()


def _owner(url: str, query: str) -> list[Any]:
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(query)
        return cur.fetchall() if cur.description else []


@pytest.mark.postgis
def test_the_head_is_the_newest_entry_after_every_write(pg: PostGISStore,
                                                        postgis_url: str) -> None:
    pg.hold_bed("faith", BedType.SINGLE_WOMEN, actor="n", ttl_s=60, idempotency_key="k1")
    pg.record("note", actor="n", inputs={"text": "ünïcode ✓"})
    head = _owner(postgis_url, "SELECT prev_hash, hash FROM audit_head")
    last = _owner(postgis_url, "SELECT prev_hash, hash FROM audit ORDER BY id DESC LIMIT 1")
    assert head == last
    result = pg.verify_audit()
    assert result.ok and result.head_hash == head[0][1]


@pytest.mark.postgis
def test_a_fresh_hold_is_one_statement(pg: PostGISStore, monkeypatch: pytest.MonkeyPatch
                                       ) -> None:
    pg.hold_bed("faith", BedType.SINGLE_WOMEN, actor="n", ttl_s=60)  # a warm pool
    sent: list[str] = []
    for cls in (psycopg.Cursor, psycopg.Connection):
        original = cls.execute

        def spy(self: Any, query: Any, *args: Any, _original: Any = original,
                **kwargs: Any) -> Any:
            if isinstance(self, psycopg.Connection) or not sent or sent[-1] != "conn":
                sent.append("conn" if isinstance(self, psycopg.Connection) else str(query))
            return _original(self, query, *args, **kwargs)

        monkeypatch.setattr(cls, "execute", spy)
    hold = pg.hold_bed("faith", BedType.SINGLE_WOMEN, actor="n", ttl_s=60,
                       idempotency_key="fresh")
    assert len(sent) == 1, sent
    assert hold.free_beds == 3  # 5 free, two held
    assert pg.verify_audit().ok


@pytest.mark.postgis
def test_the_one_statement_hold_keeps_the_general_answers(pg: PostGISStore) -> None:
    first = pg.hold_bed("faith", BedType.SINGLE_WOMEN, actor="n", ttl_s=60,
                        idempotency_key="same")
    again = pg.hold_bed("faith", BedType.SINGLE_WOMEN, actor="n", ttl_s=60,
                        idempotency_key="same")
    assert again.id == first.id and again.free_beds == first.free_beds == 4
    with pytest.raises(NotFoundError, match="no 'dv' beds"):
        pg.hold_bed("faith", BedType.DV, actor="n", ttl_s=60)
    with pytest.raises(NotFoundError, match="nowhere"):
        pg.hold_bed("nowhere", BedType.DV, actor="n", ttl_s=60)
    with pytest.raises(ConflictError, match="no free 'single_men' bed"):
        pg.hold_bed("faith", BedType.SINGLE_MEN, actor="n", ttl_s=60)
    # an expired hold waiting: the general path expires it first, in the hold's transaction
    pg.hold_bed("faith", BedType.SINGLE_WOMEN, actor="n", ttl_s=0.001)
    later = pg.hold_bed("faith", BedType.SINGLE_WOMEN, actor="n", ttl_s=60,
                        now=rows.utc_now().replace(year=2030))
    assert later.free_beds == 4  # both holds expired (it is 2030), one bed taken
    actions = [e.action for e in pg.audit_log(limit=1000)]
    assert actions.count("expire_holds") == 1 and actions.count("hold_bed") == 3
    assert pg.verify_audit().ok


@pytest.mark.postgis
def test_the_head_row_cannot_be_removed(pg: PostGISStore, postgis_url: str) -> None:
    with pytest.raises(pg_errors.InsufficientPrivilege), pg._pool_().connection() as conn:
        conn.execute("DELETE FROM audit_head")
    with pytest.raises(psycopg.Error, match="append-only"):
        _owner(postgis_url, "DELETE FROM audit_head")
    with pytest.raises(psycopg.Error, match="append-only"):
        _owner(postgis_url, "TRUNCATE audit_head")


@pytest.mark.postgis
def test_without_a_head_nothing_is_written(pg: PostGISStore, postgis_url: str) -> None:
    before = _owner(postgis_url, "SELECT count(*) FROM audit")
    _owner(postgis_url, "ALTER TABLE audit_head DISABLE TRIGGER audit_head_kept")
    _owner(postgis_url, "DELETE FROM audit_head")
    with pytest.raises(StoreError, match="no head row"):
        pg.hold_bed("faith", BedType.SINGLE_WOMEN, actor="n", ttl_s=60)
    with pytest.raises(StoreError, match="no head row"):
        pg.record("note", actor="n")
    assert _owner(postgis_url, "SELECT count(*) FROM audit") == before
    assert _owner(postgis_url, "SELECT free, held FROM beds WHERE resource_id = 'faith' "
                               "AND bed_type = 'single_women'") == [(5, 0)]


@pytest.mark.postgis
def test_a_forged_head_breaks_the_next_entry(pg: PostGISStore, postgis_url: str) -> None:
    pg.record("before", actor="n")
    with pg._pool_().connection() as conn:  # the app role may move the head: it is no proof
        conn.execute("UPDATE audit_head SET hash = %s", (GENESIS,))
    pg.record("after", actor="n")
    (last,) = _owner(postgis_url, "SELECT id FROM audit ORDER BY id DESC LIMIT 1")
    result = pg.verify_audit()
    assert not result.ok and result.broken_id == last[0]
    assert "prev_hash" in result.reason


@pytest.mark.postgis
def test_racing_holds_and_writes_chain_in_id_order(pg: PostGISStore, postgis_url: str) -> None:
    """Holds (one statement) and other audited writes (transactions) race on the head."""
    _owner(postgis_url, "UPDATE beds SET capacity = 60, occupied = 0, free = 60 "
                        "WHERE resource_id = 'faith' AND bed_type = 'single_women'")
    barrier = threading.Barrier(12)

    def attempt(i: int) -> str:
        barrier.wait()
        out = []
        for j in range(8):
            if (i + j) % 3 == 0:
                pg.record("note", actor=f"w{i}", inputs={"j": j})
                out.append("note")
                continue
            try:
                pg.hold_bed("faith", BedType.SINGLE_WOMEN, actor=f"c{i}", ttl_s=600,
                            idempotency_key=f"{i}-{j}")
                out.append("held")
            except ConflictError:
                out.append("full")
        return ",".join(out)

    with ThreadPoolExecutor(max_workers=12) as pool:
        outcome = Counter(",".join(pool.map(attempt, range(12))).split(","))
    assert outcome["held"] == min(60, outcome["held"] + outcome["full"])
    assert _owner(postgis_url, "SELECT free, held FROM beds WHERE resource_id = 'faith' "
                               "AND bed_type = 'single_women'") == [(60 - outcome["held"],
                                                                     outcome["held"])]
    assert pg.verify_audit().ok
