"""Request parsing: JSON bodies and query strings validated by pydantic, bad input as 400."""

from __future__ import annotations

import json
from typing import Any

from flask import request
from pydantic import BaseModel
from pydantic import ValidationError as PydanticError

from navigator import errors


class RequestInvalid(errors.ValidationError):
    """A request body or query failed validation; ``details`` lists each problem."""

    def __init__(self, msg: str, details: list[dict[str, Any]]) -> None:
        super().__init__(msg)
        self.details = details

#: Longest integer literal accepted in a JSON body (Python's own limit is 4300 digits).
MAX_INT_DIGITS = 100

def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        msg = f"integer literal longer than {MAX_INT_DIGITS} digits"
        raise ValueError(msg)
    return int(text)

def load_json(raw: bytes | str) -> Any:
    """Return parsed JSON, or raise :class:`RequestInvalid` (bad, too deep, huge numbers)."""
    try:
        return json.loads(raw, parse_int=_parse_int)
    except RecursionError as e:
        raise RequestInvalid("the body is not valid JSON: nested too deeply", []) from e
    except (ValueError, UnicodeDecodeError) as e:
        msg = f"the body is not valid JSON: {e}"
        raise RequestInvalid(msg, []) from e


def _validation_details(e: PydanticError) -> list[dict[str, Any]]:
    return [{"loc": [str(p) for p in d["loc"]], "msg": d["msg"], "type": d["type"]}
            for d in e.errors(include_url=False, include_input=False)]

def parse_body(model: type[BaseModel]) -> BaseModel:
    """Return the JSON body validated by ``model`` or raise :class:`RequestInvalid`."""
    if not request.is_json:
        raise RequestInvalid("the body must be JSON (Content-Type: application/json)", [])
    data = load_json(request.get_data(cache=True) or b"null")
    if not isinstance(data, dict):
        raise RequestInvalid("the body must be a JSON object", [])
    try:
        return model.model_validate(data)
    except PydanticError as e:
        details = _validation_details(e)
        msg = "; ".join(f"{'.'.join(d['loc']) or 'body'}: {d['msg']}" for d in details)
        raise RequestInvalid(msg, details) from e

def parse_query(model: type[BaseModel], *, drop_empty: bool = False) -> BaseModel:
    """Return the query string validated by ``model`` or raise :class:`RequestInvalid`.

    ``drop_empty`` leaves out empty values (what an HTML form sends for a blank field).
    """
    args = {k: v for k, v in request.args.items() if v or not drop_empty}
    try:
        # Query values are text: parse them as strings (strict numbers accept "1.5" here).
        return model.model_validate_strings(args)
    except PydanticError as e:
        details = _validation_details(e)
        msg = "; ".join(f"{'.'.join(d['loc']) or 'query'}: {d['msg']}" for d in details)
        raise RequestInvalid(msg, details) from e


def json_or_none() -> Any:
    """Return the JSON body as a dict, or None (bad, too deep or not an object)."""
    try:
        data = load_json(request.get_data(cache=True) or b"null")
    except RequestInvalid:
        return None
    return data if isinstance(data, dict) else None
