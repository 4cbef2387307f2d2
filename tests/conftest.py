"""Session-wide test setup: no internet, throwaway PostGIS databases, skip accounting for CI."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from postgis_db import throwaway_schema

_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", ""}
_real_getaddrinfo = socket.getaddrinfo


def _is_loopback(host: object) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode()
    host = str(host)
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback or host == "0.0.0.0"
    except ValueError:
        return False


def _guarded_getaddrinfo(host, *args, **kwargs):  # type: ignore[no-untyped-def]
    if not _is_loopback(host):
        msg = f"tests must not touch the network: lookup of {host!r} refused"
        raise OSError(msg)
    return _real_getaddrinfo(host, *args, **kwargs)


# Refuse every non-loopback name lookup for the whole test session (osmnx, DoH, CDNs ...).
socket.getaddrinfo = _guarded_getaddrinfo



# -- CI: PostGIS and browser tests must run, not skip -------------------------------------
_REQUIRED_MARKERS = ("postgis", "browser")
_skipped_required: list[str] = []
_ran_required: dict[str, int] = {m: 0 for m in _REQUIRED_MARKERS}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Count PostGIS and browser tests that ran or skipped."""
    keywords = report.keywords
    for marker in _REQUIRED_MARKERS:
        if marker not in keywords:
            continue
        if report.skipped:
            _skipped_required.append(f"{report.nodeid} ({marker})")
        elif report.when == "call":
            _ran_required[marker] += 1


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """With NAVIGATOR_REQUIRE_ALL=1 (set by .ci/run), fail if a PostGIS/browser test skipped."""
    if os.environ.get("NAVIGATOR_REQUIRE_ALL") != "1":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    problems = list(_skipped_required[:20])
    problems += [f"no {m} test ran" for m, n in _ran_required.items() if n == 0]
    if problems and reporter is not None:
        reporter.write_line("")
        reporter.write_line("NAVIGATOR_REQUIRE_ALL: these required tests did not run:", red=True)
        for p in problems:
            reporter.write_line(f"  {p}", red=True)
    if problems:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def test_database_url() -> str | None:
    """Return the admin URL of the PostgreSQL server for throwaway databases, or None."""
    return os.environ.get("NAVIGATOR_TEST_DATABASE_URL") or None


@pytest.fixture
def tmp_gpkg(tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """Return a path for a fresh embedded GeoPackage store."""
    yield str(tmp_path / "navigator.gpkg")


@pytest.fixture(scope="session")
def graph_cache_dir(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Return the session's road-network cache folder (pass it as ``--cache-dir``)."""
    return tmp_path_factory.mktemp("graph-cache")


@pytest.fixture(scope="session")
def columbus_graph(graph_cache_dir):  # type: ignore[no-untyped-def]
    """Return the demo city's road network, built once per test session."""
    from navigator.config import Settings
    from navigator.services.context import load_network

    return load_network(Settings(cache_dir=graph_cache_dir))


# -- road networks shared by the network and routing tests ---------------------------------
@pytest.fixture(scope="session")
def baltimore():  # type: ignore[no-untyped-def]
    """Return the Baltimore drive extract as a TravelGraph, built once per session."""
    from networkhelpers import BALTIMORE_DRIVE

    from navigator.roads import build_graph

    return build_graph(BALTIMORE_DRIVE)


@pytest.fixture(scope="session")
def baltimore_ref(baltimore):  # type: ignore[no-untyped-def]
    """Return the networkx reference DiGraph of :func:`baltimore`."""
    from networkhelpers import reference_digraph

    return reference_digraph(baltimore)


@pytest.fixture(scope="session")
def west_oakland():  # type: ignore[no-untyped-def]
    """Return the West Oakland drive extract as a TravelGraph, built once per session."""
    from networkhelpers import WEST_OAKLAND_DRIVE

    from navigator.roads import build_graph

    return build_graph(WEST_OAKLAND_DRIVE)


# -- stores of either backend (tests/store, and modules using servicehelpers) -----------

BACKENDS = ["gpkg", pytest.param("postgis", marks=pytest.mark.postgis)]


@pytest.fixture
def postgis_url(postgis_database: str) -> Iterator[str]:
    """Return a URL whose search_path is a fresh schema of the ``postgis_database``.

    ``postgis_database`` comes from the test package (session-wide for the store tests,
    per module where a module loads its own data).
    """
    with throwaway_schema(postgis_database) as url:
        yield url


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Return the backend name: ``gpkg`` or ``postgis``."""
    return str(request.param)


@pytest.fixture
def store_url(backend: str, request: pytest.FixtureRequest, tmp_path: Any) -> str:
    """Return the URL of an empty store of ``backend``."""
    if backend == "postgis":
        return str(request.getfixturevalue("postgis_url"))
    return str(tmp_path / "navigator.gpkg")
