"""Area intake on the dispatch console in Chromium (issue 13): radius, pasted GeoJSON, refine."""

from __future__ import annotations

import json
from typing import Any

import pytest
from browserhelpers import SCREENSHOTS, Server
from playwright.sync_api import expect

pytestmark = pytest.mark.browser
LON, LAT = -82.99, 39.96


def _area_ids(server: Server) -> set[str]:
    found = server.store.incidents()
    return set(found.loc[found["area"].notna(), "id"])


def test_area_incident_ranked_by_expected_and_worst_then_refined(session: Any,
                                                                 server: Server) -> None:
    s = session("dispatcher", viewport=(1280, 720))
    page = s.page
    page.wait_for_selector("#incident-list li.incident")
    before = _area_ids(server)

    # centre + radius: the ranking shows the expected and worst ETA over the area
    expect(page.locator("#inc-radius-field")).to_be_hidden()
    expect(page.locator("#inc-area-field")).to_be_hidden()
    page.select_option("#inc-where", "radius")
    expect(page.locator("#inc-radius-field")).to_be_visible()
    expect(page.locator("#inc-area-field")).to_be_hidden()
    page.fill("#inc-lon", str(LON))
    page.fill("#inc-lat", str(LAT))
    page.fill("#inc-radius", "900")
    page.click("#create-incident")
    first = page.locator("#team-options li.option").first
    expect(first).to_contain_text("expected")
    text = first.text_content()
    assert "worst" in text and "road nodes)" in text
    expect(page.locator("#ranking-note")).to_contain_text("uniform-weighted")
    expect(page.locator("#ranking-note")).to_contain_text("centre node")
    expect(page.locator("path.incident-area").first).to_be_attached()
    (made,) = _area_ids(server) - before
    row = page.locator(f'#incident-list li[data-id="{made}"]')
    expect(row.locator(".area")).to_contain_text("900 m")
    expect(first).to_be_in_viewport()
    page.screenshot(path=str(SCREENSHOTS / "dispatch-area-intake.png"))

    # pasted GeoJSON whose properties carry markup: stored, drawn, nothing runs
    square = {"type": "Feature",
              "properties": {"name": "<img src=x onerror=window.__xss=1>${alert(1)}`"},
              "geometry": {"type": "Polygon", "coordinates": [[
                  [LON - 0.006, LAT - 0.005], [LON + 0.006, LAT - 0.005],
                  [LON + 0.006, LAT + 0.005], [LON - 0.006, LAT + 0.005],
                  [LON - 0.006, LAT - 0.005]]]}}
    page.select_option("#inc-where", "geojson")
    page.fill("#inc-area", json.dumps(square))
    page.click("#create-incident")
    expect(page.locator("#incident-list li .area")).to_have_count(2)
    expect(page.locator("#ranking-note")).to_contain_text("Only an area is known")
    assert len(_area_ids(server) - before) == 2
    # a bowtie is refused with a clear message, nothing stored
    page.fill("#inc-area", json.dumps({"type": "Polygon", "coordinates": [[
        [LON, LAT], [LON + 0.01, LAT + 0.01], [LON + 0.01, LAT], [LON, LAT + 0.01],
        [LON, LAT]]]}))
    page.click("#create-incident")
    expect(page.locator("#status-line.error")).to_contain_text("invalid polygon")
    assert len(_area_ids(server) - before) == 2
    assert page.evaluate("window.__xss === undefined")

    # the dispatcher learns the exact point: the area is cleared
    page.select_option("#inc-where", "point")
    page.fill("#inc-lon", str(LON + 0.001))
    page.fill("#inc-lat", str(LAT))
    row.locator("button.locate").click()
    expect(page.locator("#status-line")).to_contain_text("set to the exact point")
    expect(row.locator("button.locate")).to_have_count(0)
    assert not server.store.incident(made).is_area
    assert s.errors == [] and s.egress(server) == []
