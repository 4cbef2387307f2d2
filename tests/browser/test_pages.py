"""Each role's page in Chromium against a real server: dispatch, bed hold, XSS, no egress."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pytest
from browserhelpers import SCREENSHOTS, XSS, Server
from playwright.sync_api import expect

from navigator.accounts import DEMO_USERS

pytestmark = pytest.mark.browser
PASSWORDS = {u: p for u, p, _ in DEMO_USERS}


class Session:
    """A logged-in page that records every request it makes."""

    def __init__(self, browser: Any, server: Server, role: str) -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 800})
        self.page = self.context.new_page()
        self.page.set_default_timeout(20_000)
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(server.url + "/auth/login")
        self.page.fill("#username", role)
        self.page.fill("#password", PASSWORDS[role])
        self.page.click("#login-button")
        self.page.wait_for_load_state("networkidle")

    def egress(self, server: Server) -> list[str]:
        """Return requests that went anywhere but the test server."""
        host = urlsplit(server.url).netloc
        return [u for u in self.requests
                if not u.startswith(("data:", "blob:", "about:")) and urlsplit(u).netloc != host]


@pytest.fixture
def session(browser: Any, server: Server) -> Iterator[Any]:
    made: list[Session] = []

    def make(role: str) -> Session:
        s = Session(browser, server, role)
        made.append(s)
        return s

    yield make
    for s in made:
        s.context.close()


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
    assert page.evaluate("window.__xss") is None
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
    assert page.evaluate("window.__xss") is None
    assert page.locator("#bed-results img").count() == 0
    page.screenshot(path=str(SCREENSHOTS / "caseworker.png"))
    assert s.egress(server) == [] and s.errors == []


def test_admin_overview(session: Any, server: Server) -> None:
    s = session("admin")
    page = s.page
    assert page.url.endswith("/admin")
    page.wait_for_selector(".leaflet-container")
    assert page.evaluate("window.__xss") is None
    page.screenshot(path=str(SCREENSHOTS / "admin.png"))
    assert s.egress(server) == [] and s.errors == []
