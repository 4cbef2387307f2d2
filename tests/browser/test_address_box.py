"""The address box in Chromium: type an address, pick a scored candidate, search from it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from browserhelpers import SCREENSHOTS, XSS, Server
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

#: An address point of the Columbus extract (OSM addr:housenumber 77, addr:street S High St).
ADDRESS = "77 S High St"
LON, LAT = -83.0010318, 39.9604286


def test_caseworker_picks_an_address_and_the_bed_search_runs_from_it(
        session: Any, server: Server) -> None:
    s = session("caseworker")
    page = s.page
    searches: list[dict[str, Any]] = []
    page.on("request", lambda r: searches.append(json.loads(r.post_data or "{}"))
            if r.url.endswith("/api/beds/search") else None)
    page.select_option("#bed-type", "single_men")
    page.fill("#bed-address", ADDRESS)
    page.click("#bed-address-go")
    first = page.locator("#bed-candidates li.candidate").first
    first.wait_for()
    assert first.locator("button.pick").text_content() == ADDRESS
    assert first.locator(".score").text_content().strip() == "match 100%"
    page.screenshot(path=str(SCREENSHOTS / "address-candidates.png"))
    first.locator("button.pick").click()
    page.locator("#bed-results li.result").first.wait_for()
    assert float(page.input_value("#bed-lon")) == pytest.approx(LON, abs=1e-5)
    assert float(page.input_value("#bed-lat")) == pytest.approx(LAT, abs=1e-5)
    assert len(searches) == 1
    assert searches[0]["lon"] == pytest.approx(LON, abs=1e-5)
    assert searches[0]["lat"] == pytest.approx(LAT, abs=1e-5)
    assert searches[0]["bed_type"] == "single_men"
    assert page.locator("#bed-candidates li").count() == 0  # the list closes on a pick
    assert page.locator("path.address-marker").count() == 1
    page.screenshot(path=str(SCREENSHOTS / "address-bed-search.png"))
    assert s.errors == [] and s.egress(server) == []


def test_enter_looks_up_and_hostile_text_stays_text(session: Any, server: Server) -> None:
    s = session("caseworker")
    page = s.page
    page.fill("#bed-address", XSS)
    page.press("#bed-address", "Enter")
    expect(page.locator("#status-line")).to_have_class("error")
    assert "house number" in page.locator("#status-line").text_content()
    assert page.locator("#bed-results li").count() == 0  # Enter did not submit the form
    assert page.locator("#bed-address-box img").count() == 0
    assert s.ran() is None and s.errors == []
    page.fill("#bed-address", "12 Nonexistent Qwxyz Boulevard")
    page.press("#bed-address", "Enter")
    expect(page.locator("#status-line")).to_have_text(
        "No address or street like that in this region's map data")


def test_dispatcher_address_fills_the_incident_form_only(session: Any,
                                                         server: Server) -> None:
    s = session("dispatcher")
    page = s.page
    before = len(server.store.incidents())
    page.fill("#inc-address", ADDRESS)
    page.click("#inc-address-go")
    page.locator("#inc-candidates button.pick").first.click()
    expect(page.locator("#inc-lon")).not_to_have_value("")
    assert float(page.input_value("#inc-lon")) == pytest.approx(LON, abs=1e-5)
    assert float(page.input_value("#inc-lat")) == pytest.approx(LAT, abs=1e-5)
    assert len(server.store.incidents()) == before  # creating one stays the dispatcher's act
    page.screenshot(path=str(SCREENSHOTS / "address-dispatch.png"))
    assert s.errors == [] and s.egress(server) == []
