"""Compiled (numba) contraction hierarchy (CH) kernels: node contraction and PHAST sweeps.

The CH adds shortcut edges so that every shortest distance is realised by a path going up in
contraction rank and then down. PHAST (Delling et al. 2011) answers one-to-all (or
many-to-all) by a tiny upward Dijkstra and one linear sweep over nodes by decreasing rank.
Every kernel is compiled with ``cache=True``; :func:`navigator._kernels.warm_up` compiles them.
"""

from __future__ import annotations

import numba as nb
import numpy as np

_INF = np.inf
_WITNESS_SETTLE_LIMIT = 64


# -- a binary min-heap of (key, value) pairs in two parallel arrays ----------------------------

@nb.njit(cache=True, inline="always")
def _kv_push(heap_k, heap_v, size, k, v):  # pragma: no cover
    """Insert ``(k, v)`` into a heap of ``size`` entries; the caller then counts one more."""
    i = size
    while i > 0:
        p = (i - 1) >> 1
        if heap_k[p] <= k:
            break
        heap_k[i] = heap_k[p]
        heap_v[i] = heap_v[p]
        i = p
    heap_k[i] = k
    heap_v[i] = v


@nb.njit(cache=True, inline="always")
def _kv_pop_fix(heap_k, heap_v, size):  # pragma: no cover
    """Refill the root after a pop: sift the entry at ``size`` (the old last one) down."""
    if size > 0:
        lk = heap_k[size]
        lv = heap_v[size]
        i = 0
        while True:
            c = 2 * i + 1
            if c >= size:
                break
            if c + 1 < size and heap_k[c + 1] < heap_k[c]:
                c += 1
            if heap_k[c] >= lk:
                break
            heap_k[i] = heap_k[c]
            heap_v[i] = heap_v[c]
            i = c
        heap_k[i] = lk
        heap_v[i] = lv


# -- contraction ---------------------------------------------------------------------------

@nb.njit(cache=True)
def _add_edge(a, b, w, e_src, e_dst, e_w, out_head, out_next, in_head, in_next,  # pragma: no cover
              count):
    # keep the minimum over parallel edges: update in place when a->b exists
    e = out_head[a]
    while e != -1:
        if e_dst[e] == b:
            if w < e_w[e]:
                e_w[e] = w
            return True
        e = out_next[e]
    k = count[0]
    if k >= e_src.shape[0]:
        return False  # out of capacity: the caller grows the arrays and retries
    e_src[k] = a
    e_dst[k] = b
    e_w[k] = w
    out_next[k] = out_head[a]
    out_head[a] = k
    in_next[k] = in_head[b]
    in_head[b] = k
    count[0] = k + 1
    return True


@nb.njit(cache=True)
def _witness(u, skip, bound, e_dst, e_w, out_head, out_next, contracted, dist, touched,
             heap_k, heap_v):  # pragma: no cover
    """Bounded Dijkstra from u avoiding ``skip``; leaves distances in ``dist``."""
    n_t = 0
    dist[u] = 0.0
    touched[n_t] = u
    n_t += 1
    heap_k[0] = 0.0
    heap_v[0] = u
    size = 1
    settled = 0
    while size > 0 and settled < _WITNESS_SETTLE_LIMIT:
        d = heap_k[0]
        x = heap_v[0]
        size -= 1
        _kv_pop_fix(heap_k, heap_v, size)
        if d > dist[x]:
            continue
        settled += 1
        if d > bound:
            break
        e = out_head[x]
        while e != -1:
            y = e_dst[e]
            if y != skip and not contracted[y]:
                nd = d + e_w[e]
                if nd < dist[y]:
                    if dist[y] == _INF:
                        touched[n_t] = y
                        n_t += 1
                    dist[y] = nd
                    if size < heap_k.shape[0]:
                        _kv_push(heap_k, heap_v, size, nd, y)
                        size += 1
            e = out_next[e]
    return n_t


