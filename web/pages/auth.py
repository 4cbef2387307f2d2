"""Login (password, then a TOTP code where on), logout, the account page, each role's start.

Login attempts are throttled per account and per client address (429 with ``Retry-After``:
JSON for the API, the login form with a message for the page); sessions are server-side
(:mod:`web.access`), so logout ends one for every worker at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from flask import Blueprint, g, jsonify, redirect, render_template, request, session, url_for
from werkzeug.exceptions import Unauthorized

from navigator.services import accounts, logins
from web import schemas
from web.access import ANY_ROLE, HOME, actor, client_address, login_policy, now, require
from web.context import app_context
from web.errors import form_errors_render
from web.openapi import endpoint
from web.parsing import json_or_none

if TYPE_CHECKING:
    from werkzeug.wrappers import Response as BaseResponse

    from navigator.store.users import User

bp = Blueprint("auth", __name__)
#: Flask-session key of a login waiting for its second factor (user, kind, when, next).
_PENDING = "pending_login"


def _safe_next(target: str | None) -> str | None:
    """Return ``target`` if it is a local path (no open redirect), else None."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _form() -> dict[str, Any]:
    data = json_or_none() if request.is_json else request.form
    return dict(data or {})


def _refused(attempt: logins.LoginAttempt, step: str, **context: Any) -> Any:
    """Answer a refused login step: 401 / 429 JSON for the API, the form again for a page."""
    if request.is_json:
        if attempt.retry_after_s is not None:
            raise attempt.error()
        raise Unauthorized(attempt.refused)
    status = 401 if attempt.retry_after_s is None else 429
    headers = {} if attempt.retry_after_s is None else {
        "Retry-After": str(int(attempt.retry_after_s))}
    error = f"{attempt.refused[:1].upper()}{attempt.refused[1:]}."
    return render_template("login.html", step=step, error=error, **context), status, headers


def _logged_in(user: User, target: str | None) -> Any:
    """Start the server-side session of ``user`` and send them on."""
    token = logins.start_session(app_context().store, user, address=client_address(),
                                 policy=login_policy(), now=now())
    session.clear()
    session.permanent = True
    session["sid"] = token
    if request.is_json:
        return jsonify({"username": user.username, "role": user.role})
    return redirect(target or url_for(HOME[user.role]))


@bp.route("/auth/login", methods=["GET", "POST"])
def login() -> Any:
    """Show the login form; on POST check the password (throttled) and go on."""
    if request.method == "GET":
        return render_template("login.html", step="password")
    data = _form()
    username = str(data.get("username", ""))[:64]
    password = str(data.get("password", ""))[:1024]
    attempt = logins.attempt_login(app_context().store, username, password,
                                   address=client_address(), policy=login_policy(), now=now())
    if attempt.user is None:
        return _refused(attempt, "password")
    target = _safe_next(request.args.get("next"))
    if attempt.second_factor is None:
        return _logged_in(attempt.user, target)
    session.clear()
    session[_PENDING] = {"user": attempt.user.username, "kind": attempt.second_factor,
                         "at": now().timestamp(), "next": target}
    enrolment = attempt.enrolment
    if request.is_json:
        body: dict[str, Any] = {"username": attempt.user.username,
                                "second_factor": attempt.second_factor,
                                "next": url_for("auth.second_factor")}
        if enrolment is not None:
            body.update(totp_secret=enrolment.secret, totp_uri=enrolment.uri)
        return jsonify(body)
    return render_template("login.html", step=attempt.second_factor, enrolment=enrolment)


def _pending() -> dict[str, Any] | None:
    """Return the login waiting for its second factor, unless it waited too long."""
    pending = session.get(_PENDING)
    if not isinstance(pending, dict) or not isinstance(pending.get("user"), str):
        return None
    if now().timestamp() - float(pending.get("at", 0)) > login_policy().pending_s:
        session.pop(_PENDING, None)
        return None
    return pending


