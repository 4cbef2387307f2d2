"""The referral loop in two browsers: a caseworker and a shelter worker, each logged in.

The caseworker finds a bed (a stale site is listed apart, never as free), holds it with a
case reference (the episode opens); the shelter worker, on a phone-sized page, sees the hold
and accepts it; the caseworker's board shows it accepted, records transport and arrival; the
follow-up comes due on the board (the app's first follow-up is due a few seconds after
arrival); a move made first elsewhere is a 409 shown on the page. Then every red timer.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from browserhelpers import SCREENSHOTS, Server, Session, serve
from playwright.sync_api import expect

from navigator import services as sv
from navigator.config import Settings
from navigator.model import BedCount, ResourceKind
from navigator.store.registry import SiteReport

pytestmark = pytest.mark.browser
#: Seconds from arrival to the first follow-up in this module's app.
FOLLOW_UP_S = 4.0
MEN = "single_men"


@pytest.fixture(scope="module")
def loop_server(columbus_graph, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:  # type: ignore[no-untyped-def]
    with serve(columbus_graph, tmp_path_factory.mktemp("loop"),
               follow_up_first_h=FOLLOW_UP_S / 3600.0) as srv:
        yield srv


def _stale_neighbour(store: Any, site: str) -> str:
    """Make the public shelter with men's beds nearest ``site`` stale (3 days); return it."""
    shelters = store.resources(kinds=[ResourceKind.SHELTER], include_confidential=False)
    beds = store.beds()
    men = set(beds[(beds["bed_type"] == MEN) & (beds["free"] > 0)]["resource_id"])
    here = store.resource(site)
    others = shelters[shelters["id"].isin(men) & (shelters["id"] != site)
                      & ~shelters["id"].str.startswith("xss-")]
    d2 = (others.geometry.x - here.lon) ** 2 + (others.geometry.y - here.lat) ** 2
    stale = str(others["id"].loc[d2.idxmin()])
    counts = {b.bed_type.value: BedCount(b.capacity, b.occupied)
              for b in store.site_beds(stale).beds}
    store.report_beds(SiteReport(stale, counts, at=datetime.now(UTC) - timedelta(days=3)),
                      actor="browser test")
    return stale


def _card(page: Any, episode_id: str) -> Any:
    return page.locator(f"#board li.episode[data-id='{episode_id}']")


def test_caseworker_and_shelter_worker_close_the_loop(browser: Any,
                                                      loop_server: Server) -> None:
    store = loop_server.store
    site = store.user_sites("shelter")[0]
    stale = _stale_neighbour(store, site)
    here = store.resource(site)
    cw = Session(browser, loop_server, "caseworker")
    desk = Session(browser, loop_server, "shelter", viewport=(390, 844))
    try:
        # The caseworker finds a bed: the stale site comes after, as "call ahead", never free.
        page = cw.page
        page.goto(loop_server.url + "/beds")
        page.fill("#bed-lon", f"{here.lon:.6f}")
        page.fill("#bed-lat", f"{here.lat:.6f}")
        page.select_option("#bed-type", MEN)
        page.click("#find-beds")
        result = page.locator(f"#bed-results li.result[data-id='{site}']")
        expect(result).to_be_visible()
        listed = page.locator(f"#bed-results li[data-id='{stale}']")
        expect(listed).to_have_class("stale")
        expect(listed).to_contain_text("call ahead")
        assert listed.locator(".free").count() == 0
        assert page.locator(f"#bed-results li.result[data-id='{stale}']").count() == 0
        listed.scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOTS / "loop-finder-stale.png"))
        # A hold needs the case reference.
        result.locator("button.hold").click()
        expect(page.locator("#status-line.error")).to_contain_text("case reference")
        page.fill("#bed-client-ref", "CASE-2001")
        result.locator("button.hold").click()
        item = page.locator("#hold-list li.hold-item", has_text="CASE-2001")
        expect(item.locator("a.episode-link")).to_be_visible()
        expect(page.locator("#status-line")).to_contain_text("referral on the board")
        episode_id = item.locator("a.episode-link").get_attribute("data-episode")
        hold_id = item.get_attribute("data-id")
        assert store.episode(episode_id).hold_id == hold_id
        item.scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOTS / "loop-finder-held.png"))
        # With "only counts confirmed recently" the stale site is not listed at all.
        page.check("#bed-fresh-only")
        page.click("#find-beds")
        expect(result).to_be_visible()
        assert page.locator(f"#bed-results li[data-id='{stale}']").count() == 0

        # The shelter worker, on a phone, sees the incoming hold and accepts it.
        phone = desk.page
        phone.goto(loop_server.url + "/shelter")
        incoming = phone.locator(f"#incoming li[data-id='{hold_id}']")
        expect(incoming).to_contain_text("CASE-2001")
        expect(incoming.locator("a.episode-link")).to_have_attribute(
            "href", f"/board#episode-{episode_id}")
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        phone.screenshot(path=str(SCREENSHOTS / "loop-shelter-390x844.png"), full_page=True)
        incoming.locator("button.accept").click()
        expect(phone.locator("#status-line")).to_contain_text("accepted")

        # The caseworker follows the hold's link to the board: accepted.
        item.locator("a.episode-link").click()
        page.wait_for_url(re.compile(r"/board#episode-"))
        card = _card(page, episode_id)
        expect(card).to_have_attribute("data-state", "accepted")
        expect(card).to_have_class(re.compile(r"\bfocus\b"))
        expect(card.locator(".where")).to_contain_text(MEN)
        # The shelter's phone board shows it too, with the staff's moves only.
        phone.goto(loop_server.url + "/board")
        staff_card = _card(phone, episode_id)
        expect(staff_card).to_have_attribute("data-state", "accepted")
        assert staff_card.locator("button.move").evaluate_all(
            "(bs) => bs.map((b) => b.dataset.state)") == ["arrived", "no_show"]
        # Transport by the team, expected in 20 minutes.
        assert card.locator("button.move").evaluate_all(
            "(bs) => bs.map((b) => b.dataset.state)") == ["transport", "arrived", "no_show",
                                                          "closed"]
        card.locator("select[name='transport']").select_option("team")
        card.locator("input[name='eta_min']").fill("20")
        card.locator("button[data-state='transport']").click()
        expect(card).to_have_attribute("data-state", "transport")
        expect(card).to_contain_text("transport: team")
        expect(card.locator(".timer.arrival_overdue")).to_contain_text("ETA ")
        expect(card.locator(".timer.arrival_overdue")).not_to_have_class(re.compile("red"))
        moved = store.episode(episode_id)
        assert moved.transport == "team"
        assert abs((moved.eta - datetime.now(UTC)).total_seconds() - 20 * 60) < 120
        phone.reload()
        expect(staff_card).to_have_attribute("data-state", "transport")
        # The caseworker records the arrival: the bed is confirmed, the follow-up clock runs.
        card.locator("button[data-state='arrived']").click()
        expect(card).to_have_attribute("data-state", "arrived")
        assert store.hold(hold_id).status == "confirmed"
        # The shelter's page still offers "no-show": the answer is a 409 naming the state.
        staff_card.locator("button[data-state='no_show']").click()
        expect(phone.locator("#status-line.error")).to_contain_text(
            "is arrived; it cannot move to no_show")
        expect(staff_card).to_have_attribute("data-state", "arrived")
        phone.screenshot(path=str(SCREENSHOTS / "loop-board-shelter-390x844.png"),
                         full_page=True)
        # The follow-up comes due: the timer and the card turn red.
        due = store.episode(episode_id).follow_up_due
        time.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()) + 0.5)
        page.click("#board-refresh")
        expect(card.locator(".timer.follow_up_due.red")).to_contain_text("follow-up due")
        expect(card).to_have_class(re.compile(r"\bred\b"))
        page.screenshot(path=str(SCREENSHOTS / "loop-board-follow-up-due.png"), full_page=True)
        card.locator("button[data-state='follow_up']").click()
        expect(card).to_have_attribute("data-state", "follow_up")
        expect(card).not_to_have_class(re.compile(r"\bred\b"))  # the next one is 72 h away
        card.locator("button[data-state='closed']").click()
        expect(card).to_have_count(0)
        moves = [(a.actor, a.inputs["state"]) for a in
                 reversed(store.audit_log(action="move_episode", limit=20))
                 if a.subject == episode_id]
        assert moves == [("caseworker", "hold"), ("shelter", "accepted"),
                         ("caseworker", "transport"), ("caseworker", "arrived"),
                         ("caseworker", "follow_up"), ("caseworker", "closed")]
        for s in (cw, desk):
            assert s.errors == [] and s.ran() is None
            assert s.egress(loop_server) == []
    finally:
        cw.context.close()
        desk.context.close()


