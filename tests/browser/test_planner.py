"""The planner's coverage flow in Chromium: figures, gaps, a scenario and a recommendation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from browserhelpers import PASSWORDS, SCREENSHOTS, XSS, Server

pytestmark = pytest.mark.browser
CLIP_NOTE = "415 block groups (648,983 people) outside the road network area are excluded"


@pytest.fixture
def planner_page(browser: Any, server: Server) -> Iterator[tuple[Any, list[str], list[str]]]:
    """Yield a page logged in as the planner, the URLs it requested and its script errors."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server.url + "/auth/login")
    page.fill("#username", "planner")
    page.fill("#password", PASSWORDS["planner"])
    page.click("#login-button")
    page.wait_for_load_state("networkidle")
    yield page, requests, errors
    context.close()


def test_planner_covers_compares_and_recommends(planner_page: Any, server: Server) -> None:
    page, requests, errors = planner_page
    assert page.url.endswith("/coverage")
    page.select_option("#cov-kind", "shelters")
    page.fill("#cov-target", "5")
    page.click("#run-coverage")
    page.wait_for_selector("#population-table tbody tr")
    rows = page.locator("#population-table tbody tr")
    assert rows.count() == 3
    assert rows.nth(0).locator("td").nth(0).text_content() == "≤ 15 min"
    covered = int(rows.nth(0).locator("td").nth(1).text_content().replace(",", ""))
    assert 0 < covered <= 514_431
    assert CLIP_NOTE in page.locator("#clip-note").text_content()
    assert page.locator("#time-legend").is_visible()
    assert page.locator("section.map path").count() > 50
    # the gap table: ranked by people; a click zooms the map to the gap
    gaps = page.locator("#gap-table tbody tr")
    assert gaps.count() >= 2
    people = [int(gaps.nth(i).locator("td").nth(1).text_content().replace(",", ""))
              for i in range(gaps.count())]
    assert people == sorted(people, reverse=True) and people[0] > 0
    zoom = page.evaluate("navMap.getZoom()")
    gaps.nth(1).click()
    for _ in range(50):  # poll from Python: wait_for_function's string eval breaks the CSP
        if page.evaluate("navMap.getZoom()") > zoom:
            break
        page.wait_for_timeout(100)
    assert page.evaluate("navMap.getZoom()") > zoom
    assert "selected" in (gaps.nth(1).get_attribute("class") or "")
    # facility names (one is an <img onerror> payload) stay text in the close list
    options = page.locator("#close-select option").all_text_contents()
    assert any(XSS in o for o in options)
    # scenario: close one shelter
    shelter = page.locator("#close-select option").nth(1).get_attribute("value")
    page.select_option("#close-select", shelter)
    page.click("#run-compare")
    page.wait_for_selector("#compare-table tbody tr")
    cells = page.locator("#compare-table tbody tr").nth(0).locator("td").all_text_contents()
    before, after = (int(c.replace(",", "")) for c in cells[1:3])
    assert after <= before
    assert page.locator("#delta-legend").is_visible()
    # location-allocation: 2 new sites within 5 minutes
    page.fill("#rec-k", "2")
    page.fill("#rec-target", "5")
    page.click("#run-recommend")
    page.wait_for_selector("#recommend-sites li.site")
    assert page.locator("#recommend-sites li.site").count() == 2
    result = page.locator("#recommend-result dd").all_text_contents()
    now = int(result[0].split()[0].replace(",", ""))
    then = int(result[1].split()[0].replace(",", ""))
    greedy = int(result[2].replace(",", ""))
    assert then >= now and then >= greedy
    gaps.nth(0).click()  # the largest gap: most of the city in the screenshot
    page.locator("#coverage-summary").scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    page.screenshot(path=str(SCREENSHOTS / "planner.png"))
    assert page.evaluate("window.__pwned") is None
    assert page.locator("aside img").count() == 0
    host = urlsplit(server.url).netloc
    assert [u for u in requests if not u.startswith(("data:", "blob:", "about:"))
            and urlsplit(u).netloc != host] == []
    assert errors == []
