"""Disaster flow in Chromium: an admin activates a surge shelter, a planner draws an
evacuation zone, places its people and sees the result on the map and in the tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browserhelpers import SCREENSHOTS, Server, map_texts

pytestmark = pytest.mark.browser
CORNERS = ((-83.02, 39.95), (-82.97, 39.95), (-82.97, 39.98), (-83.02, 39.98))


def _click_at(page: Any, lon: float, lat: float) -> None:
    """Click empty map near a lon/lat (EPSG:4326): a click on a marker opens its popup."""
    before = page.locator("#zone-corners").inner_text()
    for dx, dy in ((0, 0), (6, 0), (0, 6), (-6, 0), (0, -6), (9, 9), (-9, -9)):
        x, y = page.evaluate("([lat, lon]) => { const p = navMap.latLngToContainerPoint("
                             "[lat, lon]); const r = navMap.getContainer()"
                             ".getBoundingClientRect(); return [r.left + p.x, r.top + p.y]; }",
                             [lat, lon])
        page.mouse.click(x + dx, y + dy)
        page.wait_for_timeout(300)  # a marker's popup may pan the map: let it settle
        page.evaluate("() => { navMap.closePopup(); }")
        if page.locator("#zone-corners").inner_text() != before:
            return
    raise AssertionError(f"no empty map near {lon}, {lat}")


def test_admin_activates_and_planner_places_evacuees(session: Any, server: Server) -> None:
    admin = session("admin", viewport=(1400, 900))
    page = admin.page
    page.goto(server.url + "/admin")
    row = page.locator("#surge-table tr[data-id='demo-surge-2']")
    assert row.locator(".surge-state").inner_text() == "inactive"
    with page.expect_navigation():
        row.locator("button.surge-toggle").click()
    page.wait_for_load_state("networkidle")
    row = page.locator("#surge-table tr[data-id='demo-surge-2']")
    assert row.locator(".surge-state").inner_text().startswith("active since")
    assert row.locator("button.surge-toggle").inner_text() == "Deactivate"
    assert server.store.surge_sites()["demo-surge-2"].active
    page.screenshot(path=str(SCREENSHOTS / "surge-admin.png"))
    assert admin.errors == [] and admin.egress(server) == []

    planner = session("planner", viewport=(1400, 900))
    page = planner.page
    page.goto(server.url + "/planner/evacuation")
    page.wait_for_load_state("networkidle")
    # the active surge shelter is on the map, the inactive ones are not
    names = "|".join(map_texts(page)["tips"])
    assert "East high school gym" in names and "West community centre" not in names
    page.evaluate("() => { navMap.setView([39.965, -82.995], 13); }")
    page.wait_for_timeout(500)
    for lon, lat in CORNERS:
        _click_at(page, lon, lat)
    assert page.locator("#zone-corners").inner_text() == "4 corners"
    assert page.locator("path.evac-zone").count() == 1
    page.click("#run-evacuation")
    page.wait_for_selector("#evac-summary tbody tr")
    rows = page.locator("#evac-summary tbody tr")
    assert rows.count() == 2  # optimal and greedy side by side
    optimal = [c.inner_text() for c in rows.nth(0).locator("td").all()]
    greedy = [c.inner_text() for c in rows.nth(1).locator("td").all()]
    assert optimal[0] == "optimal" and greedy[0] == "greedy"
    placed = int(optimal[1].replace(",", ""))
    assert placed == 520  # demo-surge-2's general 400 + fnss 40 + medical 20 + pets 60
    assert float(optimal[5]) <= float(greedy[5])  # person-hours: optimal never worse
    shelters = page.locator("#evac-shelters tbody tr")
    assert shelters.count() == 1 and "East high school gym" in shelters.inner_text()
    assert page.locator("path.evac-line").count() > 0
    assert page.locator("path.evac-shelter").count() == 1
    unplaced = [c.inner_text() for c in page.locator("#evac-unplaced tbody td").all()]
    assert len(unplaced) == 4 and all(int(u.replace(",", "")) > 0 for u in unplaced)
    assert "Placed 520 of" in page.locator("#status-line").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "evacuation.png"))
    with page.expect_download() as dl:
        page.click("#export-evacuation")
    text = Path(dl.value.path()).read_text(encoding="utf-8")
    assert text.startswith("method,group_id,need,people,shelter_id")
    assert "demo-surge-2" in text
    # a bad zone (a bow tie) is refused with a message naming it, nothing drawn
    page.click("#zone-clear")
    for lon, lat in ((-83.0, 39.95), (-82.97, 39.98), (-83.0, 39.98), (-82.97, 39.95)):
        _click_at(page, lon, lat)
    page.click("#run-evacuation")
    page.wait_for_selector("#status-line.error")
    assert "invalid polygon" in page.locator("#status-line").inner_text()
    assert page.locator("path.evac-line").count() == 0
    assert planner.errors == [] and planner.egress(server) == []
