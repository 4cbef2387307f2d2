"""The planner coverage view through Flask's test client: population figures, gaps, scenario
comparison and location-allocation, validation, roles and confidentiality."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from flask import Flask
from flask.testing import FlaskClient
from webhelpers import ROLES, csrf_of

from navigator.services import planner as cs
from navigator.services import reports

Client = Callable[[str], tuple[FlaskClient, dict[str, str]]]
ROUTES = ("/api/coverage", "/api/coverage/compare", "/api/coverage/recommend",
          "/api/coverage/export")
TARGETS_S = (900.0, 1800.0, 3600.0)


@pytest.fixture(scope="module")
def planner(app: Flask) -> tuple[FlaskClient, dict[str, str]]:
    from webhelpers import login

    c = app.test_client()
    return c, {"X-CSRFToken": login(c, "planner")}


def _post(planner: tuple[FlaskClient, dict[str, str]], path: str, body: Any) -> Any:
    c, headers = planner
    r = c.post(path, json=body, headers=headers)
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.get_json()


def _demand(app: Flask) -> reports.Demand:
    n = app.extensions["navigator"]
    return reports.demand_units(n.graph, n.settings.data_dir / "population"
                                / "franklin_bg2010_population.gpkg")


def test_figures_equal_coverage_service(app: Flask, planner: Any) -> None:
    n = app.extensions["navigator"]
    got = _post(planner, "/api/coverage", {"kind": "shelters", "target_min": 10})
    run = cs.facility_surface(n.store, n.graph, kind="shelters")
    want = reports.coverage_report(n.graph, run, _demand(app), targets_s=(600.0, *TARGETS_S),
                                   gap_target_s=600.0)
    pop = got["population"]
    assert [t["target_min"] for t in pop["targets"]] == [10, 15, 30, 60]  # the gap target too
    np.testing.assert_allclose([t["people_covered"] for t in pop["targets"]],
                               want.coverage.people_covered)
    np.testing.assert_allclose([t["people_uncovered"] for t in pop["targets"]],
                               want.coverage.people_uncovered)
    assert pop["total_people"] == pytest.approx(want.coverage.total_people)
    for t in pop["targets"]:
        assert t["share_covered"] + t["share_uncovered"] == pytest.approx(1.0)
    assert pop["clip_note"] == ("415 block groups (648,983 people) outside the road network "
                                "area are excluded")
    # gaps: the service's, ranked by people, as an RFC 7946 FeatureCollection with bboxes
    gaps = got["gaps"]
    assert gaps["type"] == "FeatureCollection" and len(gaps["features"]) == min(10,
                                                                               len(want.gaps))
    people = [f["properties"]["people_uncovered"] for f in gaps["features"]]
    np.testing.assert_allclose(people, want.gaps["people_uncovered"].head(10))
    assert people == sorted(people, reverse=True) and people[0] > 0
    for f in gaps["features"]:
        assert f["type"] == "Feature" and f["geometry"]["type"] in ("Polygon", "MultiPolygon")
        west, south, east, north = f["bbox"]
        assert -84 < west < east < -82 and 39 < south < north < 41
    assert got["summary"]["people_beyond_target"] == pytest.approx(
        want.gaps["people_uncovered"].sum())
    assert len(got["features"]) == len(want.hexes) == got["summary"]["hexes"]
    assert len(got["facilities"]["features"]) == len(run.facilities)


def test_demand_is_loaded_once_per_app(app: Flask, planner: Any) -> None:
    _post(planner, "/api/coverage", {})
    ctx = app.extensions["navigator"]
    first = ctx.cached("demand", lambda: pytest.fail("the demand was not kept"))
    _post(planner, "/api/coverage", {"kind": "clinics"})
    assert ctx.cached("demand", lambda: pytest.fail("the demand was not kept")) is first


def test_time_of_day_and_bed_type_narrow_the_facilities(planner: Any) -> None:
    every = _post(planner, "/api/coverage", {"kind": "shelters"})["summary"]["facilities"]
    night = _post(planner, "/api/coverage", {"kind": "shelters", "bed_type": "single_men",
                                             "at": "2026-11-23T03:00:00-05:00"})
    assert 0 < night["summary"]["facilities"] <= every
    assert any("closed at" in note for note in night["summary"]["notes"])


def test_closing_a_facility_never_increases_people_covered(planner: Any) -> None:
    fac = _post(planner, "/api/coverage", {"kind": "shelters"})["facilities"]["features"]
    for f in fac[:4]:
        got = _post(planner, "/api/coverage/compare", {"kind": "shelters", "close": [f["id"]]})
        assert got["facilities_after"] == got["facilities_before"] - 1
        for t in got["targets"]:
            assert t["covered_after"] <= t["covered_before"] + 1e-6
            assert t["newly_covered"] == 0 and t["newly_uncovered"] >= 0
            assert t["covered_before"] - t["newly_uncovered"] == pytest.approx(
                t["covered_after"])
        assert all(p["properties"]["delta_s"] is None or p["properties"]["delta_s"] > 0
                   for p in got["features"])


def test_adding_a_base_never_decreases_people_covered(app: Flask, planner: Any) -> None:
    graph = app.extensions["navigator"].graph
    gap = _post(planner, "/api/coverage", {"kind": "shelters", "target_min": 5})[
        "gaps"]["features"][0]["bbox"]
    node = int(np.argmin(np.hypot(graph.lon - (gap[0] + gap[2]) / 2,
                                  graph.lat - (gap[1] + gap[3]) / 2)))
    at = [round(float(graph.lon[node]), 6), round(float(graph.lat[node]), 6)]
    got = _post(planner, "/api/coverage/compare", {
        "kind": "shelters", "targets_min": [5, 10], "add": [{"lon": at[0], "lat": at[1]}]})
    assert got["facilities_after"] == got["facilities_before"] + 1
    assert got["added"]["features"][0]["geometry"]["coordinates"] == at
    gained = [t["newly_covered"] for t in got["targets"]]
    assert all(t["covered_after"] >= t["covered_before"] and t["newly_uncovered"] == 0
               for t in got["targets"])
    assert max(gained) > 0 and got["features"]
    assert all(f["properties"]["delta_s"] is None or f["properties"]["delta_s"] < 0
               for f in got["features"])


def test_recommend_never_decreases_coverage_and_mclp_beats_greedy(planner: Any) -> None:
    prev = -1.0
    for k in (1, 2, 3):
        got = _post(planner, "/api/coverage/recommend",
                    {"kind": "shelters", "k": k, "target_min": 5})
        assert len(got["sites"]["features"]) == k
        assert got["people_covered_after"] >= got["people_covered_before"]
        assert got["people_covered_after"] >= prev
        assert got["objective"] >= got["greedy_objective"] - 1e-6
        assert got["people_covered_after"] >= got["greedy_people_covered"] - 1e-6
        assert got["people_covered_after"] == pytest.approx(got["objective"])
        assert got["status"] == "Optimal" and got["solve_time_s"] < 5
        prev = got["people_covered_after"]
    assert prev > got["people_covered_before"]


def test_recommend_skips_sites_already_in_use(planner: Any) -> None:
    fac = {f["id"] for f in _post(planner, "/api/coverage", {"kind": "clinics"})[
        "facilities"]["features"]}
    got = _post(planner, "/api/coverage/recommend",
                {"kind": "clinics", "k": 2, "candidates": ["clinic", "hospital", "team_base"]})
    chosen = {f["id"] for f in got["sites"]["features"]}
    assert chosen and not chosen & fac
    p_median = _post(planner, "/api/coverage/recommend",
                     {"kind": "shelters", "k": 2, "model": "p_median", "target_min": 5})
    assert p_median["people_covered_after"] >= p_median["people_covered_before"]


@pytest.mark.parametrize("path", ROUTES)
@pytest.mark.parametrize("raw", [
    '{"kind": "hospitals"}', '{"target_min": NaN}', '{"targets_min": [15, Infinity]}',
    '{"target_min": 0}', '{"target_min": 500}', '{"kind": "clinics", "bed_type": "dv"}',
    '{"at": "2026-01-01T10:00:00"}', '{"at": "1000-01-01T00:00:00Z"}', '{"nope": 1}',
    '{"closed": ["<script>"]}', '[]', 'not json',
])
def test_invalid_bodies_are_400_json(planner: Any, path: str, raw: str) -> None:
    c, headers = planner
    r = c.post(path, data=raw, headers={**headers, "Content-Type": "application/json"})
    assert r.status_code == 400 and r.is_json, (path, raw, r.get_data(as_text=True))
    assert r.get_json()["error"] == "RequestInvalid"


@pytest.mark.parametrize(("path", "body"), [
    ("/api/coverage/recommend", {"k": 11}), ("/api/coverage/recommend", {"k": 0}),
    ("/api/coverage/recommend", {"candidates": []}),
    ("/api/coverage/recommend", {"candidates": ["dv_site"]}),
    ("/api/coverage/recommend", {"model": "mexclp", "busy": {"station": 1.0}}),
    ("/api/coverage/recommend", {"model": "mexclp", "busy": {"station": -0.1}}),
    ("/api/coverage/compare", {"add": [{"lon": 200, "lat": 40}]}),
    ("/api/coverage/compare", {"close": ["no-such-site"]}),
    ("/api/coverage/compare", {"close": [f"x{i}" for i in range(11)]}),
    ("/api/coverage", {"closed": ["no-such-site"]}),
    ("/api/coverage", {"resolution": 12}),
])
def test_out_of_range_and_unknown_inputs_are_4xx(planner: Any, path: str, body: Any) -> None:
    c, headers = planner
    r = c.post(path, json=body, headers=headers)
    assert r.status_code == 400 and r.is_json, r.get_data(as_text=True)


def test_stations_hosting_no_team_are_candidate_bases(planner: Any) -> None:
    c, headers = planner
    r = c.post("/api/coverage/recommend", json={"kind": "team_bases", "k": 2, "target_min": 10,
                                                "candidates": ["team_base"]}, headers=headers)
    assert r.status_code == 200, r.get_data(as_text=True)
    body = r.get_json()
    assert body["existing"] == 4 and body["candidates"] > 30
    assert body["people_covered_after"] > body["people_covered_before"]
    ids = {f["id"] for f in body["sites"]["features"]}
    assert len(ids) == 2 and all(f["properties"]["kind"] == "team_base"
                                 for f in body["sites"]["features"])


def test_recommend_mexclp_takes_busy_fractions_per_base(planner: Any) -> None:
    c, headers = planner
    ask = {"kind": "team_bases", "k": 1, "target_min": 5, "model": "mexclp",
           "candidates": ["team_base"]}
    plain = _post(planner, "/api/coverage/recommend", ask)
    base = _post(planner, "/api/coverage", {"kind": "team_bases"})["facilities"]["features"][0]
    idle = _post(planner, "/api/coverage/recommend", {**ask, "busy": {base["id"]: 0.0}})
    assert idle["status"] == "Optimal" and idle["objective"] > plain["objective"]
    r = c.post("/api/coverage/recommend", json={**ask, "busy": {"<img src=x>": 0.2}},
               headers=headers)
    assert r.status_code in (400, 422) and r.is_json
    assert "no such base" in r.get_json()["message"]


def test_recommend_mexclp_takes_busy_fractions_from_a_saved_run(planner: Any) -> None:
    c, headers = planner
    ask = {"kind": "team_bases", "k": 1, "target_min": 5, "model": "mexclp",
           "candidates": ["team_base"]}
    bases = [f["id"] for f in _post(planner, "/api/coverage",
                                    {"kind": "team_bases"})["facilities"]["features"]]
    saved = {"region": "columbus", "seed": 4, "days": 7.0, "calls": 350, "source": "synthetic",
             "policies": [{"policy": "closest"}, {"policy": "batch"}],
             "busy_by_base": {"closest": {b: 0.5 for b in bases},
                              "batch": {bases[0]: 0.0}}}
    by_hand = _post(planner, "/api/coverage/recommend",
                    {**ask, "busy": {b: 0.5 for b in bases}})
    got = _post(planner, "/api/coverage/recommend", {**ask, "busy_from": saved})
    assert got["objective"] == pytest.approx(by_hand["objective"])
    assert any("policy closest, seed 4, 7 days, 350 calls" in n for n in got["notes"])
    assert any("the setting, busy" in n for n in got["notes"])
    batch = _post(planner, "/api/coverage/recommend",
                  {**ask, "busy_from": saved, "busy_policy": "batch"})
    assert any("policy batch, seed 4" in n and f"{bases[0]} 0.0%" in n
               for n in batch["notes"])
    for change, fragment in [({"region": "imperial"}, "is of region 'imperial'"),
                             ({"busy_by_base": {"closest": {bases[0]: 1}}}, "in [0, 1)"),
                             ({"busy_by_base": {"closest": {"elsewhere": 0.1}}},
                              "not in this store")]:
        r = c.post("/api/coverage/recommend", json={**ask, "busy_from": {**saved, **change}},
                   headers=headers)
        assert r.status_code in (400, 422) and fragment in r.get_json()["message"], change


def test_a_new_base_off_the_network_is_422(planner: Any) -> None:
    c, headers = planner
    r = c.post("/api/coverage/compare", json={"add": [{"lon": 2.35, "lat": 48.85}]},
               headers=headers)
    assert r.status_code == 422 and r.get_json()["error"] == "UnreachableError"


@pytest.mark.parametrize("role", ["dispatcher", "caseworker"])
@pytest.mark.parametrize("path", ROUTES)
def test_other_roles_are_403(as_role: Client, role: str, path: str) -> None:
    c, headers = as_role(role)
    r = c.post(path, json={}, headers=headers)
    assert r.status_code == 403 and r.get_json()["error"] == "Forbidden"


def test_admin_may_plan_and_anonymous_is_401(as_role: Client, client: FlaskClient) -> None:
    c, headers = as_role("admin")
    for path in ROUTES:
        assert c.post(path, json={"kind": "shelters"}, headers=headers).status_code == 200
        r = client.post(path, json={})  # no session, so no CSRF token: refused first
        assert r.status_code == 400 and "CSRF" in r.get_json()["message"]
        r = client.post(path, json={}, headers={"X-CSRFToken": csrf_of(client)})
        assert r.status_code == 401 and r.get_json()["error"] == "Unauthorized"


def test_routes_are_in_the_openapi_document(client: FlaskClient) -> None:
    paths = client.get("/openapi.json").get_json()["paths"]
    for path in ROUTES:
        op = paths[path]["post"]
        assert "planner" in op["description"] and "400" in op["responses"]
    schema = client.get("/openapi.json").get_json()["components"]["schemas"]
    assert schema["RecommendRequest"]["properties"]["k"]["maximum"] == 10


def test_audit_records_plans(app: Flask, planner: Any) -> None:
    _post(planner, "/api/coverage/recommend", {"kind": "shelters", "k": 1})
    entry = app.extensions["navigator"].store.audit_log(action="coverage_recommend")[0]
    assert entry.actor == "planner" and entry.inputs["k"] == 1


# -- confidentiality: the DV site never reaches a role without access -----------------------
def _dv(app: Flask) -> Any:
    res = app.extensions["navigator"].store.resources()
    return res[res["confidential"]].iloc[0]


def _leaks(body: str, dv: Any) -> list[str]:
    found = [s for s in (dv["id"], dv["name"], dv["address"]) if s and s in body]
    x, y = dv.geometry.x, dv.geometry.y
    for d in (4, 5, 6):
        for v in (f"{x:.{d}f}", f"{y:.{d}f}"):
            if re.search(re.escape(v) + r"(?![0-9])", body):
                found.append(v)
    return found


def _planner_bodies(dv: Any) -> dict[str, list[dict[str, Any]]]:
    near = {"lon": round(dv.geometry.x + 0.003, 4), "lat": round(dv.geometry.y - 0.002, 4)}
    every_kind = ["team_base", "clinic", "hospital", "crisis_unit", "shelter"]
    return {
        "/api/coverage": [{"kind": k} for k in ("shelters", "all")]
        + [{"kind": "shelters", "bed_type": "dv"}, {"kind": "shelters", "resolution": 9}],
        "/api/coverage/compare": [{"kind": "shelters", "add": [near]},
                                  {"kind": "all", "add": [near]}],
        "/api/coverage/recommend": [{"kind": "shelters", "k": 10, "candidates": every_kind},
                                    {"kind": "shelters", "k": 10, "target_min": 2,
                                     "candidates": ["shelter"]}],
    }


@pytest.mark.parametrize("role", ROLES)
def test_dv_site_never_reaches_planner_routes(as_role: Client, app: Flask, role: str) -> None:
    """Every role (admin too: surfaces leave confidential sites out) on every new route."""
    dv = _dv(app)
    c, headers = as_role(role)
    leaks = {}
    for path, bodies in _planner_bodies(dv).items():
        for body in bodies:
            r = c.post(path, json=body, headers=headers)
            assert r.status_code in ((200, 400) if role in ("planner", "admin") else (403,)), (
                path, body, r.get_data(as_text=True))
            if found := _leaks(r.get_data(as_text=True), dv):
                leaks[f"{path} {json.dumps(body)}"] = found
    page = c.get("/coverage").get_data(as_text=True)
    if found := _leaks(page, dv):
        leaks["/coverage"] = found
    assert leaks == {}


@pytest.mark.parametrize(("fmt", "media", "suffix"), [
    ("gpkg", "application/geopackage+sqlite3", ".gpkg"),
    ("geojson", "application/geo+json", ".geojson"),
    ("csv", "text/csv", ".csv"),
])
def test_exports_download_as_files(app: Flask, planner: Any, tmp_path: Any, fmt: str,
                                   media: str, suffix: str) -> None:
    import geopandas as gpd
    import pandas as pd

    c, headers = planner
    body = {"kind": "team_bases", "target_min": 10, "format": fmt}
    r = c.post("/api/coverage/export", json=body, headers=headers)
    assert r.status_code == 200 and r.mimetype == media, r.get_data(as_text=True)[:300]
    disposition = r.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and disposition.endswith(f'{suffix}"')
    path = tmp_path / f"export{suffix}"
    path.write_bytes(r.get_data())
    summary = _post(planner, "/api/coverage", {"kind": "team_bases", "target_min": 10})
    if fmt == "gpkg":
        assert set(gpd.list_layers(path)["name"]) == {"hexes", "units", "gaps", "facilities"}
        hexes = gpd.read_file(path, layer="hexes")
        assert len(hexes) == summary["summary"]["hexes"] and hexes.crs.to_epsg() == 4326
        assert int(hexes["gap"].sum()) == summary["summary"]["gap_hexes"] > 0
        assert len(gpd.read_file(path, layer="facilities")) == 4
    elif fmt == "geojson":
        text = path.read_text()
        assert "Infinity" not in text and "NaN" not in text
        assert len(json.loads(text)["features"]) == summary["summary"]["hexes"]
    else:
        units = pd.read_csv(path)
        assert {"population", "time_s", "lon", "lat"} <= set(units.columns)
        assert units["population"].sum() == pytest.approx(
            summary["population"]["total_people"])
        beyond = units.loc[~(units["time_s"] <= 600), "population"].sum()
        assert beyond == pytest.approx(summary["summary"]["people_beyond_target"])


def test_export_rejects_unknown_format(planner: Any) -> None:
    c, headers = planner
    r = c.post("/api/coverage/export", json={"format": "shp"}, headers=headers)
    assert r.status_code == 400 and r.is_json
