"""Road closures in Chromium: a dispatcher closes a road on the console map, ranking avoids it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from browserhelpers import SCREENSHOTS, Server
from playwright.sync_api import expect
from shapely.geometry import LineString

from navigator.model import CrisisType, Incident

pytestmark = pytest.mark.browser


def _rank(page: Any, incident: str) -> dict[str, Any]:
    row = page.locator(f'#incident-list li[data-id="{incident}"] button.rank')
    with page.expect_response(lambda r: r.url.endswith(f"/api/incidents/{incident}/rank")
                              ) as answer:
        row.click()
    page.wait_for_selector("#team-options li.option")
    return answer.value.json()  # type: ignore[no-any-return]


def _click_map_at(page: Any, lon: float, lat: float) -> None:
    """Click the console map at a place (container pixels from Leaflet, then the mouse)."""
    x, y = page.evaluate("([lat, lon]) => { const p = navMap.latLngToContainerPoint("
                         "[lat, lon]); return [p.x, p.y]; }", [lat, lon])
    box = page.locator("#" + page.evaluate("navMap.getContainer().id")).bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + y)


def test_dispatcher_closes_a_road_and_the_next_ranking_routes_around_it(
        session: Any, server: Server) -> None:
    store = server.store
    now = datetime.now(UTC)
    teams = store.teams(statuses=["available"])
    # an incident a few kilometres from the nearest team, so the route has a middle
    lon, lat = float(teams.geometry.x.iloc[0]) + 0.03, float(teams.geometry.y.iloc[0]) + 0.02
    store.add_incident(Incident(id="inc-closure", lon=lon, lat=lat,
                                crisis_type=CrisisType.MENTAL_HEALTH, priority=1,
                                created_at=now, updated_at=now), actor="browser test")
    s = session("dispatcher", viewport=(1280, 800))
    page = s.page
    page.wait_for_selector('#incident-list li[data-id="inc-closure"]')
    expect(page.locator("#closures-banner")).to_be_hidden()
    before = _rank(page, "inc-closure")
    assert before["closures_in_effect"] is False
    best = before["options"][0]
    route = LineString(best["route"]["geometry"]["coordinates"])
    middle = route.interpolate(0.5, normalized=True)
    page.evaluate("([lat, lon]) => { navMap.setView([lat, lon], 17); }", [middle.y, middle.x])
    page.screenshot(path=str(SCREENSHOTS / "closure-1-route-before.png"))

    page.click("#close-segment")
    with page.expect_response(lambda r: "/api/closures/segment" in r.url) as picked:
        _click_map_at(page, middle.x, middle.y)
    segment = LineString(picked.value.json()["geometry"]["coordinates"])
    assert segment.distance(middle) < 2e-4  # the road under the click (about 20 m)
    expect(page.locator("#close-road")).to_be_enabled()
    page.fill("#closure-reason", "Flooded underpass <img src=x onerror=window.__pwned=1>")
    page.click("#close-road")
    expect(page.locator("#status-line")).to_contain_text("Closed")
    expect(page.locator("#closures-banner")).to_be_visible()
    expect(page.locator("#closure-list li.closure")).to_have_count(1)
    expect(page.locator("#closure-list li.closure .reason")).to_have_text(
        "Flooded underpass <img src=x onerror=window.__pwned=1>")
    assert len(store.closures(active_at=datetime.now(UTC))) == 1
    page.screenshot(path=str(SCREENSHOTS / "closure-2-closed.png"))

    after = _rank(page, "inc-closure")
    assert after["closures_in_effect"] is True and after["closures_count"] == 1
    expect(page.locator("#ranking-note")).to_contain_text("Road closures in effect")
    top = after["options"][0]
    assert top["route"] is not None
    new_route = LineString(top["route"]["geometry"]["coordinates"])
    assert not new_route.equals(route)
    # another team now, or the same one later
    assert top["team_id"] != best["team_id"] or top["eta_s"] > best["eta_s"]
    # the new route keeps off the closed road: its middle lies nowhere on it
    assert new_route.distance(segment.interpolate(0.5, normalized=True)) > 2e-5
    same = {o["team_id"]: o for o in after["options"]}.get(best["team_id"])
    if same is not None:
        assert same["eta_s"] > best["eta_s"]
    page.evaluate("(route) => { navMap.fitBounds(L.geoJSON(route).getBounds(), "
                  "{animate: false}); }",
                  top["route"])
    page.wait_for_timeout(800)  # the map's zoom animation
    page.screenshot(path=str(SCREENSHOTS / "closure-3-route-around.png"))

    # reopen from the list: the banner goes and the ranking is as before
    page.locator("#closure-list li.closure button.reopen").click()
    expect(page.locator("#status-line")).to_contain_text("Reopened")
    expect(page.locator("#closures-banner")).to_be_hidden()
    again = _rank(page, "inc-closure")
    assert again["closures_in_effect"] is False
    assert again["options"][0]["eta_s"] == pytest.approx(best["eta_s"])
    assert page.evaluate("window.__pwned") is None
    assert s.errors == [] and s.egress(server) == []


def test_an_area_drawn_by_clicks_is_closed(session: Any, server: Server) -> None:
    s = session("dispatcher", viewport=(1280, 800))
    page = s.page
    page.wait_for_selector("#incident-list li.incident")
    lon, lat = page.evaluate("() => { const c = navMap.getCenter(); return [c.lng, c.lat]; }")
    page.click("#close-area")
    d = 0.002
    for dx, dy in ((-d, -d), (d, -d), (d, d), (-d, d)):
        _click_map_at(page, lon + dx, lat + dy)
    expect(page.locator("#close-finish")).to_be_visible()
    page.click("#close-finish")
    page.fill("#closure-reason", "Gas leak")
    page.click("#close-road")
    expect(page.locator("#status-line")).to_contain_text("Closed")
    expect(page.locator("path.closure")).to_have_count(1)
    page.locator("path.closure").first.click()
    expect(page.locator(".leaflet-popup-content")).to_contain_text("Gas leak")
    page.screenshot(path=str(SCREENSHOTS / "closure-area.png"))
    found = server.store.closures(active_at=datetime.now(UTC))
    assert [c.geometry.geom_type for c in found] == ["Polygon"]
    page.locator("#closure-list li.closure button.reopen").click()
    expect(page.locator("#closures-banner")).to_be_hidden()
    assert s.errors == [] and s.egress(server) == []


def test_planner_compares_coverage_with_and_without_closures(session: Any,
                                                            server: Server) -> None:
    import numpy as np
    from shapely.geometry import box

    store = server.store
    bases = store.resources(kinds=["team_base"])
    lon, lat = float(np.median(bases.geometry.x)), float(np.median(bases.geometry.y))
    made = store.add_closure(box(lon - 0.01, lat - 0.01, lon + 0.01, lat + 0.01),
                             reason="Flood zone", actor="browser test")
    s = session("planner", viewport=(1280, 900))
    page = s.page
    page.goto(server.url + "/coverage")
    page.wait_for_load_state("networkidle")
    expect(page.locator("#closures-banner")).to_be_visible()
    page.check("#compare-closures")
    with page.expect_response(lambda r: r.url.endswith("/api/coverage/compare")) as answer:
        page.click("#run-compare")
    found = answer.value.json()
    assert found["closures_compared"] is True and found["closures_count"] == 1
    expect(page.locator("#closures-lost")).to_contain_text("lose coverage")
    # a 2 km flood zone round the middle base: some places lose coverage, and are mapped
    assert sum(u["units"] for u in found["units_losing_coverage"]) > 0
    assert len(found["features"]) > 0
    page.wait_for_selector("path.delta")
    page.screenshot(path=str(SCREENSHOTS / "closure-planner-compare.png"))
    store.lift_closure(made.id, actor="browser test")
    assert s.errors == [] and s.egress(server) == []
