"""PostgreSQL LISTEN/NOTIFY for the live console: one listening connection per store object.

Every dispatch write's transaction sends ``pg_notify('navigator_changes.<schema>', topic)``
(:func:`navigator.store.changes.bump_changes`), delivered when it commits. A daemon thread
holds one autocommit connection that LISTENs on the channel and wakes every waiting stream
at once, so a change reaches every worker process's consoles within milliseconds instead of
a poll interval. While that connection is down the waiters fall back to polling.
"""

from __future__ import annotations

import os
import threading
import time
from typing import TYPE_CHECKING, Any

from psycopg import sql

if TYPE_CHECKING:
    from collections.abc import Callable

    import psycopg

__all__ = ["CHANNEL", "CHANNEL_SQL", "ChangeListener"]

#: Notification channel prefix; the schema name follows after a dot.
CHANNEL = "navigator_changes"
#: SQL giving the current schema's channel. PostgreSQL channel names are at most 63 bytes
#: (``pg_notify`` raises "channel name too long" beyond, which failed every write of a store
#: in a schema of 46 or more bytes): a longer name becomes the prefix and the schema's MD5.
CHANNEL_SQL = (f"CASE WHEN octet_length('{CHANNEL}.' || current_schema()) <= 63 "
               f"THEN '{CHANNEL}.' || current_schema() "
               f"ELSE '{CHANNEL}.' || md5(current_schema()) END")
#: Seconds the thread waits for notifications before checking whether it should stop.
_TICK_S = 1.0
#: Seconds between reconnection attempts while the database is unreachable.
_RETRY_S = 1.0


class ChangeListener:
    """Count notifications on the store's channel; :meth:`wait` blocks until the next one.

    Parameters
    ----------
    connect
        Opens a new connection with the store's login (the thread makes it autocommit).
    """

    def __init__(self, connect: Callable[[], psycopg.Connection[Any]]) -> None:
        self._connect = connect
        self._seen = 0
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._ready = threading.Event()
        self.pid = os.getpid()
        self._thread = threading.Thread(target=self._run, name="navigator-listen", daemon=True)
        self._thread.start()

    @property
    def listening(self) -> bool:
        """Return whether the LISTEN connection is up (else waiters must poll)."""
        return self._ready.is_set()

    @property
    def seen(self) -> int:
        """Return how many notifications arrived so far (a cursor for :meth:`wait`)."""
        with self._cond:
            return self._seen

    def wait(self, seen: int, timeout_s: float) -> int:
        """Block until a notification arrives after cursor ``seen`` or ``timeout_s`` passes."""
        with self._cond:
            self._cond.wait_for(lambda: self._seen != seen or self._stop.is_set(),
                                timeout=max(0.0, timeout_s))
            return self._seen

    def wait_for(self, read: Callable[[], int], since: int, *, timeout_s: float,
                 poll_s: float) -> int:
        """Return ``read()`` once it differs from ``since``, or after ``timeout_s`` seconds.

        ``read`` runs after each notification, or every ``poll_s`` seconds while the
        listening connection is down.
        """
        deadline = time.monotonic() + max(0.0, timeout_s)
        self._ready.wait(min(0.5, max(0.0, timeout_s)))  # the first wait of a new listener
        seen = self.seen  # before reading: a commit in between still wakes the wait below
        current = read()
        while current == since and (left := deadline - time.monotonic()) > 0:
            seen = self.wait(seen, left if self.listening else min(max(poll_s, 0.005), left))
            current = read()
        return current

    def close(self) -> None:
        """Stop the thread (within about a second) and close its connection."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()

    def _run(self) -> None:
        import psycopg

        while not self._stop.is_set():
            try:
                with self._connect() as conn:
                    conn.autocommit = True
                    row = conn.execute(f"SELECT {CHANNEL_SQL} AS c").fetchone()
                    channel = (row["c"] if isinstance(row, dict) else row[0]) if row else \
                        f"{CHANNEL}.public"
                    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                    self._ready.set()
                    self._bump()  # anything may have changed while we were not listening
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=_TICK_S):
                            self._bump()
            except (psycopg.Error, OSError):
                pass
            self._ready.clear()
            self._bump()  # wake waiters: they poll until we are back
            self._stop.wait(_RETRY_S)

    def _bump(self) -> None:
        with self._cond:
            self._seen += 1
            self._cond.notify_all()
