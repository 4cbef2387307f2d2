"""The embedded store: a GeoPackage file (SQLite) that QGIS opens directly.

Transactions borrow connections from a small pool (WAL mode and a busy timeout let several
processes, such as web workers, share the file); guarded writes take the write lock with
``BEGIN IMMEDIATE``, which also serialises appends to the audit log's hash chain.
"""

from __future__ import annotations

import functools
import json
import re
import sqlite3
import threading
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shapely.geometry.base import BaseGeometry

from navigator.errors import (
    ConflictError,
    NavigatorError,
    StoreError,
    ValidationError,
)
from navigator.store import gpkg
from navigator.store.audit import chain_after_head, flush_audit
from navigator.store.guarded import GuardedStore
from navigator.store.logins import LoginThrottleMethods
from navigator.store.sessions import SessionMethods
from navigator.store.users import UserMethods

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
#: Types SQLite binds as they are (a bool is stored as 0/1, as :func:`encode` does).
_PLAIN = frozenset({str, int, float, bool, type(None)})
#: Rows from which one statement counts as a bulk load, and the page cache (KiB) it gets.
_BULK_ROWS = 5_000
_BULK_CACHE_KIB = 256 * 1024


@functools.lru_cache(maxsize=512)
def _sqlite_sql(query: str) -> str:
    """Turn ``%(name)s`` placeholders into SQLite's ``:name``."""
    return _PLACEHOLDER.sub(r":\1", query)


def _quote(name: str) -> str:
    """Quote a table or column name (all of ours are plain lowercase identifiers)."""
    if not _IDENTIFIER.match(name):
        msg = f"not a plain SQL identifier: {name!r}"
        raise StoreError(msg)
    return f'"{name}"'


def encode(value: Any) -> Any:
    """Encode a logical value for SQLite (JSON text, ISO 8601 UTC text, GeoPackage binary)."""
    if isinstance(value, BaseGeometry):
        return gpkg.to_gpkg(value)
    if isinstance(value, datetime):
        # GeoPackage DATETIME: fixed width, so comparing the text in SQL orders instants.
        utc = value.astimezone(UTC)
        return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
    if isinstance(value, tuple | list | dict):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return int(value)
    return value


def encode_column(values: Sequence[Any]) -> list[Any]:
    """Encode one column's logical values for SQLite; geometries go to GeoPackage in bulk."""
    if all(type(v) in _PLAIN for v in values):
        return list(values)
    if all(v is None or isinstance(v, BaseGeometry) for v in values):
        return gpkg.to_gpkg_many(values)
    return [encode(v) for v in values]


def translate(error: sqlite3.Error, *, path: str) -> NavigatorError:
    """Return the Navigator error for a SQLite error, with a clear message."""
    text = str(error)
    if "append-only" in text:
        return StoreError(text)
    if isinstance(error, sqlite3.IntegrityError):
        if text.startswith("UNIQUE constraint failed") or "UNIQUE" in text:
            return ConflictError(f"the store refused a duplicate: {text}")
        if text.startswith(("CHECK constraint failed", "NOT NULL constraint failed",
                            "FOREIGN KEY constraint failed")):
            return ValidationError(f"the store refused a value: {text}")
        return ValidationError(f"the store refused the write: {text}")
    if isinstance(error, sqlite3.OperationalError) and "locked" in text:
        return ConflictError(f"the GeoPackage {path} stayed locked by another writer: {text}")
    return StoreError(f"GeoPackage {path}: {text}")


