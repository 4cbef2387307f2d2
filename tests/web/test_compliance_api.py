"""Compliance over HTTP: areas API (roles, bad input writes nothing), the report as JSON / CSV,
and the page with its server-side SVG chart, where hostile area names stay text."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from shapely.geometry import box, mapping
from xss_payloads import PAYLOADS

from navigator.model import TeamStatus

Role = Callable[[str], tuple[FlaskClient, dict[str, str]]]
TARGETS = {"1": 600, "2": 1200, "3": 2400, "4": 4800}


def _feature(name: str, bounds: tuple[float, ...], targets: Any = None,
             **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": mapping(box(*bounds)),
            "properties": {"name": name, "class": "urban", "targets_s": targets or TARGETS,
                           **props}}


def _collection(*features: dict[str, Any]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


def _around(app: Flask, i: int, half: float = 0.004) -> tuple[float, float, float, float]:
    graph = app.extensions["navigator"].graph
    node = int(np.argsort(graph.lon)[graph.n_nodes // 2 + 37 * i])
    lon, lat = float(graph.lon[node]), float(graph.lat[node])
    return (lon - half, lat - half, lon + half, lat + half)


def _dispatch(as_role: Role, app: Flask, at: tuple[float, float], priority: int = 1) -> None:
    c, headers = as_role("dispatcher")
    store = app.extensions["navigator"].store
    r = c.post("/api/incidents", json={"lon": at[0], "lat": at[1], "priority": priority,
                                       "crisis_type": "welfare_check"}, headers=headers)
    assert r.status_code == 201, r.get_json()
    team = store.teams(statuses=[TeamStatus.AVAILABLE])["id"].iloc[0]
    r = c.post("/api/assignments", json={"incident_id": r.get_json()["id"], "team_id": team},
               headers=headers)
    assert r.status_code == 201, r.get_json()
    assert c.post(f"/api/teams/{team}/status", json={"status": "on_scene"},
                  headers=headers).status_code == 200


def test_areas_api_roles_import_list_delete(app: Flask, as_role: Role,
                                            client: FlaskClient) -> None:
    planner, p_headers = as_role("planner")
    dispatcher, d_headers = as_role("dispatcher")
    caseworker, _ = as_role("caseworker")
    listed = dispatcher.get("/api/compliance-areas").get_json()
    assert {f["id"] for f in listed["features"]} == {"demo-core", "demo-rest"}
    assert listed["features"][0]["properties"]["targets_s"]["1"] == 900.0
    assert caseworker.get("/api/compliance-areas").status_code == 403
    assert client.get("/api/compliance-areas").status_code == 401
    body = {"geojson": _collection(_feature("Test area", _around(app, 0), id="t-1"))}
    assert dispatcher.post("/api/compliance-areas", json=body,
                           headers=d_headers).status_code == 403
    r = planner.post("/api/compliance-areas", json=body, headers=p_headers)
    assert r.status_code == 201, r.get_json()
    assert {f["id"] for f in r.get_json()["features"]} == {"demo-core", "demo-rest", "t-1"}
    assert planner.post("/api/compliance-areas", json=body,
                        headers=p_headers).status_code == 409
    store = app.extensions["navigator"].store
    assert store.audit_log(limit=1)[0].action == "import_compliance_areas"
    assert dispatcher.delete("/api/compliance-areas/t-1", headers=d_headers).status_code == 403
    r = planner.delete("/api/compliance-areas/t-1", headers=p_headers)
    assert r.status_code == 200 and r.get_json()["name"] == "Test area"
    assert planner.delete("/api/compliance-areas/t-1", headers=p_headers).status_code == 404
    assert store.audit_log(limit=1)[0].action == "delete_compliance_area"


@pytest.mark.parametrize(("geojson", "says"), [
    ({"type": "Point", "coordinates": [-83.0, 39.96]}, "not one of"),
    ({"type": "Feature", "properties": {"name": "Bow", "class": "u", "targets_s": TARGETS},
      "geometry": {"type": "Polygon", "coordinates": [[[-83.0, 39.95], [-82.98, 39.97],
                                                       [-82.98, 39.95], [-83.0, 39.97],
                                                       [-83.0, 39.95]]]}}, "invalid"),
    (_feature("Far", (-40.0, 30.0, -39.0, 31.0)), "no road"),
    (_feature("P7", (-83.0, 39.95, -82.98, 39.97), {**TARGETS, "7": 60}), "unknown priority"),
    (_feature("Neg", (-83.0, 39.95, -82.98, 39.97), {**TARGETS, "1": -60}), "priority 1"),
    (_feature("Big", (-83.0, 39.95, -82.98, 39.97), {**TARGETS, "2": 1e7}), "at most"),
    (_feature("Few", (-83.0, 39.95, -82.98, 39.97), {"1": 60}), "no target for priority"),
    (_feature("", (-83.0, 39.95, -82.98, 39.97)), "name"),
])
def test_bad_areas_are_400_and_write_nothing(app: Flask, as_role: Role, geojson: Any,
                                             says: str) -> None:
    planner, headers = as_role("planner")
    store = app.extensions["navigator"].store
    before = (len(store.compliance_areas()), len(store.audit_log(limit=10_000)))
    ok = _feature("Fine", (-83.0, 39.95, -82.98, 39.97), id="fine")
    body = _collection(ok, geojson) if geojson.get("type") == "Feature" else geojson
    r = planner.post("/api/compliance-areas", json={"geojson": body}, headers=headers)
    assert r.status_code == 400, r.get_json()
    assert says in r.get_json()["message"]
    assert (len(store.compliance_areas()), len(store.audit_log(limit=10_000))) == before


def test_report_api_periods_and_formats(app: Flask, as_role: Role) -> None:
    _dispatch(as_role, app, (-82.995, 39.965))  # downtown: the demo's urban core
    dispatcher, _ = as_role("dispatcher")
    data = dispatcher.get("/api/dispatch/compliance").get_json()
    assert data["timezone"] == "America/New_York" and data["min_arrivals"] == 5
    assert data["synthetic_dispatches"] == 0
    (core,) = [r for r in data["rows"] if r["area_id"] == "demo-core" and r["priority"] == 1]
    assert (core["dispatched"], core["arrived"], core["few"], core["target_s"]) == (
        1, 1, True, 900.0)
    assert core["area_class"] == "urban" and core["p50_s"] < 60
    r = dispatcher.get("/api/dispatch/compliance?format=csv")
    assert r.mimetype == "text/csv" and "demo-core,Downtown core (demo),urban,yes" in r.text
    # naive times are the area's local time; a period with no dispatch is 404
    r = dispatcher.get("/api/dispatch/compliance?start=2020-01-01T00:00&end=2020-01-02T00:00")
    assert r.status_code == 404 and "-05:00" in r.get_json()["message"]
    for bad in ("start=2030-01-01T00:00", "start=2026-12-02T00:00&end=2026-12-01T00:00",
                "targets=1=-5", "targets=9=10", "end=tomorrow"):
        r = dispatcher.get("/api/dispatch/compliance?" + bad)
        assert r.status_code == 400, (bad, r.get_json())


def test_page_renders_table_and_chart_with_hostile_names_as_text(app: Flask,
                                                                 as_role: Role) -> None:
    planner, headers = as_role("planner")
    names = {key: value[:200] for key, value in PAYLOADS.items()}
    features = [_feature(name, _around(app, i, half=0.002 + 0.0001 * i), id=f"x-{key}")
                for i, (key, name) in enumerate(names.items())]
    r = planner.post("/api/compliance-areas", json={"geojson": _collection(*features)},
                     headers=headers)
    assert r.status_code == 201, r.get_json()
    graph = app.extensions["navigator"].graph
    lon0, lat0, lon1, lat1 = _around(app, 0, half=0.002)
    inside = np.flatnonzero((graph.lon > lon0) & (graph.lon < lon1) & (graph.lat > lat0)
                            & (graph.lat < lat1))
    _dispatch(as_role, app, (float(graph.lon[inside[0]]), float(graph.lat[inside[0]])), 2)
    dispatcher, _ = as_role("dispatcher")
    r = dispatcher.get("/compliance")
    assert r.status_code == 200
    page = r.text
    assert page.count("<svg") == 1 and 'class="share-chart"' in page
    assert re.search(r'<rect class="bar[^"]*"', page)
    assert 'id="compliance-table"' in page and "few" in page
    for name in names.values():
        assert str(escape(name)) in page, name  # as Jinja escapes it: text, shown
    assert "<img src=x" not in page and "<svg onload" not in page
    assert "<script>window" not in page
    # every <script> on the page is the app's own, by source, with no inline code
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page) == []
    assert 'href="/api/dispatch/compliance?' in page and "format=csv" in page
    assert dispatcher.get("/compliance?start=&end=&targets=").status_code == 200
    # bad and empty periods: the page says so, with the status
    r = dispatcher.get("/compliance?start=2026-12-02T00:00&end=2026-12-01T00:00")
    assert r.status_code == 400 and 'id="compliance-error"' in r.text
    assert "end after it starts" in r.text
    r = dispatcher.get("/compliance?start=2020-01-01T00:00&end=2020-01-02T00:00")
    assert r.status_code == 404 and "no dispatch" in r.text
    caseworker, _ = as_role("caseworker")
    assert caseworker.get("/compliance").status_code == 403
