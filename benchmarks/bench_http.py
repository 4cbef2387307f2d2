"""HTTP speed under load: gunicorn on PostGIS, clients on the same machine.

Measures, in one run, against a throwaway PostGIS database loaded with the Columbus demo:

- ``rank`` (``POST /api/incidents/<id>/rank``): p50/p90 sequential and at 20 concurrent clients;
- ``beds/search`` (``POST /api/beds/search``): p50/p90 sequential;
- holds (``POST /api/holds``): holds per second at 50 concurrent clients, and that exactly the
  free beds were handed out (no more, no fewer: every other request is a 409);
- PostgreSQL alone: the same race for the same row with 50 psycopg connections doing the
  guarded hold transaction directly (no HTTP, no app), just before the HTTP race, so the
  ratio of the two compares figures taken under the same machine load;
- the engine time of the same work in this process (the routing query alone and the whole
  service function without HTTP), so the ratios show where the time goes.

Usage::

    .venv/bin/python benchmarks/bench_http.py                      # ~1 min
    .venv/bin/python benchmarks/bench_http.py --workers 2 --threads 8 --holds 4000

``NAVIGATOR_TEST_DATABASE_URL`` (or ``--admin-url``) names a PostgreSQL+PostGIS server where a
database may be created and dropped (default ``postgresql://postgres@127.0.0.1:5432/postgres``).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from bench_http_load import cpu_seconds, pg_alone_holds, race, server_pids

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = {"dispatcher": "dispatcher-demo", "caseworker": "caseworker-demo"}


class Client:
    """One keep-alive HTTP/1.1 connection with a logged-in session (cookie + CSRF token).

    A plain socket rather than ``http.client``: the client runs on the same two cores as
    the server, so every microsecond it spends parsing is taken from the server's figures
    (``http.client`` spent ~0.35 ms of CPU per request, this ~0.1 ms). It reads exactly what
    the benchmark needs: the status, the session cookie and a ``Content-Length`` body.
    """

    def __init__(self, port: int, role: str) -> None:
        self.port = port
        self.sock: socket.socket | None = None
        self.buffer = b""
        self.cookie = ""
        self.token = ""
        page = self.request("GET", "/auth/login")[1].decode()
        token = re.search(r'name="csrf-token" content="([^"]+)"', page)
        if token is None:
            raise SystemExit("the login page has no CSRF token")
        status, _ = self.request("POST", "/auth/login", {"username": role,
                                                          "password": PASSWORD[role]},
                                 token=token.group(1))
        if status != 200:
            raise SystemExit(f"login as {role} failed: {status}")
        self.token = json.loads(self.request("GET", "/api/csrf")[1])["csrf_token"]

    def request(self, method: str, path: str, body: Any = None, *,
                token: str | None = None) -> tuple[int, bytes]:
        data = b"" if body is None else json.dumps(body).encode()
        head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1",
                f"Content-Length: {len(data)}"]
        if body is not None:
            head.append("Content-Type: application/json")
        if self.cookie:
            head.append(f"Cookie: {self.cookie}")
        if token or (method == "POST" and self.token):
            head.append(f"X-CSRFToken: {token or self.token}")
        message = ("\r\n".join(head) + "\r\n\r\n").encode() + data
        try:
            return self._exchange(message)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close()  # the server closed an idle keep-alive connection: reconnect
            return self._exchange(message)

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock, self.buffer = None, b""

    def _exchange(self, message: bytes) -> tuple[int, bytes]:
        if self.sock is None:
            self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=60)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.sendall(message)
        while (end := self.buffer.find(b"\r\n\r\n")) < 0:
            self._receive()
        head, self.buffer = self.buffer[:end].decode("latin-1"), self.buffer[end + 4:]
        lines = head.split("\r\n")
        status, length, close = int(lines[0].split()[1]), 0, False
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "content-length":
                length = int(value)
            elif name == "set-cookie" and value.startswith("navigator_session="):
                self.cookie = value.split(";", 1)[0]
            elif name == "connection" and value.lower() == "close":
                close = True
            elif name == "transfer-encoding":
                raise SystemExit(f"unexpected {line!r}: the bench reads Content-Length bodies")
        while len(self.buffer) < length:
            self._receive()
        payload, self.buffer = self.buffer[:length], self.buffer[length:]
        if close:
            self.close()
        return status, payload

    def _receive(self) -> None:
        assert self.sock is not None
        chunk = self.sock.recv(1 << 16)
        if not chunk:
            raise ConnectionResetError("the server closed the connection")
        self.buffer += chunk


def _percentiles(seconds: list[float]) -> dict[str, float]:
    s = sorted(seconds)
    return {"p50_ms": 1000 * s[len(s) // 2], "p90_ms": 1000 * s[int(len(s) * 0.9)],
            "n": len(s)}


def _timed(call: Callable[[], None], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        call()
        out.append(time.perf_counter() - t)
    return out


def _concurrent(clients: list[Client], work: Callable[[Client, int], None], per_client: int
                ) -> tuple[list[float], float]:
    """Run ``work`` ``per_client`` times on every client in its own thread."""
    times: list[float] = []
    lock = threading.Lock()

    def run(k: int) -> None:
        local = []
        for i in range(per_client):
            t = time.perf_counter()
            work(clients[k], i)
            local.append(time.perf_counter() - t)
        with lock:
            times.extend(local)

    return times, race(run, len(clients))


def _case_race(url: str, holders: list[Client], shelter: str, bed_type: str, n: int
               ) -> dict[str, Any]:
    """Race ``n`` holds with a case reference each (what the bed finder sends) for ``n`` beds.

    Each hold also opens its client's referral episode (a second write), so this is the
    throughput a caseworker's page sees; every one must succeed with its own episode.
    """
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE beds SET capacity = capacity + %s, free = free + %s "
                     "WHERE resource_id = %s AND bed_type = %s", (n, n, shelter, bed_type))
    outcome: dict[int, int] = {}
    episodes: set[str] = set()
    lock = threading.Lock()

    def hold(c: Client, _i: int) -> None:
        status, body = c.request("POST", "/api/holds", {
            "resource_id": shelter, "bed_type": bed_type,
            "client_ref": f"case-{uuid.uuid4().hex[:12]}", "idempotency_key": uuid.uuid4().hex})
        with lock:
            outcome[status] = outcome.get(status, 0) + 1
            if status == 201:
                episodes.add(json.loads(body)["episode_id"])

    times, wall = _concurrent(holders, hold, max(1, n // len(holders)))
    made = outcome.get(201, 0)
    return {"requests": len(times), "holds_per_s": made / wall, **_percentiles(times),
            "statuses": outcome, "exact": made == len(times) == len(episodes)}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _database(admin_url: str) -> tuple[str, Callable[[], None]]:
    import psycopg

    name = f"navigator_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}"))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")

    def drop() -> None:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return url, drop


def _engine_times(url: str, incident_id: str, reps: int) -> dict[str, float]:
    """Time the routing query and the service calls of rank and search in this process."""
    import numpy as np

    from navigator import services
    from navigator.config import Settings
    from navigator.errors import NoAvailableResourceError
    from navigator.roads import snap, travel_times_to
    from navigator.services.context import area_context, load_network
    from navigator.store import open_store

    settings = Settings(store_url=url)
    graph = load_network(settings)
    store = open_store(url)
    area = area_context(graph, settings)
    try:
        inc = store.incident(incident_id)
        teams = store.teams()
        inc_node = int(snap(graph, inc.lon, inc.lat).node[0])
        nodes = snap(graph, teams.geometry.x.to_numpy(), teams.geometry.y.to_numpy(),
                     strict=False).node
        nodes = nodes[nodes >= 0]

        def query() -> None:
            travel_times_to(graph, inc_node, nodes)

        def rank() -> None:
            services.rank_teams(store, graph, settings, incident_id=incident_id,
                                actor="bench", area=area)

        def search() -> None:
            with contextlib.suppress(NoAvailableResourceError):  # a 404 is an answer too
                services.find_beds(store, graph, settings, lon=-82.99, lat=39.96,
                                   needs={"bed_type": "single_men"}, actor="bench", area=area)

        out = {}
        for name, call in (("routing_query", query), ("rank_service", rank),
                           ("search_service", search)):
            call()
            out[name + "_ms"] = 1000 * float(np.median(_timed(call, reps)))
        return out
    finally:
        store.close()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--admin-url", default=os.environ.get(
        "NAVIGATOR_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    p.add_argument("--workers", type=int, default=4, help="gunicorn workers (README's advice)")
    p.add_argument("--threads", type=int, default=4, help="threads per worker")
    p.add_argument("--reps", type=int, default=200, help="sequential requests per figure")
    p.add_argument("--holds", type=int, default=4000, help="hold requests in the race")
    p.add_argument("--free", type=int, default=3000, help="free beds before the race")
    p.add_argument("--case-holds", type=int, default=1000,
                   help="holds with a case reference in the second race")
    p.add_argument("--json", type=Path, help="also write the figures here")
    args = p.parse_args(argv)

    from navigator.config import Settings
    from navigator.demo.city import load_demo
    from navigator.services.accounts import ensure_demo_users
    from navigator.services.context import load_network
    from navigator.store import open_store

    url, drop = _database(args.admin_url)
    server = None
    try:
        settings = Settings(store_url=url)
        graph = load_network(settings)
        store = open_store(url)
        load_demo(store, graph, seed=7, replace_other=True)
        ensure_demo_users(store)
        beds = store.beds(store.resources(kinds=["shelter"])["id"].tolist())
        shelter = str(beds.sort_values("capacity").iloc[-1]["resource_id"])
        bed_type = str(beds.sort_values("capacity").iloc[-1]["bed_type"])
        store.close()
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:  # a big shelter for the race
            conn.execute("UPDATE beds SET capacity = %s, occupied = 0, out_of_service = 0, "
                         "free = %s - held - confirmed WHERE resource_id = %s AND bed_type = %s",
                         (args.free, args.free, shelter, bed_type))
        port = _free_port()
        env = {**os.environ, "NAVIGATOR_STORE_URL": url, "NAVIGATOR_SECURE_COOKIES": "0",
               "NAVIGATOR_SECRET_KEY": secrets.token_hex(16)}
        log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)  # noqa: SIM115
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", str(args.workers), "--threads",
             str(args.threads), "--worker-class", "gthread", "--keep-alive", "60",
             "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "web:create_app()"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        for _ in range(600):
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=1).request(
                    "GET", "/api/health")
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise SystemExit(f"gunicorn did not start; see {log.name}")

        disp = Client(port, "dispatcher")
        incident = json.loads(disp.request("GET", "/api/incidents")[1])["features"][0]["id"]
        rank_path = f"/api/incidents/{incident}/rank"

        def rank(c: Client = disp) -> None:
            status, body = c.request("POST", rank_path, {})
            if status != 200:
                raise SystemExit(f"rank answered {status}: {body[:200]!r}")

        case = Client(port, "caseworker")

        def search() -> None:
            status, body = case.request("POST", "/api/beds/search", {
                "lon": -82.99, "lat": 39.96, "bed_type": "single_men"})
            if status not in (200, 404):
                raise SystemExit(f"beds/search answered {status}: {body[:200]!r}")

        for _ in range(10):
            rank()
            search()
        figures: dict[str, Any] = {
            "rank_sequential": _percentiles(_timed(rank, args.reps)),
            "search_sequential": _percentiles(_timed(search, args.reps)),
        }
        ranks = [Client(port, "dispatcher") for _ in range(20)]
        # warm every worker first (each loads the routing kernels on its first rank), so the
        # figure is the steady state a running server sees
        _concurrent(ranks, lambda c, _i: rank(c), 2)
        times, _ = _concurrent(ranks, lambda c, _i: rank(c), max(5, args.reps // 20))
        figures["rank_20_concurrent"] = _percentiles(times)

        holders = [Client(port, "caseworker") for _ in range(50)]
        outcome: dict[int, int] = {}
        lock = threading.Lock()

        spans: list[tuple[float, float]] = []  # (start, end) of every 201

        def hold(c: Client, _i: int) -> None:
            start = time.perf_counter()
            status, _ = c.request("POST", "/api/holds", {
                "resource_id": shelter, "bed_type": bed_type,
                "idempotency_key": uuid.uuid4().hex})
            with lock:
                outcome[status] = outcome.get(status, 0) + 1
                if status == 201:
                    spans.append((start, time.perf_counter()))

        per = max(1, args.holds // len(holders))
        # PostgreSQL alone, just before the HTTP race: the same machine load for both
        figures["pg_alone"] = pg_alone_holds(url, shelter, bed_type, clients=len(holders),
                                        holds=args.free)
        before = {pid: cpu_seconds([pid]) for v in server_pids(server.pid, url).values()
                  for pid in v}
        client_before = time.process_time()
        times, wall = _concurrent(holders, hold, per)
        # the processes serving now: a backend the pool opened during the race counts from 0,
        # one that ended (the PostgreSQL-alone race's, closing) does not count
        cpu = {f"{k}_cpu_ms_per_request": 1000 * sum(
            cpu_seconds([pid]) - before.get(pid, 0.0) for pid in v) / len(times)
               for k, v in server_pids(server.pid, url).items()}
        cpu["client_cpu_ms_per_request"] = 1000 * (time.process_time() - client_before) / len(
            times)
        store = open_store(url)
        left = store.beds([shelter])
        chain = store.verify_audit()  # every hold's entry chained, as `navigator audit verify`
        store.close()
        free_after = int(left[left["bed_type"] == bed_type]["free"].iloc[0])
        made = outcome.get(201, 0)
        figures["holds_50_concurrent"] = {
            "requests": len(times), "holds_per_s": made / wall, "requests_per_s": len(times) / wall,
            # until the last bed went: the 409s after it answer requests that had to fail
            "holds_per_s_while_free": made / (max(e for _, e in spans) - min(s for s, _ in spans))
            if spans else 0.0,
            **_percentiles(times), "statuses": outcome, "free_before": args.free,
            "free_after": free_after,
            "exact": made == min(args.free, len(times)) and free_after == args.free - made
                     and set(outcome) <= {201, 409},
            "audit_chain_ok": chain.ok, "audit_entries_checked": chain.checked,
            "load_average_1_5_15": os.getloadavg(), **cpu}
        figures["holds_with_case_50_concurrent"] = _case_race(url, holders, shelter, bed_type,
                                                               args.case_holds)
        figures["engine"] = _engine_times(url, incident, args.reps)
        eng = figures["engine"]
        figures["ratios"] = {
            "rank_http_p50_over_service": figures["rank_sequential"]["p50_ms"]
            / eng["rank_service_ms"],
            "rank_http_p50_over_routing_query": figures["rank_sequential"]["p50_ms"]
            / eng["routing_query_ms"],
            "search_http_p50_over_service": figures["search_sequential"]["p50_ms"]
            / eng["search_service_ms"],
            "holds_http_over_pg_alone": figures["holds_50_concurrent"]["holds_per_s"]
            / figures["pg_alone"]["holds_per_s"],
        }
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        drop()

    print(f"gunicorn {args.workers} workers x {args.threads} threads, PostGIS, client on the "
          "same machine")
    for name in ("rank_sequential", "rank_20_concurrent", "search_sequential"):
        f = figures[name]
        print(f"  {name:22s} p50 {f['p50_ms']:7.1f} ms  p90 {f['p90_ms']:7.1f} ms  (n={f['n']})")
    h = figures["holds_50_concurrent"]
    print(f"  holds_50_concurrent    {h['holds_per_s']:7.0f} holds/s over the race"
          f" ({h['holds_per_s_while_free']:.0f}/s while beds were free, "
          f"{h['requests_per_s']:.0f} requests/s)  p50 {h['p50_ms']:.1f} ms"
          f"  statuses {h['statuses']}  free {h['free_before']} -> {h['free_after']}"
          f"  exact={h['exact']}  audit chain ok={h['audit_chain_ok']}"
          f" ({h['audit_entries_checked']} entries)  (load average "
          f"{h['load_average_1_5_15'][0]:.1f})")
    print("  CPU per hold request:  " + "  ".join(
        f"{k.split('_')[0]} {h[k]:.2f} ms" for k in h if k.endswith("_cpu_ms_per_request")))
    c = figures["holds_with_case_50_concurrent"]
    print(f"  holds_with_case_50     {c['holds_per_s']:7.0f} holds/s (each with a case reference"
          f" and its episode)  p50 {c['p50_ms']:.1f} ms  statuses {c['statuses']}"
          f"  exact={c['exact']}")
    pg = figures["pg_alone"]
    print(f"  PostgreSQL alone       {pg['holds_per_s']:7.0f} holds/s  ({pg['clients']} psycopg "
          f"connections, guarded UPDATE + INSERT per transaction, no HTTP)")
    print("  engine, same process:  " + "  ".join(
        f"{k} {v:.2f}" for k, v in figures["engine"].items()))
    print("  ratios:                " + "  ".join(
        f"{k} {v:.1f}x" for k, v in figures["ratios"].items()))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))
    return 0 if h["exact"] and h["audit_chain_ok"] and c["exact"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
