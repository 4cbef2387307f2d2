"""CSRF tokens and session cookies are verified once per process: the memory accepts exactly
what a fresh check would (another session's token, a tampered or too old cookie, another
secret key: all refused, seen before or not)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from webhelpers import csrf_of

from web import security

Client = Callable[[str], tuple[FlaskClient, dict[str, str]]]
INCIDENT = {"lon": -82.99, "lat": 39.96, "crisis_type": "mental_health", "priority": 2}
COOKIE = "navigator_session"


def _post(c: FlaskClient, token: str | None) -> Any:
    headers = {"X-CSRFToken": token} if token is not None else {}
    return c.post("/api/incidents", json=INCIDENT, headers=headers)


def test_a_token_seen_before_still_only_fits_its_own_session(as_role: Client) -> None:
    a, a_headers = as_role("dispatcher")
    b, b_headers = as_role("dispatcher")
    assert _post(a, a_headers["X-CSRFToken"]).status_code == 201  # now remembered
    assert _post(a, a_headers["X-CSRFToken"]).status_code == 201
    for _ in range(2):  # B's session is not A's: refused, remembered token or not
        r = _post(b, a_headers["X-CSRFToken"])
        assert r.status_code == 400 and "do not match" in r.get_json()["message"]
    assert _post(b, b_headers["X-CSRFToken"]).status_code == 201


@pytest.mark.parametrize("token", ["", "forged", "forged.with.dots"])
def test_bad_tokens_are_refused_every_time(as_role: Client, token: str) -> None:
    c, _ = as_role("dispatcher")
    for _ in range(2):
        r = _post(c, token or None)
        assert r.status_code == 400 and r.is_json and "CSRF" in r.get_json()["message"]


def test_a_token_signed_with_another_key_is_refused(app: Flask, as_role: Client) -> None:
    c, headers = as_role("dispatcher")
    value = URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").loads(
        headers["X-CSRFToken"])
    other = URLSafeTimedSerializer("another-key", salt="wtf-csrf-token").dumps(value)
    r = _post(c, other)
    assert r.status_code == 400 and "invalid" in r.get_json()["message"]


def test_the_header_wins_over_a_form_and_a_form_token_still_works(client: FlaskClient) -> None:
    token = csrf_of(client)
    r = client.post("/auth/login", data={"username": "nobody", "password": "x",
                                         "csrf_token": token})
    assert r.status_code != 400  # the login form's token is read from the form
    r = client.post("/auth/login", data={"username": "nobody", "password": "x",
                                         "csrf_token": token}, headers={"X-CSRFToken": "bad"})
    assert r.status_code == 400


def test_a_time_limit_is_applied_when_set(app: Flask, as_role: Client,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    c, headers = as_role("dispatcher")
    monkeypatch.setitem(app.config, "WTF_CSRF_TIME_LIMIT", 60)
    assert _post(c, headers["X-CSRFToken"]).status_code == 201
    real = security._signed_within
    monkeypatch.setattr(security, "_signed_within",
                        lambda key, token, max_age: real(key, token, -1 if max_age else None))
    assert _post(c, headers["X-CSRFToken"]).status_code == 400  # expired: not remembered


def test_a_tampered_cookie_is_no_session(as_role: Client) -> None:
    c, _ = as_role("dispatcher")
    assert c.get("/api/incidents").status_code == 200  # the cookie is remembered
    cookie = c.get_cookie(COOKIE)
    assert cookie is not None
    payload, _, signature = cookie.value.rpartition(".")
    c.set_cookie(COOKIE, payload + "." + ("A" if signature[0] != "A" else "B") + signature[1:])
    assert c.get("/api/incidents").status_code == 401


def test_a_remembered_cookie_still_expires(app: Flask, as_role: Client,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    c, _ = as_role("dispatcher")
    assert c.get("/api/incidents").status_code == 200  # the cookie is remembered
    later = app.permanent_session_lifetime.total_seconds() + 5
    real = security.time.time
    monkeypatch.setattr(security.time, "time", lambda: real() + later)
    assert c.get("/api/incidents").status_code == 401
    monkeypatch.setattr(security.time, "time", lambda: real() - 3600)  # signed "in the future"
    assert c.get("/api/incidents").status_code == 401


def test_each_request_gets_its_own_copy_of_the_session(app: Flask, as_role: Client) -> None:
    c, _ = as_role("dispatcher")
    cookie = c.get_cookie(COOKIE)
    assert cookie is not None
    memo = app.session_interface
    assert isinstance(memo, security.CheckedCookieSessions)
    with app.test_request_context(headers={"Cookie": f"{COOKIE}={cookie.value}"}):
        from flask import request
        first = memo.open_session(app, request)
        assert first is not None and "sid" in first
        first["sid"] = "changed"
        second = memo.open_session(app, request)
        assert second is not None and second["sid"] != "changed"


def test_an_oversized_token_is_checked_but_not_remembered(as_role: Client) -> None:
    # itsdangerous ignores junk after a signature, so one valid token has endless valid
    # spellings, each up to a form's size: remembering them would pin memory per request.
    c, headers = as_role("dispatcher")
    token = headers["X-CSRFToken"]
    before = security._signed.cache_info().currsize
    for n in (1, 2):
        long = token + "!!!!" * (security._MEMO_TEXT_MAX // 4 + n)
        assert _post(c, long).status_code == 201  # as flask-wtf: accepted, checked afresh
        r = c.post("/api/incidents", data={"csrf_token": "x" * 10_000 + str(n)})
        assert r.status_code == 400 and "CSRF" in r.get_json()["message"]
    assert security._signed.cache_info().currsize <= before + 1  # at most the short token


def test_an_oversized_cookie_is_checked_but_not_remembered(
        app: Flask, as_role: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(security, "_MEMO_COOKIE_MAX", 200)  # a real limit: 4096
    c, _ = as_role("dispatcher")
    cookie = c.get_cookie(COOKIE)
    assert cookie is not None
    memo = app.session_interface
    assert isinstance(memo, security.CheckedCookieSessions)
    for n in (1, 2):
        long = cookie.value + "!!!!" * (security._MEMO_COOKIE_MAX // 4 + n)
        c.set_cookie(COOKIE, long)
        assert c.get("/api/incidents").status_code == 200  # as Flask: the same session
        assert all(text != long for _, text in memo._seen)


def test_a_write_to_no_route_is_404_or_405_as_with_flask_wtf(client: FlaskClient) -> None:
    # flask-wtf checks no token where no view would run: the routing error stands
    r = client.post("/no/such/route", json={})
    assert r.status_code == 404 and r.is_json
    assert client.post("/favicon.ico").status_code == 405


def test_an_expired_token_says_so(app: Flask, as_role: Client,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    c, headers = as_role("dispatcher")
    monkeypatch.setitem(app.config, "WTF_CSRF_TIME_LIMIT", 60)
    real = security.time.time
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: real() + 3600)
    r = _post(c, headers["X-CSRFToken"])
    assert r.status_code == 400 and r.get_json()["message"] == "The CSRF token has expired."
