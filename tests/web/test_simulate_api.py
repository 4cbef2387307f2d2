"""The simulator's API through Flask's test client: figures, areas, audit, bad input, roles."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from navigator.model import DispatchPolicy

URL = "/api/planner/simulate"


@pytest.fixture(scope="module")
def planner(app: Flask) -> tuple[FlaskClient, dict[str, str]]:
    from webhelpers import login

    c = app.test_client()
    return c, {"X-CSRFToken": login(c, "planner")}


def _post(planner: tuple[FlaskClient, dict[str, str]], body: Any, code: int = 200) -> Any:
    c, headers = planner
    r = c.post(URL, json=body, headers=headers)
    assert r.status_code == code, r.get_data(as_text=True)
    return r.get_json()


def test_compares_every_policy_with_areas_and_plots(app: Flask, planner: Any) -> None:
    d = _post(planner, {"days": 3, "calls_per_day": 40, "target_min": 10})
    assert [p["policy"] for p in d["policies"]] == [p.value for p in DispatchPolicy]
    assert d["calls"] > 80 and d["teams"] == 12
    for p in d["policies"]:
        assert p["calls"] == p["served"] + p["unserved"] == d["calls"]
        assert 0 < p["p50_s"] <= p["p90_s"]
        assert len(p["utilisation_by_hour"]) == 24 and len(p["cdf"]["share"]) == 121
        assert sum(b["calls"] for b in p["by_priority"]) == d["calls"]
    cells = d["areas"]["features"]
    assert sum(f["properties"]["calls"] for f in cells) == d["calls"]
    assert all(f["properties"]["closest_p90_change_s"] in (0.0, None) for f in cells)
    assert any(f["properties"]["batch_p90_change_s"] for f in cells)
    again = _post(planner, {"days": 3, "calls_per_day": 40, "target_min": 10})
    assert again["policies"] == d["policies"]  # seeded: the same answer
    from web.context import app_context

    with app.app_context():
        entry = app_context().store.audit_log(limit=1, action="simulate_policies")[0]
    assert entry.actor == "planner" and entry.inputs["days"] == 3


CSV = "time,lon,lat,priority,type,on_scene_min\n"


@pytest.mark.parametrize(("body", "fragment"), [
    ({"policies": ["fastest"]}, "policies"),
    ({"policies": []}, "policies"),
    ({"days": 0}, "days"),
    ({"days": 90, "calls_per_day": 500}, "5000 calls"),
    ({"teams": 13}, "teams must be 1 to 12"),
    ({"shifts": [{"name": "day", "start_h": 7, "end_h": 19, "teams": 4}]},
     "19:00-24:00 with no team on duty"),
    ({"incidents_csv": CSV + "2026-11-23T10:00,-82.99,39.96,1,alien,30\n"}, "line 2: type"),
    ({"incidents_csv": CSV + "yesterday,-82.99,39.96,1,youth,30\n"}, "line 2: time"),
    ({"incidents_csv": CSV + "2026-11-23T10:00,-82.99,39.96,1,youth,30\n"
                             "2026-11-23T11:00,-80.0,39.96,2,youth,30\n"},
     "line 3: lon, lat (-80.0, 39.96) is more than"),
    ({"incidents_csv": "when,lon\n1,2\n"}, "missing column"),
])
def test_bad_input_is_a_clear_4xx(planner: Any, body: dict[str, Any], fragment: str) -> None:
    c, headers = planner
    r = c.post(URL, json=body, headers=headers)
    assert 400 <= r.status_code < 500, r.get_data(as_text=True)
    assert fragment in r.get_data(as_text=True)
    assert "Traceback" not in r.get_data(as_text=True)


def test_imported_calls_replay_and_are_all_counted(planner: Any) -> None:
    rows = [f"2026-11-23T{10 + i:02d}:00,-82.99{i},39.96,{1 + i % 4},youth,30" for i in range(6)]
    d = _post(planner, {"incidents_csv": CSV + "\n".join(rows) + "\n",
                        "policies": ["closest", "preempt"]})
    assert d["calls"] == 6 and "upload.csv" in d["source"]
    assert all(p["served"] + p["unserved"] == 6 for p in d["policies"])


def test_only_planners_and_admins(app: Flask, as_role: Any) -> None:
    for role, code in (("dispatcher", 403), ("caseworker", 403), ("admin", 200)):
        c, headers = as_role(role)
        r = c.post(URL, json={"days": 1, "calls_per_day": 10}, headers=headers)
        assert r.status_code == code, role
        assert c.get("/planner/simulate").status_code == (200 if code == 200 else 403)
