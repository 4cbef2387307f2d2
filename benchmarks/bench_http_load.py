"""What the HTTP benchmark measures besides HTTP: PostgreSQL alone, and CPU per request.

Used by ``bench_http.py`` (run from this folder or as ``benchmarks/bench_http.py``).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any


def race(work: Callable[[int], None], n: int) -> float:
    """Run ``work(i)`` for ``i`` in ``range(n)``, each in its own thread, all released at once.

    Returns the wall-clock seconds from the release until the last one is done.
    """
    start = threading.Barrier(n + 1)

    def run(i: int) -> None:
        start.wait()
        work(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    return time.perf_counter() - t0


def cpu_seconds(pids: list[int]) -> float:
    """Return the CPU seconds (user + system) the processes ``pids`` have used so far."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def server_pids(server_pid: int, url: str) -> dict[str, list[int]]:
    """Return the gunicorn processes and the PostgreSQL backends serving the bench database."""
    import psycopg

    children = Path(f"/proc/{server_pid}/task/{server_pid}/children").read_text().split()
    with psycopg.connect(url, autocommit=True) as conn:
        backends = [r[0] for r in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()").fetchall()]
    return {"gunicorn": [server_pid, *map(int, children)], "postgres": backends}


def pg_alone_holds(url: str, shelter: str, bed_type: str, *, clients: int, holds: int
              ) -> dict[str, Any]:
    """Race ``clients`` psycopg connections for ``holds`` beds with guarded holds, no HTTP.

    Each hold is the classic guarded transaction (BEGIN; ``UPDATE beds SET free = free - 1
    ... WHERE free > 0 RETURNING free``; INSERT the hold; COMMIT) on the bench shelter's row,
    with fresh idempotency keys: what PostgreSQL alone sustains on this machine now. The
    beds and holds are put back afterwards.
    """
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        before = conn.execute("SELECT free, held FROM beds WHERE resource_id = %s "
                              "AND bed_type = %s", (shelter, bed_type)).fetchone()
        conn.execute("UPDATE beds SET free = %s WHERE resource_id = %s AND bed_type = %s",
                     (holds, shelter, bed_type))
    made = [0] * clients
    conns = [psycopg.connect(url) for _ in range(clients)]

    def run(i: int) -> None:
        conn = conns[i]
        for _ in range(max(1, holds // clients)):
            with conn.transaction():
                taken = conn.execute(
                    "UPDATE beds SET free = free - 1, held = held + 1 WHERE resource_id = %s "
                    "AND bed_type = %s AND free > 0 RETURNING free", (shelter, bed_type)
                ).fetchone()
                if taken:
                    conn.execute(
                        "INSERT INTO holds (id, resource_id, bed_type, status, actor, "
                        "created_at, expires_at, updated_at, idempotency_key) VALUES "
                        "(%s, %s, %s, 'held', 'bench-pg', now(), now() + interval '2 hours', "
                        "now(), %s)", (uuid.uuid4().hex, shelter, bed_type, uuid.uuid4().hex))
                    made[i] += 1

    wall = race(run, clients)
    for conn in conns:
        conn.close()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DELETE FROM holds WHERE actor = 'bench-pg'")
        conn.execute("UPDATE beds SET free = %s, held = %s WHERE resource_id = %s "
                     "AND bed_type = %s", (*before, shelter, bed_type))
    return {"clients": clients, "holds": sum(made), "holds_per_s": sum(made) / wall}
