"""Store contract, both backends: a hold made in a login session checks it in its own write.

A hold given a :class:`~navigator.store.sessions.SessionGuard` takes nothing, and replays
nothing, once the session is over (revoked, its user disabled, idle, too old): the check
is part of the write (on PostGIS, of the hold's one statement), so a session ended by
another worker a moment before stops it.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from navigator.errors import SessionEndedError
from navigator.model import BedType
from navigator.services import accounts, logins
from navigator.store.sessions import session_id

#: Near the real time: reads that expire holds use the clock.
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
POLICY = logins.LoginPolicy()


def _free(store: Any) -> int:
    return next(b.free for b in store.resource("faith").beds
                if b.bed_type is BedType.SINGLE_WOMEN)


def _session(store: Any) -> str:
    """Return the token of a new session of caseworker ``ana``, started at ``T0``."""
    if not any(u.username == "ana" for u in store.users()):
        store.add_user("ana", "caseworker", accounts.hash_password("correct horse battery"),
                       actor="admin")
    token = secrets.token_urlsafe(32)
    store.add_session(session_id(token), "ana", now=T0)
    return token


def _hold(store: Any, token: str, *, now: datetime, key: str | None = None) -> Any:
    guard = logins.session_guard(token, "ana", policy=POLICY, now=now)
    return store.hold_bed("faith", BedType.SINGLE_WOMEN, actor="ana", ttl_s=600,
                          idempotency_key=key, now=now, session=guard)


def test_a_live_session_holds_and_replays(loaded: Any) -> None:
    token = _session(loaded)
    first = _hold(loaded, token, now=T0 + timedelta(minutes=5), key="k-1")
    again = _hold(loaded, token, now=T0 + timedelta(minutes=6), key="k-1")
    assert again.id == first.id and _free(loaded) == 4


def _revoke(store: Any, token: str) -> None:
    store.revoke_session(session_id(token), now=T0)


def _disable(store: Any, token: str) -> None:
    store.set_user_disabled("ana", True, actor="admin")


def _other_password(store: Any, token: str) -> None:
    store.set_password("ana", accounts.hash_password("another long password"), actor="ana",
                       keep_session=session_id(secrets.token_urlsafe(32)), now=T0)


@pytest.mark.parametrize("end", [_revoke, _disable, _other_password])
def test_an_ended_session_takes_and_replays_nothing(loaded: Any, end: Any) -> None:
    token = _session(loaded)
    made = _hold(loaded, token, now=T0, key="k-1")
    before = _free(loaded), len(loaded.holds())
    end(loaded, token)
    for key in ("k-2", "k-1", None):  # a fresh hold, a replay, no key
        with pytest.raises(SessionEndedError):
            _hold(loaded, token, now=T0, key=key)
    assert (_free(loaded), len(loaded.holds())) == before
    assert loaded.hold(made.id).id == made.id


def test_a_disabled_user_holds_nothing_even_with_the_session_unrevoked(loaded: Any,
                                                                      raw: Any) -> None:
    token = _session(loaded)
    raw.execute("UPDATE users SET disabled = %(d)s WHERE username = 'ana'", {"d": True})
    with pytest.raises(SessionEndedError):
        _hold(loaded, token, now=T0)
    assert _free(loaded) == 5


@pytest.mark.parametrize(("after", "live"), [
    (timedelta(seconds=POLICY.idle_s), True),
    (timedelta(seconds=POLICY.idle_s, milliseconds=1), False),
])
def test_idle_limit_is_the_same_in_the_write(loaded: Any, after: timedelta, live: bool) -> None:
    token = _session(loaded)
    if live:
        assert _hold(loaded, token, now=T0 + after).free_beds == 4
    else:
        with pytest.raises(SessionEndedError):
            _hold(loaded, token, now=T0 + after)
        assert _free(loaded) == 5


def test_too_old_a_session_holds_nothing(loaded: Any) -> None:
    token = _session(loaded)
    late = T0 + timedelta(seconds=POLICY.max_age_s, milliseconds=1)
    loaded.touch_session(session_id(token), now=late)  # active, but started too long ago
    with pytest.raises(SessionEndedError):
        _hold(loaded, token, now=late)
    assert _free(loaded) == 5


def test_another_users_session_holds_nothing(loaded: Any) -> None:
    token = _session(loaded)
    guard = logins.session_guard(token, "bo", policy=POLICY, now=T0)
    with pytest.raises(SessionEndedError):
        loaded.hold_bed("faith", BedType.SINGLE_WOMEN, actor="bo", ttl_s=600, now=T0,
                        session=guard)
    assert _free(loaded) == 5
