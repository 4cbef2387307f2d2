"""Who may do what: the logged-in user per request, the audit actor, role checks on views.

Every route but the login page, static assets, ``/api/health`` and ``/openapi.json`` needs a
logged-in user; :func:`require` names the roles a route allows (``admin`` is always allowed).
Pages redirect an anonymous visitor to the login form; the API answers 401 JSON. A user with
the wrong role gets a small HTML 403 page (with a link to their own page) for pages, and
403 JSON from the API.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

from flask import g, redirect, render_template, request, session, url_for
from werkzeug.exceptions import Forbidden, Unauthorized

from navigator.errors import NotFoundError
from navigator.model import Role
from web.context import app_context

if TYPE_CHECKING:
    from flask import Flask

F = TypeVar("F", bound=Callable[..., Any])

#: Start page of each role.
HOME = {"dispatcher": "dispatcher.page", "caseworker": "caseworker.page",
        "planner": "planner.page", "admin": "admin.page", "shelter": "shelter.page"}

def init_app(app: Flask) -> None:
    """Load the logged-in user (if any) into ``g.user`` before each request."""

    @app.before_request
    def load_user() -> None:
        g.user = None
        name = session.get("user")
        if not name:
            return
        try:
            user = app_context().store.user(name)
        except NotFoundError:
            session.clear()
            return
        if user.disabled:
            session.clear()
            return
        g.user = user

    @app.context_processor
    def user_context() -> dict[str, Any]:
        return {"user": g.get("user")}

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
