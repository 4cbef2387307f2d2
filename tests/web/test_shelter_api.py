"""Shelter staff and referral API: bed reports, 403 for other sites, census, holds, episodes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from web.context import app_context

Client = Callable[[str], tuple[FlaskClient, dict[str, str]]]


def _site(app: Flask) -> tuple[str, str, Any]:
    """Return (the shelter login's site, another shelter, the site's registry entry)."""
    with app.app_context():
        store = app_context().store
        mine = store.user_sites("shelter")[0]
        other = next(r for r in store.beds()["resource_id"] if r != mine)
        return mine, other, store.site_beds(mine)


def _body(site: Any, **over: Any) -> dict[str, Any]:
    counts = {b.bed_type.value: {"capacity": b.capacity, "occupied": b.occupied,
                                 "out_of_service": 0} for b in site.beds}
    return {"counts": counts, "status": "open", "note": "", **over}


def test_staff_report_their_site_and_get_403_elsewhere(app: Flask, as_role: Client) -> None:
    mine, other, site = _site(app)
    c, h = as_role("shelter")
    r = c.put(f"/api/resources/{mine}/beds", json=_body(site, note="two beds being cleaned"),
              headers=h)
    data = r.get_json()
    assert r.status_code == 200, data
    assert data["note"] == "two beds being cleaned" and data["beds"][0]["reported_by"] == "shelter"
    assert data["beds"][0]["fresh"] is True and "free" in data["beds"][0]
    r = c.put(f"/api/resources/{other}/beds", json=_body(site), headers=h)
    assert r.status_code == 403 and r.get_json()["error"] == "ForbiddenError"
    cw, ch = as_role("caseworker")
    assert cw.put(f"/api/resources/{mine}/beds", json=_body(site), headers=ch).status_code == 403
    assert c.get("/api/shelter/sites").get_json()["sites"][0]["resource_id"] == mine
    assert c.get("/shelter").status_code == 200


@pytest.mark.parametrize(("change", "where"), [
    ({"occupied": 10_000}, "occupied"), ({"occupied": -1}, "occupied"),
    ({"capacity": "ten"}, "capacity"), ({"free": 3}, "free"),
])
def test_bad_counts_are_400_naming_the_field(app: Flask, as_role: Client, change: Any,
                                             where: str) -> None:
    mine, _, site = _site(app)
    body = _body(site)
    first = next(iter(body["counts"]))
    body["counts"][first].update(change)
    c, h = as_role("shelter")
    r = c.put(f"/api/resources/{mine}/beds", json=body, headers=h)
    assert r.status_code == 400 and where in r.get_json()["message"], r.get_json()
    with app.app_context():
        assert app_context().store.site_beds(mine) == _site(app)[2]


def test_report_for_a_missing_bed_type_or_the_future_is_400(app: Flask,
                                                            as_role: Client) -> None:
    mine, _, site = _site(app)
    c, h = as_role("shelter")
    missing = next(t for t in ("youth", "families", "single_women", "dv", "single_men")
                   if t not in {b.bed_type.value for b in site.beds})
    body = _body(site)
    body["counts"][missing] = {"capacity": 2, "occupied": 0}
    r = c.put(f"/api/resources/{mine}/beds", json=body, headers=h)
    assert r.status_code == 400 and "bed_type" in r.get_json()["message"]
    r = c.put(f"/api/resources/{mine}/beds",
              json=_body(site, reported_at="2099-01-01T00:00:00+00:00"), headers=h)
    assert r.status_code == 400 and "future" in r.get_json()["message"]


def test_census_upload_all_or_nothing(app: Flask, as_role: Client) -> None:
    mine, _, site = _site(app)
    b = site.beds[0]
    c, h = as_role("shelter")
    header = "resource_id,bed_type,capacity,occupied\n"
    bad = f"{header}{mine},{b.bed_type.value},{b.capacity},{b.capacity}\n{mine},martian,1,0\n"
    r = c.post("/api/beds/census", data=bad, content_type="text/csv", headers=h)
    assert r.status_code == 400 and "row 3" in r.get_json()["message"]
    good = f"{header}{mine},{b.bed_type.value},{b.capacity},{b.capacity}\n"
    r = c.post("/api/beds/census", data=good, content_type="text/csv", headers=h)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["sites"][0]["beds"][0]["free"] == 0


def test_holds_listed_accepted_once_and_episode_board(app: Flask, as_role: Client) -> None:
    mine, _, site = _site(app)
    cw, ch = as_role("caseworker")
    staff, sh = as_role("shelter")
    free_type = next((x.bed_type.value for x in site.beds if x.free > 0), None)
    if free_type is None:
        pytest.skip("the demo shelter has no free bed")
    ep = cw.post("/api/episodes", json={"client_ref": "CASE-42"}, headers=ch).get_json()
    r = cw.post(f"/api/episodes/{ep['id']}/move", json={"state": "arrived"}, headers=ch)
    assert r.status_code == 409 and "is search" in r.get_json()["message"]
    # The hold for the same case reference links the caseworker's searching episode.
    hold = cw.post("/api/holds", json={"resource_id": mine, "bed_type": free_type,
                                       "client_ref": "CASE-42"}, headers=ch).get_json()
    assert (hold["episode_id"], hold["episode_state"]) == (ep["id"], "hold")
    mine_holds = cw.get("/api/holds").get_json()["holds"]
    assert [x["episode_id"] for x in mine_holds if x["id"] == hold["id"]] == [ep["id"]]
    assert cw.get("/api/holds?scope=all").status_code == 403
    r = cw.post(f"/api/episodes/{ep['id']}/move", json={"state": "hold", "hold_id": hold["id"]},
                headers=ch)
    assert r.status_code == 409 and "is hold" in r.get_json()["message"]
    incoming = staff.get("/api/holds?scope=site").get_json()["holds"]
    assert hold["id"] in [x["id"] for x in incoming]
    assert cw.post(f"/api/holds/{hold['id']}/accept", headers=ch).status_code == 403
    r = staff.post(f"/api/holds/{hold['id']}/accept", headers=sh)
    assert r.status_code == 200 and r.get_json()["response"] == "accepted"
    assert staff.post(f"/api/holds/{hold['id']}/accept", headers=sh).status_code == 409
    board = staff.get("/api/board").get_json()["episodes"]
    assert [e["state"] for e in board if e["id"] == ep["id"]] == ["accepted"]
    assert staff.get("/board").status_code == 200


def test_search_results_carry_freshness(as_role: Client) -> None:
    c, h = as_role("caseworker")
    r = c.post("/api/beds/search", json={"lon": -82.99, "lat": 39.96, "bed_type": "single_men",
                                         "max_time_min": 60}, headers=h)
    data = r.get_json()
    assert r.status_code == 200, data
    p = data["features"][0]["properties"]
    assert p["fresh"] is True and p["reported_at"] and p["reported_by"]
    assert "stale" in data


def test_board_moves_409_when_moved_first_and_403_for_staff(app: Flask, as_role: Client) -> None:
    mine, _, site = _site(app)
    cw, ch = as_role("caseworker")
    staff, sh = as_role("shelter")
    free_type = next((x.bed_type.value for x in site.beds if x.free > 0), None)
    if free_type is None:
        pytest.skip("the demo shelter has no free bed")
    for bad in ("<img src=x onerror=alert(1)>", "x" * 65):
        r = cw.post("/api/holds", json={"resource_id": mine, "bed_type": free_type,
                                        "client_ref": bad}, headers=ch)
        assert r.status_code == 400 and "client_ref" in r.get_data(as_text=True)
    r = cw.post("/api/holds", json={"resource_id": mine, "bed_type": free_type,
                                    "episode_id": "no-such-episode"}, headers=ch)
    assert r.status_code == 404
    hold = cw.post("/api/holds", json={"resource_id": mine, "bed_type": free_type,
                                       "client_ref": "CASE-77"}, headers=ch).get_json()
    ep = hold["episode_id"]
    entry = next(e for e in cw.get("/api/board").get_json()["episodes"] if e["id"] == ep)
    assert (entry["moves"], entry["answer_hold"]) == (["closed"], None)
    staff_entry = next(e for e in staff.get("/api/board").get_json()["episodes"]
                       if e["id"] == ep)
    assert (staff_entry["moves"], staff_entry["answer_hold"]) == ([], hold["id"])
    r = cw.post(f"/api/episodes/{ep}/move", json={"state": "accepted"}, headers=ch)
    assert r.status_code == 409 and f"/api/holds/{hold['id']}/accept" in r.get_json()["message"]
    assert staff.post(f"/api/holds/{hold['id']}/accept", headers=sh).status_code == 200
    move = f"/api/episodes/{ep}/move"
    r = staff.post(move, json={"state": "transport", "transport": "team"}, headers=sh)
    assert r.status_code == 403
    r = cw.post(move, json={"state": "transport", "transport": "rocket"}, headers=ch)
    assert r.status_code == 400 and "transport" in r.get_data(as_text=True)
    r = cw.post(move, json={"state": "transport", "transport": "team",
                            "eta": "2030-01-01T10:00:00+00:00"}, headers=ch)
    assert r.status_code == 200 and r.get_json()["transport"] == "team"
    assert staff.post(move, json={"state": "arrived"}, headers=sh).status_code == 200
    # The caseworker's page still offered "no-show": someone moved it first.
    r = cw.post(move, json={"state": "no_show"}, headers=ch)
    assert r.status_code == 409
    assert r.get_json()["message"].startswith(f"episode '{ep}' is arrived; it cannot move to "
                                              "no_show")
    with app.app_context():
        assert app_context().store.hold(hold["id"]).status == "confirmed"


def test_a_sites_freshness_window_is_admins_and_positive(app: Flask, as_role: Client) -> None:
    mine, _, _ = _site(app)
    admin, ah = as_role("admin")
    staff, sh = as_role("shelter")
    url = f"/api/resources/{mine}/freshness"
    for bad in (0, -1, "soon"):
        r = admin.put(url, json={"fresh_hours": bad}, headers=ah)
        assert r.status_code == 400 and "fresh_hours" in r.get_data(as_text=True)
    assert staff.put(url, json={"fresh_hours": 48}, headers=sh).status_code == 403
    r = admin.put(url, json={"fresh_hours": 48}, headers=ah)
    assert r.status_code == 200 and r.get_json()["fresh_hours"] == 48
    mine_view = next(s for s in staff.get("/api/shelter/sites").get_json()["sites"]
                     if s["resource_id"] == mine)
    assert mine_view["fresh_hours"] == 48
    r = admin.put(url, json={"fresh_hours": None}, headers=ah)
    assert r.status_code == 200 and r.get_json()["fresh_hours"] == 12
    assert admin.put("/api/resources/nope/freshness", json={"fresh_hours": 5},
                     headers=ah).status_code == 404
