"""PostGIS: the store acts as ``navigator_app``, which cannot rewrite the audit log."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import errors as pg_errors

from navigator.errors import StoreError
from navigator.model import BedType, Bundle
from navigator.store import open_store
from navigator.store.postgis import APP_ROLE, PostGISStore

pytestmark = pytest.mark.postgis

#: What a compromised or buggy application might try on the audit log.
TAMPERING = {
    "update": "UPDATE audit SET actor = 'mallory'",
    "delete": "DELETE FROM audit",
    "truncate": "TRUNCATE audit",
    "disable_trigger": "ALTER TABLE audit DISABLE TRIGGER audit_no_update_delete",
    "disable_all_triggers": "ALTER TABLE audit DISABLE TRIGGER ALL",
    "drop_trigger": "DROP TRIGGER audit_no_update_delete ON audit",
    "drop_constraint": "ALTER TABLE audit DROP CONSTRAINT audit_chained",
    "drop_table": "DROP TABLE audit",
}


@pytest.fixture
def pg(postgis_url: str, sample: Bundle) -> Iterator[Any]:
    store = open_store(postgis_url)
    store.load(sample, actor="loader")
    yield store
    store.close()


def _as_store(store: PostGISStore, query: str) -> None:
    """Run ``query`` on one of the store's own pooled connections, bypassing its Python."""
    with store._pool_().connection() as conn:
        conn.execute(query)


