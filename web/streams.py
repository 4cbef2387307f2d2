"""Server-sent event streams: a bounded number per process, each framed as text/event-stream."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from flask import Response, stream_with_context

from navigator.errors import BusyError
from web.context import app_context

if TYPE_CHECKING:
    from navigator.services.console import ConsoleEvent

#: Milliseconds the browser waits before reconnecting a stream that ended.
RETRY_MS = 1000


def last_event_id(header: str | None, query: str | None) -> int | None:
    """Return the version a reconnecting client last saw (``Last-Event-ID`` or ``?since=``)."""
    for raw in (header, query):
        if raw is not None and raw.strip().isdigit() and len(raw.strip()) <= 18:
            return int(raw.strip())
    return None


def event_stream(events: Iterable[ConsoleEvent]) -> Response:
    """Return ``events`` as a text/event-stream response holding one of the process's slots.

    Raises
    ------
    BusyError
        Every slot (``settings.events_max_streams``) is taken: 503 with ``Retry-After``; the
        console polls meanwhile.
    """
    ctx = app_context()
    slots = ctx.cached("event-stream-slots",
                       lambda: threading.BoundedSemaphore(ctx.settings.events_max_streams))
    if not slots.acquire(blocking=False):
        msg = (f"this server process already serves {ctx.settings.events_max_streams} live "
               "console stream(s); the console polls instead and tries again")
        raise BusyError(msg, retry_after_s=ctx.settings.events_stream_s)
    released = threading.Event()

    def release() -> None:
        if not released.is_set():
            released.set()
            slots.release()

    def frames() -> Iterator[str]:
        try:
            yield f"retry: {RETRY_MS}\n\n"
            for e in events:
                yield f"id: {e.version}\nevent: {e.kind}\ndata: {e.version}\n\n"
        finally:
            release()

    response = Response(stream_with_context(frames()), mimetype="text/event-stream")
    response.call_on_close(release)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"  # nginx: pass events on as they come
    return response
