"""Per-thread search workspaces and the argument checks every road query shares.

Every query kernel takes its scratch arrays from a per-thread :class:`Workspace` kept in the
graph's memo, with versioned labels, so no query allocates or resets graph-sized arrays (the
web app answers from several threads; each gets its own workspace).
"""

from __future__ import annotations

import math
import threading
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt

from navigator.errors import ValidationError
from navigator.roads import _kernels

if TYPE_CHECKING:
    from navigator.roads.graph import TravelGraph

Method = Literal["auto", "phast", "dijkstra"]


class Workspace:
    """Scratch arrays for one thread's queries on one graph (labels valid while stamped)."""

    def __init__(self, tg: TravelGraph) -> None:
        n = tg.n_search_nodes
        self.dist = np.empty(n)
        self.pred = np.empty(n, dtype=np.int64)
        self.origin = np.empty(n, dtype=np.int64)
        self.pos = np.empty(n, dtype=np.int64)
        self.stamp = np.zeros(n, dtype=np.int64)
        self.tmark = np.zeros(n, dtype=np.int64)
        self.heap = np.empty(n, dtype=np.int64)
        self.settled = np.empty(n, dtype=np.int64)
        self.bits = np.zeros((n + 63) >> 6, dtype=np.uint64)  # zero between queries
        self.dist2 = np.empty(n)
        self.stamp2 = np.zeros(n, dtype=np.int64)
        self.pred2 = np.empty(n, dtype=np.int64)
        m = self.heap_base = max(tg.up_indices.shape[0], tg.dn_indices.shape[0]) + 64
        self.hk = np.empty(m)
        self.hv = np.empty(m, dtype=np.int64)
        self.hk2 = np.empty(m)
        self.hv2 = np.empty(m, dtype=np.int64)
        self.stack = np.empty(4 * n + 8, dtype=np.int64)
        self.ver = 0

    def bump(self, k: int = 1) -> int:
        """Reserve ``k`` fresh label versions; return the first."""
        self.ver += k
        return self.ver - k + 1

    def heaps(self, extra: int) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
        """Return the lazy heap, grown when ``extra`` start entries do not fit its slack."""
        need = self.heap_base + extra
        if self.hk.shape[0] < need:
            self.hk, self.hv = np.empty(need), np.empty(need, dtype=np.int64)
        return self.hk, self.hv


class _PerThread(threading.local):
    """Per-thread slot for a workspace; pickles as an empty one (the graph ships to workers)."""

    ws: Workspace | None = None

    def __reduce__(self) -> tuple[type[_PerThread], tuple[()]]:
        return (_PerThread, ())


def _thread_local(tg: TravelGraph) -> _PerThread:
    return _PerThread()


def workspace(tg: TravelGraph) -> Workspace:
    """Return this thread's workspace for ``tg`` (built on first use)."""
    local = tg.cached(_thread_local)
    ws = local.ws
    if ws is None:
        ws = local.ws = Workspace(tg)
    return ws


def node_array(tg: TravelGraph, nodes: npt.ArrayLike, what: str) -> npt.NDArray[np.int64]:
    arr = np.asarray(nodes)
    if arr.ndim != 1:
        arr = np.atleast_1d(arr)
    if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
        msg = f"{what} must be a 1-d array of integer node indices"
        raise ValidationError(msg)
    if arr.dtype != np.int64:
        arr = arr.astype(np.int64)  # unsigned beyond int64 wraps negative: caught below
    bad = _kernels.first_out_of_range(arr, tg.n_nodes)  # compiled: no cold numpy reductions
    if bad >= 0:
        node = int(np.asarray(nodes).ravel()[bad])
        msg = f"{what}: node {node} is not in the graph (0..{tg.n_nodes - 1})"
        raise ValidationError(msg)
    return arr


def node_arg(tg: TravelGraph, node: int | np.integer, what: str) -> int:
    if isinstance(node, bool) or not isinstance(node, int | np.integer):
        msg = f"{what} must be one integer node index, got {node!r}"
        raise ValidationError(msg)
    if not 0 <= node < tg.n_nodes:
        msg = f"{what}: node {int(node)} is not in the graph (0..{tg.n_nodes - 1})"
        raise ValidationError(msg)
    return int(node)


def cutoff_arg(cutoff_s: float | None) -> float:
    if cutoff_s is None:
        return np.inf
    c = float(cutoff_s)
    if math.isnan(c) or c < 0:
        msg = f"cutoff_s must be a non-negative number of seconds, got {cutoff_s!r}"
        raise ValidationError(msg)
    return c


def check_hull(hull: str | None) -> None:
    """Raise ValidationError unless ``hull`` is "concave", "convex" or None."""
    if hull not in ("concave", "convex", None):
        msg = f"hull must be 'concave', 'convex' or None, got {hull!r}"
        raise ValidationError(msg)


def check_method(method: Method) -> None:
    if method not in ("auto", "phast", "dijkstra"):
        msg = f"method must be 'auto', 'phast' or 'dijkstra', got {method!r}"
        raise ValidationError(msg)
