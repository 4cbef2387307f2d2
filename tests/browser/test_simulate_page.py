"""The dispatch-policy simulator page in Chromium: four policies side by side, plots, area map."""

from __future__ import annotations

from typing import Any

import pytest
from browserhelpers import SCREENSHOTS, XSS, Server

pytestmark = pytest.mark.browser


def test_simulate_page_compares_policies_with_plots_and_map(session: Any, server: Server
                                                            ) -> None:
    s = session("planner")
    page = s.page
    page.set_viewport_size({"width": 1500, "height": 950})
    page.goto(server.url + "/planner/simulate")
    page.fill("#sim-days", "7")
    page.fill("#sim-target", "10")
    page.click("#run-sim")
    page.wait_for_selector("#sim-table tbody tr", timeout=60_000)
    rows = page.locator("#sim-table tbody tr")
    assert [rows.nth(i).locator("td").nth(0).text_content() for i in range(rows.count())] == [
        "closest", "coverage", "preempt", "batch"]
    p90 = [rows.nth(i).locator("td").nth(2).text_content() for i in range(4)]
    assert all(t.endswith(" min") for t in p90)
    assert page.locator("#prio-table tbody tr").count() == 4
    # one CDF and one utilisation line per policy, drawn as SVG polylines
    assert page.locator("#cdf-plot polyline").count() == 4
    assert page.locator("#util-plot polyline").count() == 4
    points = page.locator("#cdf-plot polyline").nth(0).get_attribute("points") or ""
    assert len(points.split()) == 61
    # the area map: the second policy against the reference, with its legend
    assert page.locator("#sim-map-policy").input_value() == "coverage"
    assert page.locator("section.map path.leaflet-interactive").count() > 5
    assert page.locator("#area-legend").is_visible()
    assert "coverage vs closest" in page.locator("#area-legend-title").text_content()
    page.select_option("#sim-map-policy", "batch")
    assert "batch vs closest" in page.locator("#area-legend-title").text_content()
    page.select_option("#sim-map-policy", "coverage")
    page.locator("#cdf-plot").scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "simulate.png"))
    assert s.errors == [] and s.egress(server) == []


def test_bad_upload_shows_the_message_as_text(session: Any, server: Server) -> None:
    s = session("planner")
    page = s.page
    page.goto(server.url + "/planner/simulate")
    csv = ("time,lon,lat,priority,type,on_scene_min\n"
           f"2026-11-23T10:00,-82.99,39.96,1,{XSS},30\n")
    page.set_input_files("#sim-csv", files=[{"name": "calls.csv", "mimeType": "text/csv",
                                             "buffer": csv.encode()}])
    page.click("#run-sim")
    page.wait_for_selector("#status-line.error")
    text = page.locator("#status-line").text_content() or ""
    assert "line 2: type" in text and XSS.replace('"', "'") in text.replace('"', "'")
    assert s.ran() is None and page.locator("[onerror]").count() == 0
    assert s.errors == []
