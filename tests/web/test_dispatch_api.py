"""Dispatcher API: live positions, ranking when nothing fits, overrides (Flask test client)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

Client = Callable[[str], tuple[FlaskClient, dict[str, str]]]
PLACE = {"lon": -82.99, "lat": 39.96}


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _available(c: FlaskClient) -> str:
    teams = c.get("/api/teams").get_json()["features"]
    return next(f["properties"]["id"] for f in teams
                if f["properties"]["status"] == "available")


def test_single_and_batched_pings_move_the_team(as_role: Client, app: Flask) -> None:
    c, headers = as_role("dispatcher")
    team = _available(c)
    now = datetime.now(UTC).replace(microsecond=0)
    one = c.post(f"/api/teams/{team}/position",
                 json={**PLACE, "at": _iso(now - timedelta(minutes=2))}, headers=headers)
    assert one.status_code == 200, one.get_json()
    assert one.get_json()["applied"] and one.get_json()["team"]["lon"] == PLACE["lon"]
    batch = [{"lon": -82.995, "lat": 39.962, "at": _iso(now)},
             {"lon": -82.98, "lat": 39.95, "at": _iso(now - timedelta(minutes=1))},
             {"lon": -82.97, "lat": 39.95, "at": _iso(now - timedelta(minutes=5))}]
    r = c.post(f"/api/teams/{team}/position", json={"pings": batch}, headers=headers).get_json()
    assert (r["applied"], r["accepted"], r["ignored"]) == (True, 2, 1)
    assert (r["team"]["lon"], r["team"]["lat"]) == (-82.995, 39.962)
    late = c.post(f"/api/teams/{team}/position", json={"pings": batch[1:]},
                  headers=headers).get_json()
    assert not late["applied"] and late["ignored"] == 2
    props = next(f["properties"] for f in c.get("/api/teams").get_json()["features"]
                 if f["properties"]["id"] == team)
    assert datetime.fromisoformat(props["position_at"]) == now
    entry = app.extensions["navigator"].store.audit_log(limit=1)[0]
    assert (entry.action, entry.subject, entry.actor) == ("report_positions", team, "dispatcher")


GOOD = {**PLACE, "at": "NOW"}


@pytest.mark.parametrize(("body", "status", "fragment"), [
    ({**GOOD, "lon": float("nan")}, 400, "lon"),
    ({**GOOD, "at": "yesterday"}, 400, "at"),
    ({**GOOD, "at": "2026-03-01T12:00:00"}, 400, "at"),  # no offset
    (PLACE, 400, "at"),
    ({"pings": []}, 400, "pings"),
    ({**GOOD, "pings": [GOOD]}, 400, "not both"),
    ({**GOOD, "lon": -40.0, "lat": 35.0}, 422, "road network"),
    ({**GOOD, "lon": 39.96, "lat": -82.99}, 422, "road network"),
    ({**GOOD, "at": "LATER"}, 400, "future"),
    ({"pings": [GOOD, {**GOOD, "at": "LATER"}]}, 400, "future"),
    ({"pings": [GOOD, {**GOOD, "lon": -40.0, "lat": 35.0}]}, 422, "road network"),
])
def test_bad_pings_are_4xx_and_nothing_is_written(as_role: Client, app: Flask,
                                                  body: dict[str, Any], status: int,
                                                  fragment: str) -> None:
    c, headers = as_role("dispatcher")
    team = _available(c)
    store = app.extensions["navigator"].store
    before, last = store.team(team), store.audit_log(limit=1)[0].id
    now = datetime.now(UTC)
    moments = {"NOW": _iso(now), "LATER": _iso(now + timedelta(hours=2))}

    def filled(ping: dict[str, Any]) -> dict[str, Any]:
        return {k: moments.get(v, v) if k == "at" else v for k, v in ping.items()}

    body = filled(body)
    if "pings" in body:
        body["pings"] = [filled(p) for p in body["pings"]]
    r = c.post(f"/api/teams/{team}/position", json=body, headers=headers)
    assert r.status_code == status, r.get_json()
    assert fragment in str(r.get_json())
    assert store.team(team) == before and store.audit_log(limit=1)[0].id == last


def test_teams_without_a_fix_have_null_position_at(as_role: Client, app: Flask) -> None:
    c, _ = as_role("dispatcher")
    never = {t.id for t in app.extensions["navigator"].store.teams().itertuples()
             if t.position_at != t.position_at}  # NaT
    props = [f["properties"] for f in c.get("/api/teams").get_json()["features"]]
    assert never and all(p["position_at"] is None for p in props if p["id"] in never)


def test_unknown_team_position_is_404(as_role: Client) -> None:
    c, headers = as_role("dispatcher")
    r = c.post("/api/teams/no-such-team/position",
               json={**PLACE, "at": _iso(datetime.now(UTC))}, headers=headers)
    assert r.status_code == 404 and "no-such-team" in r.get_json()["message"]


def test_positions_need_the_dispatcher_role(as_role: Client) -> None:
    c, headers = as_role("caseworker")
    r = c.post("/api/teams/T1/position", json={**PLACE, "at": _iso(datetime.now(UTC))},
               headers=headers)
    assert r.status_code == 403


def test_nothing_fits_ranks_nearest_and_assign_needs_a_reason(as_role: Client,
                                                              app: Flask) -> None:
    c, headers = as_role("dispatcher")
    inc = c.post("/api/incidents", json={**PLACE, "crisis_type": "youth",
                                         "needed_skills": ["telepathy"],
                                         "needed_languages": ["tlh"]}, headers=headers)
    iid = inc.get_json()["id"]
    ranking = c.post(f"/api/incidents/{iid}/rank", json={"k": 3}, headers=headers)
    assert ranking.status_code == 200
    data = ranking.get_json()
    assert data["nothing_fits"] and len(data["options"]) == 3
    best = data["options"][0]
    assert best["missing_skills"] == ["telepathy"] and best["missing_languages"] == ["tlh"]
    body = {"incident_id": iid, "team_id": best["team_id"]}
    refused = c.post("/api/assignments", json=body, headers=headers)
    assert refused.status_code == 409
    assert "telepathy" in refused.get_json()["message"]
    assert "tlh" in refused.get_json()["message"]
    assert c.get(f"/api/incidents/{iid}").get_json()["status"] == "open"
    long = c.post("/api/assignments", json={**body, "override_reason": "x" * 501},
                  headers=headers)
    assert long.status_code == 400
    sent = c.post("/api/assignments", json={**body, "override_reason": "only team near"},
                  headers=headers)
    assert sent.status_code == 201 and sent.get_json()["override_reason"] == "only team near"
    entry = app.extensions["navigator"].store.audit_log(limit=1, action="assign_team")[0]
    assert entry.inputs["override_reason"] == "only team near"
    c.post(f"/api/assignments/{sent.get_json()['id']}/finish", json={"status": "cancelled"},
           headers=headers)


def test_intake_assessment_sets_priority_needs_and_reasons(as_role: Any) -> None:
    c, headers = as_role("dispatcher")
    r = c.post("/api/incidents", json={
        "lon": -82.99, "lat": 39.96, "crisis_type": "mental_health", "priority": 3,
        "assessment": {"risk_to_self": True, "plan_or_means": True, "language": "es"}},
        headers=headers)
    body = r.get_json()
    assert r.status_code == 201, body
    assert body["priority"] == 1 and "clinician" in body["needed_skills"]
    assert body["needed_languages"] == ["es"]
    assert body["triage"]["response"] == "clinician_team" and body["triage"]["reasons"]
    assert "triage: clinician team" in body["notes"]
    plain = c.post("/api/incidents", json={"lon": -82.99, "lat": 39.96,
                                           "crisis_type": "welfare_check"}, headers=headers)
    assert plain.status_code == 201 and plain.get_json()["triage"] is None
    bad = c.post("/api/incidents", json={"lon": -82.99, "lat": 39.96,
                                         "crisis_type": "welfare_check",
                                         "assessment": {"weapon": True}}, headers=headers)
    assert bad.status_code == 400