@bp.route("/auth/totp", methods=["GET", "POST"])
def second_factor() -> Any:
    """Ask for the TOTP code after the password; on POST check it (once per code)."""
    pending = _pending()
    if pending is None:
        if request.is_json or request.method == "POST":
            raise Unauthorized("log in first (POST /auth/login)")
        return redirect(url_for("auth.login"))
    store = app_context().store
    enrolment = (accounts.pending_enrolment(store, pending["user"])
                 if pending["kind"] == "enrol" else None)
    if request.method == "GET":
        return render_template("login.html", step=pending["kind"], enrolment=enrolment)
    code = str(_form().get("code", ""))[:16]
    attempt = logins.attempt_second_factor(store, pending["user"], code,
                                           address=client_address(), policy=login_policy(),
                                           now=now())
    if attempt.user is None:
        return _refused(attempt, pending["kind"], enrolment=enrolment)
    return _logged_in(attempt.user, _safe_next(pending.get("next")))


@bp.post("/auth/logout")
def logout() -> BaseResponse:
    """End the session server-side: its cookie is refused from now on, by every worker.

    POST with the CSRF token, so a link cannot log anyone out.
    """
    token = session.get("sid")
    if isinstance(token, str):
        logins.end_session(app_context().store, token, now=now())
        if g.get("user") is not None:
            app_context().store.record("logout", actor=actor())
    session.clear()
    return redirect(url_for("auth.login"))


@bp.get("/auth/account")
@require(*ANY_ROLE)
def account() -> str:
    """Show the account page: change the password, turn on TOTP."""
    return render_template("account.html")


@bp.post("/auth/password")
@require(*ANY_ROLE)
@form_errors_render("account.html")
def password_form() -> str:
    """Change the password from the account page (ends every other session)."""
    data = request.form
    ended = _change_password(str(data.get("current_password", ""))[:1024],
                             str(data.get("new_password", ""))[:1024])
    return render_template("account.html",
                           message=f"Password changed; {ended} other session(s) ended.")


@bp.post("/auth/totp/enrol")
@require(*ANY_ROLE)
@form_errors_render("account.html")
def totp_enrol_form() -> str:
    """Start TOTP enrolment from the account page: the secret is shown this once."""
    enrolment = _begin_totp(str(request.form.get("password", ""))[:1024])
    return render_template("account.html", enrolment=enrolment)


@bp.post("/auth/totp/confirm")
@require(*ANY_ROLE)
@form_errors_render("account.html")
def totp_confirm_form() -> str:
    """Turn TOTP on with the first code from the authenticator app."""
    accounts.confirm_totp(app_context().store, actor(), str(request.form.get("code", ""))[:16],
                          now=now())
    return render_template("account.html", message="Two-factor login is on.")


@endpoint(bp, "/api/auth/password", "POST", summary="Change your password", roles=ANY_ROLE,
          body=schemas.PasswordChange, errors=(429,))
def change_password(body: schemas.PasswordChange) -> dict[str, Any]:
    """Change the password (the current one is required); every other session ends."""
    return {"sessions_revoked": _change_password(body.current_password, body.new_password)}


@endpoint(bp, "/api/auth/totp", "POST", summary="Start TOTP enrolment (shown once)",
          roles=ANY_ROLE, body=schemas.PasswordCheck, errors=(409, 429))
def begin_totp(body: schemas.PasswordCheck) -> dict[str, Any]:
    """Store a new TOTP secret and return it once; a first code turns it on."""
    enrolment = _begin_totp(body.password)
    return {"secret": enrolment.secret, "uri": enrolment.uri}


@endpoint(bp, "/api/auth/totp/confirm", "POST", summary="Turn TOTP on with a first code",
          roles=ANY_ROLE, body=schemas.TotpCode)
def confirm_totp(body: schemas.TotpCode) -> dict[str, Any]:
    """Turn TOTP on once the code matches the pending secret."""
    accounts.confirm_totp(app_context().store, actor(), body.code, now=now())
    return {"username": actor(), "totp_enabled": True}


def _change_password(current: str, new: str) -> int:
    return logins.change_password(app_context().store, actor(), current, new,
                                  token=str(session.get("sid", "")), address=client_address(),
                                  policy=login_policy(), now=now())


def _begin_totp(password: str) -> accounts.TotpEnrolment:
    return logins.begin_totp(app_context().store, actor(), password, address=client_address(),
                             policy=login_policy(), now=now())


@bp.get("/")
def home() -> BaseResponse:
    """Send a user to the page of their role (or to the login form)."""
    user = g.get("user")
    if user is None:
        return redirect(url_for("auth.login"))
    return redirect(url_for(HOME[user.role]))
