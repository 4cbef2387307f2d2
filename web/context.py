"""The app's shared objects, typed: settings, the road graph (one per process) and the store.

Views route on :meth:`AppContext.roads` (the graph with road closures applied), never on
``graph`` (the network as built) except to draw or to check a new closure.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from flask import current_app

if TYPE_CHECKING:
    from flask import Flask

    from navigator.config import Settings
    from navigator.roads import TravelGraph
    from navigator.store import Store

T = TypeVar("T")
_KEY = "navigator"


@dataclass(frozen=True, eq=False)
class AppContext:
    """What every view works with; built once in the app factory, read-only afterwards."""

    settings: Settings
    graph: TravelGraph
    store: Store
    #: The time now (aware UTC); tests pass a clock they move (session idle timeouts).
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC), repr=False)
    _memo: dict[str, Any] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def roads(self) -> TravelGraph:
        """Return the graph every query uses: the network with the closures in force now.

        Re-read from the store at most every ``settings.closures_refresh_s`` seconds, so a
        closure written by any worker holds here within a few seconds.
        """
        from navigator.services.closures import effective_graph

        return effective_graph(self.store, self.graph, self.clock(),
                               refresh_s=self.settings.closures_refresh_s)

    def cached(self, key: str, build: Callable[[], T]) -> T:
        """Return ``build()``, computed once per app process (e.g. the population layer)."""
        found = self._memo.get(key)
        if found is None:
            with self._lock:
                found = self._memo.get(key)
                if found is None:
                    found = self._memo[key] = build()
        return found  # type: ignore[no-any-return]


def install(app: Flask, ctx: AppContext) -> None:
    """Attach ``ctx`` to ``app`` (the factory calls this once)."""
    app.extensions[_KEY] = ctx


def app_context() -> AppContext:
    """Return the current app's :class:`AppContext`."""
    ctx = current_app.extensions[_KEY]
    if not isinstance(ctx, AppContext):
        msg = "the app has no Navigator context: build it with web.create_app"
        raise TypeError(msg)
    return ctx
