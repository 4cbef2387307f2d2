"""Failed-login counters in the store, per account and per client address, shared by workers.

Why the store and not Flask-Limiter: Flask-Limiter keeps its counters in a ``limits`` storage,
and the storages it offers are memory (one per process: each gunicorn worker would count on
its own, so four workers allow four times the attempts, and a restart forgets them all),
Redis, Memcached, MongoDB and etcd; none is SQL. Navigator already runs on exactly one
shared database (PostGIS or a GeoPackage file that every worker opens), so the counters live
there, in ``login_throttle``: every worker and every process sees the same counts, a lock
holds across workers and restarts, and no second service has to be deployed.

One row per ``(scope, key)``: ``scope`` is ``account`` (the username tried, known or not, so
that locking reveals nothing about which accounts exist) or ``address`` (the client address).
A row counts failures since ``window_start``; reaching the policy's limit locks the key until
``locked_until`` and starts one audit entry (``login_locked``: the count, the window and the
addresses or usernames seen) instead of one entry per failed attempt. Each further lock of
the same key lasts twice as long (exponential back-off, capped). A row is deleted once
``expires_at`` (the end of its window or lock plus :attr:`ThrottlePolicy.memory_s`) passes,
so the table holds only keys that failed recently.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from navigator.errors import ValidationError
from navigator.store import rows
from navigator.store.tx import append_audit

if TYPE_CHECKING:
    from collections.abc import Callable
    from contextlib import AbstractContextManager

    from navigator.store.tx import Tx

#: Scopes of ``login_throttle`` rows.
SCOPES = ("account", "address")
#: Most addresses (of an account) or usernames (of an address) a row remembers.
MAX_SEEN = 10
#: Most expired rows one prune deletes (the next failure deletes more).
_PRUNE_BATCH = 500


@dataclass(frozen=True)
class ThrottlePolicy:
    """How many failed logins lock an account or an address, and for how long.

    Attributes
    ----------
    account_failures
        Failures of one account within ``window_s`` that lock it.
    address_failures
        Failures from one client address within ``window_s`` that lock it.
    window_s
        Seconds over which failures are counted (a new window starts after it).
    lock_s
        Seconds of a key's first lock; each further lock doubles it.
    max_lock_s
        Longest lock, in seconds.
    memory_s
        Seconds a key's lock count is remembered after its window or lock ends (so back-off
        grows over repeated bursts, and is forgotten after a quiet day).
    """

    account_failures: int = 5
    address_failures: int = 20
    window_s: float = 900.0
    lock_s: float = 60.0
    max_lock_s: float = 3600.0
    memory_s: float = 86400.0

    def __post_init__(self) -> None:
        if min(self.account_failures, self.address_failures) < 1 or not (
                0 < self.lock_s <= self.max_lock_s and self.window_s > 0
                and self.memory_s >= 0):
            msg = f"inconsistent login throttle policy: {self!r}"
            raise ValidationError(msg)

    def limit(self, scope: str) -> int:
        """Return the failures that lock a key of ``scope``."""
        return self.account_failures if scope == "account" else self.address_failures

    def lock_for_s(self, lockouts: int) -> float:
        """Return the seconds of a key's next lock after ``lockouts`` earlier ones."""
        return float(min(self.max_lock_s, self.lock_s * 2.0 ** min(lockouts, 32)))


def _keys(username: str, address: str) -> list[tuple[str, str, str]]:
    """Return ``(scope, key, what the other key is)`` in a fixed order (row locks in order)."""
    return [("account", username[:128] or "-", address[:128]),
            ("address", address[:128] or "unknown", username[:128])]


def _seen(raw: Any) -> list[str]:
    try:
        found = json.loads(raw) if isinstance(raw, str) else list(raw or [])
    except ValueError:
        return []
    return [str(v) for v in found][-MAX_SEEN:]


