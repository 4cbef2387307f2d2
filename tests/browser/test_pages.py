"""Each role's page in Chromium against a real server: dispatch, bed hold, XSS, no egress."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
from browserhelpers import PASSWORDS, SCREENSHOTS, XSS, Server
from playwright.sync_api import expect
from xss_payloads import PAYLOADS

pytestmark = pytest.mark.browser
def _quiet_road_point(server: Server, graph: Any) -> tuple[float, float]:
    """Return a road node near the centre with no marker close by (markers take clicks)."""
    store = server.store
    pts = np.concatenate([np.column_stack([g.geometry.x, g.geometry.y]) for g in (
        store.resources(), store.teams(), store.incidents())])
    nodes = np.column_stack([graph.lon, graph.lat])
    dist = np.min(np.hypot(nodes[:, None, 0] - pts[None, :, 0],
                           nodes[:, None, 1] - pts[None, :, 1]), axis=1)
    centre = np.hypot(nodes[:, 0] - np.median(graph.lon), nodes[:, 1] - np.median(graph.lat))
    best = int(np.argmin(np.where(dist > 0.006, centre, np.inf)))
    return float(nodes[best, 0]), float(nodes[best, 1])


def test_dispatcher_creates_ranks_and_assigns(session: Any, server: Server,
                                              columbus_graph: Any) -> None:
    s = session("dispatcher")
    page = s.page
    assert page.url.endswith("/dispatch")
    page.wait_for_selector("#team-list li.team")
    box = page.locator(".folium-map").bounding_box()
    lon, lat = _quiet_road_point(server, columbus_graph)
    x, y = page.evaluate("([lat, lon]) => { const p = navMap.latLngToContainerPoint([lat, lon]);"
                         " return [p.x, p.y]; }", [lat, lon])
    page.mouse.click(box["x"] + x, box["y"] + y)
    assert page.input_value("#inc-lon") != ""
    page.fill("#inc-notes", XSS)
    page.select_option("#inc-type", "welfare_check")
    page.click("#create-incident")
    expect(page.locator("#ranked-for")).not_to_have_text("")  # no wait_for_function: CSP
    if page.locator("#status-line.error").count():
        pytest.fail(page.text_content("#status-line"))
    page.wait_for_selector("#team-options li.option button.assign")
    assert page.locator("path.route").count() >= 1
    page.locator("#team-options button.assign").first.click()
    expect(page.locator("#status-line")).to_contain_text("Assigned")
    assert page.locator("path.route").count() >= 1
    notes = page.locator("#incident-list .notes", has_text="onerror")
    assert notes.first.text_content() == XSS
    assert s.ran() is None
    assert page.locator("#incident-list img").count() == 0
    expect(page.locator("#team-list li.team", has_text="en_route").first).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "dispatcher.png"))
    assert s.egress(server) == [] and s.errors == []


def test_caseworker_holds_a_bed_and_names_stay_text(session: Any, server: Server) -> None:
    s = session("caseworker")
    page = s.page
    assert page.url.endswith("/beds")
    shelter = server.xss_shelter
    page.fill("#bed-lon", f"{shelter.lon + 0.001:.6f}")
    page.fill("#bed-lat", f"{shelter.lat:.6f}")
    page.select_option("#bed-type", "single_men")
    page.fill("#bed-client-ref", "case-16")
    page.click("#find-beds")
    item = page.locator(f'#bed-results li.result[data-id="{shelter.id}"]')
    item.wait_for()
    assert item.locator(".name").text_content() == XSS
    assert page.locator("path.route").count() >= 1
    before = int(item.locator(".free").text_content())
    item.locator("button.hold").click()
    page.wait_for_selector("#hold-list li.hold-item")
    assert int(item.locator(".free").text_content()) == before - 1
    page.wait_for_selector("#hotline-list li")
    assert "988" in page.locator("#hotline-list").text_content()
    # the folium popup of the renamed shelter holds the name as text too
    assert s.ran() is None
    assert page.locator("#bed-results img").count() == 0
    page.screenshot(path=str(SCREENSHOTS / "caseworker.png"))
    assert s.egress(server) == [] and s.errors == []


def test_admin_overview(session: Any, server: Server) -> None:
    s = session("admin")
    page = s.page
    assert page.url.endswith("/admin")
    page.wait_for_selector(".leaflet-container")
    assert s.ran() is None
    page.screenshot(path=str(SCREENSHOTS / "admin.png"))
    assert s.egress(server) == [] and s.errors == []


def test_no_favicon_404_and_map_opens_on_the_city(session: Any, server: Server,
                                                  columbus_graph: Any) -> None:
    s = session("dispatcher")
    page = s.page
    page.wait_for_selector("#team-list li.team")
    assert not [u for u in s.failed if "favicon" in u]
    assert s.console == [], s.console
    west, south, east, north = page.evaluate(
        "() => { const b = navMap.getBounds(); "
        "return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]; }")
    net_w = float(columbus_graph.lon.max() - columbus_graph.lon.min())
    # opened on where resources and teams are, not on the whole network with margins
    assert (east - west) < 1.6 * net_w
    teams = server.store.teams()
    inside = ((teams.geometry.x > west) & (teams.geometry.x < east)
              & (teams.geometry.y > south) & (teams.geometry.y < north)).mean()
    assert inside > 0.8
    legend = page.locator("#map-key")
    assert "incident" in legend.text_content() and "available" in legend.text_content()


def test_narrow_window_folds_the_legend(browser: Any, server: Server) -> None:
    context = browser.new_context(viewport={"width": 900, "height": 700})
    try:
        page = context.new_page()
        page.goto(server.url + "/auth/login")
        page.fill("#username", "caseworker")
        page.fill("#password", PASSWORDS["caseworker"])
        page.click("#login-button")
        page.wait_for_selector(".leaflet-container")
        assert page.evaluate("document.getElementById('map-key').open") is False
        key = page.locator("#map-key").bounding_box()
        box = page.locator(".folium-map").bounding_box()
        assert key["width"] * key["height"] < 0.1 * box["width"] * box["height"]
        text = page.locator("#map-key").text_content()
        assert "shelter" in text and "available" not in text  # bed page: kinds only
    finally:
        context.close()


def test_wrong_role_page_is_html_with_a_link_home(session: Any, server: Server) -> None:
    s = session("dispatcher")
    page = s.page
    response = page.goto(server.url + "/beds")
    assert response.status == 403
    page.click("#home-link")
    page.wait_for_url("**/dispatch")


def test_click_on_a_marker_fills_the_coordinates(session: Any, server: Server) -> None:
    s = session("caseworker")
    page = s.page
    page.wait_for_selector(".leaflet-container")
    shelter = server.xss_shelter
    box = page.locator(".folium-map").bounding_box()
    x, y = page.evaluate("([lat, lon]) => { navMap.setView([lat, lon], 16); "
                         "const p = navMap.latLngToContainerPoint([lat, lon]); "
                         "return [p.x, p.y]; }", [shelter.lat, shelter.lon])
    page.mouse.click(box["x"] + x, box["y"] + y)
    page.wait_for_selector(".leaflet-popup")
    assert abs(float(page.input_value("#bed-lon")) - shelter.lon) < 1e-5
    assert abs(float(page.input_value("#bed-lat")) - shelter.lat) < 1e-5


def test_no_bed_shows_alternatives_in_words_and_hold_in_local_time(
        session: Any, server: Server) -> None:
    s = session("caseworker")
    page = s.page
    shelter = server.xss_shelter
    page.fill("#bed-lon", f"{shelter.lon + 0.001:.6f}")
    page.fill("#bed-lat", f"{shelter.lat:.6f}")
    page.select_option("#bed-type", "youth")
    page.evaluate("document.getElementById('bed-age').value = '200'")  # no shelter fits
    page.fill("#bed-age", "")
    page.fill("#bed-service", "no-such-service")
    page.click("#find-beds")
    expect(page.locator("#status-line")).not_to_have_text("Searching…")
    text = page.text_content("#bed-results") or ""
    for name in (XSS, *PAYLOADS.values()):
        text = text.replace(name, "")
    assert "_" not in text
    assert s.errors == []
    # a match, a hold: the expiry reads as a local clock time
    page.fill("#bed-service", "")
    page.select_option("#bed-type", "single_men")
    page.fill("#bed-client-ref", "case-17")
    page.click("#find-beds")
    item = page.locator(f'#bed-results li.result[data-id="{shelter.id}"]')
    item.wait_for()
    item.locator("button.hold").click()
    page.wait_for_selector("#hold-list li.hold-item")
    until = page.locator("#hold-list .until").first.text_content() or ""
    assert re.fullmatch(r" until \d\d:\d\d", until), until
    assert "T" not in (page.text_content("#status-line") or "").split(" until ")[-1]
    assert s.errors == []


def test_a_hold_survives_a_lost_answer_and_a_reload(session: Any, server: Server) -> None:
    s = session("caseworker")
    page = s.page
    shelter = server.xss_shelter
    page.fill("#bed-lon", f"{shelter.lon + 0.001:.6f}")
    page.fill("#bed-lat", f"{shelter.lat:.6f}")
    page.select_option("#bed-type", "single_men")
    page.fill("#bed-client-ref", "case-4711")
    page.click("#find-beds")
    item = page.locator(f'#bed-results li.result[data-id="{shelter.id}"]')
    item.wait_for()
    before = int(item.locator(".free").text_content() or "0")
    keys: list[str] = []

    def lose_first_answer(route: Any) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        keys.append(route.request.post_data_json["idempotency_key"])
        if len(keys) == 1:  # the hold commits on the server, the page sees a 503
            route.fetch()
            route.fulfill(status=503, json={"error": "StoreError", "message": "lost",
                                            "details": []})
        else:
            route.continue_()

    page.route("**/api/holds", lose_first_answer)
    item.locator("button.hold").click()
    held = page.locator("#hold-list li.hold-item", has_text="case-4711")
    held.wait_for()
    page.unroute("**/api/holds")
    assert len(keys) == 2 and keys[0] == keys[1]  # the retry asked for the same hold
    assert int(item.locator(".free").text_content() or "0") == before - 1  # one bed, not two
    # ... and one referral episode: the retry found the one the first request opened.
    assert [e.client_ref for e in server.store.episodes()].count("case-4711") == 1
    hold_id = held.get_attribute("data-id")
    page.reload()
    page.wait_for_selector(f'#hold-list li.hold-item[data-id="{hold_id}"]')
    assert "min left" in (page.text_content("#hold-list") or "")
    page.locator(f'#hold-list li.hold-item[data-id="{hold_id}"] button', has_text="Release"
                 ).click()
    expect(page.locator(f'#hold-list li.hold-item[data-id="{hold_id}"] .status')
           ).to_have_text("released")
    assert s.ran() is None and s.errors == []


def test_intake_answers_set_priority_and_show_the_reasons(session: Any, server: Server,
                                                          columbus_graph: Any) -> None:
    s = session("dispatcher")
    page = s.page
    lon, lat = _quiet_road_point(server, columbus_graph)
    page.fill("#inc-lon", f"{lon:.6f}")
    page.fill("#inc-lat", f"{lat:.6f}")
    page.select_option("#inc-type", "mental_health")
    page.check("#intake input[data-question='weapons']")
    page.fill("#inc-caller-language", "es")
    page.click("#create-incident")
    expect(page.locator("#status-line")).to_contain_text(
        "priority 1, send co-responder team with law enforcement")
    expect(page.locator("#status-line")).to_contain_text("weapons reported")
    page.screenshot(path=str(SCREENSHOTS / "dispatch-intake.png"))
    assert s.ran() is None and s.errors == []
