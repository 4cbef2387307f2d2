"""The payload corpus on every role's page in Chromium: nothing runs, maps draw, text is text.

The store holds every payload in every text field of resources (loaded directly and through
the CSV, GeoJSON, HSDS JSON and HSDS package importers), teams, incidents (notes and ids) and
a hotline (see ``conftest.server``); the dispatcher types more into the incident form.
"""

from __future__ import annotations

from typing import Any

import pytest
from browserhelpers import FLAG, Server, Session, map_texts
from playwright.sync_api import expect
from xss_payloads import ID_PAYLOADS, PAYLOADS, TAKEOVER_USER

from navigator.services.accounts import DEMO_USERS

pytestmark = pytest.mark.browser
TEXT_FIELDS = ("name", "address", "phone", "opening_hours", "source")


def _script_errors(s: Session) -> list[str]:
    """Return uncaught errors and console errors (HTTP 4xx answers of the API aside)."""
    return s.errors + [m for m in s.console if not m.startswith("Failed to load resource")]


def _assert_clean(s: Session, server: Server) -> None:
    assert s.ran() is None, f"a payload ran: {FLAG}={s.ran()!r}"
    assert _script_errors(s) == []
    assert s.egress(server) == []
    assert TAKEOVER_USER not in {u.username for u in server.store.users()}


def _planted(server: Server, *fields: str) -> set[str]:
    """Return the stored text of planted public resources in ``fields``."""
    res = server.store.resources(include_confidential=False)
    rows = res[res["id"].isin(server.planted)]
    return {v for f in fields for v in rows[f] if isinstance(v, str) and v}


def _assert_map_shows_text(s: Session, server: Server, *, popups: bool = True) -> dict[str, Any]:
    s.page.wait_for_selector(".leaflet-container")
    texts = map_texts(s.page)
    assert texts["markers"] > len(server.planted)
    assert texts["injected"] == 0
    assert _planted(server, "name") <= set(texts["tips"])
    if popups:
        shown = "\n".join(texts["popups"])
        assert all(v in shown for v in _planted(server, *TEXT_FIELDS))
    return texts


def _rows(page: Any, selector: str, part: str) -> dict[str, str]:
    """Return ``{data-id: text of part}`` for the list items ``selector`` matches."""
    result: dict[str, str] = page.evaluate(
        "([sel, part]) => Object.fromEntries(Array.from(document.querySelectorAll(sel),"
        " (li) => [li.dataset.id, li.querySelector(part).textContent]))", [selector, part])
    return result


def test_login_page_with_payload_usernames(session: Any, server: Server) -> None:
    s = session(None)
    for key in ("template_literal", "backtick", "double_quote", "script_close", "img_onerror",
                "admin_takeover"):  # each failed login costs an argon2 hash
        text = PAYLOADS[key]
        s.page.goto(server.url + "/auth/login")
        s.page.fill("#username", text)
        s.page.fill("#password", "wrong password")
        s.page.click("#login-button")
        expect(s.page.locator("p.error")).to_have_text("Wrong username or password.")
    assert s.page.locator("main img, main svg").count() == 0
    _assert_clean(s, server)


