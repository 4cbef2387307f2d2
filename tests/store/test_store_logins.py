"""The login-throttle, sessions and TOTP parts of the store contract, on both backends."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from navigator.errors import ConflictError, NotFoundError, ValidationError
from navigator.services import accounts
from navigator.store import open_store
from navigator.store.logins import ThrottlePolicy
from navigator.store.sessions import session_id

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
POLICY = ThrottlePolicy(account_failures=3, address_failures=5, window_s=600, lock_s=60,
                        max_lock_s=300, memory_s=3600)


@pytest.fixture
def ana(store: Any) -> Any:
    store.add_user("ana", "admin", accounts.hash_password("correct horse battery"),
                   actor="test")
    return store


def test_failures_lock_the_account_once_and_are_audited_once(store: Any) -> None:
    results = [store.login_failed("ana", f"10.0.0.{i}", policy=POLICY,
                                  now=T0 + timedelta(seconds=i)) for i in range(3)]
    assert results[:2] == [None, None]
    assert results[2] == T0 + timedelta(seconds=62)
    assert store.login_locked_until("ana", "192.0.2.1", now=T0 + timedelta(seconds=61)) \
        == results[2]
    assert store.login_locked_until("ana", "192.0.2.1", now=T0 + timedelta(seconds=63)) is None
    assert store.login_locked_until("bob", "10.0.0.0", now=T0) is None  # address not locked
    (entry,) = store.audit_log(action="login_locked")
    assert entry.subject == "account:ana" and entry.result["failures"] == 3
    assert entry.result["seen"] == ["10.0.0.0", "10.0.0.1", "10.0.0.2"]
    assert len(store.audit_log()) == 1 and store.verify_audit().ok


def test_back_off_doubles_up_to_the_cap_and_windows_expire(store: Any) -> None:
    now, locks = T0, []
    for _ in range(5):
        for _ in range(3):
            until = store.login_failed("ana", "10.0.0.1", policy=POLICY, now=now)
        locks.append((until - now).total_seconds())
        now = until + timedelta(seconds=1)
    assert locks == [60, 120, 240, 300, 300]
    # Two failures, a window's pause, two more: no lock (the window restarted).
    store.login_failed("bob", "10.0.0.2", policy=POLICY, now=T0)
    store.login_failed("bob", "10.0.0.2", policy=POLICY, now=T0)
    later = T0 + timedelta(seconds=601)
    assert store.login_failed("bob", "10.0.0.2", policy=POLICY, now=later) is None
    assert store.login_failed("bob", "10.0.0.2", policy=POLICY, now=later) is None


def test_success_resets_the_account_not_the_address(store: Any) -> None:
    for _ in range(2):
        store.login_failed("ana", "10.0.0.1", policy=POLICY, now=T0)
    assert store.login_succeeded("ana") == 2
    rows = {(t["scope"], t["key"]): t["failures"] for t in store.login_throttles()}
    assert rows == {("address", "10.0.0.1"): 2}
    assert store.unlock_login("address", "10.0.0.1", actor="admin")
    assert store.login_throttles() == []
    with pytest.raises(ValidationError):
        store.unlock_login("planet", "x", actor="admin")


def test_expired_rows_are_pruned(store: Any) -> None:
    for i in range(30):
        store.login_failed(f"name{i}", "10.0.0.1", policy=POLICY, now=T0)
    assert len(store.login_throttles()) == 31
    assert store.prune_login_throttle(now=T0 + timedelta(hours=2)) == 31
    assert store.login_throttles() == []


def test_two_store_instances_share_the_counters(store_url: str, store: Any) -> None:
    other = open_store(store_url)
    try:
        store.login_failed("ana", "10.0.0.1", policy=POLICY, now=T0)
        other.login_failed("ana", "10.0.0.1", policy=POLICY, now=T0)
        until = store.login_failed("ana", "10.0.0.1", policy=POLICY, now=T0)
        assert until is not None
        assert other.login_locked_until("ana", "10.0.0.9", now=T0) == until
    finally:
        other.close()


def test_concurrent_failures_are_all_counted(store_url: str, store: Any) -> None:
    policy = ThrottlePolicy(account_failures=1000, address_failures=1000)
    stores = [open_store(store_url) for _ in range(4)]
    try:
        def fail(s: Any) -> None:
            for _ in range(5):
                s.login_failed("ana", "10.0.0.1", policy=policy, now=T0)

        threads = [threading.Thread(target=fail, args=(s,)) for s in stores]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        for s in stores:
            s.close()
    rows = {(t["scope"], t["key"]): t["failures"] for t in store.login_throttles()}
    assert rows == {("account", "ana"): 20, ("address", "10.0.0.1"): 20}


def test_session_is_read_with_its_user_and_revoked(ana: Any) -> None:
    sid = session_id("a-token-of-the-cookie")
    made = ana.add_session(sid, "ana", address="10.0.0.1", now=T0)
    found, user = ana.session(sid)
    assert found == made and user.username == "ana" and user.role == "admin"
    assert found.created_at == T0 and found.last_seen_at == T0
    ana.touch_session(sid, now=T0 + timedelta(minutes=5))
    assert ana.session(sid)[0].last_seen_at == T0 + timedelta(minutes=5)
    assert ana.revoke_session(sid, now=T0 + timedelta(minutes=6))
    assert not ana.revoke_session(sid, now=T0 + timedelta(minutes=7))
    assert ana.session(sid)[0].revoked_at == T0 + timedelta(minutes=6)
    assert ana.sessions("ana") == []
    with pytest.raises(NotFoundError):
        ana.session(session_id("unknown"))
    with pytest.raises(ValidationError):
        ana.add_session("the-raw-token", "ana", now=T0)


def test_password_change_and_disabling_revoke_sessions(ana: Any) -> None:
    keep, other, third = (session_id(t) for t in ("keep-token", "other-token", "third-token"))
    for sid in (keep, other, third):
        ana.add_session(sid, "ana", now=T0)
    revoked = ana.set_password("ana", accounts.hash_password("a new long password"),
                               actor="ana", keep_session=keep, now=T0)
    assert revoked == 2 and [s.id for s in ana.sessions("ana")] == [keep]
    assert accounts.authenticate(ana, "ana", "a new long password") is not None
    assert ana.audit_log(action="change_password")[0].result == {"sessions_revoked": 2}
    user = ana.set_user_disabled("ana", True, actor="admin", now=T0)
    assert user.disabled and ana.sessions("ana") == []
    assert not ana.set_user_disabled("ana", False, actor="admin").disabled
    with pytest.raises(NotFoundError):
        ana.set_password("nobody", accounts.hash_password("a new long password"), actor="x")


def test_sessions_that_are_over_are_pruned(ana: Any) -> None:
    old, idle, live = (session_id(t) for t in ("old-token", "idle-token", "live-token"))
    ana.add_session(old, "ana", now=T0 - timedelta(hours=13))
    ana.add_session(idle, "ana", now=T0 - timedelta(hours=2))
    ana.add_session(live, "ana", now=T0 - timedelta(minutes=5))
    assert ana.prune_sessions(started_before=T0 - timedelta(hours=12),
                              seen_before=T0 - timedelta(hours=1)) == 2
    assert [s.id for s in ana.sessions("ana")] == [live]


def test_totp_enrol_enable_and_each_step_once(ana: Any) -> None:
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    assert not ana.enable_totp("ana", step=10, actor="ana")  # nothing pending
    ana.begin_totp("ana", secret, actor="ana")
    user = ana.user("ana")
    assert user.totp_secret == secret and not user.totp_enabled
    assert secret not in repr(user) and secret not in str(ana.audit_log())
    assert not ana.claim_totp_step("ana", 11)  # not on yet
    assert ana.enable_totp("ana", step=10, actor="ana")
    assert ana.user("ana").totp_enabled
    assert not ana.claim_totp_step("ana", 10)  # the enrolment's code is used up
    assert ana.claim_totp_step("ana", 11)
    assert not ana.claim_totp_step("ana", 11) and not ana.claim_totp_step("ana", 9)
    with pytest.raises(ConflictError):
        ana.begin_totp("ana", secret, actor="thief")
    with pytest.raises(ValidationError):
        ana.begin_totp("ana", "not base32!", actor="ana")
    ana.reset_totp("ana", actor="admin")
    user = ana.user("ana")
    assert not user.totp_enabled and user.totp_secret is None


def test_a_code_is_claimed_once_by_concurrent_workers(store_url: str, ana: Any) -> None:
    ana.begin_totp("ana", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", actor="ana")
    ana.enable_totp("ana", step=1, actor="ana")
    stores = [open_store(store_url) for _ in range(4)]
    won: list[bool] = []
    try:
        threads = [threading.Thread(target=lambda s=s: won.append(s.claim_totp_step("ana", 2)))
                   for s in stores]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        for s in stores:
            s.close()
    assert sorted(won) == [False, False, False, True]


def test_database_refuses_bad_session_and_throttle_rows(raw: Any, db_errors: Any) -> None:
    with pytest.raises(db_errors):
        raw.execute("INSERT INTO login_throttle (scope, key, window_start, failures, "
                    "expires_at) VALUES ('planet', 'x', '2026-01-01T00:00:00Z', 0, "
                    "'2026-01-01T00:00:00Z')")
    with pytest.raises(db_errors):
        raw.execute("INSERT INTO sessions (id, username, created_at, last_seen_at) VALUES "
                    "('raw-token', 'nobody', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')")
