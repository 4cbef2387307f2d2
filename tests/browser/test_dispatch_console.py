"""The dispatch console in Chromium: incident list, stale positions, overrides, popups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from browserhelpers import SCREENSHOTS, Server
from playwright.sync_api import expect

from navigator.model import CrisisType, Incident, PositionPing

pytestmark = pytest.mark.browser


def test_incident_list_sorted_with_team_and_elapsed_time(session: Any, server: Server) -> None:
    store = server.store
    now = datetime.now(UTC)
    teams = store.teams(statuses=["available"])
    lon, lat = float(teams.geometry.x.iloc[0]), float(teams.geometry.y.iloc[0])
    old = Incident(id="inc-old-p3", lon=lon, lat=lat, crisis_type=CrisisType.WELFARE_CHECK,
                   priority=3, created_at=now - timedelta(minutes=50),
                   updated_at=now - timedelta(minutes=50))
    urgent = Incident(id="inc-new-p1", lon=lon, lat=lat, crisis_type=CrisisType.SUICIDE_RISK,
                      priority=1, created_at=now - timedelta(minutes=3),
                      updated_at=now - timedelta(minutes=3))
    misfit = Incident(id="inc-misfit", lon=lon, lat=lat, crisis_type=CrisisType.YOUTH,
                      priority=1, created_at=now - timedelta(minutes=20),
                      updated_at=now - timedelta(minutes=20), needed_skills=("telepathy",))
    for inc in (old, urgent, misfit):
        store.add_incident(inc, actor="browser test")
    sent = teams["id"].iloc[1]
    store.assign_team(sent, urgent.id, actor="browser test")
    stale = teams["id"].iloc[2]
    store.report_positions(stale, [PositionPing(float(teams.geometry.x.iloc[2]),
                                                float(teams.geometry.y.iloc[2]),
                                                now - timedelta(minutes=25))], actor="gps")

    s = session("dispatcher", viewport=(1280, 720))
    page = s.page
    page.wait_for_selector("#incident-list li.incident")
    ids = page.eval_on_selector_all("#incident-list li.incident",
                                    "els => els.map((e) => e.dataset.id)")
    # priority first, then the oldest: the 20-minute-old P1 before the 3-minute-old P1
    assert ids.index("inc-misfit") < ids.index("inc-new-p1") < ids.index("inc-old-p3")
    row = page.locator('#incident-list li[data-id="inc-new-p1"]')
    assert row.locator(".team").text_content() == teams["name"].iloc[1]
    assert row.locator(".status").text_content() == "assigned"
    assert row.locator(".elapsed").text_content() == "3 min"
    assert ":" in row.locator(".created").text_content()
    assert row.locator("button.rank").count() == 0 and row.locator("button.rank-backup").count()
    old_row = page.locator('#incident-list li[data-id="inc-old-p3"]')
    assert old_row.locator("button.rank").count() == 1
    assert old_row.locator(".elapsed").text_content() == "50 min"
    # the team whose last fix is 25 minutes old is flagged
    team_row = page.locator(f'#team-list li.team[data-id="{stale}"] .position')
    expect(team_row).to_have_class("position stale")
    assert "25 min ago (stale)" in team_row.text_content()

    # nothing fits: the nearest teams with what they lack; assigning needs a reason
    page.locator('#incident-list li[data-id="inc-misfit"] button.rank').click()
    page.wait_for_selector("#team-options li.option.misfit")
    expect(page.locator("#ranking-note")).to_contain_text("No team fits")
    first = page.locator("#team-options li.option").first
    assert "lacks skill telepathy" in first.locator(".lacks").text_content()
    first.locator("button.assign").click()
    expect(page.locator("#status-line.error")).to_contain_text("give a reason")
    first.locator("input.override").fill("nearest team; supervisor agreed")
    first.locator("button.assign").click()
    expect(page.locator("#status-line")).to_contain_text("Assigned")
    a = store.assignments(active_only=True)
    assert a[a.incident_id == "inc-misfit"]["override_reason"].iloc[0] == \
        "nearest team; supervisor agreed"
    page.screenshot(path=str(SCREENSHOTS / "dispatch-console.png"))
    assert s.errors == [] and s.egress(server) == []


def test_reading_a_marker_never_overwrites_typed_coordinates(session: Any,
                                                             server: Server) -> None:
    s = session("dispatcher")
    page = s.page
    page.wait_for_selector("path.team-marker")
    page.fill("#inc-lon", "-82.5")
    page.fill("#inc-lat", "39.5")
    page.locator("path.team-marker").first.click(force=True)
    popups = page.locator(".leaflet-marker-icon")
    if popups.count():
        popups.first.click(force=True)
    page.evaluate("""() => { let done = false; navMap.eachLayer((l) => {
        if (!done && l.getPopup && l.getPopup()) { l.openPopup(); done = true; } }); }""")
    assert (page.input_value("#inc-lon"), page.input_value("#inc-lat")) == ("-82.5", "39.5")
    # with empty inputs a marker's popup still fills them
    page.fill("#inc-lon", "")
    page.fill("#inc-lat", "")
    page.evaluate("""() => { let done = false; navMap.eachLayer((l) => {
        if (!done && l.getPopup && l.getPopup() && l.getLatLng) {
          l.closePopup(); l.openPopup(); done = true; } }); }""")
    assert page.input_value("#inc-lon") != ""
    assert s.errors == []
