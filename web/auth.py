"""Login, logout and role checks: password login (argon2), a signed session cookie, roles.

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
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.exceptions import Forbidden, Unauthorized

from navigator.errors import NotFoundError
from navigator.services import accounts

if TYPE_CHECKING:
    from flask import Flask
    from werkzeug.wrappers import Response as BaseResponse

bp = Blueprint("auth", __name__)
F = TypeVar("F", bound=Callable[..., Any])

#: Start page of each role.
HOME = {"dispatcher": "dispatch.page", "caseworker": "shelters.page",
        "planner": "coverage.page", "admin": "views.admin"}


def init_app(app: Flask) -> None:
    """Load the logged-in user (if any) into ``g.user`` before each request."""

    @app.before_request
    def load_user() -> None:
        g.user = None
        name = session.get("user")
        if not name:
            return
        try:
            user = current_app.extensions["navigator"]["store"].user(name)
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
    return g.get("user") is not None and g.user.role == accounts.Role.ADMIN


def require(*roles: str) -> Callable[[F], F]:
    """Allow a view to logged-in users with one of ``roles`` (admins always)."""
    allowed = {*roles, accounts.Role.ADMIN.value}

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
ANY_ROLE = tuple(r.value for r in accounts.Role)


def _is_page() -> bool:
    """Return whether the request is for an HTML page (not the API, not a write)."""
    return request.method == "GET" and not request.path.startswith("/api/") \
        and not request.path.endswith((".json", ".geojson"))


def _json_or_none() -> Any:
    """Return the JSON body as a dict, or None (bad, too deep or not an object)."""
    from web.app import RequestInvalid, load_json

    try:
        data = load_json(request.get_data(cache=True) or b"null")
    except RequestInvalid:
        return None
    return data if isinstance(data, dict) else None


def _safe_next(target: str | None) -> str | None:
    """Return ``target`` if it is a local path (no open redirect), else None."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/auth/login", methods=["GET", "POST"])
def login() -> BaseResponse | str | tuple[str, int]:
    """Show the login form; on POST check the password and start a session."""
    error = None
    if request.method == "POST":
        data = _json_or_none() if request.is_json else request.form
        username = str((data or {}).get("username", ""))[:64]
        password = str((data or {}).get("password", ""))[:1024]
        store = current_app.extensions["navigator"]["store"]
        user = accounts.authenticate(store, username, password) if username else None
        if user is None:
            store.record("login_failed", actor=username or "anonymous",
                         inputs={"username": username}, result={"ok": False})
            if request.is_json:
                raise Unauthorized("wrong username or password")
            error = "Wrong username or password."
        else:
            session.clear()
            session.permanent = True
            session["user"] = user.username
            store.record("login", actor=user.username, result={"role": user.role})
            if request.is_json:
                from flask import jsonify

                return jsonify({"username": user.username, "role": user.role})  # type: ignore[return-value]
            target = _safe_next(request.args.get("next")) or url_for(HOME[user.role])
            return redirect(target)
    return render_template("login.html", error=error), (401 if error else 200)


@bp.post("/auth/logout")
def logout() -> BaseResponse:
    """End the session (POST with the CSRF token, so a link cannot log anyone out)."""
    session.clear()
    return redirect(url_for("auth.login"))


@bp.get("/")
def home() -> BaseResponse:
    """Send a user to the page of their role (or to the login form)."""
    user = g.get("user")
    if user is None:
        return redirect(url_for("auth.login"))
    return redirect(url_for(HOME[user.role]))