class LoginThrottleMethods:
    """The login-throttle part of the store contract, on a backend's transactions."""

    _transaction: Callable[..., AbstractContextManager[Tx]]
    #: Appended to a sub-select of rows to prune (PostGIS skips rows other logins hold).
    SKIP_LOCKED: str = ""

    def login_locked_until(self, username: str, address: str, *, now: datetime
                           ) -> datetime | None:
        """Return until when the account or the address is locked at ``now`` (latest), or None.

        One read; a correct password during a lock is refused by the caller without even
        checking it, so a lock is no oracle.
        """
        params = {"now": rows.to_ms(now), "u": username[:128] or "-",
                  "a": address[:128] or "unknown"}
        with self._transaction(write=False) as tx:
            found = tx.fetch(
                "SELECT locked_until FROM login_throttle WHERE locked_until > %(now)s AND ("
                "(scope = 'account' AND key = %(u)s) OR (scope = 'address' AND key = %(a)s))",
                params)
        ends = [t for t in (rows.read_ts(r["locked_until"]) for r in found) if t is not None]
        return max(ends, default=None)

    def login_failed(self, username: str, address: str, *, policy: ThrottlePolicy,
                     now: datetime) -> datetime | None:
        """Count one failed login against the account and the address, in one transaction.

        A key reaching its limit is locked (``policy.lock_for_s``) and one ``login_locked``
        audit entry is written, with the failures counted, the window and the addresses (of
        an account) or usernames (of an address) seen. Expired rows are pruned afterwards.

        Returns
        -------
        datetime or None
            Until when a lock now holds the account or the address (the latest), or None.
        """
        when = rows.to_ms(now)
        window = timedelta(seconds=policy.window_s)
        locks: list[datetime] = []
        with self._transaction(write=True) as tx:
            for scope, key, other in _keys(username, address):
                params = {"scope": scope, "key": key, "now": when,
                          "expires": when + window + timedelta(seconds=policy.memory_s)}
                tx.fetch("INSERT INTO login_throttle (scope, key, window_start, failures, "
                         "lockouts, seen, expires_at) VALUES (%(scope)s, %(key)s, %(now)s, 0, "
                         "0, '[]', %(expires)s) ON CONFLICT (scope, key) DO NOTHING", params)
                # A no-op UPDATE takes the row lock (PostGIS): concurrent failures queue here.
                row = tx.fetch("UPDATE login_throttle SET failures = failures "
                               "WHERE scope = %(scope)s AND key = %(key)s RETURNING "
                               "window_start, failures, locked_until, lockouts, seen",
                               params)[0]
                locked_until = rows.read_ts(row["locked_until"])
                if locked_until is not None and locked_until > when:
                    locks.append(locked_until)  # locked meanwhile: not counted again
                    continue
                start = rows.read_ts(row["window_start"]) or when
                failures, seen = int(row["failures"]), _seen(row["seen"])
                if when - start >= window:
                    start, failures, seen = when, 0, []
                failures += 1
                if other and other not in seen:
                    seen = [*seen, other][-MAX_SEEN:]
                lockouts = int(row["lockouts"])
                if failures >= policy.limit(scope):
                    lock_s = policy.lock_for_s(lockouts)
                    locked_until = when + timedelta(seconds=lock_s)
                    locks.append(locked_until)
                    append_audit(tx, "login_locked", actor="navigator login",
                                 subject=f"{scope}:{key}",
                                 inputs={"scope": scope, "key": key},
                                 result={"failures": failures, "since": start,
                                         "seen": seen, "lock_s": lock_s,
                                         "locked_until": locked_until,
                                         "lockouts": lockouts + 1})
                    start, failures, seen, lockouts = locked_until, 0, [], lockouts + 1
                end = max(start + window, locked_until or when)
                tx.fetch("UPDATE login_throttle SET window_start = %(start)s, "
                         "failures = %(failures)s, locked_until = %(locked)s, "
                         "lockouts = %(lockouts)s, seen = %(seen)s, expires_at = %(expires)s "
                         "WHERE scope = %(scope)s AND key = %(key)s",
                         {**params, "start": start, "failures": failures,
                          "locked": locked_until, "lockouts": lockouts,
                          "seen": json.dumps(seen),
                          "expires": end + timedelta(seconds=policy.memory_s)})
        self.prune_login_throttle(now=when)
        return max(locks, default=None)

    def login_succeeded(self, username: str) -> int:
        """Reset the account's counter (not the address's); return the failures it held."""
        with self._transaction(write=True) as tx:
            found = tx.fetch("DELETE FROM login_throttle WHERE scope = 'account' "
                             "AND key = %(u)s RETURNING failures", {"u": username[:128]})
        return int(found[0]["failures"]) if found else 0

    def unlock_login(self, scope: str, key: str, *, actor: str) -> bool:
        """Forget the failures and lock of one account or address; return whether it had any."""
        if scope not in SCOPES:
            msg = f"scope {scope!r} is not one of {', '.join(SCOPES)}"
            raise ValidationError(msg)
        with self._transaction(write=True) as tx:
            found = tx.fetch("DELETE FROM login_throttle WHERE scope = %(scope)s "
                             "AND key = %(key)s RETURNING failures",
                             {"scope": scope, "key": key[:128]})
            append_audit(tx, "login_unlocked", actor=actor, subject=f"{scope}:{key}",
                         result={"found": bool(found)})
        return bool(found)

    def login_throttles(self) -> list[dict[str, Any]]:
        """Return every counter row (scope, key, failures, locked_until, lockouts, seen)."""
        with self._transaction(write=False) as tx:
            found = tx.fetch("SELECT scope, key, window_start, failures, locked_until, "
                             "lockouts, seen, expires_at FROM login_throttle "
                             "ORDER BY scope, key")
        return [{**r, "window_start": rows.read_ts(r["window_start"]),
                 "locked_until": rows.read_ts(r["locked_until"]),
                 "expires_at": rows.read_ts(r["expires_at"]), "seen": _seen(r["seen"])}
                for r in found]

    def prune_login_throttle(self, *, now: datetime) -> int:
        """Delete rows whose ``expires_at`` passed (a batch at a time); return how many."""
        with self._transaction(write=True) as tx:
            found = tx.fetch(
                "DELETE FROM login_throttle WHERE (scope, key) IN (SELECT scope, key "
                "FROM login_throttle WHERE expires_at < %(now)s "
                f"LIMIT {_PRUNE_BATCH:d}{self.SKIP_LOCKED}) RETURNING key",
                {"now": rows.to_ms(now)})
        return len(found)
