"""The web app's shared pages, assets and error handling, through Flask's test client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from navigator.config import Settings
from navigator.planner import load_demo
from navigator.store import open_store
from web import create_app


@pytest.fixture(scope="module")
def app(columbus_graph, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("web") / "demo.gpkg"
    store = open_store(str(path))
    load_demo(store, columbus_graph, seed=7)
    app = create_app(Settings(store_url=str(path)), graph=columbus_graph, store=store,
                     test_config={"TESTING": True})
    yield app
    store.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def test_overview_page_renders_offline_map(client: FlaskClient) -> None:
    r = client.get("/")
    assert r.status_code == 200
    body = r.get_data(as_text=True)
    assert "/static/vendor/leaflet.js" in body
    assert "cdn.jsdelivr" not in body and "code.jquery.com" not in body
    assert r.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("name", ["leaflet.js", "leaflet.css", "jquery.min.js",
                                  "images/layers.png"])
def test_vendor_assets_are_served_locally(client: FlaskClient, name: str) -> None:
    with client.get(f"/static/vendor/{name}") as r:
        assert r.status_code == 200 and len(r.data) > 100
        assert r.cache_control.max_age == 86400


def test_unknown_asset_is_json_404(client: FlaskClient) -> None:
    r = client.get("/static/vendor/../../etc/passwd")
    assert r.status_code == 404
    assert r.is_json and "message" in r.get_json()


def test_roads_basemap_is_geojson(client: FlaskClient, columbus_graph) -> None:  # type: ignore[no-untyped-def]
    data = client.get("/roads.geojson").get_json()
    lines = data["features"][0]["geometry"]["coordinates"]
    assert data["type"] == "FeatureCollection"
    assert len(lines) > columbus_graph.n_edges // 3


def test_public_resources_have_no_confidential_site(client: FlaskClient, app: Flask) -> None:
    store = app.extensions["navigator"]["store"]
    dv = store.resources()
    dv = dv[dv["confidential"]].iloc[0]
    body = client.get("/api/resources").get_data(as_text=True)
    assert dv["name"] not in body
    assert f"{dv.geometry.x:.5f}" not in body and f"{dv.geometry.y:.5f}" not in body
    assert client.get("/").get_data(as_text=True).count(dv["name"]) == 0


def test_health(client: FlaskClient) -> None:
    data = client.get("/api/health").get_json()
    assert data["status"] == "ok" and data["nodes"] > 10_000


def test_unknown_route_is_json_404(client: FlaskClient) -> None:
    r = client.get("/no/such/page")
    assert r.status_code == 404 and r.get_json()["error"] == "Not Found"


def test_static_dir_exists() -> None:
    assert (Path(__file__).resolve().parents[2] / "web" / "templates" / "index.html").exists()
