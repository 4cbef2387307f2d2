"""Who may do what: the logged-in user per request, the audit actor, role checks on views.

Every route but the login page, static assets, ``/api/health`` and ``/openapi.json`` needs a
logged-in user; :func:`require` names the roles a route allows (``admin`` is always allowed).
Pages redirect an anonymous visitor to the login form; the API answers 401 JSON. A user with
the wrong role gets a small HTML 403 page (with a link to their own page) for pages, and
403 JSON from the API.

Sessions are server-side (:mod:`navigator.services.logins`): the signed cookie holds only a
random token (``session["sid"]``), and each request looks up its session and user in one
store read, so a logout, a password change elsewhere, a disabled account, an idle or too-old
session ends it for every worker at once.

A route whose write checks the session itself (``endpoint(..., session_in_write=True)``: the
bed hold passes :func:`session_guard` to the store, which checks it in the hold's own
statement) skips that read while this process read the same session less than
:data:`RECENT_S` seconds ago: the user comes from that read, and the write is refused
(``SessionEndedError``, 401, nothing written) if the session ended since, in any worker.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

from flask import current_app, g, redirect, render_template, request, session, url_for
from werkzeug.exceptions import Forbidden, Unauthorized

from navigator.model import Role
from navigator.services import logins
from web.context import app_context

if TYPE_CHECKING:
    from datetime import datetime

    from flask import Flask

    from navigator.store.sessions import SessionGuard
    from navigator.store.users import User

F = TypeVar("F", bound=Callable[..., Any])

#: Start page of each role.
HOME = {"dispatcher": "dispatcher.page", "caseworker": "caseworker.page",
        "planner": "planner.page", "admin": "admin.page", "shelter": "shelter.page"}

#: Seconds a session read serves the routes whose write checks the session (at most half
#: the policy's ``touch_s``, so the read that records activity still comes often enough).
RECENT_S = 10.0
#: Sessions remembered per process at most (all are forgotten when it fills).
_RECENT_MAX = 4096


def init_app(app: Flask) -> None:
    """Load the logged-in user (if any) into ``g.user`` before each request."""

    @app.before_request
    def load_user() -> None:
        g.user = None
        token = session.get("sid")
        if not token:
            return
        when = now()
        recent = _recent_sessions()
        if _session_in_write():
            seen = recent.get(token)
            if seen is not None and timedelta(0) <= when - seen[0] < timedelta(
                    seconds=min(RECENT_S, login_policy().touch_s / 2)):
                g.user = seen[1]
                return
        user = logins.session_user(app_context().store, token, policy=login_policy(),
                                   now=when)
        if user is None:
            recent.pop(token, None)
            session.clear()
            return
        if len(recent) >= _RECENT_MAX:
            recent.clear()
        recent[token] = (when, user)
        g.user = user

    @app.context_processor
    def user_context() -> dict[str, Any]:
        return {"user": g.get("user")}

def _recent_sessions() -> dict[str, tuple[datetime, User]]:
    """Return this process's session reads by token: (when, user)."""
    return app_context().cached("recent_sessions", dict)


def _session_in_write() -> bool:
    """Return whether the request's route checks the session in its write."""
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "session_in_write", False))


def session_guard() -> SessionGuard:
    """Return the guard of the request's login session, for a write that checks it itself."""
    return logins.session_guard(session["sid"], actor(), policy=login_policy(), now=now())


def session_ended() -> None:
    """Forget the request's login session: it ended (its write was refused)."""
    token = session.get("sid")
    if token:
        _recent_sessions().pop(token, None)
    session.clear()


def login_policy() -> logins.LoginPolicy:
    """Return the app's login policy (from its settings, built once per process)."""
    ctx = app_context()
    return ctx.cached("login_policy", lambda: logins.policy_from_settings(ctx.settings))


def now() -> datetime:
    """Return the app clock's time now (aware UTC)."""
    return app_context().clock()


def client_address() -> str:
    """Return the client's address for login throttling.

    The socket's peer (``request.remote_addr``); behind ``NAVIGATOR_TRUSTED_PROXIES`` proxies
    werkzeug's ProxyFix has already replaced it with the ``X-Forwarded-For`` entry the
    nearest trusted proxy added.
    """
    return (request.remote_addr or "unknown")[:128]


def actor() -> str:
    """Return the logged-in username, for the audit log."""
    return str(g.user.username)

def can_see_confidential() -> bool:
    """Return whether the user may see confidential (DV) sites' location: admins only."""
    return g.get("user") is not None and g.user.role == Role.ADMIN

def require(*roles: str) -> Callable[[F], F]:
    """Allow a view to logged-in users with one of ``roles`` (admins always)."""
    allowed = {*roles, Role.ADMIN.value}

    def decorator(view: F) -> F:
        view.roles = tuple(sorted(allowed))  # type: ignore[attr-defined]

        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = g.get("user")
            if user is None:
                if request.path.startswith("/api/") or request.method != "GET":
                    raise Unauthorized("log in first (POST /auth/login)")
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if user.role not in allowed:
                msg = (f"role {user.role!r} may not use {request.path}; allowed: "
                       f"{', '.join(sorted(allowed))}")
                if _is_page():
                    return render_template("forbidden.html", message=msg,
                                           home=url_for(HOME[user.role])), 403
                raise Forbidden(msg)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator

#: Every role may use a route decorated with ``require(*ANY_ROLE)``.
ANY_ROLE = tuple(r.value for r in Role)

def _is_page() -> bool:
    """Return whether the request is for an HTML page (not the API, not a write)."""
    return request.method == "GET" and not request.path.startswith("/api/") \
        and not request.path.endswith((".json", ".geojson"))
