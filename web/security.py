"""Security in one place: CSRF on every write, a per-request CSP nonce, response headers.

CSRF tokens are flask-wtf's (``generate_csrf``, the ``csrf-token`` meta tag); the check
(:func:`check_csrf`) is flask-wtf's, except that it looks in the headers before the form
(an API write has no form to parse) and remembers what each token it has seen signs, so a
worker verifies a token's signature once rather than on every write. The session cookie's
signature is likewise verified once per cookie (:class:`CheckedCookieSessions`); both
memories are pure functions of the secret key and the text the client sent, so they accept
exactly what a fresh check would.

folium writes its map as inline ``<script>`` blocks: each gets the request's nonce
(:func:`web.render.embed_map`), so scripts need no ``'unsafe-inline'``. A nonce trusts the
whole script, so those scripts hold no record text: records travel as JSON data blocks that
``navmap.js`` (a same-origin file) draws as text (:mod:`navigator.maps.layers`).
"""

from __future__ import annotations

import copy
import hmac
import os
import secrets
import time
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from flask import current_app, g, request, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_wtf.csrf import CSRFError, CSRFProtect, same_origin
from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer

if TYPE_CHECKING:
    from flask import Flask, Request, Response

csrf = CSRFProtect()
#: Signed texts (CSRF tokens, session cookies) remembered per process at most.
_MEMO_MAX = 4096
#: The longest CSRF token remembered (flask-wtf's are about 90 characters). itsdangerous
#: ignores junk after a signature, so one token has endless valid spellings, each as long as
#: a form field: a longer one is checked afresh, never remembered.
_MEMO_TEXT_MAX = 256
#: The longest session cookie remembered (a browser keeps none longer than 4096 bytes; the
#: same junk tail lengthens a cookie too): a longer one is checked afresh.
_MEMO_COOKIE_MAX = 4096


def setup_csrf(app: Flask) -> None:
    """Issue flask-wtf's CSRF tokens and check them on every write (:func:`check_csrf`)."""
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False  # flask-wtf's own check: replaced below
    csrf.init_app(app)
    app.before_request(check_csrf)
    app.session_interface = CheckedCookieSessions()


def check_csrf() -> None:
    """Refuse a write whose CSRF token does not sign the session's (400, ``CSRFError``).

    flask-wtf's check (``CSRFProtect.protect``: the same messages, the same HTTPS referrer
    rule), with the token taken from ``WTF_CSRF_HEADERS`` before the form field, and its
    signature verified once per token and secret key (:func:`_signed`). There are no
    exempt views (``csrf.exempt`` has no effect here): every write needs the token.
    """
    config = current_app.config
    if not config["WTF_CSRF_ENABLED"] or request.method not in config["WTF_CSRF_METHODS"]:
        return
    if not request.endpoint:  # as flask-wtf: no view would run, the 404 or 405 stands
        return
    field = config["WTF_CSRF_FIELD_NAME"]
    token = next((t for h in config["WTF_CSRF_HEADERS"] if (t := request.headers.get(h))),
                 None) or request.form.get(field)
    if not token:
        raise CSRFError("The CSRF token is missing.")
    if field not in session:
        raise CSRFError("The CSRF session token is missing.")
    key: str | bytes = config.get("WTF_CSRF_SECRET_KEY") or current_app.secret_key or ""
    limit = config["WTF_CSRF_TIME_LIMIT"]
    signed = (_signed(key, token) if limit is None and len(token) <= _MEMO_TEXT_MAX
              else _signed_within(key, token, limit))
    if signed is None:
        raise CSRFError("The CSRF token is invalid.")
    if not hmac.compare_digest(str(session[field]), signed):
        raise CSRFError("The CSRF tokens do not match.")
    if request.is_secure and config["WTF_CSRF_SSL_STRICT"]:
        if not request.referrer:
            raise CSRFError("The referrer header is missing.")
        if not same_origin(request.referrer, f"https://{request.host}/"):
            raise CSRFError("The referrer does not match the host.")
    g.csrf_valid = True


def _signed_within(secret_key: str | bytes, token: str, max_age: int | None
                   ) -> str | None:
    """Return the session value ``token`` signs under ``secret_key`` (None: a bad token).

    A token signed more than ``max_age`` seconds ago (None: no limit) is refused as
    flask-wtf refuses it (``CSRFError``: the token has expired).
    """
    try:
        value = URLSafeTimedSerializer(secret_key, salt="wtf-csrf-token").loads(
            token, max_age=max_age)
    except SignatureExpired as e:
        raise CSRFError("The CSRF token has expired.") from e
    except BadData:
        return None
    return value if isinstance(value, str) else None


@lru_cache(maxsize=_MEMO_MAX)
def _signed(secret_key: str | bytes, token: str) -> str | None:
    """:func:`_signed_within` with no age limit, remembered.

    Without ``WTF_CSRF_TIME_LIMIT`` (the app's setting: a token lives as long as its session)
    the answer depends on nothing else.
    """
    return _signed_within(secret_key, token, None)


class CheckedCookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, each cookie's signature verified once per process.

    A cookie seen before (the same text, the same secret keys) gives its remembered data and
    signing time; the age limit (``PERMANENT_SESSION_LIFETIME``) is applied on every request,
    as itsdangerous applies it. Each request gets its own copy of the data.
    """

    def __init__(self) -> None:
        self._seen: dict[tuple[Any, str], tuple[dict[str, Any], float]] = {}

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """Return the request's session (empty for a missing, forged or too old cookie)."""
        text = request.cookies.get(self.get_cookie_name(app))
        if not text:
            return self.session_class()
        if len(text) > _MEMO_COOKIE_MAX:
            return super().open_session(app, request)
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        seen = self._seen.get((keys, text))
        if seen is None:
            serializer = self.get_signing_serializer(app)
            if serializer is None:
                return None
            try:
                data, signed_at = serializer.loads(text, return_timestamp=True)
            except BadData:
                return self.session_class()
            if len(self._seen) >= _MEMO_MAX:
                self._seen.clear()
            seen = self._seen[(keys, text)] = (data, signed_at.timestamp())
        age = int(time.time()) - seen[1]
        if not 0 <= age <= app.permanent_session_lifetime.total_seconds():
            return self.session_class()
        return self.session_class(copy.deepcopy(seen[0]))

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
