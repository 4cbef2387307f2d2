"""The local worker: started, answering, stopped; same answers as in-process; its failures."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from clihelpers import demo_store
from shapely.geometry import LineString, box, mapping

from navigator.cli import main, transport
from navigator.cli.common import worker_key
from navigator.cli.main import build_parser, execute
from navigator.cli.worker import _Worker
from navigator.services.worker import forget_networks, warm_network

PLACE = ["--lon", "-82.99", "--lat", "39.96"]
AT = ["--at", "2026-11-23T21:30-05:00"]


@pytest.fixture
def runtime(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A short private $XDG_RUNTIME_DIR (socket paths are limited to about 100 bytes)."""
    folder = Path(tempfile.mkdtemp(prefix="nw-", dir="/tmp"))
    folder.chmod(0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(folder))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def stores(columbus_graph, tmp_path: Path) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    return demo_store(columbus_graph, a, seed=5), demo_store(columbus_graph, b, seed=5)


class Cli:
    """``navigator`` in this process, for one store: (exit status, stdout, stderr)."""

    def __init__(self, store: str, cache_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.store, self.cache_dir, self.capsys = store, cache_dir, capsys

    def opts(self) -> list[str]:
        return ["--store", self.store, "--cache-dir", str(self.cache_dir)]

    def __call__(self, *argv: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        if argv[0] == "worker":
            code = main([*argv, *self.opts()])
        else:
            code = main([argv[0], *self.opts(), *argv[1:]])
        out = self.capsys.readouterr()
        assert "Traceback" not in out.err
        return code, out.out, out.err

    def status(self) -> dict[str, object]:
        code, out, _ = self("worker", "status", "--json")
        data = json.loads(out)
        assert (code == 0) == data["running"]
        return data  # type: ignore[no-any-return]

    def socket(self) -> Path:
        return Path(str(self.status()["socket"]))


@pytest.fixture
def cli_a(stores, graph_cache_dir: Path, capsys, runtime) -> Iterator[Cli]:  # type: ignore[no-untyped-def]
    cli = Cli(stores[0], graph_cache_dir, capsys)
    yield cli
    cli("worker", "stop")


DECISIONS = [("find-bed", *PLACE, *AT, "--bed-type", "single_women"),
             ("find-bed", *PLACE, *AT, "--bed-type", "single_women", "--json"),
             ("find-bed", *PLACE, *AT, "--bed-type", "youth", "--max-minutes", "0.5"),
             ("find-service", *PLACE, *AT, "--service", "psychiatric"),
             ("rank-teams", "demo-incident-1", "--prefer-coverage"),
             ("rank-teams", "no-such-incident"),
             ("batch",)]


def test_worker_answers_like_the_cli_and_stops(cli_a: Cli) -> None:
    before = [cli_a(*argv) for argv in DECISIONS]
    assert before[0][0] == 0 and before[2][0] == 1 and before[5][0] == 1
    assert "no incident 'no-such-incident'" in before[5][2]
    assert cli_a.status()["running"] is False
    code, out, _ = cli_a("worker", "start")
    assert code == 0 and "serving" in out
    assert "already serves" in cli_a("worker", "start")[1]
    status = cli_a.status()
    sock = Path(str(status["socket"]))
    assert sock.stat().st_mode & 0o777 == 0o600 and sock.parent.stat().st_mode & 0o777 == 0o700
    after = [cli_a(*argv) for argv in DECISIONS]
    assert after == before
    assert cli_a.status()["served"] == len(DECISIONS)
    # commands a worker does not answer still run in-process
    assert "988" in cli_a("hotlines", *PLACE)[1]
    assert cli_a.status()["served"] == len(DECISIONS)
    code, out, _ = cli_a("worker", "stop")
    assert code == 0 and f"worker {status['pid']} stopped" in out
    assert not sock.exists() and cli_a.status()["running"] is False
    assert cli_a(*DECISIONS[0]) == before[0]
    assert "no worker runs" in cli_a("worker", "stop")[1]


def test_worker_reads_closures_from_the_store(cli_a: Cli, tmp_path: Path) -> None:
    cli_a("worker", "start")
    before = cli_a("rank-teams", "demo-incident-1", "--json")
    route = LineString(json.loads(before[1])["options"][0]["route"]["geometry"]["coordinates"])
    mid = route.interpolate(0.5, normalized=True)
    zone = tmp_path / "zone.geojson"
    zone.write_text(json.dumps({"type": "Feature", "properties": {}, "geometry": mapping(
        box(mid.x - 0.0005, mid.y - 0.0005, mid.x + 0.0005, mid.y + 0.0005))}))
    assert cli_a("close-road", "--geojson", str(zone), "--reason", "Flooding")[0] == 0
    closed = cli_a("rank-teams", "demo-incident-1", "--json")
    assert "Road closures in effect: 1 closure(s)" in closed[2]
    assert closed != before
    # the caller's folder holds for relative paths: the same store, the same worker
    here = os.getcwd()
    os.chdir(Path(cli_a.store).parent)
    try:
        relative = Cli(Path(cli_a.store).name, cli_a.cache_dir, cli_a.capsys)
        code, out, err = relative("rank-teams", "demo-incident-1", "--json")
        assert (code, err) == (closed[0], closed[2])
        assert _rounded(json.loads(out)) == _rounded(json.loads(closed[1]))
    finally:
        os.chdir(here)
    served = cli_a.status()["served"]
    cli_a("worker", "stop")
    again = cli_a("rank-teams", "demo-incident-1", "--json")
    # in-process agrees; the last bits of a sum may differ while the re-contracted CH of the
    # closed network is not yet swapped in (a Dijkstra fallback adds in another order)
    assert again[0] == closed[0] and again[2] == closed[2]
    assert _rounded(json.loads(again[1])) == _rounded(json.loads(closed[1]))
    assert served == 3


def _rounded(data: object) -> object:
    if isinstance(data, float):
        return round(data, 6)
    if isinstance(data, dict):
        return {k: _rounded(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_rounded(v) for v in data]
    return data


def test_stale_socket_and_killed_worker_fall_back(cli_a: Cli) -> None:
    expected = cli_a(*DECISIONS[1])
    sock = cli_a.socket()
    sock.parent.mkdir(mode=0o700, exist_ok=True)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.bind(str(sock))  # a socket file nobody listens on: a worker that died
    assert cli_a(*DECISIONS[1]) == expected
    assert cli_a("worker", "status")[0] == 1
    assert cli_a("worker", "start")[0] == 0  # the stale file is replaced
    pid = int(str(cli_a.status()["pid"]))
    assert cli_a(*DECISIONS[1]) == expected
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.05)
    assert sock.exists()  # killed: no clean-up
    assert cli_a(*DECISIONS[1]) == expected
    assert cli_a("worker", "start")[0] == 0


def _alive(pid: int) -> bool:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reap it when it is this process's child
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_worker_killed_mid_answer_falls_back(cli_a: Cli) -> None:
    expected = cli_a(*DECISIONS[0])
    sock = cli_a.socket()
    sock.parent.mkdir(mode=0o700, exist_ok=True)
    served = threading.Event()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(sock))
    listener.listen(1)

    def half_answer() -> None:  # reads the request, sends half a reply, dies
        conn, _ = listener.accept()
        conn.recv(1 << 16)
        conn.sendall(b'{"ok": true, "exit": 0, "stdout": "half')
        conn.close()
        served.set()

    thread = threading.Thread(target=half_answer)
    thread.start()
    try:
        assert cli_a(*DECISIONS[0]) == expected
    finally:
        thread.join(10)
        listener.close()
    assert served.is_set()


def test_two_stores_two_workers(stores, graph_cache_dir: Path, capsys, runtime) -> None:  # type: ignore[no-untyped-def]
    a, b = Cli(stores[0], graph_cache_dir, capsys), Cli(stores[1], graph_cache_dir, capsys)
    expected = a(*DECISIONS[1]), b(*DECISIONS[1])
    try:
        assert a("worker", "start")[0] == 0
        assert b.status()["running"] is False
        assert b("worker", "start")[0] == 0
        sa, sb = a.status(), b.status()
        assert sa["pid"] != sb["pid"] and sa["socket"] != sb["socket"]
        assert (sa["store"], sb["store"]) == stores
        assert (a(*DECISIONS[1]), b(*DECISIONS[1])) == expected
        assert (a.status()["served"], b.status()["served"]) == (1, 1)
    finally:
        a("worker", "stop")
        b("worker", "stop")


@pytest.fixture
def in_thread(stores, graph_cache_dir: Path, runtime) -> Iterator[tuple[Path, _Worker]]:  # type: ignore[no-untyped-def]
    """A worker for store a served by a thread of this process."""
    args = build_parser().parse_args(["find-bed", "--store", stores[0], "--cache-dir",
                                      str(graph_cache_dir), *PLACE])
    key = worker_key(args, environ={}, cwd=Path.cwd())
    path = transport.socket_path(key, create=True)
    assert path is not None
    worker = _Worker(key=key, store_url=stores[0], parser=build_parser(), execute=execute,
                     network=warm_network)
    ready = threading.Event()
    thread = threading.Thread(target=transport.serve,
                              args=(path, worker.handle, worker.stop), kwargs={"ready": ready.set})
    thread.start()
    assert ready.wait(10)
    yield path, worker
    worker.stop.set()
    thread.join(10)
    assert not path.exists()


def _raw(path: Path, data: bytes) -> dict[str, object]:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(str(path))
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        except BrokenPipeError:
            pass
        return json.loads(s.makefile("rb").read())  # type: ignore[no-any-return]


def test_bad_requests_get_errors_not_crashes(in_thread, stores, graph_cache_dir) -> None:  # type: ignore[no-untyped-def]
    path, worker = in_thread
    good = {"protocol": transport.PROTOCOL, "op": "run", "key": worker.key, "cwd": "/",
            "env": {}, "argv": ["find-bed", "--store", stores[0], "--cache-dir",
                                str(graph_cache_dir), *PLACE, *AT, "--bed-type",
                                "single_women"]}
    bad: list[tuple[bytes, str]] = [
        (b"not json", "not JSON"), (b"[1, 2]", "not a JSON object"), (b"{}", "protocol"),
        (json.dumps({**good, "op": "drop"}).encode(), "op must be"),
        (json.dumps({**good, "argv": "find-bed"}).encode(), "argv"),
        (json.dumps({**good, "argv": []}).encode(), "argv"),
        (json.dumps({**good, "cwd": "relative"}).encode(), "cwd"),
        (json.dumps({**good, "env": {"NAVIGATOR_X": 1}}).encode(), "env"),
        (json.dumps({**good, "key": "0" * 64}).encode(), "another store"),
        (json.dumps({**good, "argv": ["find-bed", "--lon"]}).encode(), "expected one argument"),
        (json.dumps({**good, "argv": ["hold", "--store", stores[0], "r", "single"]}).encode(),
         "not a command a worker answers"),
        (json.dumps({**good, "argv": ["find-bed", "--store", stores[1], *PLACE]}).encode(),
         "another store"),
    ]
    for data, fragment in bad:
        reply = _raw(path, data)
        assert reply["ok"] is False and fragment in str(reply["error"]), (data, reply)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:  # too large: no answer
        s.connect(str(path))
        got = b""
        with contextlib.suppress(OSError):
            s.sendall(b" " * (transport.MAX_REQUEST_BYTES + 10))
            s.shutdown(socket.SHUT_WR)
            got = s.recv(10)
        assert got == b""
    reply = _raw(path, json.dumps(good).encode())
    assert reply["ok"] is True and reply["exit"] == 0 and "single_women" in str(reply["stdout"])
    assert worker.served == 1


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to act as another user")
def test_another_user_cannot_connect(in_thread) -> None:  # type: ignore[no-untyped-def]
    path, _ = in_thread
    probe = ("import socket, sys\ns = socket.socket(socket.AF_UNIX)\n"
             "try:\n    s.connect(sys.argv[1])\nexcept PermissionError:\n    sys.exit(3)\n")
    python = shutil.which("python3", path="/usr/bin:/bin")  # one user nobody may run
    assert python is not None
    done = subprocess.run([python, "-c", probe, str(path)], user=65534,
                          capture_output=True, check=False, timeout=60)
    assert done.returncode == 3, done.stderr


def test_warm_network_reloads_when_the_cache_changes(graph_cache_dir: Path) -> None:
    from navigator.config import Settings
    from navigator.demo.city import demo_city
    from navigator.roads import cache_path

    forget_networks()
    settings = Settings(cache_dir=graph_cache_dir)
    first = warm_network(settings)
    assert warm_network(settings) is first
    cache = cache_path(demo_city(settings).osm_file, graph_cache_dir)
    st = cache.stat()
    os.utime(cache, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))  # a rebuild
    again = warm_network(settings)
    assert again is not first and again.n_nodes == first.n_nodes
    assert warm_network(settings) is again
    forget_networks()


