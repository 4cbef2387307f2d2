"""Flask app factory: settings, the road graph (loaded once per process), the store, blueprints.

Security lives in :mod:`web.security`, errors become HTTP in :mod:`web.errors`, and each role's
routes are a blueprint in :mod:`web.pages`.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import TYPE_CHECKING, Any

from flask import Flask, redirect, send_file, url_for
from werkzeug.exceptions import NotFound
from werkzeug.middleware.proxy_fix import ProxyFix

from navigator.config import Settings, settings_from_env
from navigator.maps import offline_assets
from navigator.services.context import holiday_calendar, load_network, settings_for_store
from navigator.store import open_store
from web import access
from web.context import AppContext, install
from web.errors import register_error_handlers
from web.pages import BLUEPRINTS
from web.render import closures_banner
from web.security import env_flag, setup_csrf, setup_headers

if TYPE_CHECKING:
    from collections.abc import Callable

    from flask import Response

    from navigator.roads import TravelGraph
    from navigator.store import Store


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def create_app(settings: Settings | None = None, *, graph: TravelGraph | None = None,
               store: Store | None = None, test_config: dict[str, Any] | None = None,
               clock: Callable[[], dt.datetime] | None = None) -> Flask:
    """Create the Navigator web app.

    In production: ``gunicorn "web:create_app()"`` with ``NAVIGATOR_STORE_URL``,
    ``NAVIGATOR_SECRET_KEY`` (shared by all workers) and the other ``NAVIGATOR_*`` settings.
    ``NAVIGATOR_SECURE_COOKIES=0`` drops the cookie ``Secure`` flag (plain-http demos only).
    Behind a reverse proxy, ``NAVIGATOR_TRUSTED_PROXIES=1`` (the number of proxies) takes the
    client address for login throttling from ``X-Forwarded-For``; it is off by default,
    since any client can send that header.

    Parameters
    ----------
    settings
        Settings (default: from ``NAVIGATOR_*`` environment variables).
    graph
        Road network, loaded once per process (default: built or loaded from the cache).
    store
        Open store (default: ``open_store(settings.store_url)``); a region recorded in it
        (``navigator region init``) is the app's region.
    test_config
        Flask config overrides (tests; ``SESSION_COOKIE_SECURE`` for a local http demo).
    clock
        Returns the time now (aware UTC): session timeouts and login locks (tests).
    """
    settings = settings or settings_from_env()
    store = store if store is not None else open_store(settings.store_url)
    # A region recorded in the store (navigator region init) gives roads, people, calendar.
    settings = settings_for_store(settings, store)
    holiday_calendar(settings)  # an unknown NAVIGATOR_HOLIDAYS stops the start, not a request
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key or secrets.token_hex(32),
        SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=env_flag("NAVIGATOR_SECURE_COOKIES", True),
        SESSION_COOKIE_NAME="navigator_session",
        # The cookie outlives no session; the server-side session (web.access) decides.
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=settings.session_max_h),
        # The server-side session ends it, not the cookie's age: no re-signed, re-compressed
        # Set-Cookie on every response, only when the session changes (login, CSRF token).
        SESSION_REFRESH_EACH_REQUEST=False,
        # A console stays open for a whole shift: the token lives as long as the session.
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_HEADERS=["X-CSRFToken", "X-CSRF-Token"],
        MAX_CONTENT_LENGTH=1 << 20,
    )
    if test_config:
        app.config.update(test_config)
    install(app, AppContext(
        settings=settings,
        graph=graph if graph is not None else load_network(settings),
        store=store,
        clock=clock or _utc_now))
    if settings.trusted_proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies)  # type: ignore[method-assign]
    setup_csrf(app)
    register_error_handlers(app)
    setup_headers(app)
    access.init_app(app)
    app.context_processor(closures_banner)
    for bp in BLUEPRINTS:
        app.register_blueprint(bp)

    @app.get("/static/vendor/<path:name>")
    def vendor_asset(name: str) -> Response:
        path = offline_assets().get(name)
        if path is None:
            raise NotFound(f"no asset {name!r}")
        return send_file(path, max_age=86400)

    @app.get("/favicon.ico")
    def favicon() -> Response:
        """Send browsers that ask for /favicon.ico to the SVG icon (no 404 in the console)."""
        response = redirect(url_for("static", filename="favicon.svg"), code=301)
        response.cache_control.max_age = 86400
        return response  # type: ignore[return-value]

    return app
