"""Live console: how fast a write by one store connection reaches another's event stream.

Two store objects on one store stand for two worker processes (each has its own connections):
one writes dispatch changes (position pings), the other runs the console's event stream
(:func:`navigator.services.console_events`). Reports, per backend, the change counter's read
time and the write-to-event latency (p50 / p90), at the default poll interval.

Usage::

    .venv/bin/python benchmarks/bench_live.py            # GeoPackage and PostGIS, ~30 s
    .venv/bin/python benchmarks/bench_live.py --n 100 --poll-s 0.1

``NAVIGATOR_TEST_DATABASE_URL`` (or ``--admin-url``) names a PostgreSQL+PostGIS server where a
database may be created and dropped; ``--admin-url ''`` skips PostGIS.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench_http import _database, _percentiles

from navigator.config import Settings
from navigator.demo.bundle import demo_bundle
from navigator.model import PositionPing
from navigator.services import console_events
from navigator.store import open_store


def _measure(url: str, *, n: int, poll_s: float) -> dict[str, Any]:
    writer, reader = open_store(url), open_store(url)
    try:
        writer.load(demo_bundle(seed=7), actor="bench", replace=True)
        team = writer.teams().iloc[0]
        reads = []
        for _ in range(200):
            t = time.perf_counter()
            reader.change_version()
            reads.append(time.perf_counter() - t)
        settings = Settings(store_url=url, events_poll_s=poll_s, events_stream_s=3600.0)
        committed: list[float] = []
        seen: list[float] = []
        done = threading.Event()

        def listen() -> None:
            for e in console_events(reader, settings, since=None):
                if e.kind == "change":
                    seen.append(time.perf_counter())
                if len(seen) >= n or done.is_set():
                    return

        thread = threading.Thread(target=listen, daemon=True)
        thread.start()
        time.sleep(0.5)
        for _ in range(n):
            ping = PositionPing(float(team.geometry.x), float(team.geometry.y),
                                datetime.now(UTC))
            writer.report_positions(team["id"], [ping], actor="bench")
            committed.append(time.perf_counter())
            time.sleep(poll_s * 3)  # one change per event: writes further apart than polls
        thread.join(timeout=10)
        done.set()
        pairs = list(zip(committed, seen, strict=False))
        return {"change_version_read": _percentiles(reads),
                "write_to_event": _percentiles([s - c for c, s in pairs]),
                "events": len(seen), "writes": n, "poll_s": poll_s}
    finally:
        writer.close()
        reader.close()


def main(argv: list[str] | None = None) -> int:
    """Run the measurements and print them as JSON."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=40, help="writes per backend")
    p.add_argument("--poll-s", type=float, default=Settings().events_poll_s)
    p.add_argument("--admin-url", default=os.environ.get(
        "NAVIGATOR_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    args = p.parse_args(argv)
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        out["gpkg"] = _measure(str(Path(tmp) / "live.gpkg"), n=args.n, poll_s=args.poll_s)
    if args.admin_url:
        url, drop = _database(args.admin_url)
        try:
            out["postgis"] = _measure(url, n=args.n, poll_s=args.poll_s)
        finally:
            drop()
    json.dump(out, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
