"""Browser fixtures: a real server on 127.0.0.1 over a temp demo GeoPackage, and Chromium.

The store holds the XSS payload corpus (tests/xss_payloads.py), loaded directly and through
every importer, so every browser test runs against it.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from browserhelpers import ARGS, CHROMIUM, SCREENSHOTS, XSS, Server, Session
from xss_payloads import plant


@pytest.fixture(scope="module")
def server(columbus_graph, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:  # type: ignore[no-untyped-def]
    from werkzeug.serving import make_server

    from navigator.config import Settings
    from navigator.demo.bundle import demo_bundle
    from navigator.model import BedType, ResourceKind
    from navigator.roads import network_area
    from navigator.services.accounts import ensure_demo_users
    from navigator.store import open_store
    from web import create_app

    path = tmp_path_factory.mktemp("browser") / "demo.gpkg"
    store = open_store(str(path))
    bundle = demo_bundle(seed=7, area=network_area(columbus_graph))
    shelter = next(r for r in bundle.resources if r.kind == ResourceKind.SHELTER
                   and not r.confidential and r.opening_hours == "24/7"
                   and any(b.bed_type == BedType.SINGLE_MEN and b.free > 1 for b in r.beds))
    renamed = dataclasses.replace(shelter, name=XSS)
    bundle = dataclasses.replace(bundle, resources=tuple(
        renamed if r.id == shelter.id else r for r in bundle.resources))
    store.load(bundle, actor="browser test", replace=True)
    planted = plant(store, columbus_graph, path.parent / "imports",
                    near=(shelter.lon, shelter.lat))
    ensure_demo_users(store)
    app = create_app(Settings(store_url=str(path)), graph=columbus_graph, store=store,
                     test_config={"SESSION_COOKIE_SECURE": False})
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield Server(f"http://127.0.0.1:{srv.server_port}", store, renamed, planted)
    finally:
        srv.shutdown()
        thread.join(timeout=10)
        store.close()


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
