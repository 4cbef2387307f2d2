"""Login, logout, and the start page of each role."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from flask import Blueprint, g, redirect, render_template, request, session, url_for
from werkzeug.exceptions import Unauthorized

from navigator.services import accounts
from web.access import HOME
from web.context import app_context
from web.parsing import json_or_none

if TYPE_CHECKING:
    from werkzeug.wrappers import Response as BaseResponse

bp = Blueprint("auth", __name__)


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
        data = json_or_none() if request.is_json else request.form
        username = str((data or {}).get("username", ""))[:64]
        password = str((data or {}).get("password", ""))[:1024]
        store = app_context().store
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
