"""Web fixtures: the demo city in a temp GeoPackage, demo logins, logged-in clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from webhelpers import login

from navigator.config import Settings
from navigator.demo.city import load_demo
from navigator.services.accounts import ensure_demo_users
from navigator.store import open_store
from web import create_app


@pytest.fixture(scope="module")
def app(columbus_graph, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("web") / "demo.gpkg"
    store = open_store(str(path))
    load_demo(store, columbus_graph, seed=7)
    ensure_demo_users(store)
    # event streams end after half a second here (the API fuzzer calls them too)
    app = create_app(Settings(store_url=str(path), events_stream_s=0.5), graph=columbus_graph,
                     store=store,
                     test_config={"TESTING": True, "SESSION_COOKIE_SECURE": False})
    yield app
    store.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def as_role(app: Flask) -> Callable[[str], tuple[FlaskClient, dict[str, str]]]:
    """Return a factory: a client logged in as a role, and the headers for its writes."""

    def make(role: str) -> tuple[FlaskClient, dict[str, str]]:
        c = app.test_client()
        token = login(c, role)
        return c, {"X-CSRFToken": token}

    return make
