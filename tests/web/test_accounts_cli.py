"""``navigator add-user`` and the PostGIS smoke run of the web app."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from postgis_db import throwaway_database
from webhelpers import login

from navigator.cli import main
from navigator.config import Settings
from navigator.demo.city import load_demo
from navigator.services.accounts import authenticate, ensure_demo_users
from navigator.store import open_store
from web import create_app


def test_add_user_reads_password_from_stdin(tmp_gpkg: str,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-password\n"))
    assert main(["add-user", "ana", "--role", "caseworker", "--password-stdin",
                 "--store", tmp_gpkg]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["add-user", "bob", "--role", "planner", "--password-stdin",
                 "--store", tmp_gpkg]) == 1
    store = open_store(tmp_gpkg)
    try:
        user = authenticate(store, "ana", "a-long-password")
        assert user is not None and user.role == "caseworker"
        assert [u.username for u in store.users()] == ["ana"]
    finally:
        store.close()


@pytest.fixture
def postgis_demo_url(test_database_url: str | None) -> Iterator[str]:
    with throwaway_database(test_database_url, prefix="navigator_web") as url:
        yield url


@pytest.mark.postgis
def test_web_on_postgis_login_find_and_hold(postgis_demo_url: str, columbus_graph) -> None:  # type: ignore[no-untyped-def]
    store = open_store(postgis_demo_url)
    try:
        load_demo(store, columbus_graph, seed=7)
        ensure_demo_users(store)
        app = create_app(Settings(store_url=postgis_demo_url), graph=columbus_graph,
                         store=store, test_config={"SESSION_COOKIE_SECURE": False})
        c = app.test_client()
        headers = {"X-CSRFToken": login(c, "caseworker")}
        found = c.post("/api/beds/search", json={"lon": -82.99, "lat": 39.96,
                                                 "bed_type": "single_men"}, headers=headers)
        assert found.status_code == 200, found.get_json()
        best = found.get_json()["features"][0]["properties"]
        held = c.post("/api/holds", json={"resource_id": best["resource_id"],
                                          "bed_type": "single_men",
                                          "idempotency_key": "pg-attempt-1"}, headers=headers)
        assert held.status_code == 201
        assert held.get_json()["free_beds"] == best["free_beds"] - 1
        assert ("caseworker", "find_bed") in {(e.actor, e.action)
                                              for e in store.audit_log(limit=10)}
    finally:
        store.close()
