"""Browser fixtures: a real server on 127.0.0.1 over a temp demo GeoPackage, and Chromium.

The store holds the XSS payload corpus (tests/xss_payloads.py), loaded directly and through
every importer, so every browser test runs against it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from browserhelpers import ARGS, CHROMIUM, SCREENSHOTS, Server, Session, running_server


@pytest.fixture(scope="module")
def server(columbus_graph, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:  # type: ignore[no-untyped-def]
    with running_server(columbus_graph, tmp_path_factory.mktemp("browser")) as srv:
        yield srv


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        if os.environ.get("NAVIGATOR_REQUIRE_ALL") == "1":
            pytest.fail(f"{CHROMIUM} is missing and NAVIGATOR_REQUIRE_ALL=1")
        pytest.skip(f"{CHROMIUM} is missing")
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def session(browser: Any, server: Server) -> Iterator[Any]:
    """Return ``make(role)``: a new logged-in :class:`Session`, closed after the test."""
    made: list[Session] = []

    def make(role: str | None, **kwargs: Any) -> Session:
        s = Session(browser, server, role, **kwargs)
        made.append(s)
        return s

    yield make
    for s in made:
        s.context.close()
