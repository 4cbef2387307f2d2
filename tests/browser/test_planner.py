"""The planner's coverage flow in Chromium: figures, gaps, a scenario and a recommendation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from browserhelpers import PASSWORDS, SCREENSHOTS, XSS, Server

pytestmark = pytest.mark.browser
CLIP_NOTE = "415 block groups (648,983 people) outside the road network area are excluded"


GREEN = "#1a9850"
#: Hex and gap-hex counts of a coverage request, from inside the page (session and CSRF).
COVERAGE_COUNTS = """async (body) => {
  const meta = document.querySelector('meta[name="csrf-token"]');
  const r = await fetch("/api/coverage", {method: "POST", credentials: "same-origin",
    headers: {"Content-Type": "application/json", "X-CSRFToken": meta.content},
    body: JSON.stringify(body)});
  const d = await r.json();
  return [d.summary.hexes, d.summary.gap_hexes];
}"""


def _fills(page: Any, colour: str) -> int:
    """Return how many map paths are filled with ``colour``."""
    return int(page.evaluate("(c) => document.querySelectorAll(`section.map path[fill='${c}']`)"
                             ".length", colour))


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
    assert rows.count() == 4  # the chosen target and the table's 15/30/60
    assert [rows.nth(i).locator("td").nth(0).text_content() for i in range(4)] == [
        "≤ 5 min", "≤ 15 min", "≤ 30 min", "≤ 60 min"]
    covered = int(rows.nth(0).locator("td").nth(1).text_content().replace(",", ""))
    assert 0 < covered <= 514_431
    assert CLIP_NOTE in page.locator("#clip-note").text_content()
    assert page.locator("#time-legend").is_visible()
    assert page.locator("section.map path").count() > 50
    # colours follow the target: green only within 5 min, the legend names the bands
    legend = page.locator("#time-legend-items div").all_text_contents()
    assert legend == ["≤ 5 min", "≤ 15 min", "≤ 30 min", "≤ 60 min", "beyond 60 min"]
    assert "gap beyond 5 min" in page.locator("#time-legend").text_content()
    hexes, gap_hexes = page.evaluate(COVERAGE_COUNTS, {"kind": "shelters", "target_min": 5})
    assert 0 < gap_hexes < hexes
    assert _fills(page, GREEN) == hexes - gap_hexes
    # the coverage layer toggles with its legend
    page.uncheck("#layer-coverage")
    assert _fills(page, GREEN) == 0 and not page.locator("#time-legend").is_visible()
    page.check("#layer-coverage")
    assert _fills(page, GREEN) == hexes - gap_hexes and page.locator("#time-legend").is_visible()
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
    page.uncheck("#layer-compare")
    assert page.locator("path.delta").count() == 0
    assert not page.locator("#delta-legend").is_visible()
    page.check("#layer-compare")
    assert page.locator("path.delta").count() > 0 and page.locator("#delta-legend").is_visible()
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
    assert page.locator("#site-legend").is_visible()
    page.uncheck("#layer-recommend")
    assert page.locator("path.site").count() == 0 and not page.locator("#site-legend").is_visible()
    page.check("#layer-recommend")
    assert page.locator("path.site").count() == 2
    # isochrones: drawn with a legend, toggled off and on
    page.fill("#iso-lon", "-82.9988")
    page.fill("#iso-lat", "39.9612")
    page.click("#run-iso")
    page.wait_for_selector("#iso-legend:not([hidden])")
    assert "10 / 20 / 30 min" in page.locator("#iso-legend").text_content()
    page.uncheck("#layer-iso")
    assert not page.locator("#iso-legend").is_visible()
    page.check("#layer-iso")
    assert page.locator("#iso-legend").is_visible()
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


@pytest.mark.parametrize(("button", "suffix"), [("#export-gpkg", ".gpkg"),
                                                ("#export-geojson", ".geojson"),
                                                ("#export-csv", ".csv")])
def test_coverage_downloads_from_the_page(planner_page: Any, tmp_path: Any, button: str,
                                          suffix: str) -> None:
    import geopandas as gpd
    import pandas as pd

    page, _, errors = planner_page
    page.fill("#cov-target", "10")
    with page.expect_download() as info:
        page.click(button)
    download = info.value
    assert download.suggested_filename == f"coverage-team_bases-10min{suffix}"
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    if suffix == ".gpkg":
        assert set(gpd.list_layers(path)["name"]) == {"hexes", "units", "gaps", "facilities"}
        assert gpd.read_file(path, layer="hexes")["gap"].any()  # the demo has gaps at 10 min
    elif suffix == ".geojson":
        assert len(gpd.read_file(path)) > 100
    else:
        units = pd.read_csv(path)
        assert (units["time_s"] > 600).any() and units["population"].sum() > 500_000
    assert "Downloaded" in page.locator("#status-line").text_content()
    assert errors == []


BASE_IDS = """async () => {
  const meta = document.querySelector('meta[name="csrf-token"]');
  const r = await fetch("/api/coverage", {method: "POST", credentials: "same-origin",
    headers: {"Content-Type": "application/json", "X-CSRFToken": meta.content},
    body: JSON.stringify({kind: "team_bases"})});
  return (await r.json()).facilities.features.map((f) => f.id);
}"""


def test_mexclp_takes_busy_fractions_from_a_saved_run(planner_page: Any, tmp_path: Any) -> None:
    import json

    page, _, errors = planner_page
    bases = page.evaluate(BASE_IDS)
    saved = {"region": "columbus", "seed": 9, "days": 5, "calls": 250, "source": "synthetic",
             "policies": [{"policy": "closest"}],
             "busy_by_base": {"closest": {b: 0.25 for b in bases}}}
    (tmp_path / "run.json").write_text(json.dumps(saved), encoding="utf-8")
    (tmp_path / "bad.json").write_text("{nope", encoding="utf-8")
    page.select_option("#cov-kind", "team_bases")
    page.fill("#rec-k", "1")
    page.fill("#rec-target", "5")
    page.select_option("#rec-model", "mexclp")
    page.set_input_files("#rec-busy-from", str(tmp_path / "bad.json"))
    page.click("#run-recommend")
    page.wait_for_function("document.body.textContent.includes('is not JSON')")
    page.set_input_files("#rec-busy-from", str(tmp_path / "run.json"))
    page.click("#run-recommend")
    page.wait_for_selector("#recommend-sites li.site")
    notes = page.locator("#coverage-notes li").all_text_contents()
    assert any("policy closest, seed 9, 5 days" in n and f"{bases[0]} 25.0%" in n
               for n in notes), notes
    assert any("the setting, busy" in n for n in notes)
    assert not errors