def test_dispatcher_page_keeps_payloads_as_text(session: Any, server: Server) -> None:
    s = session("dispatcher")
    page = s.page
    page.wait_for_selector("#incident-list li.incident")
    page.wait_for_selector("#team-list li.team")
    incidents = server.store.incidents(statuses=["open", "assigned"])
    assert _rows(page, "#incident-list li.incident", ".notes") == {
        i.id: i.notes for i in incidents.itertuples()}
    teams = _rows(page, "#team-list li.team", "span")
    assert {r.id: f"{r.name} — " for r in server.store.teams().itertuples()} == teams
    texts = _assert_map_shows_text(s, server)
    # tooltip: name, status and last-seen age (these teams never sent a GPS fix)
    assert {f"{r.name} ({r.status}, no GPS fix)" for r in server.store.teams().itertuples()
            if r.id.startswith("team-xss-")} <= set(texts["tips"])
    # typed into the form: the quote-free admin takeover and the line separators
    lon, lat = server.xss_shelter.lon, server.xss_shelter.lat
    items = page.locator("#incident-list li.incident")
    for text in (PAYLOADS["admin_takeover"], PAYLOADS["line_separators"]):
        before = items.count()
        page.fill("#inc-lon", f"{lon:.6f}")
        page.fill("#inc-lat", f"{lat:.6f}")
        page.fill("#inc-notes", text)
        page.click("#create-incident")
        expect(items).to_have_count(before + 1)
    shown = _rows(page, "#incident-list li.incident", ".notes")
    assert {PAYLOADS["admin_takeover"], PAYLOADS["line_separators"]} <= set(shown.values())
    assert shown == {i.id: i.notes for i in server.store.incidents(
        statuses=["open", "assigned"]).itertuples()}
    # an id made of a payload: ranking reaches the API and shows it as text
    for inc_id in ID_PAYLOADS.values():
        page.evaluate("(id) => Array.from(document.querySelectorAll('#incident-list li'))"
                      ".find((li) => li.dataset.id === id).querySelector('button.rank').click()",
                      inc_id)
        inc = server.store.incident(inc_id)
        expect(page.locator("#ranked-for")).to_have_text(
            f"for P{inc.priority} {inc.crisis_type} {inc_id}")
        page.wait_for_selector("#team-options li.option")
        assert page.locator("#status-line.error").count() == 0
    _assert_clean(s, server)


def test_caseworker_results_holds_and_hotlines_keep_payloads_as_text(
        session: Any, server: Server) -> None:
    s = session("caseworker")
    page = s.page
    _assert_map_shows_text(s, server)
    target = server.store.resource("xss-shelter-admin_takeover")
    page.fill("#bed-lon", f"{target.lon:.6f}")
    page.fill("#bed-lat", f"{target.lat:.6f}")
    page.select_option("#bed-type", "single_men")
    page.fill("#bed-client-ref", "CASE-X1")
    page.click("#find-beds")
    item = page.locator("#bed-results li.result").first
    item.wait_for()
    shown = page.evaluate("() => Array.from(document.querySelectorAll('#bed-results li.result'),"
                          " (li) => [li.dataset.id, li.querySelector('.name').textContent,"
                          " li.querySelector('.small').textContent])")
    planted = [row for row in shown if row[0].startswith("xss-shelter-")]
    assert planted, shown
    for rid, name, where in planted:
        r = server.store.resource(rid)
        assert (name, where) == (r.name, f"{r.address}, {r.phone}")
    item.locator("button.hold").click()
    hold = page.locator("#hold-list li.hold-item").first
    hold.wait_for()
    assert hold.locator("span").first.text_content() == \
        f"{shown[0][1]} (single_men) for CASE-X1: "
    page.wait_for_selector("#hotline-list li")
    lines = page.locator("#hotline-list li").all_text_contents()
    assert any(line.startswith(f"{PAYLOADS['script_close']}: {PAYLOADS['img_onerror']}")
               for line in lines), lines
    hrefs = page.eval_on_selector_all("#hotline-list a", "(as) => as.map((a) => a.href)")
    assert "https://988lifeline.org/chat" in hrefs
    assert all(h.startswith("https://") for h in hrefs)
    assert page.locator("aside img, aside svg").count() == 0
    _assert_clean(s, server)


