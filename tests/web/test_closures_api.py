"""Road closures over HTTP: roles, bad input, XSS, answers that say so, two workers, planner."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from flask import Flask
from flask.testing import FlaskClient
from shapely.geometry import LineString, box, mapping
from webhelpers import login
from xss_payloads import PAYLOADS, json_blocks, strings, without_json_blocks

from navigator.config import Settings
from navigator.demo.city import load_demo
from navigator.roads import TravelGraph, edges_in_area
from navigator.services.accounts import ensure_demo_users
from navigator.store import open_store
from web import create_app


@pytest.fixture
def workers(columbus_graph: TravelGraph, tmp_path: Path) -> Iterator[tuple[Flask, Flask]]:
    """Two apps on one GeoPackage, as two web workers: own store objects, own graph objects."""
    path = str(tmp_path / "shared.gpkg")
    seed_store = open_store(path)
    load_demo(seed_store, columbus_graph, seed=7)
    ensure_demo_users(seed_store)
    seed_store.close()
    apps, stores = [], []
    for refresh_s in (2.0, 0.5):
        store = open_store(path)
        graph = dataclasses.replace(columbus_graph, _memo={})  # another process's copy
        stores.append(store)
        apps.append(create_app(Settings(store_url=path, closures_refresh_s=refresh_s),
                               graph=graph, store=store,
                               test_config={"TESTING": True, "SESSION_COOKIE_SECURE": False}))
    yield apps[0], apps[1]
    for s in stores:
        s.close()


def _client(app: Flask, role: str) -> tuple[FlaskClient, dict[str, str]]:
    c = app.test_client()
    return c, {"X-CSRFToken": login(c, role)}


def _open_incident(c: FlaskClient) -> str:
    found = c.get("/api/incidents").get_json()["features"]
    return str(found[0]["properties"]["id"])


def _rank(c: FlaskClient, h: dict[str, str], incident: str) -> dict[str, Any]:
    r = c.post(f"/api/incidents/{incident}/rank", json={"k": 3}, headers=h)
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.get_json()  # type: ignore[no-any-return]


def _middle_of_route(ranking: dict[str, Any]) -> tuple[float, float]:
    coords = ranking["options"][0]["route"]["geometry"]["coordinates"]
    line = LineString(coords)
    point = line.interpolate(0.5, normalized=True)
    return point.x, point.y


def test_a_closure_written_by_one_worker_holds_in_the_other(
        workers: tuple[Flask, Flask], columbus_graph: TravelGraph) -> None:
    a, b = workers
    ca, ha = _client(a, "dispatcher")
    cb, hb = _client(b, "dispatcher")
    incident = _open_incident(ca)
    before = _rank(cb, hb, incident)
    assert before["closures_in_effect"] is False and before["closures_count"] == 0
    lon, lat = _middle_of_route(before)
    segment = ca.get(f"/api/closures/segment?lon={lon}&lat={lat}").get_json()
    assert segment["geometry"]["type"] == "LineString"
    made = ca.post("/api/closures", json={"geojson": segment, "reason": "Flooded underpass"},
                   headers=ha)
    assert made.status_code == 201, made.get_data(as_text=True)
    closure = made.get_json()["closures"][0]
    assert closure["closed_edges"] >= 1
    # worker b re-reads the store once its refresh (0.5 s here; 2 s by default) has passed:
    # the first request after that sees the closure, however long requests take
    time.sleep(0.6)
    after = _rank(cb, hb, incident)
    assert after["closures_in_effect"] is True and after["closures_count"] == 1
    same = {o["team_id"]: o for o in after["options"]}.get(before["options"][0]["team_id"])
    closed = edges_in_area(columbus_graph, LineString(segment["geometry"]["coordinates"]))
    assert same is None or same["eta_s"] > before["options"][0]["eta_s"]
    if same is not None:  # the new route keeps off the closed road
        route = LineString(same["route"]["geometry"]["coordinates"])
        old = LineString(before["options"][0]["route"]["geometry"]["coordinates"])
        assert not route.equals(old) and len(closed)
    # reopened by worker a: worker b routes as before again
    lifted = ca.post(f"/api/closures/{closure['id']}/lift", headers=ha)
    assert lifted.status_code == 200 and lifted.get_json()["lifted_by"] == "dispatcher"
    assert ca.post(f"/api/closures/{closure['id']}/lift", headers=ha).status_code == 409
    time.sleep(0.6)
    again = _rank(cb, hb, incident)
    assert again["closures_in_effect"] is False
    assert again["options"][0]["eta_s"] == pytest.approx(before["options"][0]["eta_s"])


def _area(graph: TravelGraph, d: float = 0.002) -> tuple[dict[str, Any], tuple[float, float]]:
    lon, lat = float(np.median(graph.lon)), float(np.median(graph.lat))
    return mapping(box(lon - d, lat - d, lon + d, lat + d)), (lon, lat)


def test_only_dispatchers_and_admins_close_roads(as_role: Any,
                                                 columbus_graph: TravelGraph) -> None:
    area, _ = _area(columbus_graph)
    for role in ("caseworker", "planner"):
        c, h = as_role(role)
        r = c.post("/api/closures", json={"geojson": area, "reason": "Flood"}, headers=h)
        assert r.status_code == 403
        assert c.get("/api/closures").status_code == 200  # everyone may look
        assert c.get("/api/closures").get_json()["features"] == []
    c, h = as_role("admin")
    r = c.post("/api/closures", json={"geojson": area, "reason": "Flood"}, headers=h)
    assert r.status_code == 201
    cid = r.get_json()["closures"][0]["id"]
    cw, hw = as_role("caseworker")
    assert cw.post(f"/api/closures/{cid}/lift", headers=hw).status_code == 403
    assert c.post(f"/api/closures/{cid}/lift", headers=h).status_code == 200


@pytest.mark.parametrize(("body", "status"), [
    ({"geojson": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1],
                                                      [0, 0]]]}, "reason": "x"}, 400),
    ({"geojson": mapping(box(-40, 30, -39.9, 30.1)), "reason": "sea"}, 400),
    ({"geojson": mapping(box(-84, 39, -82, 41)), "reason": "all of it"}, 400),
    ({"geojson": {"type": "Point", "coordinates": [-83, 39.96]}, "reason": "x"}, 400),
    ({"geojson": {"type": "Polygon", "coordinates": "nope"}, "reason": "x"}, 400),
    ({"geojson": "AREA", "reason": ""}, 400),
    ({"geojson": "AREA", "reason": "x", "starts_at": "2026-03-01T12:00:00Z",
      "expires_at": "2026-03-01T11:00:00Z"}, 400),
    ({"geojson": "AREA", "reason": "x", "expires_at": "2026-03-01T11:00:00"}, 400),
    ({"geojson": "AREA", "reason": "x" * 501}, 400),
])
def test_bad_closures_get_a_clear_error_and_nothing_is_written(
        as_role: Any, columbus_graph: TravelGraph, body: dict[str, Any], status: int) -> None:
    c, h = as_role("dispatcher")
    if body["geojson"] == "AREA":
        body = {**body, "geojson": _area(columbus_graph)[0]}
    stored = len(c.get("/api/closures?include_inactive=true").get_json()["features"])
    r = c.post("/api/closures", json=body, headers=h)
    assert r.status_code == status, r.get_data(as_text=True)
    assert r.is_json and r.get_json()["error"]
    assert "Traceback" not in r.get_data(as_text=True)
    assert len(c.get("/api/closures?include_inactive=true").get_json()["features"]) == stored


def test_reasons_are_data_never_markup(as_role: Any, columbus_graph: TravelGraph) -> None:
    c, h = as_role("dispatcher")
    ids = []
    for i, payload in enumerate(PAYLOADS.values()):
        area, _ = _area(columbus_graph, d=0.0005 + i * 1e-4)
        r = c.post("/api/closures", json={"geojson": area, "reason": payload}, headers=h)
        assert r.status_code == 201, r.get_data(as_text=True)
        ids.append(r.get_json()["closures"][0]["id"])
    listed = c.get("/api/closures").get_json()
    assert {f["properties"]["reason"] for f in listed["features"]} == set(PAYLOADS.values())
    planner, _ = as_role("planner")
    admin, _ = as_role("admin")
    for client, page in ((planner, "/coverage"), (c, "/dispatch"), (admin, "/admin")):
        html = client.get(page).get_data(as_text=True)
        outside = without_json_blocks(html)
        for payload in PAYLOADS.values():
            assert payload not in outside
        assert "Road closures in effect" in html
        if page != "/dispatch":  # the closures layer is a JSON data block, reasons as text
            assert set(PAYLOADS.values()) <= set().union(*map(strings, json_blocks(html)))
    for cid in ids:
        assert c.post(f"/api/closures/{cid}/lift", headers=h).status_code == 200


def test_a_client_inside_a_closed_area_is_told(as_role: Any,
                                              columbus_graph: TravelGraph) -> None:
    c, h = as_role("dispatcher")
    area, (lon, lat) = _area(columbus_graph)
    cid = c.post("/api/closures", json={"geojson": area, "reason": "Chemical spill"},
                 headers=h).get_json()["closures"][0]["id"]
    r = c.post("/api/incidents", json={"lon": lon, "lat": lat, "crisis_type": "mental_health"},
               headers=h)
    body = r.get_json()
    assert r.status_code == 201, body
    assert body["closures_in_effect"] is True and body["closures_count"] == 1
    assert len(body["closure_notes"]) == 1 and "Chemical spill" in body["closure_notes"][0]
    ranked = _rank(c, h, body["id"])
    assert ranked["closures_in_effect"] is True and ranked["options"][0]["eta_s"] > 0
    c.post(f"/api/incidents/{body['id']}/status", json={"status": "cancelled"}, headers=h)
    pl, hp = as_role("planner")
    iso = pl.post("/api/isochrone", json={"lon": lon, "lat": lat, "minutes": [5]}, headers=hp)
    assert iso.get_json()["closures_in_effect"] is True
    cmp = pl.post("/api/coverage/compare", json={"kind": "team_bases", "closures": True,
                                                 "targets_min": [5.0, 10.0]}, headers=hp)
    assert cmp.status_code == 200, cmp.get_data(as_text=True)
    found = cmp.get_json()
    assert found["closures_compared"] is True and found["closures_in_effect"] is True
    assert [row["target_min"] for row in found["units_losing_coverage"]] == [5.0, 10.0]
    lost = sum(row["newly_uncovered"] for row in found["targets"])
    assert lost == pytest.approx(sum(r["people"] for r in found["units_losing_coverage"]))
    same = pl.post("/api/coverage/compare", json={"kind": "team_bases",
                                                  "targets_min": [5.0, 10.0]}, headers=hp)
    assert all(r["units"] == 0 for r in same.get_json()["units_losing_coverage"])
    assert c.post(f"/api/closures/{cid}/lift", headers=h).status_code == 200


def test_geojson_upload(as_role: Any, columbus_graph: TravelGraph) -> None:
    import io
    import json

    c, h = as_role("dispatcher")
    area, _ = _area(columbus_graph)
    data = json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": area, "properties": {"reason": "Storm damage"}}]})
    r = c.post("/api/closures/import", headers=h, content_type="multipart/form-data",
               data={"file": (io.BytesIO(data.encode()), "c.geojson"), "reason": ""})
    assert r.status_code == 201, r.get_data(as_text=True)
    cid = r.get_json()["closures"][0]["id"]
    assert r.get_json()["closures"][0]["reason"] == "Storm damage"
    bad = c.post("/api/closures/import", headers=h, content_type="multipart/form-data",
                 data={"file": (io.BytesIO(b"{nope"), "c.geojson")})
    assert bad.status_code == 400 and bad.is_json
    assert c.post(f"/api/closures/{cid}/lift", headers=h).status_code == 200
