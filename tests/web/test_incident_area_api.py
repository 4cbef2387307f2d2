"""Area intake over the API (issue 13): create by radius or GeoJSON, rank, refine, bad input."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

Client = Callable[[str], tuple[FlaskClient, dict[str, str]]]
LON, LAT = -82.99, 39.96
BASE = {"crisis_type": "mental_health", "priority": 2}


def _square(lon: float, lat: float, half: float) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[
        [lon - half, lat - half], [lon + half, lat - half], [lon + half, lat + half],
        [lon - half, lat + half], [lon - half, lat - half]]]}


def test_radius_intake_rank_and_refine(as_role: Client, app: Flask) -> None:
    c, headers = as_role("dispatcher")
    r = c.post("/api/incidents", json={**BASE, "lon": LON, "lat": LAT, "radius_m": 800},
               headers=headers)
    assert r.status_code == 201, r.get_json()
    made = r.get_json()
    assert made["area_radius_m"] == 800 and made["area"]["type"] == "MultiPolygon"
    assert (made["lon"], made["lat"]) == (LON, LAT)
    listed = {f["id"]: f for f in c.get("/api/incidents").get_json()["features"]}
    assert listed[made["id"]]["properties"]["area"]["type"] == "MultiPolygon"
    ranking = c.post(f"/api/incidents/{made['id']}/rank", json={}, headers=headers).get_json()
    assert ranking["area"]["weighting"] == "uniform" and ranking["area"]["nodes"] > 0
    assert "expected" in ranking["message"]
    for o in ranking["options"]:
        assert o["eta_best_s"] <= o["eta_s"] <= o["eta_worst_s"]
    done = c.post(f"/api/incidents/{made['id']}/location", json={"lon": LON, "lat": LAT},
                  headers=headers)
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["area"] is None and done.get_json()["area_radius_m"] is None
    entry = app.extensions["navigator"].store.audit_log(limit=1)[0]
    assert entry.action == "set_incident_location" and entry.actor == "dispatcher"
    again = c.post(f"/api/incidents/{made['id']}/rank", json={}, headers=headers).get_json()
    assert again["area"] is None


def test_polygon_intake_without_a_point(as_role: Client) -> None:
    c, headers = as_role("dispatcher")
    r = c.post("/api/incidents", json={**BASE, "area": {"type": "Feature", "properties": {},
                                                        "geometry": _square(LON, LAT, 0.005)}},
               headers=headers)
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["lon"] == pytest.approx(LON)


def _deep(depth: int) -> list[Any]:
    value: list[Any] = [LON, LAT]
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(("extra", "status", "fragment"), [
    ({"lon": LON, "lat": LAT, "radius_m": 0}, 400, "radius_m"),
    ({"lon": LON, "lat": LAT, "radius_m": 1e9}, 400, "radius_m"),
    ({"radius_m": 500}, 400, "lon"),
    ({"area": {"type": "Polygon", "coordinates": [[[LON, LAT], [LON + 0.01, LAT + 0.01],
                                                   [LON + 0.01, LAT], [LON, LAT + 0.01],
                                                   [LON, LAT]]]}}, 400, "invalid polygon"),
    ({"area": {"type": "Polygon", "coordinates": [[[LON, LAT], [LON, LAT]]]}}, 400, "area"),
    ({"area": _square(LON, LAT, 0.4)}, 400, "km across"),
    ({"area": _square(-40.0, 35.0, 0.01)}, 422, "no road node"),
    ({"area": {"type": "Polygon", "coordinates": "</script><img src=x onerror=alert(1)>"}},
     400, "area"),
    ({"lon": LON, "lat": LAT, "radius_m": 300, "area": _square(LON, LAT, 0.01)}, 400,
     "not both"),
    ({"lon": LON, "lat": LAT, "radius_m": 1e-300}, 400, "too small"),
    ({"lon": LON, "lat": LAT, "radius_m": True}, 400, "radius_m"),  # review: was a 1 m circle
    ({"area": {"type": "Polygon", "coordinates": _deep(900)}}, 400, "nested deeper"),
])
def test_bad_areas_are_4xx_and_nothing_is_written(as_role: Client, app: Flask,
                                                  extra: dict[str, Any], status: int,
                                                  fragment: str) -> None:
    c, headers = as_role("dispatcher")
    store = app.extensions["navigator"].store
    before, last = len(store.incidents()), store.audit_log(limit=1)[0].id
    r = c.post("/api/incidents", json={**BASE, **extra}, headers=headers)
    assert r.status_code == status, r.get_json()
    assert fragment in str(r.get_json())
    assert len(store.incidents()) == before and store.audit_log(limit=1)[0].id == last


def test_location_bad_input_writes_nothing(as_role: Client, app: Flask) -> None:
    c, headers = as_role("dispatcher")
    made = c.post("/api/incidents", json={**BASE, "lon": LON, "lat": LAT, "radius_m": 600},
                  headers=headers).get_json()
    store = app.extensions["navigator"].store
    last = store.audit_log(limit=1)[0].id
    for body, status in (({"lon": -40.0, "lat": 35.0}, 422), ({"lon": LON}, 400),
                         ({"lon": 200.0, "lat": LAT}, 400)):
        r = c.post(f"/api/incidents/{made['id']}/location", json=body, headers=headers)
        assert r.status_code == status, r.get_json()
    assert c.post("/api/incidents/nope/location", json={"lon": LON, "lat": LAT},
                  headers=headers).status_code == 404
    assert store.audit_log(limit=1)[0].id == last and store.incident(made["id"]).is_area
    viewer, vh = as_role("caseworker")
    assert viewer.post(f"/api/incidents/{made['id']}/location", json={"lon": LON, "lat": LAT},
                       headers=vh).status_code == 403