@nb.njit(cache=True, inline="always")
def _forget(dist, touched, n_t):  # pragma: no cover
    for i in range(n_t):
        dist[touched[i]] = _INF


@nb.njit(cache=True)
def _contract(v, simulate, e_src, e_dst, e_w, out_head, out_next, in_head, in_next, count,
              contracted, dist, touched, heap_k, heap_v):  # pragma: no cover
    """Return the shortcuts contracting ``v`` needs (added unless ``simulate``), or -1."""
    added = 0
    e_in = in_head[v]
    while e_in != -1:
        u = e_src[e_in]
        w_in = e_w[e_in]
        if not contracted[u]:
            bound = 0.0
            e = out_head[v]
            while e != -1:
                x = e_dst[e]
                if not contracted[x] and x != u and w_in + e_w[e] > bound:
                    bound = w_in + e_w[e]
                e = out_next[e]
            if bound > 0.0 or out_head[v] != -1:
                n_t = _witness(u, v, bound, e_dst, e_w, out_head, out_next, contracted, dist,
                               touched, heap_k, heap_v)
                e = out_head[v]
                while e != -1:
                    x = e_dst[e]
                    if not contracted[x] and x != u and dist[x] > w_in + e_w[e]:
                        added += 1
                        if not simulate:
                            ok = _add_edge(u, x, w_in + e_w[e], e_src, e_dst, e_w, out_head,
                                           out_next, in_head, in_next, count)
                            if not ok:
                                _forget(dist, touched, n_t)
                                return -1
                    e = out_next[e]
                _forget(dist, touched, n_t)
        e_in = in_next[e_in]
    return added


@nb.njit(cache=True, inline="always")
def _live_ends(head, nxt, ends, v, contracted):  # pragma: no cover
    """Count ``v``'s edges in one linked list (out or in) whose other end is not contracted."""
    d = 0
    e = head[v]
    while e != -1:
        if not contracted[ends[e]]:
            d += 1
        e = nxt[e]
    return d


@nb.njit(cache=True)
def _degree(v, e_src, e_dst, out_head, out_next, in_head, in_next,  # pragma: no cover
            contracted):
    return (_live_ends(out_head, out_next, e_dst, v, contracted)
            + _live_ends(in_head, in_next, e_src, v, contracted))


@nb.njit(cache=True, inline="always")
def _count_deleted(head, nxt, ends, v, deleted, level):  # pragma: no cover
    """After contracting ``v``: its neighbours in one list lose an edge and rise a level."""
    e = head[v]
    while e != -1:
        deleted[ends[e]] += 1
        level[ends[e]] = max(level[ends[e]], level[v] + 1)
        e = nxt[e]