def test_warm_network_follows_the_callers_turn_restrictions(graph_cache_dir: Path) -> None:
    """Review: a caller's NAVIGATOR_TURN_RESTRICTIONS=0 got the worker's turn-split graph."""
    from navigator.config import Settings

    forget_networks()
    on = warm_network(Settings(cache_dir=graph_cache_dir))
    off = warm_network(Settings(cache_dir=graph_cache_dir, turn_restrictions=False))
    assert on.turn_restricted and not off.turn_restricted
    assert warm_network(Settings(cache_dir=graph_cache_dir)) is on
    forget_networks()


def test_warm_up_readies_the_kernels(stores, graph_cache_dir: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    code = main(["warm-up", "--store", stores[0], "--cache-dir", str(graph_cache_dir)])
    out = capsys.readouterr().out
    assert code == 0 and "columbus.osm.pbf: 13,388 nodes" in out and "routing kernels" in out


def test_the_parser_and_the_worker_client_import_no_numpy() -> None:
    probe = ("import sys, navigator.cli.main\n"
             "heavy = {'numpy', 'pandas', 'scipy', 'numba', 'shapely', 'geopandas'}\n"
             "sys.exit(sorted(heavy & set(sys.modules)) or 0)\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=False, timeout=120)
    assert done.returncode == 0, done.stderr
