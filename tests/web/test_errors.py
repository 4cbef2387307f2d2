"""Server-side failures: a JSON body with a request id, no internal detail, one log line each."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from navigator.errors import StoreError

Client = Callable[[str], tuple[FlaskClient, dict[str, str]]]
SECRET_URL = "postgresql://navigator:hunter2@db.internal:5432/navigator"


def _failing(*_args: object, **_kwargs: object) -> None:
    msg = f"could not connect to {SECRET_URL}: connection refused"
    raise StoreError(msg)


def test_store_error_is_503_without_internals_and_logged(
        app: Flask, as_role: Client, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    c, _ = as_role("caseworker")
    monkeypatch.setattr(app.extensions["navigator"].store, "resources", _failing)
    with caplog.at_level(logging.ERROR, logger="navigator.web"):
        r = c.get("/api/resources")
    body = r.get_json()
    assert r.status_code == 503 and body["error"] == "StoreError"
    assert "hunter2" not in r.get_data(as_text=True) and "db.internal" not in body["message"]
    assert body["request_id"] == r.headers["X-Request-ID"] and len(body["request_id"]) == 16
    (line,) = [json.loads(rec.getMessage()) for rec in caplog.records
               if rec.name == "navigator.web"]
    assert line["status"] == 503 and line["path"] == "/api/resources"
    assert line["user"] == "caseworker" and line["request_id"] == body["request_id"]
    assert line["error"] == "StoreError" and "connection refused" in line["message"]


def test_unexpected_error_is_500_logged_with_traceback(
        app: Flask, as_role: Client, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise KeyError("internal detail")

    c, _ = as_role("dispatcher")
    monkeypatch.setattr(app.extensions["navigator"].store, "teams", broken)
    with caplog.at_level(logging.ERROR, logger="navigator.web"):
        r = c.get("/api/teams")
    assert r.status_code == 500 and "internal detail" not in r.get_data(as_text=True)
    (rec,) = [rec for rec in caplog.records if rec.name == "navigator.web"]
    assert json.loads(rec.getMessage())["error"] == "KeyError" and rec.exc_info is not None


def test_client_errors_are_not_logged_as_failures(
        client: FlaskClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="navigator.web"):
        assert client.get("/api/me").status_code == 401
        assert client.get("/no/such/page").status_code == 404
    assert [rec for rec in caplog.records if rec.name == "navigator.web"] == []


def test_a_committed_hold_is_answered_even_if_every_later_read_fails(
        app: Flask, as_role: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    c, headers = as_role("caseworker")
    store = app.extensions["navigator"].store
    shelter = store.beds(store.resources(kinds=["shelter"])["id"].tolist())
    row = shelter[shelter["free"] > 0].iloc[0]
    for name in ("beds", "resources", "hold"):  # any read after the hold's own transaction
        monkeypatch.setattr(store, name, _failing)
    body = {"resource_id": row["resource_id"], "bed_type": row["bed_type"],
            "idempotency_key": "after-commit-1"}
    r = c.post("/api/holds", json=body, headers=headers)
    assert r.status_code == 201, r.get_json()
    held = r.get_json()
    assert held["status"] == "held" and held["free_beds"] == int(row["free"]) - 1
    monkeypatch.undo()
    again = c.post("/api/holds", json=body, headers=headers).get_json()  # same key: same hold
    assert again["id"] == held["id"]
    assert c.post(f"/api/holds/{held['id']}/release", headers=headers).status_code == 200


def test_health_says_503_while_the_store_does_not_answer(
        app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    assert client.get("/api/health").get_json()["store"] is True
    monkeypatch.setattr(app.extensions["navigator"].store, "ping", lambda: False)
    r = client.get("/api/health")
    assert r.status_code == 503 and r.get_json()["status"] == "store unavailable"