@nb.njit(cache=True)
def contraction_order(n, src, dst, w, capacity):  # pragma: no cover
    """Contract every node; return ``(rank, e_src, e_dst, e_w)`` with all edges and shortcuts.

    An empty ``rank`` means the edge capacity ran out: call again with more. Priority is twice
    the edge difference plus contracted neighbours plus hierarchy level, updated lazily.
    """
    m = src.shape[0]
    e_src = np.empty(capacity, dtype=np.int64)
    e_dst = np.empty(capacity, dtype=np.int64)
    e_w = np.empty(capacity, dtype=np.float64)
    out_head = np.full(n, -1, dtype=np.int64)
    in_head = np.full(n, -1, dtype=np.int64)
    out_next = np.empty(capacity, dtype=np.int64)
    in_next = np.empty(capacity, dtype=np.int64)
    count = np.zeros(1, dtype=np.int64)
    for k in range(m):
        _add_edge(src[k], dst[k], w[k], e_src, e_dst, e_w, out_head, out_next, in_head,
                  in_next, count)
    contracted = np.zeros(n, dtype=np.bool_)
    dist = np.full(n, _INF)
    touched = np.empty(n, dtype=np.int64)
    heap_k = np.empty(4096)
    heap_v = np.empty(4096, dtype=np.int64)
    deleted = np.zeros(n, dtype=np.int64)
    level = np.zeros(n, dtype=np.int64)
    # priority queue of (priority, node), lazy: re-evaluate on pop
    pq_k = np.empty(n)
    pq_v = np.empty(n, dtype=np.int64)
    for v in range(n):
        s = _contract(v, True, e_src, e_dst, e_w, out_head, out_next, in_head, in_next, count,
                      contracted, dist, touched, heap_k, heap_v)
        pq_k[v] = s - _degree(v, e_src, e_dst, out_head, out_next, in_head, in_next, contracted)
        pq_v[v] = v
    order = np.argsort(pq_k, kind="mergesort")
    pq_k = pq_k[order].copy()
    pq_v = pq_v[order].copy()  # a sorted array is a valid binary min-heap
    size = n
    rank = np.full(n, -1, dtype=np.int64)
    next_rank = 0
    while size > 0:
        v = pq_v[0]
        size -= 1
        _kv_pop_fix(pq_k, pq_v, size)
        s = _contract(v, True, e_src, e_dst, e_w, out_head, out_next, in_head, in_next, count,
                      contracted, dist, touched, heap_k, heap_v)
        prio = 2 * (s - _degree(v, e_src, e_dst, out_head, out_next, in_head, in_next,
                                contracted)) + deleted[v] + level[v]
        if size > 0 and prio > pq_k[0]:
            _kv_push(pq_k, pq_v, size, prio, v)  # back in with the fresh priority
            size += 1
            continue
        if _contract(v, False, e_src, e_dst, e_w, out_head, out_next, in_head, in_next, count,
                     contracted, dist, touched, heap_k, heap_v) < 0:
            return np.empty(0, dtype=np.int64), e_src[:0], e_dst[:0], e_w[:0]
        contracted[v] = True
        rank[v] = next_rank
        next_rank += 1
        _count_deleted(out_head, out_next, e_dst, v, deleted, level)
        _count_deleted(in_head, in_next, e_src, v, deleted, level)
    k = count[0]
    return rank, e_src[:k].copy(), e_dst[:k].copy(), e_w[:k].copy()


# -- PHAST sweeps ----------------------------------------------------------------------------

@nb.njit(cache=True, inline="always")
def _swept(v, dist, dn_indptr, dn_indices, dn_w):  # pragma: no cover
    """Return ``v``'s distance after relaxing its edges from higher-ranked positions."""
    dv = dist[v]
    for k in range(dn_indptr[v], dn_indptr[v + 1]):
        dv = min(dv, dist[dn_indices[k]] + dn_w[k])
    return dv


