"""The web app through Flask's test client: login, roles, CSRF, headers, assets, validation."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from webhelpers import PASSWORDS, ROLES, csrf_of, login

Client = Callable[[str], tuple[FlaskClient, dict[str, str]]]
PAGES = {"dispatcher": "/dispatch", "caseworker": "/beds", "planner": "/coverage",
         "admin": "/admin"}
INCIDENT = {"lon": -82.99, "lat": 39.96, "crisis_type": "mental_health"}


@pytest.mark.parametrize("role", ROLES)
def test_each_role_lands_on_its_page_with_an_offline_map(client: FlaskClient, role: str) -> None:
    login(client, role)
    r = client.get("/")
    assert r.status_code == 302 and r.headers["Location"].endswith(PAGES[role])
    page = client.get(PAGES[role])
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "/static/vendor/leaflet.js" in body and "window.navMap" in body
    assert "cdn.jsdelivr" not in body and "code.jquery.com" not in body and "https://" not in \
        body.split("<body>")[0].replace("http://www.w3.org", "")


@pytest.mark.parametrize(("role", "denied"), [
    ("dispatcher", ["/beds", "/coverage", "/admin"]),
    ("caseworker", ["/dispatch", "/coverage", "/admin"]),
    ("planner", ["/dispatch", "/beds", "/admin"]),
])
def test_other_roles_pages_are_403_html_with_a_way_home(client: FlaskClient, role: str,
                                                        denied: list[str]) -> None:
    login(client, role)
    home = client.get("/").headers["Location"]
    for path in denied:
        r = client.get(path)
        assert r.status_code == 403 and r.mimetype == "text/html", path
        html = r.get_data(as_text=True)
        assert "Not allowed" in html and role in html
        assert f'href="{home}"' in html
    api = client.get("/api/users")
    assert api.status_code == 403 and api.is_json


def test_favicon_is_served(client: FlaskClient) -> None:
    r = client.get("/favicon.ico")
    assert r.status_code in (204, 301, 302)
    if r.status_code != 204:
        with client.get(r.headers["Location"]) as icon:
            assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
            assert b"<svg" in icon.data
    page = client.get("/auth/login").get_data(as_text=True)
    assert '<link rel="icon" href="/static/favicon.svg"' in page


@pytest.mark.parametrize(("role", "method", "path", "body"), [
    ("dispatcher", "POST", "/api/beds/search", {"lon": -83.0, "lat": 39.96,
                                                "bed_type": "single_men"}),
    ("dispatcher", "POST", "/api/coverage", {}),
    ("caseworker", "POST", "/api/incidents", INCIDENT),
    ("caseworker", "GET", "/api/incidents", None),
    ("planner", "POST", "/api/holds", {"resource_id": "x", "bed_type": "dv"}),
    ("planner", "GET", "/api/users", None),
    ("caseworker", "POST", "/api/users", {"username": "eve", "role": "admin",
                                          "password": "0123456789ab"}),
])
def test_api_role_denied_is_403_json(as_role: Client, role: str, method: str, path: str,
                                     body: Any) -> None:
    c, headers = as_role(role)
    r = c.open(path, method=method, json=body, headers=headers)
    assert r.status_code == 403 and r.get_json()["error"] == "Forbidden"


def test_anonymous_api_is_401_and_pages_redirect_to_login(client: FlaskClient) -> None:
    for path in ("/api/incidents", "/api/resources", "/api/me"):
        r = client.get(path)
        assert r.status_code == 401 and r.is_json, path
    r = client.get("/roads.geojson")
    assert r.status_code == 302 and "/auth/login" in r.headers["Location"]
    r = client.get("/beds")
    assert r.status_code == 302 and "/auth/login?next=/beds" in r.headers["Location"]


def test_wrong_password_is_refused_and_counted_not_audited(client: FlaskClient,
                                                           app: Flask) -> None:
    store = app.extensions["navigator"].store
    audited = len(store.audit_log(limit=500))
    token = csrf_of(client)
    r = client.post("/auth/login", data={"username": "admin", "password": "wrong-password",
                                         "csrf_token": token})
    assert r.status_code == 401 and "Wrong username or password" in r.get_data(as_text=True)
    assert client.get("/api/me").status_code == 401
    # Failures are counted (per account and address) and audited once a lock starts, not
    # one audit entry per attempt (tests/web/test_logins.py).
    assert len(store.audit_log(limit=500)) == audited
    counted = {(t["scope"], t["key"]): t for t in store.login_throttles()}
    assert counted["account", "admin"]["failures"] >= 1
    assert "wrong-password" not in str(counted)


def test_login_without_csrf_token_is_refused(client: FlaskClient) -> None:
    client.get("/auth/login")
    r = client.post("/auth/login", data={"username": "admin", "password": PASSWORDS["admin"]})
    assert r.status_code == 400 and "CSRF" in r.get_json()["message"]


def test_login_next_cannot_redirect_off_site(client: FlaskClient) -> None:
    token = csrf_of(client)
    r = client.post("/auth/login?next=//evil.example/x",
                    data={"username": "planner", "password": PASSWORDS["planner"],
                          "csrf_token": token})
    assert r.headers["Location"].endswith("/coverage")


def test_json_write_without_csrf_token_is_refused(as_role: Client) -> None:
    c, headers = as_role("dispatcher")
    before = len(c.get("/api/incidents").get_json()["features"])
    r = c.post("/api/incidents", json=INCIDENT)
    assert r.status_code == 400 and r.is_json and "CSRF" in r.get_json()["message"]
    r = c.post("/api/incidents", json=INCIDENT, headers={"X-CSRFToken": "forged"})
    assert r.status_code == 400 and "CSRF" in r.get_json()["message"]
    assert len(c.get("/api/incidents").get_json()["features"]) == before
    assert c.post("/api/incidents", json=INCIDENT, headers=headers).status_code == 201


def test_logout_needs_post_with_token(as_role: Client) -> None:
    c, headers = as_role("planner")
    assert c.get("/auth/logout").status_code == 405
    assert c.post("/auth/logout", headers=headers).status_code == 302
    assert c.get("/api/me").status_code == 401


def test_session_cookie_flags(client: FlaskClient) -> None:
    login(client, "planner")
    r = client.get("/auth/login")
    token = csrf_of(client)
    r = client.post("/auth/login", data={"username": "planner",
                                         "password": PASSWORDS["planner"], "csrf_token": token})
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_cookies_are_secure_by_default(columbus_graph, app: Flask,  # type: ignore[no-untyped-def]
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from web import create_app

    nav = app.extensions["navigator"]
    monkeypatch.delenv("NAVIGATOR_SECURE_COOKIES", raising=False)
    assert create_app(nav.settings, graph=columbus_graph,
                      store=nav.store).config["SESSION_COOKIE_SECURE"] is True
    monkeypatch.setenv("NAVIGATOR_SECURE_COOKIES", "0")
    assert create_app(nav.settings, graph=columbus_graph,
                      store=nav.store).config["SESSION_COOKIE_SECURE"] is False


def test_create_app_reads_navigator_env(columbus_graph, app: Flask,  # type: ignore[no-untyped-def]
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """What ``gunicorn "web:create_app()"`` does: settings from NAVIGATOR_* variables."""
    from web import create_app

    url = app.extensions["navigator"].settings.store_url
    monkeypatch.setenv("NAVIGATOR_STORE_URL", url)
    monkeypatch.setenv("NAVIGATOR_SECRET_KEY", "k" * 40)
    monkeypatch.setenv("NAVIGATOR_HOLD_TTL_S", "600")
    made = create_app(graph=columbus_graph)
    try:
        assert made.extensions["navigator"].settings.hold_ttl_s == 600.0
        assert made.config["SECRET_KEY"] == "k" * 40
        c = made.test_client()
        token = csrf_of(c)
        c.post("/auth/login", data={"username": "admin", "password": PASSWORDS["admin"],
                                    "csrf_token": token})
        assert c.get("/api/me").get_json()["role"] == "admin"
    finally:
        made.extensions["navigator"].store.close()
    assert os.environ["NAVIGATOR_STORE_URL"] == url


def test_security_headers_and_csp_nonce(as_role: Client) -> None:
    c, _ = as_role("dispatcher")
    r = c.get("/dispatch")
    csp = r.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in csp and "default-src 'self'" in csp
    assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    nonce = csp.split("'nonce-")[1].split("'")[0]
    body = r.get_data(as_text=True)
    inline = body.count("<script>") + body.count("<script nonce=")
    assert body.count(f'<script nonce="{nonce}">') == inline > 0
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert c.get("/dispatch").headers["Content-Security-Policy"] != csp  # fresh per request


@pytest.mark.parametrize("name", ["leaflet.js", "leaflet.css", "jquery.min.js",
                                  "images/layers.png"])
def test_vendor_assets_are_served_locally(client: FlaskClient, name: str) -> None:
    with client.get(f"/static/vendor/{name}") as r:
        assert r.status_code == 200 and len(r.data) > 100
        assert r.cache_control.max_age == 86400


def test_unknown_asset_and_route_are_json_404(client: FlaskClient) -> None:
    assert client.get("/static/vendor/../../etc/passwd").status_code == 404
    r = client.get("/no/such/page")
    assert r.status_code == 404 and r.get_json()["error"] == "Not Found"


def test_roads_basemap_is_geojson(as_role: Client, columbus_graph) -> None:  # type: ignore[no-untyped-def]
    c, _ = as_role("planner")
    data = c.get("/roads.geojson").get_json()
    assert data["type"] == "FeatureCollection"
    assert len(data["features"][0]["geometry"]["coordinates"]) > columbus_graph.n_edges // 3


def test_health_needs_no_login(client: FlaskClient) -> None:
    data = client.get("/api/health").get_json()
    assert data["status"] == "ok" and data["nodes"] > 10_000


def test_admin_adds_a_user_who_can_log_in(as_role: Client, app: Flask) -> None:
    c, headers = as_role("admin")
    r = c.post("/api/users", json={"username": "ana", "role": "caseworker",
                                   "password": "ana-password-1"}, headers=headers)
    assert r.status_code == 201 and "password" not in str(r.get_json())
    assert c.post("/api/users", json={"username": "ana", "role": "planner",
                                      "password": "ana-password-1"},
                  headers=headers).status_code == 409
    other = app.test_client()
    token = csrf_of(other)
    other.post("/auth/login", data={"username": "ana", "password": "ana-password-1",
                                    "csrf_token": token})
    assert other.get("/api/me").get_json() == {"username": "ana", "role": "caseworker",
                                              "can_see_confidential": False}
    names = [u["username"] for u in c.get("/api/users").get_json()["users"]]
    assert "ana" in names
    assert "argon2" not in c.get("/api/users").get_data(as_text=True)
