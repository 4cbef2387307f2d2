"""Errors become HTTP once, here: Navigator's exceptions to 4xx/503 JSON, the rest to 500.

Every 5xx and every store error is logged as one JSON line on the ``navigator.web`` logger
(status, method, path, user, request id, error type and message; the traceback for a 500).
The client gets the request id to quote, never internal detail: a store error's message
(which may name a host or a database) is logged, and the body says only that the store is
not answering.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from flask import current_app, g, jsonify, make_response, render_template, request
from werkzeug.exceptions import HTTPException

from navigator import errors
from navigator.jsonsafe import json_safe
from web.access import session_ended
from web.render import reason_text

if TYPE_CHECKING:
    from flask import Flask, Response

#: HTTP status for each of Navigator's errors; the rest of NavigatorError is 400.
STATUS = {
    errors.SessionEndedError: 401,
    errors.TooManyAttemptsError: 429,
    errors.AccessDeniedError: 403,
    errors.ValidationError: 400,
    errors.NotFoundError: 404,
    errors.ForbiddenError: 403,
    errors.ConflictError: 409,
    errors.NoAvailableResourceError: 404,
    errors.UnreachableError: 422,
    errors.StoreError: 503,
    errors.BusyError: 503,
}
#: What a client is told when the store fails (the detail goes to the log).
STORE_DOWN = "the data store is not answering; nothing was changed by this request unless " \
             "it says otherwise. Try again in a moment"
log = logging.getLogger("navigator.web")
F = TypeVar("F", bound=Callable[..., Any])


def form_errors_render(template: str) -> Callable[[F], F]:
    """Mark an HTML form view whose Navigator errors re-render ``template``, not JSON.

    The template gets ``error=`` the message, with the error's status; the view still never
    catches, the translation stays here.
    """

    def mark(view: F) -> F:
        view.form_template = template  # type: ignore[attr-defined]
        return view

    return mark


def _form_template() -> str | None:
    view = current_app.view_functions.get(request.endpoint or "")
    template = getattr(view, "form_template", None)
    return template if isinstance(template, str) and not request.is_json else None


def log_failure(status: int, e: BaseException, *, traceback: bool = False) -> None:
    """Log a failed request as one JSON line (who, what, which error), for 5xx and store errors."""
    user = g.get("user")
    log.error(json.dumps({
        "event": "request_failed", "status": status, "method": request.method,
        "path": request.path, "request_id": g.get("request_id"),
        "user": getattr(user, "username", None), "error": type(e).__name__,
        "message": str(e)}), exc_info=e if traceback else None)


def _body(error: str, message: str, details: Any = ()) -> dict[str, Any]:
    return {"error": error, "message": message, "details": list(details),
            "request_id": g.get("request_id")}


def register_error_handlers(app: Flask) -> None:
    """Turn every error into a JSON body: Navigator's errors as 4xx/503, the rest as 500."""

    @app.errorhandler(errors.NavigatorError)
    def navigator_error(e: errors.NavigatorError) -> tuple[Response, int]:
        status = next((code for cls, code in STATUS.items() if isinstance(e, cls)), 400)
        if isinstance(e, errors.StoreError):
            log_failure(status, e)
            return jsonify(_body(type(e).__name__, STORE_DOWN)), status
        if isinstance(e, errors.SessionEndedError):  # as if the request had come without it
            session_ended()
        template = _form_template()
        if template is not None:
            response = make_response(render_template(template, error=str(e)), status)
        else:
            body = _body(type(e).__name__, str(e), getattr(e, "details", []))
            response = _json_error(body, e)
        if isinstance(e, errors.TooManyAttemptsError | errors.BusyError):
            response.headers["Retry-After"] = str(int(e.retry_after_s))
        return response, status

    def _json_error(body: dict[str, Any], e: errors.NavigatorError) -> Response:
        alternatives = getattr(e, "alternatives", ())
        if alternatives:
            body["alternatives"] = [_public(a.to_dict() if hasattr(a, "to_dict") else a)
                                    for a in alternatives]
            for alt in body["alternatives"]:
                if isinstance(alt, dict) and "reason" in alt:
                    alt["reason_text"] = alt.get("stale_text") or reason_text(alt)
        return jsonify(body)

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException) -> tuple[Response, int]:
        status = e.code or 500
        if status >= 500:
            log_failure(status, e)
        return jsonify(_body(e.name, e.description or "")), status

    @app.errorhandler(Exception)
    def server_error(e: Exception) -> tuple[Response, int]:
        log_failure(500, e, traceback=True)
        return jsonify(_body("Internal Server Error",
                             "unexpected error; it has been logged with this request's id")), 500


def _public(value: Any) -> Any:
    """Drop route geometry from an alternative (the client asked for none) and inf/NaN."""
    if isinstance(value, dict):
        return json_safe({k: v for k, v in value.items() if k != "route"})
    return json_safe(value)
