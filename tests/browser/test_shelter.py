"""The shelter page on a phone-sized screen (390x844): report all bed types, answer a hold."""

from __future__ import annotations

from typing import Any

import pytest
from browserhelpers import SCREENSHOTS, Server
from playwright.sync_api import expect

from navigator.model import BedType
from navigator.services.accounts import DEMO_USERS

pytestmark = pytest.mark.browser
PASSWORDS = {u: p for u, p, _ in DEMO_USERS}


def _phone(browser: Any, server: Server, role: str) -> Any:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server.url + "/auth/login")
    page.fill("#username", role)
    page.fill("#password", PASSWORDS[role])
    page.click("#login-button")
    page.wait_for_load_state("networkidle")
    return context, page, errors


def test_shelter_worker_reports_beds_and_accepts_a_hold(browser: Any, server: Server) -> None:
    store = server.store
    site = store.user_sites("shelter")[0]
    bed = next(b for b in store.site_beds(site).beds if b.bed_type is not BedType.DV)
    hold = store.hold_bed(site, bed.bed_type, actor="caseworker", ttl_s=3600,
                          client_ref="CASE-9")
    context, page, errors = _phone(browser, server, "shelter")
    try:
        page.goto(server.url + "/shelter")
        form = page.locator(f"form.site[data-id='{site}']")
        expect(form).to_be_visible()
        row = form.locator(f".bedrow[data-bed='{bed.bed_type.value}']")
        occupied = max(0, bed.capacity - 3)
        row.locator("input[name='occupied']").fill(str(occupied))
        row.locator("input[name='out_of_service']").fill("1")
        form.locator("select[name='status']").select_option("open")
        form.locator("textarea[name='note']").fill("one bed being repaired")
        # The whole form fits the phone's width: nothing to scroll sideways.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.locator(f"form.site[data-id='{site}'] button.save").click()
        expect(page.locator("#status-line")).to_contain_text("Saved")
        free = max(0, bed.capacity - occupied - 1 - 1)  # one held on top
        expect(page.locator(f"form.site[data-id='{site}'] .bedrow[data-bed="
                            f"'{bed.bed_type.value}'] .derived")).to_contain_text(
            f"free {free} (held 1")
        state = store.site_beds(site)
        got = next(b for b in state.beds if b.bed_type is bed.bed_type)
        assert (got.occupied, got.out_of_service, got.reported_by) == (occupied, 1, "shelter")
        assert state.note == "one bed being repaired"
        item = page.locator(f"#incoming li[data-id='{hold.id}']")
        expect(item).to_contain_text("CASE-9")
        page.screenshot(path=str(SCREENSHOTS / "shelter-390x844.png"), full_page=True)
        item.locator("button.accept").click()
        expect(page.locator("#status-line")).to_contain_text("accepted")
        assert store.hold(hold.id).response == "accepted"
        page.goto(server.url + "/board")
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(SCREENSHOTS / "board-390x844.png"), full_page=True)
        assert errors == []
        assert page.evaluate("window.__xss") is None
    finally:
        context.close()
