"""The compliance page in Chromium: period picker, table and the server-drawn SVG chart;
hostile area names (the payload corpus) show as text and run nothing; no script, no egress."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from browserhelpers import SCREENSHOTS, Server
from playwright.sync_api import expect
from shapely.geometry import box
from xss_payloads import PAYLOADS

from navigator.model import ComplianceArea, CrisisType, Incident, TeamStatus

pytestmark = pytest.mark.browser
TARGETS = {1: 900.0, 2: 1800.0, 3: 3600.0, 4: 7200.0}


def test_page_shows_table_and_chart_and_keeps_hostile_names_text(
        session: Any, server: Server, columbus_graph: Any) -> None:
    store, graph = server.store, columbus_graph
    names = {k: v[:200] for k, v in PAYLOADS.items()}
    middle = int(np.argsort(graph.lon)[graph.n_nodes // 2])
    lon, lat = float(graph.lon[middle]), float(graph.lat[middle])
    areas = [ComplianceArea(id=f"x-{k}", name=name, area_class="urban `${1}`",
                            geometry=box(lon - 0.002 - 0.001 * i, lat - 0.002,
                                         lon + 0.002 + 0.001 * i, lat + 0.002),
                            targets_s=TARGETS) for i, (k, name) in enumerate(names.items())]
    store.add_compliance_areas(areas, actor="browser test", replace=True)
    team = store.teams(statuses=[TeamStatus.AVAILABLE])["id"].iloc[-1]
    incident = store.add_incident(Incident(id="inc-compliance", lon=lon, lat=lat, priority=1,
                                           crisis_type=CrisisType.SUICIDE_RISK),
                                  actor="browser test")
    store.assign_team(team, incident.id, actor="browser test")
    store.update_team(team, actor="browser test", status=TeamStatus.ON_SCENE)
    s = session("dispatcher", viewport=(1280, 900))
    page = s.page
    page.goto(server.url + "/compliance")
    expect(page.locator("#compliance-table")).to_be_visible()
    chart = page.locator("#share-chart svg.share-chart")
    expect(chart).to_be_visible()
    assert page.locator("#share-chart rect.bar").count() == 4 * (len(areas) + 1)
    # the smallest area holds the incident: its P1 bar is full (100 %), flagged few
    first = page.locator(f'#compliance-table tr[data-area="x-{next(iter(names))}"]'
                         '[data-priority="1"]')
    expect(first).to_contain_text("1")
    expect(first).to_contain_text("few")
    expect(first).to_contain_text("100%")
    shown = page.eval_on_selector_all("#compliance-table td.area", "els => els.map(e => "
                                      "e.textContent)")
    assert set(names.values()) <= set(shown)
    labels = page.eval_on_selector_all("#share-chart text.area-name title",
                                       "els => els.map(e => e.textContent)")
    assert {f"{n} (urban `${{1}}`)" for n in names.values()} <= set(labels)
    injected = page.evaluate("() => document.querySelectorAll('main img, main script, "
                             "main [onerror], main [onload], main [onfocus], svg svg').length")
    assert injected == 0 and s.ran() is None
    page.screenshot(path=str(SCREENSHOTS / "compliance-page.png"), full_page=True)
    # the period picker: a period with no dispatch says so, in the page
    page.fill("#period-start", "2020-01-01T00:00")
    page.fill("#period-end", "2020-01-02T00:00")
    page.click("#show-report")
    expect(page.locator("#compliance-error")).to_contain_text("no dispatch")
    page.fill("#period-start", "2020-01-02T00:00")
    page.fill("#period-end", "2020-01-01T00:00")
    page.click("#show-report")
    expect(page.locator("#compliance-error")).to_contain_text("end after it starts")
    assert s.errors == [] and s.egress(server) == [] and s.ran() is None
    # the CSV link downloads the same rows
    page.goto(server.url + "/compliance")
    with page.expect_download() as got:
        page.click("#csv-link")
    text = Path(got.value.path()).read_text(encoding="utf-8")
    assert text.startswith("priority,dispatched,arrived") and "x-template_literal" in text
    # as the demo has it: a downtown core (urban) inside the rest (rural)
    store.add_compliance_areas([
        ComplianceArea(id="core", name="Downtown core", area_class="urban",
                       geometry=box(lon - 0.01, lat - 0.01, lon + 0.01, lat + 0.01),
                       targets_s=TARGETS),
        ComplianceArea(id="rest", name="Rest of the region", area_class="rural",
                       geometry=box(lon - 1, lat - 1, lon + 1, lat + 1),
                       targets_s={k: 2 * v for k, v in TARGETS.items()})],
        actor="browser test", replace=True)
    page.goto(server.url + "/compliance")
    expect(page.locator('#compliance-table tr[data-area="core"][data-priority="1"]')
           ).to_contain_text("100%")
    page.screenshot(path=str(SCREENSHOTS / "compliance-page-two-areas.png"), full_page=True)
    assert s.errors == [] and s.ran() is None
