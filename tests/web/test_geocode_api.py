"""GET /api/geocode: the address box's lookups over the region's OSM extract, as JSON."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

Client = Callable[[str], tuple[FlaskClient, dict[str, str]]]


@pytest.mark.parametrize("role", ["caseworker", "dispatcher", "planner", "shelter", "admin"])
def test_every_logged_in_role_gets_scored_candidates(as_role: Client, role: str) -> None:
    c, _ = as_role(role)
    r = c.get("/api/geocode?q=77 S High St")
    assert r.status_code == 200, r.get_json()
    found = r.get_json()["candidates"]
    best = found[0]
    assert best["matched"] == "77 S High St" and best["method"] == "address"
    assert best["score"] == 1.0
    assert best["lon"] == pytest.approx(-83.00103, abs=1e-4)
    assert best["lat"] == pytest.approx(39.96043, abs=1e-4)
    assert [f["score"] for f in found] == sorted((f["score"] for f in found), reverse=True)
    assert len(found) <= 5


def test_a_street_alone_scores_low_and_says_so(as_role: Client) -> None:
    c, _ = as_role("caseworker")
    found = c.get("/api/geocode?q=123 Main St&limit=1").get_json()["candidates"]
    assert len(found) == 1 and found[0]["method"] == "street"
    assert found[0]["score"] < 0.5 and "(street only)" in found[0]["matched"]


def test_nothing_matching_is_an_empty_list(as_role: Client) -> None:
    c, _ = as_role("caseworker")
    r = c.get("/api/geocode?q=12 Nonexistent Qwxyz Boulevard")
    assert r.status_code == 200 and r.get_json() == {"candidates": []}


@pytest.mark.parametrize(("query", "words"), [
    ("", "q"), ("q=", "q"), ("q=" + "1 Main St " * 30, "200"), ("q=Main Street", "house number"),
    ("q=1 Main St&limit=0", "limit"), ("q=1 Main St&limit=11", "limit"),
    ("q=1 Main St&limit=two", "limit"), ("q=1 Main St&extra=1", "extra"),
])
def test_bad_queries_are_4xx_json(as_role: Client, query: str, words: str) -> None:
    c, _ = as_role("caseworker")
    r = c.get("/api/geocode?" + query)
    assert 400 <= r.status_code < 500
    assert words in r.get_json()["message"]


def test_anonymous_users_get_401(client: FlaskClient) -> None:
    r = client.get("/api/geocode?q=77 S High St")
    assert r.status_code == 401 and r.is_json


def test_the_endpoint_is_in_the_openapi_document(client: FlaskClient) -> None:
    doc = client.get("/openapi.json").get_json()
    get = doc["paths"]["/api/geocode"]["get"]
    names = {p["name"] for p in get["parameters"]}
    assert names == {"q", "limit"}
