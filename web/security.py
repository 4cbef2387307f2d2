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

#: folium writes its map as inline <script> blocks: each gets the request's nonce
#: (web.render.embed_map), so no 'unsafe-inline' for scripts; record text is never in them
#: (navigator.maps.layers). Leaflet positions tiles and markers with style attributes, hence
#: 'unsafe-inline' for styles only.
_CSP = ("default-src 'self'; script-src 'self' 'nonce-{nonce}'; "
        "style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
        "font-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'self'")
#: The headers every response gets that do not depend on the request.
_FIXED = (("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "SAMEORIGIN"),
          ("Referrer-Policy", "same-origin"), ("Cross-Origin-Opener-Policy", "same-origin"))


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
        mimetype = response.mimetype or ""
        no_store = mimetype == "application/json" or mimetype.endswith("html")
        # As setdefault on each: a header the view set stays; one pass over the headers.
        present = {name.lower() for name in response.headers.keys()}  # noqa: SIM118
        for name, value in (("Content-Security-Policy", _CSP.format(nonce=nonce)),
                            ("X-Request-ID", g.get("request_id", "")), *_FIXED,
                            *((("Cache-Control", "no-store"),) if no_store else ())):
            if name.lower() not in present:
                response.headers.add(name, value)
        return response
