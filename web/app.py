"""Flask app factory: loads the road graph once per process and opens the store."""

from __future__ import annotations

import math
import secrets
from typing import TYPE_CHECKING, Any

from flask import Flask, jsonify, send_file
from werkzeug.exceptions import HTTPException, NotFound

from navigator import errors
from navigator.config import Settings, settings_from_env

if TYPE_CHECKING:
    from navigator.network import TravelGraph
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


def json_safe(value: Any) -> Any:
    """Return ``value`` with inf/NaN floats replaced by None (JSON has no such numbers)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def create_app(settings: Settings | None = None, *, graph: TravelGraph | None = None,
               store: Store | None = None, test_config: dict[str, Any] | None = None) -> Flask:
    """Create the Navigator web app.

    Parameters
    ----------
    settings
        Settings (default: from ``NAVIGATOR_*`` environment variables).
    graph
        Road network, loaded once per process (default: built or loaded from the cache).
    store
        Open store (default: ``open_store(settings.store_url)``).
    test_config
        Flask config overrides for tests.
    """
    from navigator import planner
    from navigator.store import open_store

    settings = settings or settings_from_env()
    app = Flask(__name__)
    app.config.update(SECRET_KEY=settings.secret_key or secrets.token_hex(32),
                      SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      JSON_SORT_KEYS=False)
    if test_config:
        app.config.update(test_config)
    app.extensions["navigator"] = {
        "settings": settings,
        "graph": graph if graph is not None else planner.load_network(settings),
        "store": store if store is not None else open_store(settings.store_url),
    }
    _setup_error_handlers(app)
    _setup_headers(app)

    from web.views import bp as views_bp

    app.register_blueprint(views_bp)

    @app.get("/static/vendor/<path:name>")
    def vendor_asset(name: str):  # type: ignore[no-untyped-def]
        from navigator.maps import offline_assets

        path = offline_assets().get(name)
        if path is None:
            raise NotFound(f"no asset {name!r}")
        return send_file(path, max_age=86400)

    return app


def _setup_error_handlers(app: Flask) -> None:
    @app.errorhandler(errors.NavigatorError)
    def navigator_error(e: errors.NavigatorError):  # type: ignore[no-untyped-def]
        status = next((code for cls, code in STATUS.items() if isinstance(e, cls)), 400)
        body: dict[str, Any] = {"error": type(e).__name__, "message": str(e)}
        alternatives = getattr(e, "alternatives", ())
        if alternatives:
            body["alternatives"] = json_safe(list(alternatives))
        return jsonify(body), status

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException):  # type: ignore[no-untyped-def]
        return jsonify({"error": e.name, "message": e.description}), e.code

    @app.errorhandler(Exception)
    def server_error(e: Exception):  # type: ignore[no-untyped-def]
        app.logger.exception("unhandled error")
        return jsonify({"error": "Internal Server Error",
                        "message": "unexpected error; it has been logged"}), 500


def _setup_headers(app: Flask) -> None:
    @app.after_request
    def security_headers(response):  # type: ignore[no-untyped-def]
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response
