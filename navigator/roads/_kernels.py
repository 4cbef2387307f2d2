"""Compiled (numba) kernels: graph simplification, Dijkstra on a workspace, path geometry.

Every kernel is compiled with ``cache=True`` so only the first run on a machine pays the JIT
cost; :func:`warm_up` compiles them all, with the contraction hierarchy kernels of
:mod:`navigator._ch` (re-exported here), on a tiny graph.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from navigator.roads._ch import (
    ch_many_to_many,
    ch_path,
    ch_query,
    contract_in_order,
    contraction_order,
    phast,
    phast_ws,
    rphast,
    rphast_ws,
)

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


@nb.njit(cache=True, nogil=True)
def dijkstra_ws(indptr, indices, weight, sources, init, targets, n_stop, cutoff, dist, pred,
                origin, pos, stamp, tmark, heap, settled, ver):  # pragma: no cover
    """Multi-source Dijkstra with early exit on a reusable workspace; return the settled count.

    Labels of node ``x`` (``dist``, ``pred`` = CSR position of the edge it was reached by or
    -1, ``origin`` = index into ``sources``, ``pos`` = heap slot, -2 once settled) are valid
    only while ``stamp[x] == ver``; ``tmark[x] == ver`` flags targets. Nothing graph-sized
    is allocated or reset: ``settled[:count]`` lists the settled nodes in order. The search
    stops once ``n_stop`` distinct targets are settled (``n_stop < 0``: all of them; no
    targets: never) or when the next distance exceeds ``cutoff``.
    """
    n_t = 0
    for i in range(targets.shape[0]):
        t = targets[i]
        if tmark[t] != ver:
            tmark[t] = ver
            n_t += 1
    if n_stop < 0:
        n_stop = n_t
    use_targets = n_t > 0 and n_stop > 0
    size = 0
    for i in range(sources.shape[0]):
        s = sources[i]
        if stamp[s] != ver:
            stamp[s] = ver
            dist[s] = _INF
            pos[s] = -1
        if init[i] < dist[s]:
            dist[s] = init[i]
            pred[s] = -1
            origin[s] = i
            size = _push_or_decrease(heap, pos, dist, size, s)
    found = 0
    count = 0
    while size > 0:
        x = heap[0]
        dx = dist[x]
        if dx > cutoff:
            break
        size -= 1
        pos[x] = -2
        settled[count] = x
        count += 1
        if size > 0:
            heap[0] = heap[size]
            pos[heap[0]] = 0
            _sift_down(heap, pos, dist, size)
        if use_targets and tmark[x] == ver:
            found += 1
            if found >= n_stop:
                break
        for k in range(indptr[x], indptr[x + 1]):
            y = indices[k]
            if stamp[y] != ver:
                stamp[y] = ver
                dist[y] = _INF
                pos[y] = -1
            elif pos[y] == -2:
                continue
            d = dx + weight[k]
            if d < dist[y]:
                dist[y] = d
                pred[y] = k
                origin[y] = origin[x]
                size = _push_or_decrease(heap, pos, dist, size, y)
    return count


@nb.njit(cache=True, nogil=True)
def first_out_of_range(nodes, n):  # pragma: no cover
    """Return the index of the first entry outside ``0..n-1``, or -1 (node argument checks).

    One compiled loop: after other work has flushed the caches, numpy's ``min``/``max``
    reductions cost ~0.06 ms more per query (interleaved benchmark, Q1).
    """
    for i in range(nodes.shape[0]):
        if nodes[i] < 0 or nodes[i] >= n:
            return i
    return -1


@nb.njit(cache=True, nogil=True)
def settled_times(nodes, dist, pos, stamp, ver):  # pragma: no cover
    """Return the settled distance of each node after :func:`dijkstra_ws` (``inf`` if not)."""
    out = np.empty(nodes.shape[0])
    for i in range(nodes.shape[0]):
        x = nodes[i]
        out[i] = dist[x] if stamp[x] == ver and pos[x] == -2 else _INF
    return out


@nb.njit(cache=True, nogil=True)
def path_coords(edges, tails, indices, lon, lat, geom_ptr, geom_lon, geom_lat):  # pragma: no cover
    """Return the ``(k, 2)`` (lon, lat) vertices along consecutive edges, repeats dropped."""
    total = 1
    for i in range(edges.shape[0]):
        e = edges[i]
        total += geom_ptr[e + 1] - geom_ptr[e] + 1
    out = np.empty((total, 2))
    k = 0
    for i in range(edges.shape[0]):
        e = edges[i]
        if i == 0:
            t = tails[e]
            out[0, 0] = lon[t]
            out[0, 1] = lat[t]
            k = 1
        for g in range(geom_ptr[e], geom_ptr[e + 1] + 1):
            if g < geom_ptr[e + 1]:
                x = geom_lon[g]
                y = geom_lat[g]
            else:
                h = indices[e]
                x = lon[h]
                y = lat[h]
            if x != out[k - 1, 0] or y != out[k - 1, 1]:
                out[k, 0] = x
                out[k, 1] = y
                k += 1
    return out[:k]


def warm_up() -> None:
    """Compile (or load from numba's cache) every kernel on a three-node graph."""
    indptr = np.array([0, 1, 2, 3], dtype=np.int64)
    indices = np.array([1, 2, 0], dtype=np.int32)
    w = np.ones(3)
    simplify_chains(indptr, indices, w, w, indptr, np.array([2, 0, 1], dtype=np.int32))
    src = np.zeros(1, dtype=np.int64)
    contraction_order(3, np.array([0, 1, 2]), np.array([1, 2, 0]), w, 16)
    contract_in_order(3, np.array([0, 1, 2]), np.array([1, 2, 0]), w, np.array([2, 0, 1]), 16)
    up = (indptr, indices, w)
    phast(*up, *up, src, np.zeros(1), True)
    rphast(*up, *up, src, src)
    n = 3
    f8, i8 = np.zeros(n), np.zeros(n, dtype=np.int64)
    big_f, big_i = np.zeros(16), np.zeros(16, dtype=np.int64)
    z = np.zeros(1)
    dijkstra_ws(indptr, indices, w, src, z, src, -1, np.inf, f8.copy(), i8.copy(), i8.copy(),
                i8.copy(), i8.copy(), i8.copy(), i8.copy(), i8.copy(), 1)
    settled_times(src, f8, i8, i8, 1)
    first_out_of_range(src, 3)
    path_coords(src, i8, indices, f8, f8, i8, f8, f8)
    phast_ws(*up, *up, src, z, False, big_f, big_i)
    rphast_ws(*up, *up, i8, src, z, src, f8.copy(), f8.copy(), i8.copy(),
              np.zeros(1, dtype=np.uint64), 1, big_f, big_i, i8.copy())
    stamps = [i8.copy() for _ in range(4)]
    ch_query(*up, *up, src, z, src, z, f8.copy(), stamps[0], stamps[1], f8.copy(),
              stamps[2], stamps[3], 1, big_f, big_i, big_f.copy(), big_i.copy())
    mid = np.full(3, -1, dtype=np.int32)
    ch_path(indptr, indices, mid, indptr, indices, mid, i8, i8, 0, np.full(3, -1),
            np.full(3, -1), i8, indptr, indices, i8.copy(), np.zeros(12, dtype=np.int64))
    ch_many_to_many(*up, *up, src, z, src, 1, src, z, src, 1, np.inf, f8.copy(), i8.copy(), 1,
                    big_f, big_i, i8.copy())


__all__ = ["ch_many_to_many", "ch_path", "ch_query", "contract_in_order", "contraction_order",
           "dijkstra_ws", "first_out_of_range", "path_coords", "phast", "phast_ws", "rphast",
           "rphast_ws", "settled_times", "simplify_chains", "warm_up"]
