"""The API's route metadata in one place, request validation, and the OpenAPI 3.1 document.

Each API view is declared with :func:`endpoint`: its rule, method, roles, request model and
success status. The decorator registers the route on its blueprint, checks the role, parses
and validates the body (or query string) with the pydantic model, and turns the view's return
value into JSON (inf/NaN as null). :func:`openapi_document` builds ``/openapi.json`` from the
same registry and the models' ``model_json_schema()``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from flask import Blueprint, Response, jsonify
from pydantic import BaseModel

from navigator.jsonsafe import json_safe
from web.access import require
from web.parsing import parse_body, parse_query
from web.schemas import ErrorBody

#: Error statuses every operation may answer.
COMMON_ERRORS = (400, 401, 403)
_ERROR_TEXT = {400: "Invalid request (details list each problem)", 401: "Not logged in",
               403: "Role not allowed, or CSRF token missing", 404: "Unknown id or no match",
               409: "Conflict: lost a race or no longer possible",
               413: "Body too large", 422: "Not reachable on the road network",
               503: "Store unavailable"}


@dataclass(frozen=True)
class Operation:
    """One API route as the OpenAPI document describes it."""

    rule: str
    method: str
    summary: str
    tag: str
    roles: tuple[str, ...]
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    status: int = 200
    errors: tuple[int, ...] = ()
    response: dict[str, Any] = field(default_factory=lambda: {"type": "object"})
    media_types: tuple[str, ...] = ("application/json",)


#: Every API operation, in declaration order.
OPERATIONS: list[Operation] = []


def endpoint(bp: Blueprint, rule: str, method: str = "GET", *, summary: str,
             roles: tuple[str, ...], body: type[BaseModel] | None = None,
             query: type[BaseModel] | None = None, status: int = 200,
             errors: tuple[int, ...] = (), response: dict[str, Any] | None = None,
             files: tuple[str, ...] = (), session_in_write: bool = False
             ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register an API view: role check, validated ``body``/``query`` argument, JSON result.

    Parameters
    ----------
    bp
        Blueprint the route goes on.
    rule
        Flask URL rule (``/api/holds/<hold_id>/confirm``).
    method
        HTTP method.
    summary
        One line for the OpenAPI document.
    roles
        Roles allowed besides admin.
    body, query
        Request models; the view receives ``body=`` / ``query=`` instances.
    status
        Success status.
    errors
        Error statuses besides :data:`COMMON_ERRORS`.
    response
        JSON Schema of the success body (default: an object).
    files
        Media types of a view that answers with a file: it returns a
        :class:`flask.Response`, passed on as it is (errors stay JSON).
    session_in_write
        The view's one write checks the login session itself (it passes
        :func:`web.access.session_guard` to the store), so a session read by this process a
        moment ago serves the request without another read (:mod:`web.access`).
    """

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        op = Operation(rule=rule, method=method.upper(), summary=summary, tag=bp.name,
                       roles=tuple(sorted({*roles, "admin"})), body=body, query=query,
                       status=status, errors=errors,
                       response=response or {"type": "object"},
                       media_types=files or ("application/json",))
        OPERATIONS.append(op)

        @wraps(view)
        def handle(**kwargs: Any) -> Any:
            if body is not None:
                kwargs["body"] = parse_body(body)
            if query is not None:
                kwargs["query"] = parse_query(query)
            result = view(**kwargs)
            if files and isinstance(result, Response):
                return result
            return jsonify(json_safe(result)), status

        guarded = require(*roles)(handle)
        guarded.session_in_write = session_in_write  # type: ignore[attr-defined]
        bp.add_url_rule(rule, endpoint=view.__name__, view_func=guarded, methods=[op.method])
        return view

    return decorator


_PARAM = re.compile(r"<(?:[a-z]+:)?([A-Za-z_]+)>")


def _schema(model: type[BaseModel], components: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(schema.pop("$defs", {}))
    components[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def openapi_document() -> dict[str, Any]:
    """Return the OpenAPI 3.1 document of every registered operation."""
    components: dict[str, Any] = {}
    error_ref = _schema(ErrorBody, components)
    paths: dict[str, Any] = {}
    for op in OPERATIONS:
        path = _PARAM.sub(r"{\1}", op.rule)
        params: list[dict[str, Any]] = [
            {"name": name, "in": "path", "required": True,
             "schema": {"type": "string", "pattern": r"^[A-Za-z0-9_.:-]+$", "maxLength": 128}}
            for name in _PARAM.findall(op.rule)]
        item: dict[str, Any] = {
            "summary": op.summary, "tags": [op.tag], "operationId": f"{op.tag}_{len(paths)}"
            f"_{op.method.lower()}", "description": f"Roles: {', '.join(op.roles)}.",
            "responses": {str(op.status): {"description": "OK", "content": {
                media: {"schema": op.response if media == "application/json"
                        else {"type": "string", "format": "binary"}}
                for media in op.media_types}}},
        }
        if op.query is not None:
            schema = op.query.model_json_schema(ref_template="#/components/schemas/{model}")
            components.update(schema.pop("$defs", {}))
            required = set(schema.get("required", ()))
            for name, prop in schema["properties"].items():
                params.append({"name": name, "in": "query", "required": name in required,
                               "schema": prop})
        if params:
            item["parameters"] = params
        if op.body is not None:
            item["requestBody"] = {"required": True, "content": {
                "application/json": {"schema": _schema(op.body, components)}}}
        codes = sorted({*COMMON_ERRORS, *op.errors, *((404,) if "<" in op.rule else ()),
                        413, 503} - {op.status})
        for code in codes:
            item["responses"][str(code)] = {"description": _ERROR_TEXT.get(code, "Error"),
                                            "content": {"application/json": {
                                                "schema": error_ref}}}
        paths.setdefault(path, {})[op.method.lower()] = item
    return {
        "openapi": "3.1.0",
        "info": {"title": "Navigator API", "version": "1",
                 "description": (
                     "Road-network resource navigation and mobile dispatch. Log in with "
                     "POST /auth/login (form or JSON: username, password); the session cookie "
                     "then authenticates. Every write (POST) needs the X-CSRFToken header "
                     "(GET /api/csrf, or the csrf-token meta tag of any page). Collections "
                     "are GeoJSON (RFC 7946, EPSG:4326); times in seconds, unreachable = null. "
                     "An incident may carry an area (radius_m or a GeoJSON area) instead of a "
                     "point: its rankings give expected and worst ETAs over the area's road "
                     "nodes until POST /api/incidents/{incident_id}/location sets the point."
                 )},
        "paths": paths,
        "components": {"schemas": components,
                       "securitySchemes": {"session": {"type": "apiKey", "in": "cookie",
                                                       "name": "navigator_session"}}},
        "security": [{"session": []}],
    }