class _SQLiteTx:
    """A :class:`~navigator.store.sqlstore.Tx` on one SQLite connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.audit_rows: list[dict[str, Any]] = []

    def insert_audit(self, entries: Sequence[Mapping[str, Any]]) -> None:
        """Chain and insert entries (``BEGIN IMMEDIATE`` already holds the write lock)."""
        chain_after_head(self, entries)

    def fetch(self, query: str, params: Mapping[str, Any] | None = None
              ) -> list[dict[str, Any]]:
        encoded = {k: encode(v) for k, v in (params or {}).items()}
        cursor = self.conn.execute(_sqlite_sql(query), encoded)
        return [dict(row) for row in cursor.fetchall()]

    def insert(self, table: str, row: Mapping[str, Any]) -> None:
        self.insert_many(table, [row])

    def upsert(self, table: str, row: Mapping[str, Any], *, key: Sequence[str],
               keep: Sequence[str] = ()) -> None:
        self.upsert_many(table, [row], key=key, keep=keep)

    def insert_many(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        if rows:
            self._many(table, rows, "")

    def upsert_many(self, table: str, rows: Sequence[Mapping[str, Any]], *,
                    key: Sequence[str], keep: Sequence[str] = ()) -> None:
        if not rows:
            return
        updates = ", ".join(f"{_quote(c)} = excluded.{_quote(c)}" for c in rows[0]
                            if c not in key and c not in keep)
        conflict = ", ".join(_quote(c) for c in key)
        self._many(table, rows, f" ON CONFLICT ({conflict}) DO UPDATE SET {updates}")

    def _many(self, table: str, rows: Sequence[Mapping[str, Any]], tail: str) -> None:
        """Run one prepared INSERT (with ``tail``) over ``rows``, their values encoded in bulk."""
        columns = list(rows[0])
        query = (f"INSERT INTO {_quote(table)} ({', '.join(_quote(c) for c in columns)}) "
                 f"VALUES ({', '.join('?' for _ in columns)}){tail}")
        values = zip(*(encode_column([r[c] for r in rows]) for c in columns), strict=True)
        if len(rows) < _BULK_ROWS:
            self.conn.executemany(query, values)
            return
        # A bulk load touches index and R-tree pages all over the file: with SQLite's 2 MB
        # page cache they are spilled and read back again and again (a quarter of the CPU
        # of a 100k-row load). Widen the cache for this statement only.
        before = self.conn.execute("PRAGMA cache_size").fetchone()[0]
        self.conn.execute(f"PRAGMA cache_size = {-_BULK_CACHE_KIB:d}")
        try:
            self.conn.executemany(query, values)
        finally:
            self.conn.execute(f"PRAGMA cache_size = {int(before):d}")

    def execute_many(self, query: str, params: Sequence[Mapping[str, Any]]) -> None:
        self.conn.executemany(_sqlite_sql(query),
                              ({k: encode(v) for k, v in p.items()} for p in params))

    def count(self, table: str) -> int:
        return int(self.conn.execute(f"SELECT count(*) FROM {_quote(table)}").fetchone()[0])

    def delete_all(self, table: str) -> None:
        self.conn.execute(f"DELETE FROM {_quote(table)}")

    def notify(self, topic: str) -> None:
        """Do nothing: SQLite has no notifications; change readers poll the counter."""


class GeoPackageStore(UserMethods, SessionMethods, LoginThrottleMethods, GuardedStore):
    """The store contract on a GeoPackage file.

    Each transaction borrows a connection from a small pool and gives it back: a web server
    that runs every request in a new thread keeps at most ``max_idle_connections`` open
    between requests (each holds two file descriptors, the file and its ``-wal``), plus one
    per transaction under way. Connections are not tied to threads, so threads that end
    leave nothing behind.

    Parameters
    ----------
    path
        GeoPackage file; created (with its GeoPackage metadata) when missing.
    timeout_s
        Seconds a writer waits for another process's write lock before giving up.
    max_idle_connections
        Connections kept open for the next transaction; more are closed when given back.
    """

    def __init__(self, path: str | Path, *, timeout_s: float = 30.0,
                 max_idle_connections: int = 4) -> None:
        self.path = str(Path(path).expanduser())
        self.url = self.path
        self.timeout_s = timeout_s
        self.max_idle_connections = max_idle_connections
        parent = Path(self.path).parent
        if not parent.is_dir():
            msg = f"cannot open GeoPackage {self.path}: folder {parent} does not exist"
            raise StoreError(msg)
        self._lock = threading.Lock()
        self._idle: list[sqlite3.Connection] = []
        self._closed = False

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """Lend a pooled connection (newest idle one first) for one transaction."""
        with self._lock:
            if self._closed:
                msg = f"GeoPackage store {self.path} is closed"
                raise StoreError(msg)
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            try:
                conn = gpkg.connect(self.path, timeout_s=self.timeout_s)
            except sqlite3.Error as e:
                msg = f"cannot open GeoPackage {self.path}: {e}"
                raise StoreError(msg) from e
        try:
            yield conn
        finally:
            with self._lock:
                keep = (not self._closed and not conn.in_transaction
                        and len(self._idle) < self.max_idle_connections)
                if keep:
                    self._idle.append(conn)
            if not keep:
                conn.close()

    def migrate(self) -> int:
        """Create the GeoPackage or upgrade its schema; return the schema version."""
        with self._connection() as conn:
            try:
                app_id = conn.execute("PRAGMA application_id").fetchone()[0]
                tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
                if tables and app_id != gpkg.APPLICATION_ID:
                    msg = (f"{self.path} is an SQLite file but not a GeoPackage; refusing to "
                           "change it")
                    raise StoreError(msg)
                return gpkg.migrate(conn)
            except sqlite3.DatabaseError as e:
                raise translate(e, path=self.path) from e

    def close(self) -> None:
        """Close the idle connections; ones lent out close when they come back."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def ping(self) -> bool:
        """Return whether the GeoPackage can be read (never raises; for a health check)."""
        try:
            with self._transaction(write=False) as tx:
                tx.fetch("SELECT 1 AS ok FROM schema_migrations LIMIT 1")
        except NavigatorError:
            return False
        return True

    @contextmanager
    def _transaction(self, *, write: bool) -> Iterator[_SQLiteTx]:
        with self._connection() as conn:
            try:
                conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            except sqlite3.Error as e:
                raise translate(e, path=self.path) from e
            tx = _SQLiteTx(conn)
            try:
                yield tx
                flush_audit(tx)
            except sqlite3.Error as e:
                conn.execute("ROLLBACK")
                raise translate(e, path=self.path) from e
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            try:
                conn.execute("COMMIT")
            except sqlite3.Error as e:
                conn.execute("ROLLBACK")
                raise translate(e, path=self.path) from e

    def _area(self, raw: Any) -> BaseGeometry | None:
        return gpkg.from_gpkg(raw)

    #: The R-tree narrows to candidate rows; lon/lat make the edges exact.
    RESOURCE_BBOX_SQL = (
        "fid IN (SELECT id FROM rtree_resources_geom WHERE minx <= %(maxx)s "
        "AND maxx >= %(minx)s AND miny <= %(maxy)s AND maxy >= %(miny)s) "
        "AND lon BETWEEN %(minx)s AND %(maxx)s AND lat BETWEEN %(miny)s AND %(maxy)s")
