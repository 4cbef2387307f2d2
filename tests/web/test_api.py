"""REST API flows, validation errors and confidentiality, through Flask's test client."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from webhelpers import ROLES, csrf_of

from web.render import REASON_TEXT

Client = Callable[[str], tuple[FlaskClient, dict[str, str]]]
INCIDENT = {"lon": -82.99, "lat": 39.96, "crisis_type": "mental_health"}
BEDS = {"lon": -82.99, "lat": 39.96, "bed_type": "single_men"}


@pytest.mark.parametrize(("path", "body", "where"), [
    ("/api/incidents", {**INCIDENT, "lon": float("nan")}, "lon"),
    ("/api/incidents", {**INCIDENT, "lat": float("inf")}, "lat"),
    ("/api/incidents", {**INCIDENT, "lon": 200.0}, "lon"),
    ("/api/incidents", {**INCIDENT, "lat": "north"}, "lat"),
    ("/api/incidents", {**INCIDENT, "priority": 9}, "priority"),
    ("/api/incidents", {**INCIDENT, "crisis_type": "alien"}, "crisis_type"),
    ("/api/incidents", {**INCIDENT, "colour": "red"}, "colour"),
    ("/api/incidents", {"lat": 39.96, "crisis_type": "youth"}, "lon"),
    ("/api/isochrone", {"lon": -82.99, "lat": 39.96, "minutes": [-5]}, "minutes"),
    ("/api/plan", {"objective": "fastest"}, "objective"),
])
def test_invalid_bodies_are_400_with_details(as_role: Client, path: str, body: dict[str, Any],
                                             where: str) -> None:
    c, headers = as_role("admin")
    r = c.post(path, json=body, headers=headers)
    data = r.get_json()
    assert r.status_code == 400, data
    assert data["error"] == "RequestInvalid" and where in data["message"]
    assert any(where in d["loc"] for d in data["details"])


@pytest.mark.parametrize("raw", ['{"lon": NaN, "lat": 1}', '{"lon": Infinity}', "{bad json",
                                 "[1, 2]", '"text"', ""])
def test_malformed_or_non_object_json_is_400(as_role: Client, raw: str) -> None:
    c, headers = as_role("dispatcher")
    r = c.post("/api/incidents", data=raw, content_type="application/json", headers=headers)
    assert r.status_code == 400 and r.get_json()["error"] == "RequestInvalid"


@pytest.mark.parametrize("raw", ["[" * 100_000, '{"a":' * 50_000,
                                 '{"lon": ' + "9" * 5000 + ', "lat": 39.96}'])
def test_deep_or_huge_json_is_400_without_internals(as_role: Client, raw: str) -> None:
    c, headers = as_role("dispatcher")
    r = c.post("/api/incidents", data=raw, content_type="application/json", headers=headers)
    data = r.get_json()
    assert r.status_code == 400, data
    assert data["error"] == "RequestInvalid" and "JSON" in data["message"]
    assert "sys." not in data["message"] and "set_int_max_str_digits" not in data["message"]


def test_deep_json_login_is_refused_not_500(client: FlaskClient) -> None:
    token = csrf_of(client)
    r = client.post("/auth/login", data="[" * 100_000, content_type="application/json",
                    headers={"X-CSRFToken": token})
    assert r.status_code == 401 and r.get_json()["message"] == "wrong username or password"


def test_login_without_csrf_token_is_400_before_anything_else(client: FlaskClient) -> None:
    r = client.post("/auth/login", data="[" * 100_000, content_type="application/json")
    assert r.status_code == 400 and "CSRF" in r.get_json()["message"]


@pytest.mark.parametrize(("field", "value"), [("lon", True), ("lat", False), ("lon", "-82.99"),
                                              ("lat", "39.96"), ("lon", None)])
def test_coordinates_must_be_numbers(as_role: Client, field: str, value: Any) -> None:
    c, headers = as_role("dispatcher")
    before = len(c.get("/api/incidents").get_json()["features"])
    r = c.post("/api/incidents", json={**INCIDENT, field: value}, headers=headers)
    assert r.status_code == 400, r.get_json()
    assert field in r.get_json()["details"][0]["loc"]
    assert len(c.get("/api/incidents").get_json()["features"]) == before


def test_integer_coordinates_are_accepted_by_the_schema() -> None:
    from web.schemas import IncidentCreate

    assert IncidentCreate.model_validate({**INCIDENT, "lon": -83, "lat": 40}).lon == -83.0


@pytest.mark.parametrize(("lon", "lat"), [(39.96, -82.99), (-40.0, 35.0)])
def test_incident_off_the_road_network_is_422_and_not_stored(as_role: Client, lon: float,
                                                             lat: float) -> None:
    c, headers = as_role("dispatcher")
    before = len(c.get("/api/incidents").get_json()["features"])
    r = c.post("/api/incidents", json={**INCIDENT, "lon": lon, "lat": lat}, headers=headers)
    assert r.status_code == 422, r.get_json()
    assert r.get_json()["error"] == "UnreachableError"
    assert len(c.get("/api/incidents").get_json()["features"]) == before


def test_hotline_query_parses_numeric_strings(as_role: Client) -> None:
    c, _ = as_role("caseworker")
    r = c.get("/api/hotlines?lon=-82.99&lat=39.96")
    assert r.status_code == 200 and r.get_json()["hotlines"]
    assert c.get("/api/hotlines?lon=true&lat=39.96").status_code == 400


def test_non_json_body_is_400(as_role: Client) -> None:
    c, headers = as_role("dispatcher")
    r = c.post("/api/incidents", data="lon=1", content_type="text/plain", headers=headers)
    assert r.status_code == 400 and "JSON" in r.get_json()["message"]


def test_bad_query_is_400(as_role: Client) -> None:
    c, _ = as_role("caseworker")
    r = c.get("/api/hotlines?lon=nan&lat=39.9")
    assert r.status_code == 400 and r.get_json()["details"][0]["loc"] == ["lon"]
    assert c.get("/api/hotlines?lat=39.9").status_code == 400


@pytest.mark.parametrize(("role", "method", "path", "body", "status"), [
    ("dispatcher", "GET", "/api/incidents/nope", None, 404),
    ("dispatcher", "POST", "/api/incidents/nope/rank", {}, 404),
    ("dispatcher", "POST", "/api/assignments", {"incident_id": "nope", "team_id": "nope"}, 404),
    ("dispatcher", "POST", "/api/teams/nope/status", {"status": "on_scene"}, 404),
    ("dispatcher", "POST", "/api/assignments/nope/finish", {"status": "completed"}, 404),
    ("caseworker", "POST", "/api/holds", {"resource_id": "nope", "bed_type": "dv"}, 404),
    ("caseworker", "POST", "/api/holds/nope/confirm", None, 404),
])
def test_unknown_ids_are_404_json(as_role: Client, role: str, method: str, path: str,
                                  body: Any, status: int) -> None:
    c, headers = as_role(role)
    r = c.open(path, method=method, json=body, headers=headers)
    assert r.status_code == status and r.get_json()["error"] == "NotFoundError"


def test_far_point_is_422(as_role: Client) -> None:
    c, headers = as_role("caseworker")
    r = c.post("/api/beds/search", json={**BEDS, "lon": 10.0, "lat": 50.0}, headers=headers)
    assert r.status_code == 422 and r.get_json()["error"] == "UnreachableError"


def test_dispatch_flow_is_audited(as_role: Client, app: Flask) -> None:
    c, headers = as_role("dispatcher")
    inc = c.post("/api/incidents", json={**INCIDENT, "notes": "caller on 3rd floor"},
                 headers=headers)
    assert inc.status_code == 201
    iid = inc.get_json()["id"]
    ranking = c.post(f"/api/incidents/{iid}/rank", json={"k": 3}, headers=headers).get_json()
    best = ranking["options"][0]
    assert best["route"]["geometry"]["type"] == "LineString" and best["eta_s"] > 0
    key = {"incident_id": iid, "team_id": best["team_id"], "idempotency_key": "attempt-0001"}
    first = c.post("/api/assignments", json=key, headers=headers)
    again = c.post("/api/assignments", json=key, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.get_json()["id"] == again.get_json()["id"]
    other = c.post("/api/assignments", json={**key, "idempotency_key": "attempt-0002"},
                   headers=headers)
    assert other.status_code == 409
    for status in ("on_scene", "returning", "available"):
        r = c.post(f"/api/teams/{best['team_id']}/status", json={"status": status},
                   headers=headers)
        assert r.get_json()["status"] == status
    teams = c.get("/api/teams").get_json()
    assert teams["type"] == "FeatureCollection"
    plan = c.post("/api/plan", json={"objective": "bottleneck"}, headers=headers).get_json()
    assert plan["optimal"]["method"] == "optimal-bottleneck"
    actions = {(e.actor, e.action) for e in
               app.extensions["navigator"].store.audit_log(limit=50)}
    assert {("dispatcher", "add_incident"), ("dispatcher", "rank_teams"),
            ("dispatcher", "update_team"), ("dispatcher", "plan_batch")} <= actions


def test_bed_hold_flow(as_role: Client, app: Flask) -> None:
    c, headers = as_role("caseworker")
    found = c.post("/api/beds/search", json=BEDS, headers=headers).get_json()
    assert found["type"] == "FeatureCollection" and found["features"]
    best = found["features"][0]["properties"]
    body = {"resource_id": best["resource_id"], "bed_type": "single_men",
            "idempotency_key": "hold-attempt-1"}
    held = c.post("/api/holds", json=body, headers=headers).get_json()
    assert held["status"] == "held" and held["free_beds"] == best["free_beds"] - 1
    assert re.fullmatch(r"\d\d:\d\d", held["expires_local"])
    assert held["timezone"] == "America/New_York"
    expires = datetime.fromisoformat(held["expires_at"])
    local = expires.astimezone(ZoneInfo("America/New_York")).strftime("%H:%M")
    assert held["expires_local"] == local
    assert c.post("/api/holds", json=body, headers=headers).get_json()["id"] == held["id"]
    released = c.post(f"/api/holds/{held['id']}/release", headers=headers).get_json()
    assert released["status"] == "released" and released["free_beds"] == best["free_beds"]
    assert c.post(f"/api/holds/{held['id']}/confirm", headers=headers).status_code == 409
    lines = c.get("/api/hotlines?lon=-82.99&lat=39.96").get_json()["hotlines"]
    assert lines[-1]["phone"] == "988"
    store = app.extensions["navigator"].store
    assert store.audit_log(action="find_bed")[0].actor == "caseworker"


def test_no_bed_is_404_with_alternatives(as_role: Client) -> None:
    c, headers = as_role("caseworker")
    r = c.post("/api/beds/search", json={**BEDS, "bed_type": "youth", "max_time_min": 0.5},
               headers=headers)
    data = r.get_json()
    assert r.status_code == 404 and data["error"] == "NoAvailableResourceError"
    assert all("route" not in a for a in data.get("alternatives", []))
    assert data["alternatives"]
    for a in data["alternatives"]:
        assert "_" not in a["reason_text"], a
        assert a["reason_text"].startswith(REASON_TEXT[a["reason"]])


def test_alternative_reasons_read_as_words() -> None:
    from web.render import reason_text

    assert reason_text({"reason": "other_bed_type"}) == "other bed type"
    assert reason_text({"reason": "beyond_limit"}) == "farther than the limit"
    assert reason_text({"reason": "closed"}) == "closed now"


def test_closed_reason_names_the_local_opening_time(app: Flask) -> None:
    from web.render import reason_text

    with app.test_request_context():
        # 23:00 UTC in January is 18:00 in Columbus (EST, UTC-5)
        text = reason_text({"reason": "closed", "opens_at": "2025-01-15T23:00:00+00:00"})
    assert text == "closed now, opens 18:00"


def test_planner_coverage_and_isochrone(as_role: Client) -> None:
    c, headers = as_role("planner")
    cov = c.post("/api/coverage", json={"kind": "clinics", "target_min": 5},
                 headers=headers).get_json()
    assert cov["type"] == "FeatureCollection" and cov["summary"]["hexes"] == len(cov["features"])
    assert 0 <= cov["summary"]["share_of_roads_within_target"] <= 1
    iso = c.post("/api/isochrone", json={"lon": -82.99, "lat": 39.96, "minutes": [5, 10]},
                 headers=headers).get_json()
    assert [f["properties"]["minutes"] for f in iso["features"]] == [10, 5]


# -- confidentiality: the DV site never reaches a role without access -----------------------
def _dv(app: Flask) -> Any:
    res = app.extensions["navigator"].store.resources()
    return res[res["confidential"]].iloc[0]


def _leaks(body: str, dv: Any, *, rounded_roads: bool) -> list[str]:
    found = [s for s in (dv["name"], dv["address"]) if s and s in body]
    x, y = dv.geometry.x, dv.geometry.y
    for d in (4, 5, 6):
        lon, lat = f"{x:.{d}f}".rstrip("0"), f"{y:.{d}f}".rstrip("0")
        pair = (rf"{re.escape(lon)}\d*\s*,\s*{re.escape(lat)}|"
                rf"{re.escape(lat)}\d*\s*,\s*{re.escape(lon)}")
        if re.search(pair, body):
            found.append(f"pair at {d} decimals")
        if not rounded_roads:  # the road basemap holds 5-decimal road vertices, not the site
            for v in (f"{x:.{d}f}", f"{y:.{d}f}"):
                if re.search(re.escape(v) + r"(?![0-9])", body):
                    found.append(v)
    return found


def _every_response(c: FlaskClient, headers: dict[str, str], near: tuple[float, float]
                    ) -> dict[str, str]:
    lon, lat = near
    gets = ["/", "/dispatch", "/beds", "/coverage", "/admin", "/roads.geojson", "/api/me",
            "/api/resources", "/api/resources?kind=shelter", "/api/incidents",
            "/api/teams", "/api/assignments", "/api/users", "/api/audit",
            f"/api/hotlines?lon={lon}&lat={lat}", "/openapi.json", "/api/health"]
    posts = {"/api/beds/search": {"lon": lon, "lat": lat, "bed_type": "dv", "k": 10},
             "/api/services/search": {"lon": lon, "lat": lat, "k": 10},
             "/api/coverage": {"kind": "shelters"}, "/api/plan": {},
             "/api/isochrone": {"lon": lon, "lat": lat}}
    out = {p: c.get(p, follow_redirects=True).get_data(as_text=True) for p in gets}
    out.update({p: c.post(p, json=b, headers=headers).get_data(as_text=True)
                for p, b in posts.items()})
    return out


@pytest.mark.parametrize("role", [r for r in ROLES if r != "admin"])
def test_dv_site_never_reaches_roles_without_access(as_role: Client, app: Flask,
                                                    role: str) -> None:
    dv = _dv(app)
    c, headers = as_role(role)
    near = (round(dv.geometry.x + 0.003, 4), round(dv.geometry.y - 0.002, 4))
    bodies = _every_response(c, headers, near)
    leaks = {p: found for p, b in bodies.items()
             if (found := _leaks(b, dv, rounded_roads=p == "/roads.geojson"))}
    assert leaks == {}
    if role == "caseworker":  # the DV bed is offered, at its meeting point only
        beds = bodies["/api/beds/search"]
        assert "Confidential domestic-violence shelter" in beds
        assert f"{dv['meeting_point_lon']}" in beds


def test_admin_sees_the_dv_site(as_role: Client, app: Flask) -> None:
    dv = _dv(app)
    c, _ = as_role("admin")
    assert dv["name"] in c.get("/api/resources").get_data(as_text=True)
    assert _leaks(c.get("/admin").get_data(as_text=True), dv, rounded_roads=False)
