"""Compiled (numba) kernels: graph simplification and Dijkstra searches on CSR arrays.

Every kernel is compiled with ``cache=True`` so only the first run on a machine pays the JIT
cost; :func:`warm_up` compiles them all, with the contraction hierarchy kernels of
:mod:`navigator._ch` (re-exported here), on a tiny graph.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from navigator.roads._ch import contraction_order, phast, phast_many, rphast

_INF = np.inf


@nb.njit(cache=True)
def simplify_chains(indptr, indices, weight, length, rindptr, rindices):  # pragma: no cover
    """Contract chains of interior nodes (osmnx's endpoint rules) summing time and length.

    A node is interior when it has incoming and outgoing edges, no self-loop, exactly two
    neighbours and in+out degree 2 or 4 (parallel edges are already reduced). Rings made only of
    interior nodes get one endpoint. Returns ``(is_endpoint, src, dst, weight, length,
    geom_ptr, geom_nodes)``: one simplified edge per walk, with its interior nodes in order.
    """
    n = indptr.shape[0] - 1
    m = indices.shape[0]
    is_end = np.ones(n, dtype=np.bool_)
    for x in range(n):
        out_d = indptr[x + 1] - indptr[x]
        in_d = rindptr[x + 1] - rindptr[x]
        if out_d == 0 or in_d == 0 or out_d > 2 or in_d > 2:
            continue
        a = -1
        b = -1
        nb_count = 0
        loop = False
        a, b, nb_count, loop = _neighbours(x, indptr, indices, a, b, nb_count, loop)
        a, b, nb_count, loop = _neighbours(x, rindptr, rindices, a, b, nb_count, loop)
        d = out_d + in_d
        if not loop and nb_count == 2 and (d == 2 or d == 4):
            is_end[x] = False
    src = np.empty(m, dtype=np.int64)
    dst = np.empty(m, dtype=np.int64)
    w_out = np.empty(m, dtype=np.float64)
    l_out = np.empty(m, dtype=np.float64)
    geom_ptr = np.zeros(m + 1, dtype=np.int64)
    geom = np.empty(m, dtype=np.int64)
    visited = np.zeros(n, dtype=np.bool_)
    count = np.zeros(2, dtype=np.int64)  # simplified edges, interior nodes written
    for s in range(n):
        if is_end[s]:
            _walk(s, indptr, indices, weight, length, is_end, visited, src, dst, w_out, l_out,
                  geom_ptr, geom, count)
    for x in range(n):
        if not is_end[x] and not visited[x]:
            # a ring of interior nodes only: keep x and its first successor as endpoints
            y = np.int64(indices[indptr[x]])
            is_end[x] = True
            is_end[y] = True
            for s in (np.int64(x), y):
                _walk(s, indptr, indices, weight, length, is_end, visited, src, dst, w_out,
                      l_out, geom_ptr, geom, count)
    n_out = count[0]
    return (
        is_end,
        src[:n_out],
        dst[:n_out],
        w_out[:n_out],
        l_out[:n_out],
        geom_ptr[: n_out + 1],
        geom[: count[1]],
    )


@nb.njit(cache=True, inline="always")
def _neighbours(x, ptr, idx, a, b, count, loop):  # pragma: no cover
    """Fold ``x``'s adjacency list into its distinct neighbours ``a``, ``b`` and their count."""
    for k in range(ptr[x], ptr[x + 1]):
        y = idx[k]
        if y == x:
            loop = True
        elif y != a and y != b:
            if a == -1:
                a = y
            else:
                b = y
            count += 1
    return a, b, count, loop


@nb.njit(cache=True)
def _walk(s, indptr, indices, weight, length, is_end, visited, src, dst, w_out, l_out,
          geom_ptr, geom, count):  # pragma: no cover
    visited[s] = True
    for k in range(indptr[s], indptr[s + 1]):
        prev = s
        cur = indices[k]
        w = weight[k]
        ln = length[k]
        while not is_end[cur]:
            visited[cur] = True
            geom[count[1]] = cur
            count[1] += 1
            nxt = indptr[cur]
            if indptr[cur + 1] - nxt == 2 and indices[nxt] == prev:
                nxt += 1
            prev = cur
            cur = indices[nxt]
            w += weight[nxt]
            ln += length[nxt]
        i = count[0]
        src[i] = s
        dst[i] = cur
        w_out[i] = w
        l_out[i] = ln
        count[0] = i + 1
        geom_ptr[i + 1] = count[1]


@nb.njit(cache=True, inline="always")
def _sift_up(heap, pos, key, i):  # pragma: no cover
    x = heap[i]
    kx = key[x]
    while i > 0:
        p = (i - 1) >> 1
        y = heap[p]
        if key[y] <= kx:
            break
        heap[i] = y
        pos[y] = i
        i = p
    heap[i] = x
    pos[x] = i


@nb.njit(cache=True, inline="always")
def _sift_down(heap, pos, key, size):  # pragma: no cover
    x = heap[0]
    kx = key[x]
    i = 0
    while True:
        c = 2 * i + 1
        if c >= size:
            break
        if c + 1 < size and key[heap[c + 1]] < key[heap[c]]:
            c += 1
        y = heap[c]
        if key[y] >= kx:
            break
        heap[i] = y
        pos[y] = i
        i = c
    heap[i] = x
    pos[x] = i


@nb.njit(cache=True, inline="always")
def _push_or_decrease(heap, pos, key, size, x):  # pragma: no cover
    """Restore the heap after ``key[x]`` fell: append ``x`` if not queued; return the size."""
    if pos[x] == -1:
        heap[size] = x
        pos[x] = size
        size += 1
    _sift_up(heap, pos, key, pos[x])
    return size


@nb.njit(cache=True)
def dijkstra(indptr, indices, weight, sources, init, is_target, n_stop, cutoff):  # pragma: no cover
    """Multi-source Dijkstra with early exit; returns ``(dist, pred_edge, origin)``.

    ``dist`` holds settled distances (``inf`` elsewhere); ``pred_edge`` the CSR position of the
    edge a node was settled through (-1 for sources and unsettled nodes); ``origin`` the index
    into ``sources`` of the source that reached it (-1 unsettled). The search stops once
    ``n_stop`` nodes flagged in ``is_target`` are settled (``n_stop <= 0``: never) or when the
    next distance exceeds ``cutoff``.
    """
    n = indptr.shape[0] - 1
    key = np.full(n, _INF)
    pred = np.full(n, -1, dtype=np.int64)
    origin = np.full(n, -1, dtype=np.int64)
    pos = np.full(n, -1, dtype=np.int64)  # -1 never queued, -2 settled
    heap = np.empty(n, dtype=np.int64)
    size = 0
    for i in range(sources.shape[0]):
        s = sources[i]
        if init[i] < key[s]:
            key[s] = init[i]
            origin[s] = i
            size = _push_or_decrease(heap, pos, key, size, s)
    use_targets = n_stop > 0
    found = 0
    while size > 0:
        x = heap[0]
        dx = key[x]
        if dx > cutoff:
            break
        size -= 1
        pos[x] = -2
        if size > 0:
            heap[0] = heap[size]
            pos[heap[0]] = 0
            _sift_down(heap, pos, key, size)
        if use_targets and is_target[x]:
            found += 1
            if found >= n_stop:
                break
        for k in range(indptr[x], indptr[x + 1]):
            y = indices[k]
            py = pos[y]
            if py == -2:
                continue
            d = dx + weight[k]
            if d < key[y]:
                key[y] = d
                pred[y] = k
                origin[y] = origin[x]
                size = _push_or_decrease(heap, pos, key, size, y)
    for x in range(n):
        if pos[x] != -2:
            key[x] = _INF
            pred[x] = -1
            origin[x] = -1
    return key, pred, origin


def warm_up() -> None:
    """Compile (or load from numba's cache) every kernel on a three-node graph."""
    indptr = np.array([0, 1, 2, 3], dtype=np.int64)
    indices = np.array([1, 2, 0], dtype=np.int32)
    w = np.ones(3)
    simplify_chains(indptr, indices, w, w, indptr, np.array([2, 0, 1], dtype=np.int32))
    src = np.zeros(1, dtype=np.int64)
    flags = np.zeros(3, dtype=np.bool_)
    dijkstra(indptr, indices, w, src, np.zeros(1), flags, 0, np.inf)
    contraction_order(3, np.array([0, 1, 2]), np.array([1, 2, 0]), w, 16)
    up = (indptr, indices, w)
    phast(*up, *up, src, np.zeros(1), True)
    phast_many(*up, *up, src, src, np.inf)
    rphast(*up, *up, src, src)


__all__ = ["contraction_order", "dijkstra", "phast", "phast_many", "rphast", "simplify_chains",
           "warm_up"]
