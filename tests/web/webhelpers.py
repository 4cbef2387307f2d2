"""Helpers for web tests: demo passwords, CSRF tokens and logging in with the test client."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from navigator.services.accounts import DEMO_USERS

PASSWORDS = {u: p for u, p, _ in DEMO_USERS}
ROLES = ("dispatcher", "caseworker", "planner", "admin")


def csrf_of(client: FlaskClient) -> str:
    """Return the CSRF token of the client's session (from the login page's meta tag)."""
    html = client.get("/auth/login").get_data(as_text=True)
    found = re.search(r'name="csrf-token" content="([^"]+)"', html)
    if found is None:
        msg = "the login page has no csrf-token meta tag"
        raise AssertionError(msg)
    return found.group(1)


def login(client: FlaskClient, username: str) -> str:
    """Log ``client`` in as a demo user; return the CSRF token of the new session."""
    token = csrf_of(client)
    r = client.post("/auth/login", data={"username": username,
                                         "password": PASSWORDS[username],
                                         "csrf_token": token})
    assert r.status_code == 302, r.get_data(as_text=True)
    # Logging in starts a new session with a new CSRF token.
    return str(client.get("/api/csrf").get_json()["csrf_token"])
