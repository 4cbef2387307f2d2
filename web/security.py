"""Security in one place: CSRF on every write, a per-request CSP nonce, response headers.

folium writes its map as inline ``<script>`` blocks: each gets the request's nonce
(:func:`web.render.embed_map`), so scripts need no ``'unsafe-inline'``. A nonce trusts the
whole script, so those scripts hold no record text: records travel as JSON data blocks that
``navmap.js`` (a same-origin file) draws as text (:mod:`navigator.maps.layers`).
"""

from __future__ import annotations

import os
import secrets
from typing import TYPE_CHECKING, Any

from flask import g
from flask_wtf.csrf import CSRFProtect

if TYPE_CHECKING:
    from flask import Flask, Response

csrf = CSRFProtect()

def env_flag(name: str, default: bool) -> bool:
    """Return an on/off environment setting (``0``, ``false``, ``no``, ``off`` are off)."""
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    return raw not in {"0", "false", "no", "off"}

def setup_headers(app: Flask) -> None:
    """Give each request a CSP nonce and every response the security headers."""
    @app.before_request
    def make_nonce() -> None:
        g.csp_nonce = secrets.token_urlsafe(16)
        g.request_id = secrets.token_hex(8)

    @app.context_processor
    def nonce() -> dict[str, Any]:
        return {"csp_nonce": g.get("csp_nonce", "")}

    @app.after_request
    def security_headers(response: Response) -> Response:
        nonce = g.get("csp_nonce", "")
        # folium writes its map as inline <script> blocks: each gets this request's nonce
        # (web.render.embed_map), so no 'unsafe-inline' for scripts; record text is never in
        # them (navigator.maps.layers). Leaflet positions tiles and markers with style
        # attributes, hence 'unsafe-inline' for styles only.
        response.headers.setdefault(
            "Content-Security-Policy",
            f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; "
            "style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
            "font-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
            "frame-ancestors 'self'")
        response.headers.setdefault("X-Request-ID", g.get("request_id", ""))
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        mimetype = response.mimetype or ""
        if mimetype == "application/json" or mimetype.endswith("html"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response