def test_planner_results_keep_payloads_as_text(session: Any, server: Server) -> None:
    s = session("planner", viewport=(1400, 900))
    page = s.page
    page.set_default_timeout(30_000)
    _assert_map_shows_text(s, server)
    page.select_option("#cov-kind", "clinics")
    page.fill("#cov-at", "2026-03-02T12:00")
    page.click("#run-coverage")
    page.wait_for_selector("#population-table tbody tr")
    notes = "\n".join(page.locator("#coverage-notes li").all_text_contents())
    assert all(v in notes for v in PAYLOADS.values()), notes  # unreadable opening hours
    page.fill("#cov-at", "")  # every place, whatever its hours: the payload clinics too
    page.click("#run-coverage")
    expect(page.locator("#coverage-notes")).not_to_contain_text("unreadable")
    options = set(page.locator("#close-select option").all_text_contents())
    assert {f"{v} (clinic)" for v in PAYLOADS.values()} <= options
    page.select_option("#close-select", "xss-clinic-backtick_call")
    page.click("#run-compare")
    page.wait_for_selector("#compare-table tbody tr")
    page.select_option("#cov-kind", "shelters")  # candidates: clinics (payload ones too)
    page.fill("#rec-k", "2")
    page.click("#run-recommend")
    page.wait_for_selector("#recommend-sites li.site")
    names = set(server.store.resources()["name"])
    for text in page.locator("#recommend-sites li.site").all_text_contents():
        assert text.rsplit(" (", 1)[0] in names
    assert page.locator("aside img, aside svg").count() == 0
    _assert_clean(s, server)


def test_admin_map_users_and_audit_keep_payloads_as_text(session: Any, server: Server) -> None:
    attacker = session(None)
    for _ in range(5):  # failed logins are audited once, when they lock the account
        attacker.page.goto(server.url + "/auth/login")
        attacker.page.fill("#username", PAYLOADS["admin_takeover"])
        attacker.page.fill("#password", "wrong password")
        attacker.page.click("#login-button")
    s = session("admin")
    page = s.page
    texts = _assert_map_shows_text(s, server)
    assert texts["layers"] == ["Resources", "Mobile teams", "Incidents"]
    popups = "\n".join(texts["popups"])
    for r in server.store.incidents(statuses=["open", "assigned"]).itertuples():
        assert f"Incident {r.id}" in popups and (r.notes or "") in popups
    users = page.locator("aside ul.list").first.locator("li").all_text_contents()
    assert {f"{u} — {role}" for u, _, role in DEMO_USERS} <= set(users)
    audit = "\n".join(page.locator("aside ul.small li").all_text_contents())
    assert "navigator login: login_locked" in audit
    # actors that are payloads (they loaded the data) read as text
    assert any(f"{text}: load" in audit for text in PAYLOADS.values()), audit
    assert page.locator("aside img, aside svg").count() == 0
    _assert_clean(s, server)


def _open_standalone(s: Session, path: Any) -> dict[str, Any]:
    s.page.goto(path.as_uri())
    s.page.wait_for_selector(".leaflet-container")
    texts = map_texts(s.page)
    assert texts["markers"] > 0 and texts["injected"] == 0
    assert s.ran() is None and _script_errors(s) == []
    assert all(u.startswith(("file:", "data:")) for u in s.requests), s.requests
    return texts


def test_standalone_maps_keep_payloads_as_text(session: Any, server: Server,
                                               columbus_graph: Any, tmp_path: Any) -> None:
    from navigator.config import DATA_DIR
    from navigator.maps import overview_map
    from navigator.maps.coverage import coverage_map
    from navigator.services import planner as cs
    from navigator.services import reports

    overview = tmp_path / "overview.html"
    overview_map(server.store, columbus_graph).save(str(overview))
    texts = _open_standalone(session(None), overview)
    assert _planted(server, "name") <= set(texts["tips"])
    shown = "\n".join(texts["popups"])
    assert all(v in shown for v in _planted(server, *TEXT_FIELDS))
    # a coverage map whose scenario label and facility names are payloads
    label = PAYLOADS["template_literal"]
    demand = reports.demand_units(columbus_graph, DATA_DIR / "population"
                                  / "franklin_bg2010_population.gpkg")
    run = cs.facility_surface(server.store, columbus_graph, kind="clinics", label=label)
    report = reports.coverage_report(columbus_graph, run, demand, targets_s=[300, 600])
    cov = tmp_path / "coverage.html"
    coverage_map(columbus_graph, report, facilities=run.facilities).save(str(cov))
    s = session(None)
    texts = _open_standalone(s, cov)
    assert texts["layers"] == [f"Travel time ({label})", "Coverage gaps", "Facilities"]
    assert set(PAYLOADS.values()) <= set(texts["tips"])
    assert f"Travel time: {label}" in s.page.locator(".nav-legend").text_content()
