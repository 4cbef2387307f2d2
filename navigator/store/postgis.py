"""The PostGIS store: psycopg 3 with a connection pool and versioned SQL migrations.

Row locks of guarded updates (``UPDATE beds SET free = free - 1 WHERE ... AND free > 0``)
serialise concurrent writers under READ COMMITTED; CHECK constraints, a unique idempotency
key and a partial unique index on active assignments back them up in the database.
"""

from __future__ import annotations

import logging
import math
import os
import re
import threading
import time
import weakref
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import errors as pg_errors
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types import TypeInfo
from psycopg.types.shapely import register_shapely
from psycopg_pool import ConnectionPool

from navigator.errors import (
    ConflictError,
    NavigatorError,
    StoreError,
    ValidationError,
)
from navigator.store._pgtx import PgTx, encode
from navigator.store.audit import flush_audit
from navigator.store.changes import DISPATCH
from navigator.store.guarded import GuardedStore
from navigator.store.listen import ChangeListener
from navigator.store.logins import LoginThrottleMethods
from navigator.store.pg_holds import OneStatementHolds
from navigator.store.schema import migration_files
from navigator.store.sessions import SessionMethods
from navigator.store.users import UserMethods

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from shapely.geometry.base import BaseGeometry

#: The NOLOGIN group role pooled connections act as (created by migration 0004).
APP_ROLE = "navigator_app"
#: What a caller is told while the database does not answer (details go to the log only).
UNAVAILABLE = "the database is not answering; try again in a moment"
#: psycopg_pool stops a background reconnection after this many seconds; the next request
#: then starts a fresh attempt, so a database that comes back is used at once rather than
#: after an exponential backoff grown during a long outage.
_RECONNECT_TIMEOUT_S = 5.0
#: A pooled connection back from a request within this many seconds is not checked again.
_CHECK_IDLE_S = 1.0
_MIGRATION_FILE = re.compile(r"^(\d{4})_\w+\.sql$")
_URL_PASSWORD = re.compile(r"(://[^:/@?#]*):[^/?#]*@")
_CONNINFO_PASSWORD = re.compile(r"password\s*=\s*('[^']*'|\S+)")
log = logging.getLogger(__name__)


def redact(url: str) -> str:
    """Return ``url`` (or a ``key=value`` conninfo) without its password, for messages."""
    url = _URL_PASSWORD.sub(r"\1@", url)
    return _CONNINFO_PASSWORD.sub("password=***", url)


def migrations() -> list[tuple[int, str, str]]:
    """Return the PostGIS migrations as (version, name, SQL text), in order."""
    return migration_files(_MIGRATION_FILE)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return redact(text.splitlines()[0]) if text else type(error).__name__


def translate(error: psycopg.Error) -> NavigatorError:
    """Return the Navigator error for a psycopg error, with a message fit for any caller.

    Messages name no URL, host or port: an unreachable database (or an exhausted pool) says
    only :data:`UNAVAILABLE`, and the driver's own words go to this module's logger.
    """
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
    if isinstance(error, psycopg.OperationalError):  # PoolTimeout and TooManyRequests too
        log.warning("PostGIS unavailable: %s", _first_line(error))
        return StoreError(UNAVAILABLE)
    return StoreError(f"the database refused the operation: {detail}")


