"""Flask app factory: settings, the road graph (loaded once per process), the store, security.

Security in one place: session cookie flags, CSRF on every write (flask-wtf), a per-request
CSP nonce for the inline scripts folium emits, and every error turned into a JSON body.
"""

from __future__ import annotations

import json
import os
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from flask import Flask, g, jsonify, send_file
from flask_wtf.csrf import CSRFProtect
from werkzeug.exceptions import HTTPException, NotFound

from navigator import errors
from navigator.config import Settings, settings_from_env
from navigator.decide.results import json_safe

if TYPE_CHECKING:
    from flask import Response

    from navigator.roads import TravelGraph
    from navigator.store import Store

#: HTTP status for each of Navigator's errors; the rest of NavigatorError is 400.
STATUS = {
    errors.ValidationError: 400,
    errors.NotFoundError: 404,
    errors.ConflictError: 409,
    errors.NoAvailableResourceError: 404,
    errors.UnreachableError: 422,
    errors.StoreError: 503,
}

csrf = CSRFProtect()


class RequestInvalid(errors.ValidationError):
    """A request body or query failed validation; ``details`` lists each problem."""

    def __init__(self, msg: str, details: list[dict[str, Any]]) -> None:
        super().__init__(msg)
        self.details = details


#: Longest integer literal accepted in a JSON body (Python's own limit is 4300 digits).
MAX_INT_DIGITS = 100


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        msg = f"integer literal longer than {MAX_INT_DIGITS} digits"
        raise ValueError(msg)
    return int(text)


def load_json(raw: bytes | str) -> Any:
    """Return parsed JSON, or raise :class:`RequestInvalid` (bad, too deep, huge numbers)."""
    try:
        return json.loads(raw, parse_int=_parse_int)
    except RecursionError as e:
        raise RequestInvalid("the body is not valid JSON: nested too deeply", []) from e
    except (ValueError, UnicodeDecodeError) as e:
        msg = f"the body is not valid JSON: {e}"
        raise RequestInvalid(msg, []) from e


def _flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    return raw not in {"0", "false", "no", "off"}


def create_app(settings: Settings | None = None, *, graph: TravelGraph | None = None,
               store: Store | None = None, test_config: dict[str, Any] | None = None) -> Flask:
    """Create the Navigator web app.

    In production: ``gunicorn "web:create_app()"`` with ``NAVIGATOR_STORE_URL``,
    ``NAVIGATOR_SECRET_KEY`` (shared by all workers) and the other ``NAVIGATOR_*`` settings.
    ``NAVIGATOR_SECURE_COOKIES=0`` drops the cookie ``Secure`` flag (plain-http demos only).

    Parameters
    ----------
    settings
        Settings (default: from ``NAVIGATOR_*`` environment variables).
    graph
        Road network, loaded once per process (default: built or loaded from the cache).
    store
        Open store (default: ``open_store(settings.store_url)``).
    test_config
        Flask config overrides (tests; ``SESSION_COOKIE_SECURE`` for a local http demo).
    """
    from navigator.services.context import load_network
    from navigator.store import open_store

    settings = settings or settings_from_env()
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key or secrets.token_hex(32),
        SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=_flag("NAVIGATOR_SECURE_COOKIES", True),
        SESSION_COOKIE_NAME="navigator_session",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        # A console stays open for a whole shift: the token lives as long as the session.
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_HEADERS=["X-CSRFToken", "X-CSRF-Token"],
        MAX_CONTENT_LENGTH=1 << 20,
    )
    if test_config:
        app.config.update(test_config)
    app.extensions["navigator"] = {
        "settings": settings,
        "graph": graph if graph is not None else load_network(settings),
        "store": store if store is not None else open_store(settings.store_url),
    }
    csrf.init_app(app)
    _setup_error_handlers(app)
    _setup_headers(app)

    from web import api, auth, coverage, dispatch, shelters, views

    auth.init_app(app)
    for module in (views, auth, api, dispatch, shelters, coverage):
        app.register_blueprint(module.bp)

    @app.get("/static/vendor/<path:name>")
    def vendor_asset(name: str) -> Response:
        from navigator.maps.base import offline_assets

        path = offline_assets().get(name)
        if path is None:
            raise NotFound(f"no asset {name!r}")
        return send_file(path, max_age=86400)

    @app.get("/favicon.ico")
    def favicon() -> Response:
        """Send browsers that ask for /favicon.ico to the SVG icon (no 404 in the console)."""
        from flask import redirect, url_for

        response = redirect(url_for("static", filename="favicon.svg"), code=301)
        response.cache_control.max_age = 86400
        return response  # type: ignore[return-value]

    return app


def _setup_error_handlers(app: Flask) -> None:
    @app.errorhandler(errors.NavigatorError)
    def navigator_error(e: errors.NavigatorError) -> tuple[Response, int]:
        status = next((code for cls, code in STATUS.items() if isinstance(e, cls)), 400)
        body: dict[str, Any] = {"error": type(e).__name__, "message": str(e),
                                "details": getattr(e, "details", [])}
        alternatives = getattr(e, "alternatives", ())
        if alternatives:
            from web.shelters import reason_text

            body["alternatives"] = [_public(a.to_dict() if hasattr(a, "to_dict") else a)
                                    for a in alternatives]
            for alt in body["alternatives"]:
                if isinstance(alt, dict) and "reason" in alt:
                    alt["reason_text"] = reason_text(alt)
        return jsonify(body), status

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException) -> tuple[Response, int]:
        return jsonify({"error": e.name, "message": e.description, "details": []}), e.code or 500

    @app.errorhandler(Exception)
    def server_error(e: Exception) -> tuple[Response, int]:
        app.logger.exception("unhandled error")
        return jsonify({"error": "Internal Server Error",
                        "message": "unexpected error; it has been logged", "details": []}), 500


def _public(value: Any) -> Any:
    """Drop route geometry from an alternative (the client asked for none) and inf/NaN."""
    if isinstance(value, dict):
        return json_safe({k: v for k, v in value.items() if k != "route"})
    return json_safe(value)


def _setup_headers(app: Flask) -> None:
    @app.before_request
    def make_nonce() -> None:
        g.csp_nonce = secrets.token_urlsafe(16)

    @app.context_processor
    def nonce() -> dict[str, Any]:
        return {"csp_nonce": g.get("csp_nonce", "")}

    @app.after_request
    def security_headers(response: Response) -> Response:
        nonce = g.get("csp_nonce", "")
        # folium writes its map as inline <script> blocks: each gets this request's nonce
        # (web.views.embed_map), so no 'unsafe-inline' for scripts. Leaflet positions tiles
        # and markers with style attributes, hence 'unsafe-inline' for styles only.
        response.headers.setdefault(
            "Content-Security-Policy",
            f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; "
            "style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
            "font-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
            "frame-ancestors 'self'")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        mimetype = response.mimetype or ""
        if mimetype == "application/json" or mimetype.endswith("html"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response
