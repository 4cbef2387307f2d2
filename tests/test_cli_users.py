"""``navigator user``: unlock, disable/enable, log out everywhere, reset two-factor login."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from navigator.cli import main
from navigator.config import Settings
from navigator.services import accounts, logins
from navigator.store import open_store

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def store_path(tmp_path: Path) -> str:
    path = str(tmp_path / "users.gpkg")
    store = open_store(path)
    accounts.create_user(store, "dana", "dispatcher", "a-long-password", actor="test")
    accounts.create_user(store, "admin", "admin", "another-long-password", actor="test")
    store.close()
    return path


def _user(store_path: str, capsys: pytest.CaptureFixture[str], *argv: str, code: int = 0
          ) -> str:
    assert main(["user", *argv, "--store", store_path, "--actor", "admin"]) == code
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    return out.out + out.err


def test_unlock_lifts_a_lock(store_path: str, capsys: pytest.CaptureFixture[str]) -> None:
    store = open_store(store_path)
    policy = logins.policy_from_settings(Settings(store_url=store_path))
    for _ in range(policy.throttle.account_failures):
        logins.attempt_login(store, "dana", "wrong", address="10.0.0.9", policy=policy, now=NOW)
    locked = logins.attempt_login(store, "dana", "a-long-password", address="10.0.0.9",
                                  policy=policy, now=NOW)
    assert locked.user is None and locked.retry_after_s
    assert "cleared" in _user(store_path, capsys, "unlock", "dana", "--address", "10.0.0.9")
    ok = logins.attempt_login(store, "dana", "a-long-password", address="10.0.0.9",
                              policy=policy, now=NOW)
    assert ok.user is not None
    store.close()


def test_disable_ends_sessions_and_enable_restores(store_path: str,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    store = open_store(store_path)
    policy = logins.policy_from_settings(Settings(store_url=store_path))
    user = store.user("dana")
    token = logins.start_session(store, user, address="10.0.0.1", policy=policy, now=NOW)
    assert "disabled and logged out everywhere" in _user(store_path, capsys, "disable", "dana")
    assert store.user("dana").disabled
    assert logins.session_user(store, token, policy=policy,
                               now=NOW) is None
    assert "enabled" in _user(store_path, capsys, "enable", "dana")
    assert not store.user("dana").disabled
    assert "ended 0 session(s)" in _user(store_path, capsys, "logout-all", "dana")
    store.close()


def test_unknown_accounts_and_self_disable_are_clear_errors(
        store_path: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert "nobody" in _user(store_path, capsys, "logout-all", "nobody", code=1)
    assert "own account" in _user(store_path, capsys, "disable", "admin", code=1)
    assert "terminal" in _user(store_path, capsys, "enable-2fa", "dana", code=1)
