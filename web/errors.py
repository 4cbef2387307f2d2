"""Errors become HTTP once, here: Navigator's exceptions to 4xx/503 JSON, the rest to 500."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import jsonify
from werkzeug.exceptions import HTTPException

from navigator import errors
from navigator.decide.results import json_safe
from web.render import reason_text

if TYPE_CHECKING:
    from flask import Flask, Response

#: HTTP status for each of Navigator's errors; the rest of NavigatorError is 400.
STATUS = {
    errors.ValidationError: 400,
    errors.NotFoundError: 404,
    errors.ConflictError: 409,
    errors.NoAvailableResourceError: 404,
    errors.UnreachableError: 422,
    errors.StoreError: 503,
}

def register_error_handlers(app: Flask) -> None:
    """Turn every error into a JSON body: Navigator's errors as 4xx/503, the rest as 500."""
    @app.errorhandler(errors.NavigatorError)
    def navigator_error(e: errors.NavigatorError) -> tuple[Response, int]:
        status = next((code for cls, code in STATUS.items() if isinstance(e, cls)), 400)
        body: dict[str, Any] = {"error": type(e).__name__, "message": str(e),
                                "details": getattr(e, "details", [])}
        alternatives = getattr(e, "alternatives", ())
        if alternatives:
            body["alternatives"] = [_public(a.to_dict() if hasattr(a, "to_dict") else a)
                                    for a in alternatives]
            for alt in body["alternatives"]:
                if isinstance(alt, dict) and "reason" in alt:
                    alt["reason_text"] = reason_text(alt)
        return jsonify(body), status

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException) -> tuple[Response, int]:
        return jsonify({"error": e.name, "message": e.description, "details": []}), e.code or 500

    @app.errorhandler(Exception)
    def server_error(e: Exception) -> tuple[Response, int]:
        app.logger.exception("unhandled error")
        return jsonify({"error": "Internal Server Error",
                        "message": "unexpected error; it has been logged", "details": []}), 500

def _public(value: Any) -> Any:
    """Drop route geometry from an alternative (the client asked for none) and inf/NaN."""
    if isinstance(value, dict):
        return json_safe({k: v for k, v in value.items() if k != "route"})
    return json_safe(value)
