"""Logins: throttling (429 + Retry-After, across workers), server-side sessions, TOTP.

Each test builds its own apps on a fresh GeoPackage (failures from other tests' logins must
not count here) with an injectable clock; two apps on one file are two gunicorn workers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from webhelpers import PASSWORDS, csrf_of

from navigator.config import Settings
from navigator.services.accounts import ensure_demo_users
from navigator.store import open_store


@dataclass
class Clock:
    """A clock the test moves."""

    now: datetime = field(default_factory=lambda: datetime(2026, 3, 2, 8, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make_app(columbus_graph, tmp_path, clock: Clock) -> Iterator[Callable[..., Flask]]:  # type: ignore[no-untyped-def]
    """Return a factory of apps ("workers"), each with its own store on one GeoPackage."""
    from web import create_app

    path = str(tmp_path / "logins.gpkg")
    stores: list[Any] = []

    def make(**settings: Any) -> Flask:
        store = open_store(path)
        if not stores:
            ensure_demo_users(store)
        stores.append(store)
        return create_app(Settings(store_url=path, **settings), graph=columbus_graph,
                          store=store, clock=clock,
                          test_config={"TESTING": True, "SESSION_COOKIE_SECURE": False})

    yield make
    for store in stores:
        store.close()


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


def post_login(c: FlaskClient, username: str, password: str, *, address: str = "10.0.0.1",
               headers: dict[str, str] | None = None) -> Any:
    """POST the login form from ``address``."""
    return c.post("/auth/login", data={"username": username, "password": password,
                                       "csrf_token": csrf_of(c)},
                  environ_base={"REMOTE_ADDR": address}, headers=headers or {})


def json_login(c: FlaskClient, username: str, password: str, *,
               address: str = "10.0.0.1") -> Any:
    return c.post("/auth/login", json={"username": username, "password": password},
                  headers={"X-CSRFToken": csrf_of(c)}, environ_base={"REMOTE_ADDR": address})


def token_of(c: FlaskClient) -> str:
    return str(c.get("/api/csrf").get_json()["csrf_token"])


# -- 1. brute force ---------------------------------------------------------------------------
def test_fifth_wrong_password_locks_the_account_with_429_and_retry_after(app: Flask,
                                                                          clock: Clock) -> None:
    c = app.test_client()
    for _ in range(4):
        assert json_login(c, "planner", "wrong-password").status_code == 401
    r = json_login(c, "planner", "wrong-password")
    assert r.status_code == 429 and r.is_json and int(r.headers["Retry-After"]) == 60
    assert "too many failed logins" in r.get_json()["message"]
    # A correct password during the lock is refused the same way: no oracle.
    r = json_login(c, "planner", PASSWORDS["planner"])
    assert r.status_code == 429 and r.headers["Retry-After"] == "60"
    assert c.get("/api/me").status_code == 401
    # The HTML form says so too, with the header.
    r = post_login(c, "planner", PASSWORDS["planner"])
    assert r.status_code == 429 and r.headers["Retry-After"] == "60"
    assert "Too many failed logins" in r.get_data(as_text=True)
    clock.advance(61)
    assert json_login(c, "planner", PASSWORDS["planner"]).status_code == 200
    assert c.get("/api/me").get_json()["username"] == "planner"


def test_back_off_doubles_and_success_resets_the_account(app: Flask, clock: Clock) -> None:
    c = app.test_client()
    for _ in range(5):
        r = json_login(c, "caseworker", "wrong-password")
    assert r.headers["Retry-After"] == "60"
    clock.advance(61)
    for _ in range(5):
        r = json_login(c, "caseworker", "wrong-password")
    assert r.status_code == 429 and r.headers["Retry-After"] == "120"
    clock.advance(121)
    assert json_login(c, "caseworker", PASSWORDS["caseworker"]).status_code == 200
    store = app.extensions["navigator"].store
    assert ("account", "caseworker") not in {(t["scope"], t["key"])
                                             for t in store.login_throttles()}
    entry = store.audit_log(action="login")[0]
    assert entry.actor == "caseworker" and entry.result["address"] == "10.0.0.1"


def test_lock_holds_across_two_workers_sharing_the_store(make_app: Callable[..., Flask]
                                                         ) -> None:
    worker_a, worker_b = make_app(), make_app()
    assert worker_a.extensions["navigator"].store is not worker_b.extensions["navigator"].store
    a, b = worker_a.test_client(), worker_b.test_client()
    for i in range(5):
        client = a if i % 2 == 0 else b  # failures alternate between the workers
        r = json_login(client, "dispatcher", "wrong-password")
    assert r.status_code == 429
    r = json_login(b, "dispatcher", PASSWORDS["dispatcher"])
    assert r.status_code == 429 and "Retry-After" in r.headers
    assert json_login(a, "dispatcher", PASSWORDS["dispatcher"]).status_code == 429


def test_one_address_guessing_many_accounts_is_locked(app: Flask) -> None:
    c = app.test_client()
    for i in range(20):
        r = json_login(c, f"user{i}", "wrong-password", address="203.0.113.9")
    assert r.status_code == 429
    # Every account from that address is refused now; other addresses are not.
    assert json_login(c, "admin", PASSWORDS["admin"], address="203.0.113.9").status_code == 429
    assert json_login(c, "admin", PASSWORDS["admin"], address="198.51.100.7").status_code == 200


def test_forwarded_for_is_ignored_unless_a_proxy_is_trusted(make_app: Callable[..., Flask]
                                                            ) -> None:
    direct = make_app().test_client()
    for i in range(20):  # a forged X-Forwarded-For per attempt does not dodge the lock
        r = direct.post("/auth/login", json={"username": f"u{i}", "password": "x" * 12},
                        headers={"X-CSRFToken": csrf_of(direct),
                                 "X-Forwarded-For": f"192.0.2.{i}"},
                        environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert r.status_code == 429
    proxied = make_app(trusted_proxies=1).test_client()
    r = proxied.post("/auth/login", json={"username": "admin", "password": PASSWORDS["admin"]},
                     headers={"X-CSRFToken": csrf_of(proxied),
                              "X-Forwarded-For": "192.0.2.50"},
                     environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert r.status_code == 200  # the proxy's own address is locked, the client's is not


def test_failures_are_audited_once_per_lock_and_the_table_stays_bounded(app: Flask,
                                                                        clock: Clock) -> None:
    store = app.extensions["navigator"].store
    before = len(store.audit_log(limit=1000))
    c = app.test_client()
    for i in range(12):  # 5 failures lock; 7 more are refused while locked
        json_login(c, "planner", "wrong-password", address=f"10.1.0.{i % 3}")
    new = store.audit_log(limit=1000)[:len(store.audit_log(limit=1000)) - before]
    assert [e.action for e in new] == ["login_locked"]
    assert new[0].subject == "account:planner" and new[0].result["failures"] == 5
    assert sorted(new[0].result["seen"]) == ["10.1.0.0", "10.1.0.1", "10.1.0.2"]
    assert "wrong-password" not in str(new[0])
    for i in range(50):  # many names guessed once each: one row per name ...
        json_login(c, f"name{i}", "wrong-password", address=f"10.2.{i}.1")
    assert len(store.login_throttles()) > 50
    clock.advance(2 * 86400)  # ... until they expire: the next failure prunes them
    json_login(c, "someone", "wrong-password", address="10.3.0.1")
    assert len(store.login_throttles()) == 2


# -- 2. server-side sessions ------------------------------------------------------------------
def test_replaying_the_cookie_after_logout_is_401(app: Flask) -> None:
    c = app.test_client()
    assert post_login(c, "dispatcher", PASSWORDS["dispatcher"]).status_code == 302
    cookie = c.get_cookie("navigator_session")
    assert cookie is not None and c.get("/api/me").status_code == 200
    assert c.post("/auth/logout", headers={"X-CSRFToken": token_of(c)}).status_code == 302
    thief = app.test_client()
    thief.set_cookie("navigator_session", cookie.value)
    assert thief.get("/api/me").status_code == 401
    assert thief.get("/dispatch").status_code == 302


def test_idle_session_ends_and_last_seen_is_written_at_most_once_a_minute(
        app: Flask, clock: Clock) -> None:
    store = app.extensions["navigator"].store
    c = app.test_client()
    post_login(c, "caseworker", PASSWORDS["caseworker"])
    (live,) = store.sessions("caseworker")
    clock.advance(30)
    assert c.get("/api/me").status_code == 200
    assert store.sessions("caseworker")[0].last_seen_at == live.last_seen_at  # no write
    clock.advance(45)
    assert c.get("/api/me").status_code == 200
    assert store.sessions("caseworker")[0].last_seen_at == clock.now
    clock.advance(59 * 60)  # idle 59 min: still in
    assert c.get("/api/me").status_code == 200
    clock.advance(60 * 60 + 1)  # idle over 60 min: out
    assert c.get("/api/me").status_code == 401


def test_session_ends_after_twelve_hours_however_active(app: Flask, clock: Clock) -> None:
    c = app.test_client()
    post_login(c, "dispatcher", PASSWORDS["dispatcher"])
    for _ in range(23):
        clock.advance(30 * 60)
        assert c.get("/api/me").status_code == 200
    clock.advance(30 * 60 + 1)
    assert c.get("/api/me").status_code == 401


def test_password_change_ends_every_other_session(app: Flask) -> None:
    desk, phone = app.test_client(), app.test_client()
    post_login(desk, "planner", PASSWORDS["planner"])
    post_login(phone, "planner", PASSWORDS["planner"])
    r = desk.post("/api/auth/password", json={"current_password": "not-it-at-all",
                                              "new_password": "a-new-long-password"},
                  headers={"X-CSRFToken": token_of(desk)})
    assert r.status_code == 403
    r = desk.post("/api/auth/password", json={"current_password": PASSWORDS["planner"],
                                              "new_password": "short"},
                  headers={"X-CSRFToken": token_of(desk)})
    assert r.status_code == 400
    r = desk.post("/api/auth/password", json={"current_password": PASSWORDS["planner"],
                                              "new_password": "a-new-long-password"},
                  headers={"X-CSRFToken": token_of(desk)})
    assert r.status_code == 200 and r.get_json() == {"sessions_revoked": 1}
    assert desk.get("/api/me").status_code == 200
    assert phone.get("/api/me").status_code == 401
    fresh = app.test_client()
    assert json_login(fresh, "planner", PASSWORDS["planner"]).status_code == 401
    assert json_login(fresh, "planner", "a-new-long-password").status_code == 200


def test_password_form_changes_the_password(app: Flask) -> None:
    c = app.test_client()
    post_login(c, "caseworker", PASSWORDS["caseworker"])
    assert "Change password" in c.get("/auth/account").get_data(as_text=True)
    r = c.post("/auth/password", data={"current_password": "wrong-one-here",
                                       "new_password": "another-long-password",
                                       "csrf_token": token_of(c)})
    assert r.status_code == 403 and "password is wrong" in r.get_data(as_text=True)
    r = c.post("/auth/password", data={"current_password": PASSWORDS["caseworker"],
                                       "new_password": "another-long-password",
                                       "csrf_token": token_of(c)})
    assert r.status_code == 200 and "Password changed" in r.get_data(as_text=True)


def test_disabling_a_user_ends_their_sessions(app: Flask) -> None:
    admin, victim = app.test_client(), app.test_client()
    post_login(admin, "admin", PASSWORDS["admin"])
    post_login(victim, "dispatcher", PASSWORDS["dispatcher"])
    r = admin.post("/api/users/dispatcher/disabled", json={"disabled": True},
                   headers={"X-CSRFToken": token_of(admin)})
    assert r.status_code == 200 and r.get_json()["disabled"] is True
    assert victim.get("/api/me").status_code == 401
    assert app.extensions["navigator"].store.sessions("dispatcher") == []
    r = admin.post("/api/users/admin/disabled", json={"disabled": True},
                   headers={"X-CSRFToken": token_of(admin)})
    assert r.status_code == 409  # not yourself


# -- 3. TOTP ----------------------------------------------------------------------------------
def _enrol(c: FlaskClient, username: str, clock: Clock) -> pyotp.TOTP:
    r = c.post("/api/auth/totp", json={"password": PASSWORDS[username]},
               headers={"X-CSRFToken": token_of(c)})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["uri"].startswith("otpauth://totp/") and body["secret"] in body["uri"]
    totp = pyotp.TOTP(body["secret"])
    r = c.post("/api/auth/totp/confirm", json={"code": totp.at(clock.now)},
               headers={"X-CSRFToken": token_of(c)})
    assert r.status_code == 200 and r.get_json()["totp_enabled"] is True
    return totp


def test_totp_login_and_replayed_code_is_refused(app: Flask, clock: Clock) -> None:
    c = app.test_client()
    post_login(c, "admin", PASSWORDS["admin"])
    r = c.post("/api/auth/totp", json={"password": "not-the-password"},
               headers={"X-CSRFToken": token_of(c)})
    assert r.status_code == 403
    totp = _enrol(c, "admin", clock)
    r = c.post("/api/auth/totp", json={"password": PASSWORDS["admin"]},
               headers={"X-CSRFToken": token_of(c)})
    assert r.status_code == 409  # already on: a stolen session cannot replace it
    clock.advance(30)

    fresh = app.test_client()
    r = json_login(fresh, "admin", PASSWORDS["admin"])
    assert r.status_code == 200 and r.get_json()["second_factor"] == "totp"
    assert fresh.get("/api/me").status_code == 401  # not in before the code
    code = totp.at(clock.now)
    r = fresh.post("/auth/totp", json={"code": code}, headers={"X-CSRFToken": csrf_of(fresh)})
    assert r.status_code == 200 and fresh.get("/api/me").get_json()["username"] == "admin"

    replay = app.test_client()  # the same code again, inside its 30-second window
    json_login(replay, "admin", PASSWORDS["admin"])
    r = replay.post("/auth/totp", json={"code": code}, headers={"X-CSRFToken": csrf_of(replay)})
    assert r.status_code == 401 and replay.get("/api/me").status_code == 401
    old = totp.at(clock.now - timedelta(seconds=30))  # an older code after a newer one
    r = replay.post("/auth/totp", json={"code": old}, headers={"X-CSRFToken": csrf_of(replay)})
    assert r.status_code == 401
    clock.advance(30)
    page = replay.post("/auth/totp", data={"code": totp.at(clock.now),
                                           "csrf_token": csrf_of(replay)})
    assert page.status_code == 302 and replay.get("/api/me").status_code == 200


def test_wrong_totp_codes_count_as_failed_logins(app: Flask, clock: Clock) -> None:
    c = app.test_client()
    post_login(c, "planner", PASSWORDS["planner"])
    _enrol(c, "planner", clock)
    thief = app.test_client()  # knows the password, not the phone
    json_login(thief, "planner", PASSWORDS["planner"])
    for _ in range(5):
        r = thief.post("/auth/totp", json={"code": "000000"},
                       headers={"X-CSRFToken": csrf_of(thief)})
    assert r.status_code == 429 and "Retry-After" in r.headers


def test_required_admin_2fa_enrols_at_login(make_app: Callable[..., Flask],
                                            clock: Clock) -> None:
    app = make_app(admin_2fa="required")
    c = app.test_client()
    r = post_login(c, "admin", PASSWORDS["admin"])
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and 'id="totp-secret"' in html
    assert c.get("/api/me").status_code == 401
    secret = html.split('id="totp-secret">', 1)[1].split("<", 1)[0]
    r = c.post("/auth/totp", data={"code": "123456" if pyotp.TOTP(secret).at(clock.now)
                                   != "123456" else "654321", "csrf_token": csrf_of(c)})
    assert r.status_code == 401 and secret in r.get_data(as_text=True)  # shown again
    r = c.post("/auth/totp", data={"code": pyotp.TOTP(secret).at(clock.now),
                                   "csrf_token": csrf_of(c)})
    assert r.status_code == 302 and c.get("/api/me").get_json()["username"] == "admin"
    assert app.extensions["navigator"].store.user("admin").totp_enabled
    # Other roles are not asked; optional (the default) asks nobody without TOTP.
    other = app.test_client()
    assert post_login(other, "planner", PASSWORDS["planner"]).status_code == 302


def test_pending_second_factor_expires(app: Flask, clock: Clock) -> None:
    c = app.test_client()
    post_login(c, "admin", PASSWORDS["admin"])
    totp = _enrol(c, "admin", clock)
    fresh = app.test_client()
    json_login(fresh, "admin", PASSWORDS["admin"])
    clock.advance(301)
    r = fresh.post("/auth/totp", json={"code": totp.at(clock.now)},
                   headers={"X-CSRFToken": csrf_of(fresh)})
    assert r.status_code == 401 and fresh.get("/api/me").status_code == 401


def _hold_in(c: FlaskClient, token: str) -> int:
    r = c.post("/api/holds", json={"resource_id": "nowhere", "bed_type": "single_men",
                                   "idempotency_key": "a" * 32}, headers={"X-CSRFToken": token})
    return int(r.status_code)


def _one_session_in_two_workers(make_app: Callable[..., Flask]
                                ) -> tuple[Flask, FlaskClient, str, FlaskClient]:
    """Return worker A, a caseworker logged in on it, its CSRF token, and worker B's client
    carrying the same session cookie (two gunicorn workers, one secret key)."""
    a, b = make_app(secret_key="s" * 32), make_app(secret_key="s" * 32)
    desk = a.test_client()
    post_login(desk, "caseworker", PASSWORDS["caseworker"])
    token = token_of(desk)
    other = b.test_client()
    cookie = desk.get_cookie("navigator_session")
    assert cookie is not None
    other.set_cookie("navigator_session", cookie.value)
    return a, desk, token, other


@pytest.mark.parametrize("end", ["logout", "disable"])
def test_a_hold_right_after_the_session_ends_in_another_worker_is_401(
        make_app: Callable[..., Flask], end: str) -> None:
    """Worker B read the session a moment ago; the hold's own write still sees it end."""
    a, desk, token, other = _one_session_in_two_workers(make_app)
    assert _hold_in(other, token) == 404  # logged in (no such shelter): B read the session
    if end == "logout":
        assert desk.post("/auth/logout", headers={"X-CSRFToken": token}).status_code == 302
    else:
        admin = a.test_client()
        post_login(admin, "admin", PASSWORDS["admin"])
        assert admin.post("/api/users/caseworker/disabled", json={"disabled": True},
                          headers={"X-CSRFToken": token_of(admin)}).status_code == 200
    assert _hold_in(other, token) == 401
    assert other.get("/api/me").status_code == 401


def test_an_ended_session_reads_no_episode_through_a_hold(
        make_app: Callable[..., Flask]) -> None:
    """The episode a hold names is looked up only for a live session (no 404/409 probe)."""
    _, desk, token, other = _one_session_in_two_workers(make_app)
    assert _hold_in(other, token) == 404  # B read the session a moment ago
    assert desk.post("/auth/logout", headers={"X-CSRFToken": token}).status_code == 302
    r = other.post("/api/holds", json={"resource_id": "nowhere", "bed_type": "single_men",
                                       "episode_id": "no-such-episode"},
                   headers={"X-CSRFToken": token})
    assert r.status_code == 401
