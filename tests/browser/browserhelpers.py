"""Constants, the server record, a logged-in page and map checks shared by the browser tests."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from xss_payloads import FLAG, XSS, plant

from navigator.services.accounts import DEMO_USERS

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-quic", "--no-first-run", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
PASSWORDS = {u: p for u, p, _ in DEMO_USERS}
__all__ = ["ARGS", "CHROMIUM", "FLAG", "PASSWORDS", "SCREENSHOTS", "XSS", "Server", "Session",
           "map_texts", "serve"]


@dataclasses.dataclass
class Server:
    """A running app: its base URL, store, the shelter renamed to ``XSS``, planted ids."""

    url: str
    store: Any
    xss_shelter: Any
    planted: list[str] = dataclasses.field(default_factory=list)


@contextmanager
def serve(graph: Any, folder: Path, *, store_url: str | None = None,
          **settings: Any) -> Iterator[Server]:
    """Run the app on 127.0.0.1 over a demo GeoPackage in ``folder`` (or the store at
    ``store_url``, e.g. a throwaway PostGIS database); yield its :class:`Server`.

    One shelter is renamed to :data:`XSS` and the payload corpus is planted near it;
    ``settings`` override :class:`navigator.config.Settings` fields (a short follow-up, ...).
    """
    from werkzeug.serving import make_server

    from navigator.config import Settings
    from navigator.demo.bundle import demo_bundle
    from navigator.model import BedType, ResourceKind
    from navigator.roads import network_area
    from navigator.roads._kernels import warm_up
    from navigator.services.accounts import ensure_demo_users
    from navigator.store import open_store
    from web import create_app

    warm_up()  # compile (or load) every kernel now, not inside a page's first request
    path = store_url or str(folder / "demo.gpkg")
    store = open_store(path)
    bundle = demo_bundle(seed=7, area=network_area(graph))
    shelter = next(r for r in bundle.resources if r.kind == ResourceKind.SHELTER
                   and not r.confidential and r.opening_hours == "24/7"
                   and any(b.bed_type == BedType.SINGLE_MEN and b.free > 1 for b in r.beds))
    renamed = dataclasses.replace(shelter, name=XSS)
    bundle = dataclasses.replace(bundle, resources=tuple(
        renamed if r.id == shelter.id else r for r in bundle.resources))
    store.load(bundle, actor="browser test", replace=True)
    planted = plant(store, graph, folder / "imports", near=(shelter.lon, shelter.lat))
    ensure_demo_users(store)
    app = create_app(Settings(store_url=str(path), **settings), graph=graph, store=store,
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


class Session:
    """A page (logged in as ``role``, unless None) that records requests and script errors."""

    def __init__(self, browser: Any, server: Server, role: str | None, *,
                 viewport: tuple[int, int] = (1280, 800)) -> None:
        self.context = browser.new_context(viewport={"width": viewport[0],
                                                     "height": viewport[1]})
        self.page = self.context.new_page()
        self.page.set_default_timeout(20_000)
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.console: list[str] = []
        self.failed: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("console", lambda m: self.console.append(m.text) if m.type == "error"
                     else None)
        self.page.on("response", lambda r: self.failed.append(r.url) if r.status >= 400
                     else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        if role is None:
            return
        self.page.goto(server.url + "/auth/login")
        self.page.fill("#username", role)
        self.page.fill("#password", PASSWORDS[role])
        self.page.click("#login-button")
        self.page.wait_for_load_state("networkidle")

    def egress(self, server: Server) -> list[str]:
        """Return requests that went anywhere but the test server."""
        host = urlsplit(server.url).netloc
        return [u for u in self.requests
                if not u.startswith(("data:", "blob:", "about:")) and urlsplit(u).netloc != host]

    def ran(self) -> Any:
        """Return the payload flag (None: no payload ran)."""
        return self.page.evaluate(f"window.{FLAG}")


#: Opens every marker's popup and tooltip on the page's Leaflet map; returns their texts.
_MAP_TEXTS = """() => {
  const map = window.navMap || Object.values(window).find((v) => v instanceof L.Map);
  const out = {markers: 0, popups: [], tips: [], layers: [], injected: 0};
  map.eachLayer((l) => {
    if (!(l instanceof L.CircleMarker || l instanceof L.Marker)) return;
    out.markers += 1;
    if (l.getPopup()) {
      l.openPopup();
      out.popups.push(l.getPopup().getElement().textContent);
      l.closePopup();
    }
    if (l.getTooltip()) {
      l.openTooltip();
      out.tips.push(l.getTooltip().getElement().textContent);
      l.closeTooltip();
    }
  });
  const labels = document.querySelectorAll(".leaflet-control-layers-overlays label");
  out.layers = Array.from(labels, (x) => x.textContent.trim());
  out.injected = document.querySelectorAll(
    ".leaflet-pane img, .leaflet-popup-pane svg, .leaflet-tooltip-pane svg, "
    + ".leaflet-control-layers img, .nav-legend img, .nav-legend svg, [onerror], [onload]")
    .length;
  return out;
}"""


def map_texts(page: Any) -> dict[str, Any]:
    """Return marker count, popup and tooltip texts, layer names and injected elements."""
    result: dict[str, Any] = page.evaluate(_MAP_TEXTS)
    return result