class PostGISStore(OneStatementHolds, UserMethods, SessionMethods, LoginThrottleMethods,
                   GuardedStore):
    """The store contract on PostgreSQL with PostGIS.

    Migrations run with ``url``, as the schema owner. Every pooled connection then acts as
    ``app_role`` (:data:`APP_ROLE`), which owns nothing and may only INSERT and SELECT on the
    audit log: it cannot UPDATE, DELETE or TRUNCATE entries, nor ``ALTER TABLE audit DISABLE
    TRIGGER`` or ``DROP TRIGGER``.

    How strong that is depends on the credentials the process holds:

    * **One URL** (the demo, the tests; ``app_url`` None): connections log in as the owner and
      run ``SET ROLE navigator_app``. Every statement the store sends runs with the app
      role's rights, including a query we got wrong. SQL injection through the store's
      bound-parameter SQL is not the threat this answers; a compromised application process
      is, and such a process holds the owner's URL and can ``RESET ROLE`` or reconnect.
      One URL is a safety net, not a boundary.
    * **Two URLs** (production): give the application process only ``app_url``, naming a
      LOGIN role that is a member of ``navigator_app``, e.g. ``CREATE ROLE navigator_web
      LOGIN PASSWORD '...' IN ROLE navigator_app``, and run the migrations elsewhere with the
      owner's URL (``open_store(owner_url)`` in a deploy step). ``RESET ROLE`` then only
      returns to ``navigator_web``, which owns nothing either: the audit log's protections
      hold even against a compromised process. Such a process calls ``open_store(app_url)``;
      migrating is then a no-op when the schema is current, and refused when it is not.

    Parameters
    ----------
    url
        ``postgresql://user[:password]@host:port/dbname`` of the schema owner (migrations;
        also the pool's login unless ``app_url`` is given).
    app_url
        URL the pooled connections log in with; None uses ``url``.
    app_role
        Role the pooled connections ``SET ROLE`` to; None keeps the login role's own rights
        (for a login role that has exactly the rights the store needs).
    max_connections
        Largest number of pooled connections (one per concurrent request).
    connect_timeout_s
        Seconds to wait for the server when connecting (libpq waits at least 2).
    acquire_timeout_s
        Seconds an operation waits for a pooled connection before ``StoreError``: during an
        outage operations fail this fast instead of hanging, and recover on their own when
        the database returns (the pool checks each connection before handing it out).
    """

    LOCK_ROWS = " FOR UPDATE"
    #: Pruning skips rows another login holds (no waiting, no deadlock); the next prune
    #: deletes them.
    SKIP_LOCKED = " FOR UPDATE SKIP LOCKED"
    #: The GiST index narrows to candidates; lon/lat make the edges exact.
    RESOURCE_BBOX_SQL = (
        "geom && ST_MakeEnvelope(%(minx)s, %(miny)s, %(maxx)s, %(maxy)s, 4326) "
        "AND lon BETWEEN %(minx)s AND %(maxx)s AND lat BETWEEN %(miny)s AND %(maxy)s")

    def __init__(self, url: str, *, app_url: str | None = None,
                 app_role: str | None = APP_ROLE, max_connections: int = 10,
                 connect_timeout_s: float = 2.0, acquire_timeout_s: float = 1.5) -> None:
        self.url = url
        self.app_url = app_url
        self.app_role = app_role
        self.max_connections = max_connections
        self.connect_timeout_s = connect_timeout_s
        self.acquire_timeout_s = acquire_timeout_s
        self._pool: ConnectionPool[psycopg.Connection[dict[str, Any]]] | None = None
        self._pool_lock = threading.Lock()
        self._listener: ChangeListener | None = None
        self._back_at: weakref.WeakKeyDictionary[psycopg.Connection[Any], float] = (
            weakref.WeakKeyDictionary())
        self._closed = False
        # Fail now, with the URL in the message, rather than on the first query.
        self._connect(app_url or url).close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({redact(self.url)!r})"

    def _connect_kwargs(self) -> dict[str, Any]:
        timeout_s = max(2, math.ceil(self.connect_timeout_s))
        # tcp_user_timeout drops a connection whose packets go unanswered (a network cut)
        # instead of letting a query wait for TCP's own retries (minutes).
        return {"row_factory": dict_row, "connect_timeout": timeout_s,
                "tcp_user_timeout": timeout_s * 1000, "autocommit": True}

    def _connect(self, url: str) -> psycopg.Connection[dict[str, Any]]:
        try:
            return psycopg.connect(url, **self._connect_kwargs())
        except (psycopg.Error, ValueError) as e:
            msg = f"cannot connect to PostGIS at {redact(url)}: {_first_line(e)}"
            # libpq echoes the URL, password included: keep the cause out of tracebacks.
            raise StoreError(msg) from None

    def _configure(self, conn: psycopg.Connection[Any]) -> None:
        """Set a new pool connection's role and teach it shapely geometries."""
        if self.app_role is not None:
            conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(self.app_role)))
        info = TypeInfo.fetch(conn, "geometry")
        if info is None:
            conn.rollback()
            msg = "PostGIS is not installed in the store's database; run the migrations first"
            raise StoreError(msg)
        register_shapely(info, conn)

    def _check_role(self) -> None:
        """Raise a clear ``StoreError`` if the pool's login cannot act as ``app_role``."""
        if self.app_role is None:
            return
        url = self.app_url or self.url
        with self._connect(url) as conn:
            try:
                conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(self.app_role)))
            except psycopg.OperationalError as e:
                raise translate(e) from e
            except psycopg.Error as e:
                msg = (f"PostGIS at {redact(url)}: cannot act as role {self.app_role!r} "
                       f"({_first_line(e)}); run the migrations as the schema owner first, "
                       f"or grant {self.app_role} to the login role")
                raise StoreError(msg) from None

    def _pool_(self) -> ConnectionPool[psycopg.Connection[dict[str, Any]]]:
        if self._closed:
            msg = "the PostGIS store is closed"
            raise StoreError(msg)
        with self._pool_lock:
            if self._pool is None:
                self._check_role()
                pool: ConnectionPool[psycopg.Connection[dict[str, Any]]] = ConnectionPool(
                    self.app_url or self.url, min_size=1, max_size=self.max_connections,
                    open=False, configure=self._configure, name="navigator",
                    check=self._check, timeout=self.acquire_timeout_s,
                    reconnect_timeout=_RECONNECT_TIMEOUT_S, kwargs=self._connect_kwargs())
                pool.open(wait=False)
                self._pool = pool
            return self._pool

    def migrate(self) -> int:
        """Apply pending migrations in order, in one transaction under an advisory lock.

        Runs as the login of ``url``. When nothing is pending nothing is written, so a
        login without DDL rights may call it.

        Returns
        -------
        int
            The schema version now in force.
        """
        with self._connect(self.url) as conn:
            try:
                with conn.transaction(), conn.cursor() as cur:
                    applied = _applied(cur)
                    if all(version in applied for version, _, _ in migrations()):
                        return max(applied, default=0)
                    cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))",
                                ("navigator.schema_migrations",))
                    cur.execute("CREATE TABLE IF NOT EXISTS schema_migrations ("
                                " version integer PRIMARY KEY, name text NOT NULL,"
                                " applied_at timestamptz NOT NULL DEFAULT now())")
                    applied = _applied(cur)
                    for version, name, text in migrations():
                        if version in applied:
                            continue
                        cur.execute(text.encode())
                        cur.execute("INSERT INTO schema_migrations (version, name) "
                                    "VALUES (%s, %s)", (version, name))
                        applied.add(version)
            except psycopg.Error as e:
                msg = f"cannot migrate PostGIS at {redact(self.url)}: {translate(e)}"
                raise StoreError(msg) from e
        return max(applied, default=0)

    def close(self) -> None:
        """Close the connection pool."""
        with self._pool_lock:
            self._closed = True
            pool, self._pool = self._pool, None
            listener, self._listener = self._listener, None
        if pool is not None:
            pool.close()
        if listener is not None:
            listener.close()

    def wait_for_change(self, since: int, *, timeout_s: float, poll_s: float = 0.05,
                        topic: str = DISPATCH) -> int:
        """Return ``topic``'s counter once it differs from ``since``, or after ``timeout_s``.

        Woken by NOTIFY (:class:`~navigator.store.listen.ChangeListener`, one per store
        object and process) as the writing transaction commits; reads the counter every
        ``poll_s`` seconds only while the listening connection is down.
        """
        with self._pool_lock:
            if self._closed:
                msg = "the PostGIS store is closed"
                raise StoreError(msg)
            if self._listener is None or self._listener.pid != os.getpid():  # after a fork
                self._listener = ChangeListener(lambda: self._connect(self.app_url or self.url))
            listener = self._listener
        return listener.wait_for(lambda: self.change_version(topic), since,
                                 timeout_s=timeout_s, poll_s=poll_s)

    def ping(self, *, timeout_s: float = 1.0) -> bool:
        """Return whether the database answers a trivial query within about ``timeout_s``.

        Never raises: for a health check (``/api/health``).
        """
        try:
            with self._connection(timeout_s=timeout_s) as conn:
                conn.execute("SELECT 1")
        except (psycopg.Error, NavigatorError):
            return False
        return True

    def _check(self, conn: psycopg.Connection[Any]) -> None:
        """Check a connection the pool hands out: a round trip only if it sat idle a while.

        A connection back from a request less than :data:`_CHECK_IDLE_S` ago is used as it
        is (under load that saves a round trip per request); if the server went away in
        that moment, that one request fails as unavailable and the pool replaces the
        connection.
        """
        back = self._back_at.get(conn)
        if conn.broken or back is None or time.monotonic() - back > _CHECK_IDLE_S:
            ConnectionPool.check_connection(conn)

    @contextmanager
    def _connection(self, *, timeout_s: float | None = None
                    ) -> Iterator[psycopg.Connection[dict[str, Any]]]:
        """Yield a pooled connection; note when it goes back (see :meth:`_check`).

        The note is taken here rather than by a pool ``reset`` callback: with one, the pool
        hands every returned connection to a background thread (a thread wake-up and a
        context switch per statement), without, it goes back in the returning thread.
        """
        with self._pool_().connection(timeout=timeout_s) as conn:
            try:
                yield conn
            finally:
                self._back_at[conn] = time.monotonic()

    @contextmanager
    def _transaction(self, *, write: bool) -> Iterator[PgTx]:
        """Yield a transaction; a read one sends no BEGIN or COMMIT.

        Connections are in autocommit mode. Under READ COMMITTED each statement of a
        transaction sees its own snapshot anyway, so reads lose nothing by running as
        statements of their own and save two round trips; writes run in one transaction.
        """
        try:
            with self._connection() as conn, conn.cursor() as cur:
                tx = PgTx(cur)
                if write:
                    with conn.transaction():
                        yield tx
                        flush_audit(tx)
                else:
                    yield tx
                    if tx.audit_rows:
                        with conn.transaction():
                            flush_audit(tx)
        except psycopg.Error as e:
            raise translate(e) from e

    def _statement(self, query: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Run one statement as a transaction of its own (one round trip); return its rows.

        Committed when this returns: the rows are an answer from the committed write.
        """
        try:
            with self._connection() as conn:
                found = conn.execute(query, {k: encode(v) for k, v in params.items()})
                return found.fetchall()
        except psycopg.Error as e:
            raise translate(e) from e

    def _area(self, raw: Any) -> BaseGeometry | None:
        return raw  # type: ignore[no-any-return]


def _applied(cur: psycopg.Cursor[dict[str, Any]]) -> set[int]:
    """Return the versions recorded in ``schema_migrations`` (none if it does not exist)."""
    cur.execute("SELECT to_regclass('schema_migrations') IS NOT NULL AS present")
    found = cur.fetchone()
    if not found or not found["present"]:
        return set()
    cur.execute("SELECT version FROM schema_migrations")
    return {row["version"] for row in cur.fetchall()}