def test_board_shows_every_red_timer(browser: Any, loop_server: Server) -> None:
    store = loop_server.store
    site = store.user_sites("shelter")[0]
    settings = Settings(store_url="unused", follow_up_first_h=1.0)
    now = datetime.now(UTC)
    short = store.hold_bed(site, MEN, actor="caseworker", ttl_s=300, client_ref="CASE-3001")
    expiring = store.link_hold_episode(short.id, actor="caseworker", client_ref="CASE-3001")
    late = sv.hold_for_client(store, settings, resource_id=site, bed_type=MEN,
                              actor="caseworker", client_ref="CASE-3002").episode
    sv.answer_hold(store, hold_id=late.hold_id, accept=True, actor="shelter")
    sv.move_episode(store, settings, episode_id=late.id, state="transport", transport="self",
                    eta=now - timedelta(hours=1), actor="caseworker")
    calm = sv.hold_for_client(store, settings, resource_id=site, bed_type=MEN,
                              actor="caseworker", client_ref="CASE-3003").episode
    came = sv.hold_for_client(store, settings, resource_id=site, bed_type=MEN,
                              actor="caseworker", client_ref="CASE-3004").episode
    sv.answer_hold(store, hold_id=came.hold_id, accept=True, actor="shelter")
    sv.move_episode(store, settings, episode_id=came.id, state="arrived", actor="caseworker",
                    now=now - timedelta(hours=2))  # the first follow-up was due an hour ago
    cw = Session(browser, loop_server, "caseworker")
    try:
        page = cw.page
        page.goto(loop_server.url + "/board")
        expect(_card(page, expiring.id).locator(".timer.hold_expiring.red")).to_contain_text(
            "hold expiring")
        expect(_card(page, late.id).locator(".timer.arrival_overdue.red")).to_contain_text(
            "arrival overdue")
        expect(_card(page, came.id).locator(".timer.follow_up_due.red")).to_contain_text(
            "follow-up due")
        for episode in (expiring, late, came):
            expect(_card(page, episode.id)).to_have_class(re.compile(r"\bred\b"))
        calm_card = _card(page, calm.id)
        expect(calm_card.locator(".timer.hold_expiring")).to_contain_text("hold until ")
        expect(calm_card).not_to_have_class(re.compile(r"\bred\b"))
        assert calm_card.locator(".red").count() == 0
        page.screenshot(path=str(SCREENSHOTS / "board-red-timers.png"), full_page=True)
        assert cw.errors == [] and cw.ran() is None
    finally:
        cw.context.close()
