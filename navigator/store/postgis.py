"""The PostGIS store: psycopg 3 with a connection pool and versioned SQL migrations.

Row locks of guarded updates (``UPDATE beds SET free = free - 1 WHERE ... AND free > 0``)
serialise concurrent writers under READ COMMITTED; CHECK constraints, a unique idempotency
key and a partial unique index on active assignments back them up in the database.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import errors as pg_errors
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types import TypeInfo
from psycopg.types.json import Jsonb
from psycopg.types.shapely import register_shapely
from psycopg_pool import ConnectionPool, PoolTimeout

from navigator.errors import (
    ConflictError,
    NavigatorError,
    StoreError,
    ValidationError,
)
from navigator.store.guarded import GuardedStore
from navigator.store.schema import migration_files
from navigator.store.users import UserMethods

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

    from shapely.geometry.base import BaseGeometry

_MIGRATION_FILE = re.compile(r"^(\d{4})_\w+\.sql$")
#: Tables whose ``lon``/``lat`` columns are generated from ``geom``.
_GENERATED = frozenset({"lon", "lat"})
_POINT_TABLES = frozenset({"resources", "teams", "incidents"})
_URL_PASSWORD = re.compile(r"(://[^:/@?#]*):[^/?#]*@")
_CONNINFO_PASSWORD = re.compile(r"password\s*=\s*('[^']*'|\S+)")


def redact(url: str) -> str:
    """Return ``url`` (or a ``key=value`` conninfo) without its password, for messages."""
    url = _URL_PASSWORD.sub(r"\1@", url)
    return _CONNINFO_PASSWORD.sub("password=***", url)


def migrations() -> list[tuple[int, str, str]]:
    """Return the PostGIS migrations as (version, name, SQL text), in order."""
    return migration_files(_MIGRATION_FILE)


def encode(value: Any) -> Any:
    """Encode a logical value for psycopg (tuples as arrays, dicts as jsonb)."""
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, dict):
        return Jsonb(value)
    return value


def translate(error: psycopg.Error, *, url: str) -> NavigatorError:
    """Return the Navigator error for a psycopg error, with a clear message."""
    diag = getattr(error, "diag", None)
    detail = (diag.message_primary if diag is not None else None) or str(error).strip()
    constraint = diag.constraint_name if diag is not None else None
    where = f" ({constraint})" if constraint else ""
    if isinstance(error, pg_errors.UniqueViolation | pg_errors.ExclusionViolation):
        return ConflictError(f"the store refused a duplicate: {detail}{where}")
    if isinstance(error, pg_errors.SerializationFailure | pg_errors.DeadlockDetected
                  | pg_errors.LockNotAvailable):
        return ConflictError(f"a concurrent write won; try again: {detail}")
    if isinstance(error, psycopg.IntegrityError | psycopg.DataError):
        return ValidationError(f"the store refused a value: {detail}{where}")
    if isinstance(error, psycopg.OperationalError):
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return StoreError(f"cannot reach PostGIS at {redact(url)}: {redact(first)}")
    return StoreError(f"PostGIS at {redact(url)} refused the operation: {detail}")


class _PgTx:
    """A :class:`~navigator.store.sqlstore.Tx` on one psycopg cursor."""

    def __init__(self, cursor: psycopg.Cursor[dict[str, Any]]) -> None:
        self.cursor = cursor

    def fetch(self, query: str, params: Mapping[str, Any] | None = None
              ) -> list[dict[str, Any]]:
        encoded = {k: encode(v) for k, v in (params or {}).items()}
        self.cursor.execute(query, encoded or None)  # type: ignore[call-overload]
        return self.cursor.fetchall() if self.cursor.description else []

    def _columns(self, table: str, row: Mapping[str, Any]) -> list[str]:
        return [c for c in row if not (table in _POINT_TABLES and c in _GENERATED)]

    def insert(self, table: str, row: Mapping[str, Any]) -> None:
        columns = self._columns(table, row)
        query = sql.SQL("INSERT INTO {table} ({columns}) VALUES ({values})").format(
            table=sql.Identifier(table),
            columns=sql.SQL(", ").join(map(sql.Identifier, columns)),
            values=sql.SQL(", ").join(map(sql.Placeholder, columns)))
        self.cursor.execute(query, {c: encode(row[c]) for c in columns})

    def upsert(self, table: str, row: Mapping[str, Any], *, key: Sequence[str],
               keep: Sequence[str] = ()) -> None:
        columns = self._columns(table, row)
        updates = [sql.SQL("{c} = EXCLUDED.{c}").format(c=sql.Identifier(c))
                   for c in columns if c not in key and c not in keep]
        query = sql.SQL("INSERT INTO {table} ({columns}) VALUES ({values}) "
                        "ON CONFLICT ({key}) DO UPDATE SET {updates}").format(
            table=sql.Identifier(table),
            columns=sql.SQL(", ").join(map(sql.Identifier, columns)),
            values=sql.SQL(", ").join(map(sql.Placeholder, columns)),
            key=sql.SQL(", ").join(map(sql.Identifier, key)),
            updates=sql.SQL(", ").join(updates))
        self.cursor.execute(query, {c: encode(row[c]) for c in columns})

    def count(self, table: str) -> int:
        self.cursor.execute(sql.SQL("SELECT count(*) AS n FROM {}").format(sql.Identifier(table)))
        found = self.cursor.fetchone()
        return int(found["n"]) if found else 0

    def delete_all(self, table: str) -> None:
        self.cursor.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(table)))


class PostGISStore(UserMethods, GuardedStore):
    """The store contract on PostgreSQL with PostGIS.

    Parameters
    ----------
    url
        ``postgresql://user[:password]@host:port/dbname``.
    max_connections
        Largest number of pooled connections (one per concurrent request).
    connect_timeout_s
        Seconds to wait for the server when connecting.
    """

    #: The GiST index narrows to candidates; lon/lat make the edges exact.
    RESOURCE_BBOX_SQL = (
        "geom && ST_MakeEnvelope(%(minx)s, %(miny)s, %(maxx)s, %(maxy)s, 4326) "
        "AND lon BETWEEN %(minx)s AND %(maxx)s AND lat BETWEEN %(miny)s AND %(maxy)s")

    def __init__(self, url: str, *, max_connections: int = 10,
                 connect_timeout_s: float = 10.0) -> None:
        self.url = url
        self.max_connections = max_connections
        self.connect_timeout_s = connect_timeout_s
        self._pool: ConnectionPool[psycopg.Connection[dict[str, Any]]] | None = None
        self._closed = False
        # Fail now, with the URL in the message, rather than on the first query.
        self._connect().close()

    def _connect(self) -> psycopg.Connection[dict[str, Any]]:
        try:
            return psycopg.connect(self.url, row_factory=dict_row,
                                   connect_timeout=max(1, round(self.connect_timeout_s)))
        except (psycopg.Error, ValueError) as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            msg = f"cannot connect to PostGIS at {redact(self.url)}: {redact(first)}"
            # libpq echoes the URL, password included: keep the cause out of tracebacks.
            raise StoreError(msg) from None

    def _configure(self, conn: psycopg.Connection[Any]) -> None:
        """Teach a new pool connection to send and receive shapely geometries."""
        info = TypeInfo.fetch(conn, "geometry")
        if info is None:
            conn.rollback()
            msg = f"PostGIS is not installed in {redact(self.url)}; run the migrations first"
            raise StoreError(msg)
        register_shapely(info, conn)
        conn.commit()

    def _pool_(self) -> ConnectionPool[psycopg.Connection[dict[str, Any]]]:
        if self._closed:
            msg = f"PostGIS store {redact(self.url)} is closed"
            raise StoreError(msg)
        if self._pool is None:
            pool: ConnectionPool[psycopg.Connection[dict[str, Any]]] = ConnectionPool(
                self.url, min_size=1, max_size=self.max_connections, open=False,
                configure=self._configure, name="navigator",
                kwargs={"row_factory": dict_row,
                        "connect_timeout": max(1, round(self.connect_timeout_s))})
            pool.open(wait=True, timeout=self.connect_timeout_s)
            self._pool = pool
        return self._pool

    def migrate(self) -> int:
        """Apply pending migrations in order, in one transaction under an advisory lock.

        Returns
        -------
        int
            The schema version now in force.
        """
        with self._connect() as conn:
            try:
                with conn.transaction(), conn.cursor() as cur:
                    cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))",
                                ("navigator.schema_migrations",))
                    cur.execute("CREATE TABLE IF NOT EXISTS schema_migrations ("
                                " version integer PRIMARY KEY, name text NOT NULL,"
                                " applied_at timestamptz NOT NULL DEFAULT now())")
                    cur.execute("SELECT version FROM schema_migrations")
                    applied = {row["version"] for row in cur.fetchall()}
                    for version, name, text in migrations():
                        if version in applied:
                            continue
                        cur.execute(text.encode())
                        cur.execute("INSERT INTO schema_migrations (version, name) "
                                    "VALUES (%s, %s)", (version, name))
                        applied.add(version)
            except psycopg.Error as e:
                raise translate(e, url=self.url) from e
        return max(applied, default=0)

    def close(self) -> None:
        """Close the connection pool."""
        self._closed = True
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    @contextmanager
    def _transaction(self, *, write: bool) -> Iterator[_PgTx]:
        try:
            with self._pool_().connection() as conn, conn.transaction(), \
                    conn.cursor() as cur:
                yield _PgTx(cur)
        except psycopg.Error as e:
            raise translate(e, url=self.url) from e
        except PoolTimeout as e:
            msg = f"no PostGIS connection free at {redact(self.url)} in time: {e}"
            raise StoreError(msg) from e

    def _area(self, raw: Any) -> BaseGeometry | None:
        return raw  # type: ignore[no-any-return]