@nb.njit(cache=True)
def phast(up_indptr, up_indices, up_w, dn_indptr, dn_indices, dn_w, sources,  # pragma: no cover
          init, track_origin=True):
    """One-to-all (or many-to-all) distances in sweep-position space.

    ``up_*`` lists, per position, edges to higher-ranked positions (used by the upward
    search); ``dn_*`` lists, per position, edges from higher-ranked positions (swept in
    position order). Pass the two the other way round for distances *to* the sources.
    Returns ``(dist, origin)`` with ``origin`` the index into ``sources`` (-1 unreachable).
    """
    n = up_indptr.shape[0] - 1
    dist = np.full(n, _INF)
    origin = np.full(n, -1, dtype=np.int64)
    heap_k = np.empty(up_indices.shape[0] + sources.shape[0])
    heap_v = np.empty(up_indices.shape[0] + sources.shape[0], dtype=np.int64)
    size = 0
    for i in range(sources.shape[0]):
        s = sources[i]
        if init[i] < dist[s]:
            dist[s] = init[i]
            origin[s] = i
            _kv_push(heap_k, heap_v, size, init[i], s)
            size += 1
    while size > 0:
        d = heap_k[0]
        x = heap_v[0]
        size -= 1
        if size > 0:  # _kv_pop_fix written out: inlined, it made one-to-all ~6% slower
            lk = heap_k[size]
            lv = heap_v[size]
            i = 0
            while True:
                c = 2 * i + 1
                if c >= size:
                    break
                if c + 1 < size and heap_k[c + 1] < heap_k[c]:
                    c += 1
                if heap_k[c] >= lk:
                    break
                heap_k[i] = heap_k[c]
                heap_v[i] = heap_v[c]
                i = c
            heap_k[i] = lk
            heap_v[i] = lv
        if d > dist[x]:
            continue
        for k in range(up_indptr[x], up_indptr[x + 1]):
            y = up_indices[k]
            nd = d + up_w[k]
            if nd < dist[y]:
                dist[y] = nd
                origin[y] = origin[x]
                _kv_push(heap_k, heap_v, size, nd, y)
                size += 1
    if sources.shape[0] == 1 or not track_origin:  # no origins to carry: branch-free sweep
        for v in range(n):
            dv = dist[v]
            for k in range(dn_indptr[v], dn_indptr[v + 1]):
                dv = min(dv, dist[dn_indices[k]] + dn_w[k])
            dist[v] = dv
        if track_origin:
            for v in range(n):
                origin[v] = 0 if dist[v] < _INF else -1
        return dist, origin
    for v in range(n):
        dv = dist[v]
        ov = origin[v]
        for k in range(dn_indptr[v], dn_indptr[v + 1]):
            nd = dist[dn_indices[k]] + dn_w[k]
            if nd < dv:
                dv = nd
                ov = origin[dn_indices[k]]
        dist[v] = dv
        origin[v] = ov
    return dist, origin


@nb.njit(cache=True, parallel=True)
def phast_many(up_indptr, up_indices, up_w, dn_indptr, dn_indices, dn_w, sources, gather,
               cutoff):  # pragma: no cover
    """Run :func:`phast` from each source (in parallel); return dist[gather] per source."""
    out = np.empty((sources.shape[0], gather.shape[0]))
    init = np.zeros(1)
    for i in nb.prange(sources.shape[0]):
        src = np.empty(1, dtype=np.int64)
        src[0] = sources[i]
        dist, _ = phast(up_indptr, up_indices, up_w, dn_indptr, dn_indices, dn_w, src, init,
                        False)
        for j in range(gather.shape[0]):
            d = dist[gather[j]]
            out[i, j] = d if d <= cutoff else _INF
    return out


@nb.njit(cache=True)
def rphast(up_indptr, up_indices, up_w, dn_indptr, dn_indices, dn_w, sources,
           targets):  # pragma: no cover
    """Distances from ``sources`` to ``targets`` sweeping only what the targets need (RPHAST).

    The nodes a target's value depends on are those reachable from it along ``dn`` lists
    (edges from higher-ranked positions); only they are swept, in position order.
    """
    n = up_indptr.shape[0] - 1
    mark = np.zeros(n, dtype=np.bool_)
    stack = np.empty(n, dtype=np.int64)
    top = 0
    for i in range(targets.shape[0]):
        t = targets[i]
        if not mark[t]:
            mark[t] = True
            stack[top] = t
            top += 1
    while top > 0:
        top -= 1
        v = stack[top]
        for k in range(dn_indptr[v], dn_indptr[v + 1]):
            a = dn_indices[k]
            if not mark[a]:
                mark[a] = True
                stack[top] = a
                top += 1
    init = np.zeros(sources.shape[0])
    # the upward search of phast() with an empty sweep, then sweep the marked positions
    empty_ptr = np.zeros(n + 1, dtype=np.int64)
    dist, _ = phast(up_indptr, up_indices, up_w, empty_ptr, dn_indices[:0], dn_w[:0], sources,
                    init, False)
    for v in range(n):
        if mark[v]:
            dist[v] = _swept(v, dist, dn_indptr, dn_indices, dn_w)
    out = np.empty(targets.shape[0])
    for i in range(targets.shape[0]):
        out[i] = dist[targets[i]]
    return out


__all__ = ["contraction_order", "phast", "phast_many", "rphast"]
