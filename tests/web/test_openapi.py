"""Schemathesis over /openapi.json: generated requests never cause a server error.

Runs in-process (``from_wsgi``) as a logged-in admin (every route allowed) with the session's
CSRF token, so generated writes reach validation and the services.
"""

from __future__ import annotations

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from webhelpers import login

from web.openapi import OPERATIONS

#: Generated cases per operation (about 25 operations; the whole test stays under a minute).
EXAMPLES = 20

@pytest.fixture(scope="module")
def admin_client(app: Flask) -> tuple[FlaskClient, str]:
    c = app.test_client()
    return c, login(c, "admin")


def test_document_is_openapi_31_and_lists_every_operation(client: FlaskClient) -> None:
    doc = client.get("/openapi.json").get_json()
    assert doc["openapi"] == "3.1.0"
    n = sum(len(methods) for methods in doc["paths"].values())
    assert n == len(OPERATIONS) >= 20
    body = doc["paths"]["/api/beds/search"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"]["$ref"].endswith("/BedSearch")
    assert doc["components"]["schemas"]["BedSearch"]["properties"]["lon"]["maximum"] == 180


def test_api_never_errors(app: Flask, admin_client: tuple[FlaskClient, str]) -> None:
    """Every operation, ``EXAMPLES`` generated cases each (``schema.parametrize`` with a
    fixture-made app fails in schemathesis 4.32's pytest plugin, so the loop is explicit)."""
    client, token = admin_client
    api = schemathesis.openapi.from_wsgi("/openapi.json", app)
    checked = 0
    for result in api.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(session=client, headers={"X-CSRFToken": token},
                                   checks=[not_a_server_error, status_code_conformance,
                                           content_type_conformance,
                                           response_schema_conformance])

        run()
        checked += 1
    assert checked == len(OPERATIONS)
