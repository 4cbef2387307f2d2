"""PostGIS outage: operations fail fast with a clean StoreError and recover on their own.

The test runs its own PostgreSQL cluster (initdb + pg_ctl as the ``postgres`` user, on a
port from 55432 up) and stops and starts that one; the shared server is never touched.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from navigator.errors import StoreError
from navigator.model import BedType, Bundle
from navigator.store import open_store
from navigator.store.postgis import UNAVAILABLE

PG_BIN = Path("/usr/lib/postgresql/15/bin")
#: An operation during an outage must fail within this many seconds.
FAIL_WITHIN_S = 2.0


def _free_port(first: int = 55432, count: int = 100) -> int:
    for port in range(first, first + count):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.skip(f"no free port in {first}..{first + count - 1}")


def _as_postgres(*args: str | Path) -> None:
    subprocess.run(["runuser", "-u", "postgres", "--", *map(str, args)], check=True,
                   capture_output=True, timeout=120)


@dataclass
class Cluster:
    """A throwaway PostgreSQL cluster this test may stop and start."""

    root: Path
    port: int

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/navigator"

    def start(self) -> None:
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c synchronous_commit=off")
        _as_postgres(PG_BIN / "pg_ctl", "-D", self.data, "-l", self.root / "server.log",
                     "-o", options, "-w", "-t", "60", "start")

    def stop(self) -> None:
        _as_postgres(PG_BIN / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    """Create, start and (afterwards) stop and delete a cluster with a PostGIS database."""
    if not (PG_BIN / "initdb").exists() or shutil.which("runuser") is None \
            or os.geteuid() != 0:
        pytest.skip("needs PostgreSQL 15 binaries and root (to run them as postgres)")
    import psycopg

    root = Path(tempfile.mkdtemp(prefix="navigator-outage-"))
    shutil.chown(root, "postgres")
    own = Cluster(root, _free_port())
    try:
        _as_postgres(PG_BIN / "initdb", "-D", own.data, "-U", "postgres", "-A", "trust",
                     "-E", "UTF8", "--no-sync")
        own.start()
        admin = own.url.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute("CREATE DATABASE navigator")
        with psycopg.connect(own.url, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION postgis")
        yield own
    finally:
        if (own.data / "postmaster.pid").exists():
            own.stop()
        shutil.rmtree(root, ignore_errors=True)


def _fails_fast(call: Callable[[], Any], cluster: Cluster) -> None:
    start = time.monotonic()
    with pytest.raises(StoreError) as info:
        call()
    assert time.monotonic() - start <= FAIL_WITHIN_S
    message = str(info.value)
    assert message == UNAVAILABLE
    for internal in (str(cluster.port), "127.0.0.1", "postgres", "navigator"):
        assert internal not in message


@pytest.mark.postgis
@pytest.mark.slow
def test_outage_fails_fast_and_recovers_without_restart(cluster: Cluster,
                                                        sample: Bundle) -> None:
    store = open_store(cluster.url)
    try:
        store.load(sample, actor="loader")
        assert store.ping() is True

        cluster.stop()
        _fails_fast(store.counts, cluster)
        _fails_fast(lambda: store.hold_bed("faith", BedType.SINGLE_WOMEN, actor="n",
                                           ttl_s=60), cluster)
        _fails_fast(store.verify_audit, cluster)
        start = time.monotonic()
        assert store.ping() is False
        assert time.monotonic() - start <= FAIL_WITHIN_S

        cluster.start()
        deadline = time.monotonic() + 20
        while not store.ping():
            assert time.monotonic() < deadline, "the store did not recover"
            time.sleep(0.2)
        hold = store.hold_bed("faith", BedType.SINGLE_WOMEN, actor="n", ttl_s=60)
        assert hold.free_beds == 4  # the hold refused during the outage took nothing
        assert store.verify_audit().ok
    finally:
        store.close()