def _rows(url: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT * FROM audit ORDER BY id").fetchall()


def test_pool_connections_act_as_the_app_role(pg: PostGISStore) -> None:
    with pg._pool_().connection() as conn:
        row = conn.execute("SELECT current_user AS u, session_user AS s").fetchone()
    assert row is not None and row["u"] == APP_ROLE


def test_app_role_owns_nothing(pg: PostGISStore) -> None:
    with pg._pool_().connection() as conn:
        owned = conn.execute("SELECT count(*) AS n FROM pg_class "
                             "WHERE relowner = %s::regrole", (APP_ROLE,)).fetchone()
    assert owned is not None and owned["n"] == 0


@pytest.mark.parametrize("query", list(TAMPERING.values()), ids=list(TAMPERING))
def test_app_role_cannot_tamper_with_the_audit_log(pg: PostGISStore, postgis_url: str,
                                                   query: str) -> None:
    before = _rows(postgis_url)
    with pytest.raises(pg_errors.InsufficientPrivilege):
        _as_store(pg, query)
    assert _rows(postgis_url) == before
    assert pg.verify_audit().ok


def test_a_refused_statement_through_the_store_is_a_store_error(pg: PostGISStore) -> None:
    with pytest.raises(StoreError, match="permission denied for table audit"), \
            pg._transaction(write=True) as tx:
        tx.fetch("DELETE FROM audit")


def test_app_role_has_what_the_store_needs_and_no_more(pg: PostGISStore) -> None:
    with pg._pool_().connection() as conn:
        found = conn.execute(
            "SELECT c.relname AS t, "
            "has_table_privilege(c.oid, 'SELECT') AS sel, "
            "has_table_privilege(c.oid, 'INSERT') AS ins, "
            "has_table_privilege(c.oid, 'UPDATE') AS upd, "
            "has_table_privilege(c.oid, 'DELETE') AS del, "
            "has_table_privilege(c.oid, 'TRUNCATE') AS trunc "
            "FROM pg_class c WHERE c.relkind = 'r' "
            "AND c.relnamespace = current_schema()::regnamespace").fetchall()
    rights = {r["t"]: (r["sel"], r["ins"], r["upd"], r["del"], r["trunc"]) for r in found}
    assert rights.pop("audit") == (True, True, False, False, False)
    assert rights.pop("schema_migrations") == (True, False, False, False, False)
    # the change counters are only read and bumped (migration 0012 seeds their rows)
    assert rights.pop("changes") == (True, False, True, False, False)
    # compliance areas are imported and deleted, never edited in place (migration 0016)
    assert rights.pop("compliance_areas") == (True, True, False, True, False)
    # the audit log's head row (migration 0017) is only read and moved on
    assert rights.pop("audit_head") == (True, False, True, False, False)
    # Every other table (including ones later migrations add) has plain DML, no TRUNCATE.
    assert rights and set(rights.values()) == {(True, True, True, True, False)}


def test_store_works_as_the_app_role(pg: PostGISStore) -> None:
    hold = pg.hold_bed("faith", BedType.SINGLE_WOMEN, actor="nav", ttl_s=60)
    pg.release_hold(hold.id, actor="nav")
    pg.load(Bundle(), actor="loader", replace=True)
    assert pg.counts()["resources"] == 0
    assert pg.verify_audit().ok and pg.verify_audit().checked == 4


def test_one_url_mode_can_be_turned_off(postgis_url: str) -> None:
    store = PostGISStore(postgis_url, app_role=None)
    try:
        store.migrate()
        with store._pool_().connection() as conn:
            row = conn.execute("SELECT current_user AS u").fetchone()
        assert row is not None and row["u"] != APP_ROLE
    finally:
        store.close()


# -- two URLs: a LOGIN role that owns nothing ---------------------------------------------------
@pytest.fixture
def app_login(postgis_url: str) -> Iterator[str]:
    """Create a LOGIN role in ``navigator_app`` (migrated schema); yield its URL."""
    open_store(postgis_url).close()  # migrate as the owner first
    name = f"navigator_web_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgis_url, autocommit=True) as conn:
        conn.execute(psycopg.sql.SQL("CREATE ROLE {} LOGIN IN ROLE {}").format(
            psycopg.sql.Identifier(name), psycopg.sql.Identifier(APP_ROLE)))
    parts = urlsplit(postgis_url)
    host = parts.netloc.rsplit("@", 1)[-1]
    yield urlunsplit(parts._replace(netloc=f"{name}@{host}"))
    with psycopg.connect(postgis_url, autocommit=True) as conn:
        conn.execute(psycopg.sql.SQL("DROP ROLE {}").format(psycopg.sql.Identifier(name)))


def test_app_login_cannot_escape_with_reset_role(postgis_url: str, app_login: str,
                                                 sample: Bundle) -> None:
    store = open_store(postgis_url, app_url=app_login)
    try:
        store.load(sample, actor="loader")
        with store._pool_().connection() as conn:
            conn.execute("RESET ROLE")
            assert conn.execute("SELECT current_user AS u").fetchone()["u"] != APP_ROLE
            for query in TAMPERING.values():
                with pytest.raises(pg_errors.InsufficientPrivilege):
                    conn.execute(query)
                conn.rollback()
        assert store.verify_audit().ok
    finally:
        store.close()


def test_app_login_alone_opens_a_current_schema_but_cannot_migrate(
        postgis_url: str, app_login: str, monkeypatch: pytest.MonkeyPatch) -> None:
    store = open_store(app_login)  # nothing pending: no DDL, so no rights needed
    store.close()
    from navigator.store import postgis

    shipped = postgis.migrations()
    extra = (shipped[-1][0] + 1, "9999_more.sql", "CREATE TABLE more (id int)")
    monkeypatch.setattr(postgis, "migrations", lambda: [*shipped, extra])
    with pytest.raises(StoreError, match=r"cannot migrate PostGIS .*permission denied"):
        open_store(app_login)


def test_a_login_outside_the_app_role_is_told_why(postgis_url: str) -> None:
    open_store(postgis_url).close()
    name = f"navigator_stranger_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgis_url, autocommit=True) as conn:
        conn.execute(psycopg.sql.SQL("CREATE ROLE {} LOGIN").format(
            psycopg.sql.Identifier(name)))
    parts = urlsplit(postgis_url)
    stranger = urlunsplit(parts._replace(netloc=f"{name}@{parts.netloc.rsplit('@', 1)[-1]}"))
    try:
        store = open_store(postgis_url, app_url=stranger)
        with pytest.raises(StoreError, match="cannot act as role 'navigator_app'"):
            store.counts()
        store.close()
    finally:
        with psycopg.connect(postgis_url, autocommit=True) as conn:
            conn.execute(psycopg.sql.SQL("DROP ROLE {}").format(psycopg.sql.Identifier(name)))
