"""Surge shelter activation and evacuee placement through Flask's test client."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from navigator.services.evacuation import plan_evacuation

ZONE = {"type": "Polygon", "coordinates": [[[-83.02, 39.95], [-82.97, 39.95], [-82.97, 39.98],
                                            [-83.02, 39.98], [-83.02, 39.95]]]}
Session = tuple[FlaskClient, dict[str, str]]


@pytest.fixture(scope="module")
def planner(app: Flask) -> Session:
    from webhelpers import login

    c = app.test_client()
    return c, {"X-CSRFToken": login(c, "planner")}


@pytest.fixture(scope="module")
def admin(app: Flask) -> Session:
    from webhelpers import login

    c = app.test_client()
    return c, {"X-CSRFToken": login(c, "admin")}


def _post(who: Session, path: str, body: Any, status: int | tuple[int, ...] = 200) -> Any:
    c, headers = who
    r = c.post(path, json=body, headers=headers)
    assert r.status_code in (status if isinstance(status, tuple) else (status,)), \
        r.get_data(as_text=True)
    return r.get_json()


def test_zone_placement_equals_the_service_and_respects_capacity(app: Flask,
                                                                  planner: Session) -> None:
    got = _post(planner, "/api/planner/evacuation", {"zone": ZONE})
    s = got["summary"]
    assert s["source"] == "zone" and s["people"] > 10000
    n = app.extensions["navigator"]
    want = plan_evacuation(n.store, n.graph, n.settings, actor="test", zone=ZONE).summary()
    for method in ("optimal", "greedy"):
        assert s[method]["placed"] == want[method]["placed"]
        assert s[method]["total_time_s"] == pytest.approx(want[method]["total_time_s"])
        assert s[method]["placed"] + s[method]["unplaced"] == s["people"]  # nobody dropped
        assert sum(s[method]["unplaced_by_need"].values()) == s[method]["unplaced"]
        for shelter in got["shelters"][method]:
            for need, load in shelter["load"].items():
                assert load <= shelter["free"][need]
    assert s["optimal"]["total_time_s"] <= s["greedy"]["total_time_s"] + 1e-6
    assert s["optimal"]["proven_optimal"]
    # the demo activates one surge shelter: only it is offered (no shelter lists need beds)
    assert [x["id"] for x in got["shelters"]["optimal"]] == ["demo-surge-1"]
    assert any("pro-rated" in note for note in s["notes"])


def test_csv_export_neutralises_formulas(planner: Session) -> None:
    households = ("id,lon,lat,size,need\n=HYPERLINK(\"http://x\"),-83.0,39.96,3,general\n"
                  "@SUM(1),-83.0,39.961,2,pets\n+1,-82.99,39.962,1,medical\n")
    c, headers = planner
    r = c.post("/api/planner/evacuation/export",
               json={"households_csv": households, "method": "optimal"}, headers=headers)
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    ids = {row["group_id"] for row in rows}
    assert ids == {"'=HYPERLINK(\"http://x\")", "'@SUM(1)", "'+1"}
    medical = next(row for row in rows if row["need"] == "medical")
    assert medical["shelter_id"] == "" and medical["unplaced_reason"] == \
        "no shelter offers the need"  # demo-surge-1 has no medical spaces
    placed = {row["group_id"]: row for row in rows if row["shelter_id"]}
    assert placed["'=HYPERLINK(\"http://x\")"]["people"] == "3"  # the household stays whole


@pytest.mark.parametrize(("body", "field"), [
    ({"zone": {"type": "Polygon", "coordinates": [[[-83.0, 39.95], [-82.97, 39.98],
                                                   [-83.0, 39.98], [-82.97, 39.95],
                                                   [-83.0, 39.95]]]}}, "invalid polygon"),
    ({"zone": {"type": "Polygon", "coordinates": [[[2.0, 48.0], [2.1, 48.0], [2.1, 48.1],
                                                   [2.0, 48.0]]]}}, "outside the road network"),
    ({"zone": {"type": "Point", "coordinates": [-83.0, 39.96]}}, "Polygon or MultiPolygon"),
    ({"zone": {"type": "Polygon"}}, "malformed"),
    ({"households_csv": "lon,lat,size,need\n-83.0,39.96,0,general\n"}, "size=0"),
    ({"households_csv": "lon,lat,size,need\n-83.0,39.96,2,spa\n"}, "need='spa'"),
    ({"households_csv": "lon,lat,need\n-83.0,39.96,general\n"}, "size"),
    ({"zone": ZONE, "households_csv": "lon,lat,size\n"}, "not both"),
    ({"zone": ZONE, "shares": {"general": 0.5}}, "add up to 1"),
    ({"zone": ZONE, "shares": {"general": 0.5, "cats": 0.5}}, "shares"),
])
def test_bad_input_is_4xx_naming_the_field_and_writes_nothing(app: Flask, planner: Session,
                                                              body: Any, field: str) -> None:
    store = app.extensions["navigator"].store
    before = len(store.audit_log(limit=500, action="place_evacuees"))
    got = _post(planner, "/api/planner/evacuation", body, status=(400, 422))  # model / service
    assert field in got["message"], got
    assert len(store.audit_log(limit=500, action="place_evacuees")) == before


def test_placement_is_for_planners(as_role: Any) -> None:
    c, headers = as_role("caseworker")
    r = c.post("/api/planner/evacuation", json={"zone": ZONE}, headers=headers)
    assert r.status_code == 403


def test_admin_activates_and_deactivates_a_surge_shelter(app: Flask, admin: Session,
                                                         planner: Session) -> None:
    store = app.extensions["navigator"].store
    c, headers = planner
    r = c.post("/api/resources/demo-surge-3/activate", json={}, headers=headers)
    assert r.status_code == 403  # admins only
    page = c.get("/planner/evacuation").get_data(as_text=True)
    assert "North recreation centre" in page and "West community centre" not in page
    got = _post(admin, "/api/resources/demo-surge-3/activate", {"note": "flood <b>x</b>"})
    assert got["active"] is True and got["opens_at"]
    assert store.surge_sites()["demo-surge-3"].active
    assert store.audit_log(limit=1)[0].action == "activate_surge"
    page = c.get("/planner/evacuation").get_data(as_text=True)
    assert "West community centre" in page  # now shown on the map
    offered = _post(planner, "/api/planner/evacuation", {"zone": ZONE, "method": "optimal"})
    assert {x["id"] for x in offered["shelters"]["optimal"]} == {"demo-surge-1", "demo-surge-3"}
    _post(admin, "/api/resources/demo-surge-3/activate", {}, status=409)
    got = _post(admin, "/api/resources/demo-surge-3/deactivate", {})
    assert got["active"] is False and got["opens_at"] is None
    assert store.audit_log(limit=1)[0].action == "deactivate_surge"
    _post(admin, "/api/resources/demo-surge-3/deactivate", {}, status=409)
    _post(admin, "/api/resources/nope/activate", {}, status=404)
    bad = _post(admin, "/api/resources/demo-dv-shelter/activate", {}, status=400)
    assert "not an evacuation_shelter" in bad["message"]
    listed = c.get("/api/surge-shelters").get_json()["shelters"]
    assert [s["active"] for s in listed] == [True, False, False, False]
    admin_page = admin[0].get("/admin").get_data(as_text=True)
    assert 'data-action="activate"' in admin_page and "surge.js" in admin_page


def test_resources_api_marks_surge_shelters(planner: Session) -> None:
    c, _ = planner
    fc = c.get("/api/resources?kind=evacuation_shelter").get_json()
    surge = {f["id"]: f["properties"]["surge"] for f in fc["features"]}
    assert surge["demo-surge-1"]["active"] is True and surge["demo-surge-1"]["opens_at"]
    assert surge["demo-surge-4"] == {"active": False, "opens_at": None}
