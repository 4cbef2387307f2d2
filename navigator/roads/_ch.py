"""Compiled (numba) contraction hierarchy (CH) kernels: node contraction and PHAST sweeps.

The CH adds shortcut edges so that every shortest distance is realised by a path going up in
contraction rank and then down. PHAST (Delling et al. 2011) answers one-to-all (or
many-to-all) by a tiny upward Dijkstra and one linear sweep over nodes by decreasing rank.
Every kernel is compiled with ``cache=True``; :func:`navigator._kernels.warm_up` compiles them.
"""

from __future__ import annotations

import numba as nb
import numpy as np
from numba.cpython.unsafe.numbers import leading_zeros, trailing_zeros

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
def _add_edge(a, b, w, mid, e_src, e_dst, e_w, e_mid, out_head, out_next,  # pragma: no cover
              in_head, in_next, count):
    # keep the minimum over parallel edges: update in place (with its middle) when a->b exists
    e = out_head[a]
    while e != -1:
        if e_dst[e] == b:
            if w < e_w[e]:
                e_w[e] = w
                e_mid[e] = mid
            return True
        e = out_next[e]
    k = count[0]
    if k >= e_src.shape[0]:
        return False  # out of capacity: the caller grows the arrays and retries
    e_src[k] = a
    e_dst[k] = b
    e_w[k] = w
    e_mid[k] = mid
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
def _contract(v, simulate, e_src, e_dst, e_w, e_mid, out_head, out_next, in_head, in_next,
              count, contracted, dist, touched, heap_k, heap_v):  # pragma: no cover
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
                            ok = _add_edge(u, x, w_in + e_w[e], v, e_src, e_dst, e_w, e_mid,
                                           out_head, out_next, in_head, in_next, count)
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


@nb.njit(cache=True, nogil=True)
def _setup(n, src, dst, w, capacity):  # pragma: no cover
    """Return the edge store holding the graph: edge arrays and linked out/in lists."""
    e_src = np.empty(capacity, dtype=np.int64)
    e_dst = np.empty(capacity, dtype=np.int64)
    e_w = np.empty(capacity, dtype=np.float64)
    e_mid = np.empty(capacity, dtype=np.int64)
    out_head = np.full(n, -1, dtype=np.int64)
    in_head = np.full(n, -1, dtype=np.int64)
    out_next = np.empty(capacity, dtype=np.int64)
    in_next = np.empty(capacity, dtype=np.int64)
    count = np.zeros(1, dtype=np.int64)
    for k in range(src.shape[0]):
        _add_edge(src[k], dst[k], w[k], -1, e_src, e_dst, e_w, e_mid, out_head, out_next,
                  in_head, in_next, count)
    return e_src, e_dst, e_w, e_mid, out_head, out_next, in_head, in_next, count


@nb.njit(cache=True, nogil=True)
def _relink(e_src, e_dst, count, contracted, out_head, out_next, in_head,
            in_next):  # pragma: no cover
    """Drop edges with a contracted end from the linked lists, keeping the others' order.

    Every kernel skips such edges anyway; at the top of the hierarchy they are most of each
    list. Lists are newest first, so re-inserting in edge order restores the same order and
    the contraction is unchanged (only faster).
    """
    out_head[:] = -1
    in_head[:] = -1
    for k in range(count[0]):
        a = e_src[k]
        b = e_dst[k]
        if not contracted[a] and not contracted[b]:
            out_next[k] = out_head[a]
            out_head[a] = k
            in_next[k] = in_head[b]
            in_head[b] = k


@nb.njit(cache=True, nogil=True)  # re-contraction runs in a thread beside queries
def contraction_order(n, src, dst, w, capacity):  # pragma: no cover
    """Contract every node; return ``(rank, e_src, e_dst, e_w, e_mid)``: edges and shortcuts.

    ``e_mid`` is the node a shortcut bypasses (-1 for an original edge), for path unpacking.
    An empty ``rank`` means the edge capacity ran out: call again with more. Priority is twice
    the edge difference plus contracted neighbours plus hierarchy level, updated lazily.
    """
    e_src, e_dst, e_w, e_mid, out_head, out_next, in_head, in_next, count = _setup(
        n, src, dst, w, capacity)
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
        s = _contract(v, True, e_src, e_dst, e_w, e_mid, out_head, out_next, in_head, in_next,
                      count, contracted, dist, touched, heap_k, heap_v)
        pq_k[v] = s - _degree(v, e_src, e_dst, out_head, out_next, in_head, in_next, contracted)
        pq_v[v] = v
    order = np.argsort(pq_k, kind="mergesort")
    pq_k = pq_k[order].copy()
    pq_v = pq_v[order].copy()  # a sorted array is a valid binary min-heap
    size = n
    rank = np.full(n, -1, dtype=np.int64)
    next_rank = 0
    last_relink = 0
    while size > 0:
        v = pq_v[0]
        size -= 1
        _kv_pop_fix(pq_k, pq_v, size)
        s = _contract(v, True, e_src, e_dst, e_w, e_mid, out_head, out_next, in_head, in_next,
                      count, contracted, dist, touched, heap_k, heap_v)
        prio = 2 * (s - _degree(v, e_src, e_dst, out_head, out_next, in_head, in_next,
                                contracted)) + deleted[v] + level[v]
        if size > 0 and prio > pq_k[0]:
            _kv_push(pq_k, pq_v, size, prio, v)  # back in with the fresh priority
            size += 1
            continue
        if _contract(v, False, e_src, e_dst, e_w, e_mid, out_head, out_next, in_head, in_next,
                     count, contracted, dist, touched, heap_k, heap_v) < 0:
            return np.empty(0, dtype=np.int64), e_src[:0], e_dst[:0], e_w[:0], e_mid[:0]
        contracted[v] = True
        rank[v] = next_rank
        next_rank += 1
        _count_deleted(out_head, out_next, e_dst, v, deleted, level)
        _count_deleted(in_head, in_next, e_src, v, deleted, level)
        if 10 * (next_rank - last_relink) >= n - last_relink and next_rank - last_relink >= 64:
            _relink(e_src, e_dst, count, contracted, out_head, out_next, in_head, in_next)
            last_relink = next_rank
    k = count[0]
    return rank, e_src[:k].copy(), e_dst[:k].copy(), e_w[:k].copy(), e_mid[:k].copy()


@nb.njit(cache=True, nogil=True)
def contract_in_order(n, src, dst, w, order, capacity):  # pragma: no cover
    """Contract nodes in a given order (lowest rank first); return like contraction_order.

    For re-contracting a graph whose travel times changed (road closures): the order of the
    graph as built stays good, and skipping the priority simulations makes it several times
    faster than :func:`contraction_order`. An empty ``rank`` means out of capacity.
    """
    e_src, e_dst, e_w, e_mid, out_head, out_next, in_head, in_next, count = _setup(
        n, src, dst, w, capacity)
    contracted = np.zeros(n, dtype=np.bool_)
    dist = np.full(n, _INF)
    touched = np.empty(n, dtype=np.int64)
    heap_k = np.empty(4096)
    heap_v = np.empty(4096, dtype=np.int64)
    rank = np.full(n, -1, dtype=np.int64)
    last_relink = 0
    for r in range(n):
        v = order[r]
        if _contract(v, False, e_src, e_dst, e_w, e_mid, out_head, out_next, in_head, in_next,
                     count, contracted, dist, touched, heap_k, heap_v) < 0:
            return np.empty(0, dtype=np.int64), e_src[:0], e_dst[:0], e_w[:0], e_mid[:0]
        contracted[v] = True
        rank[v] = r
        if 10 * (r + 1 - last_relink) >= n - last_relink and r + 1 - last_relink >= 64:
            _relink(e_src, e_dst, count, contracted, out_head, out_next, in_head, in_next)
            last_relink = r + 1
    k = count[0]
    return rank, e_src[:k].copy(), e_dst[:k].copy(), e_w[:k].copy(), e_mid[:k].copy()


# -- PHAST sweeps ----------------------------------------------------------------------------
#
# Query kernels take their scratch arrays from a per-thread workspace (see
# ``navigator.roads.routing``) instead of allocating graph-sized arrays per query: a label of
# node ``x`` is valid only while ``stamp[x] == ver``, so a new query starts by bumping ``ver``.
# They release the GIL (``nogil``): threads run queries side by side, one workspace each.

@nb.njit(cache=True, nogil=True)
def phast_ws(up_indptr, up_indices, up_w, dn_indptr, dn_indices, dn_w, sources,  # pragma: no cover
             init, track_origin, heap_k, heap_v):
    """One-to-all (or many-to-all) distances in sweep-position space.

    ``up_*`` lists, per position, edges to higher-ranked positions (used by the upward
    search); ``dn_*`` lists, per position, edges from higher-ranked positions (swept in
    position order). Pass the two the other way round for distances *to* the sources.
    ``heap_*`` are scratch of at least ``len(up_indices) + len(sources)`` entries.
    Returns ``(dist, origin)`` with ``origin`` the index into ``sources`` (-1 unreachable).
    """
    n = up_indptr.shape[0] - 1
    dist = np.full(n, _INF)
    origin = np.full(n, -1, dtype=np.int64)
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


@nb.njit(cache=True, nogil=True)
def phast(up_indptr, up_indices, up_w, dn_indptr, dn_indices, dn_w, sources,  # pragma: no cover
          init, track_origin=True):
    """:func:`phast_ws` with its own scratch heap."""
    m = up_indices.shape[0] + sources.shape[0]
    return phast_ws(up_indptr, up_indices, up_w, dn_indptr, dn_indices, dn_w, sources, init,
                    track_origin, np.empty(m), np.empty(m, dtype=np.int64))


@nb.njit(cache=True, nogil=True)
def _upward(up_indptr, up_indices, up_w, sources, init, dist, stamp, ver, heap_k, heap_v,
            settled, stall, st_indptr, st_indices, st_w):  # pragma: no cover
    """Upward Dijkstra from ``sources`` with versioned labels; return the settled count.

    ``settled[:count]`` lists the settled positions. With ``stall`` (stall-on-demand), a node
    reached more cheaply through a higher-ranked neighbour (``st_*``: the lists of edges into
    it from above) is neither expanded nor listed: its label cannot be a shortest distance.
    """
    size = 0
    count = 0
    for i in range(sources.shape[0]):
        s = sources[i]
        if stamp[s] != ver:
            stamp[s] = ver
            dist[s] = _INF
        if init[i] < dist[s]:
            dist[s] = init[i]
            _kv_push(heap_k, heap_v, size, init[i], s)
            size += 1
    while size > 0:
        d = heap_k[0]
        x = heap_v[0]
        size -= 1
        _kv_pop_fix(heap_k, heap_v, size)
        if d > dist[x]:
            continue
        if stall:
            stalled = False
            for k in range(st_indptr[x], st_indptr[x + 1]):
                y = st_indices[k]
                if stamp[y] == ver and dist[y] + st_w[k] < d:
                    stalled = True
                    break
            if stalled:
                continue
        settled[count] = x
        count += 1
        for k in range(up_indptr[x], up_indptr[x + 1]):
            y = up_indices[k]
            if stamp[y] != ver:
                stamp[y] = ver
                dist[y] = _INF
            nd = d + up_w[k]
            if nd < dist[y]:
                dist[y] = nd
                _kv_push(heap_k, heap_v, size, nd, y)
                size += 1
    return count


@nb.njit(cache=True, nogil=True)
def rphast_ws(up_indptr, up_indices, up_w, dn_indptr, dn_indices, dn_w, pos_of, sources, init,
              targets, dist, dist2, stamp2, bits, ver, heap_k, heap_v,
              touched):  # pragma: no cover
    """Distances from ``sources`` to ``targets`` sweeping only what the targets need (RPHAST).

    ``sources`` and ``targets`` are search nodes and ``pos_of`` their sweep positions
    (``TravelGraph.ch_pos``), mapped here: two array operations less per query in Python.
    The nodes a target's value depends on are those reachable from it along ``dn`` lists
    (edges from higher-ranked positions); only they are swept, in position order. They are
    kept as a bitmap over positions (``bits``: ``ceil(n / 64)`` words, all zero on entry and
    again on return), which is small enough to stay in cache: every dn edge goes to a lower
    position, so one scan down the words finds the closure (no queue, no sort) and one scan up
    sweeps it. ``dist`` holds the swept labels (only closure positions are read or written,
    so no stamps); the upward search runs on ``dist2``/``stamp2`` (versioned by ``ver``).
    Heaps as in :func:`phast_ws`; nothing graph-sized is allocated or swept.
    """
    one = np.uint64(1)
    top = 0
    for i in range(targets.shape[0]):
        t = pos_of[targets[i]]
        bits[t >> 6] |= one << np.uint64(t & 63)
        top = max(top, t >> 6)
    for wi in range(top, -1, -1):  # the dn-closure of the targets, highest position first
        w = bits[wi]
        while w:
            b = np.uint64(63) - leading_zeros(w)
            v = (wi << 6) + np.int64(b)
            w &= ~(one << b)
            dist[v] = _INF
            for k in range(dn_indptr[v], dn_indptr[v + 1]):
                a = np.int64(dn_indices[k])
                if a < v:  # always, in a hierarchy: never loop on malformed lists
                    m = one << np.uint64(a & 63)
                    bits[a >> 6] |= m
                    if (a >> 6) == wi:
                        w |= m
    src = np.empty(sources.shape[0], dtype=np.int64)
    for i in range(sources.shape[0]):
        src[i] = pos_of[sources[i]]
    c = _upward(up_indptr, up_indices, up_w, src, init, dist2, stamp2, ver, heap_k, heap_v,
                touched, False, dn_indptr, dn_indices, dn_w)
    for i in range(c):
        x = touched[i]
        if bits[x >> 6] & (one << np.uint64(x & 63)):
            dist[x] = dist2[x]
    for wi in range(top + 1):  # sweep in position order: higher ranks first
        w = bits[wi]
        if w == 0:
            continue
        bits[wi] = 0
        while w:
            v = (wi << 6) + np.int64(trailing_zeros(w))
            w &= w - one
            dv = dist[v]
            for k in range(dn_indptr[v], dn_indptr[v + 1]):
                dv = min(dv, dist[dn_indices[k]] + dn_w[k])
            dist[v] = dv
    out = np.empty(targets.shape[0])
    for i in range(targets.shape[0]):
        out[i] = dist[pos_of[targets[i]]]
    return out


@nb.njit(cache=True)
def rphast(up_indptr, up_indices, up_w, dn_indptr, dn_indices, dn_w, sources,
           targets):  # pragma: no cover
    """:func:`rphast_ws` on positions, with its own scratch (for tests and one-off calls)."""
    n = up_indptr.shape[0] - 1
    m = up_indices.shape[0] + sources.shape[0]
    return rphast_ws(up_indptr, up_indices, up_w, dn_indptr, dn_indices, dn_w,
                     np.arange(n), sources, np.zeros(sources.shape[0]), targets, np.empty(n),
                     np.empty(n), np.zeros(n, dtype=np.int64),
                     np.zeros((n + 63) >> 6, dtype=np.uint64), 1,
                     np.empty(m), np.empty(m, dtype=np.int64), np.empty(n, dtype=np.int64))


# -- point-to-point: bidirectional CH query with shortcut unpacking ------------------------

@nb.njit(cache=True, inline="always")
def _pop(heap_k, heap_v, size):  # pragma: no cover
    """Pop the root of a heap of ``size`` entries; return ``(key, value)``."""
    d = heap_k[0]
    x = heap_v[0]
    _kv_pop_fix(heap_k, heap_v, size - 1)
    return d, x


@nb.njit(cache=True, nogil=True)
def ch_query(up_indptr, up_indices, up_w, dn_indptr, dn_indices, dn_w, s_pos, s_init,
             t_pos, t_init, df, sf, pf, db, sb, pb, ver, hk, hv, hk2, hv2):  # pragma: no cover
    """Shortest distance between position sets by a bidirectional CH search.

    Forward from ``s_pos`` (starting at ``s_init`` seconds) along ``up`` edges, backward from
    ``t_pos`` (``t_init`` seconds still to go) along ``dn`` lists, stopping once neither
    heap's minimum can improve on the best meeting. Labels are versioned (``sf``/``sb``
    stamps); ``pf``/``pb`` keep the CH edge each label came through (index into the ``up``
    resp. ``dn`` CSR, -1 at a start). Returns ``(dist, meet)``, ``meet`` -1 when unreachable.
    """
    nf = 0
    nb_ = 0
    for i in range(s_pos.shape[0]):
        x = s_pos[i]
        if sf[x] != ver or s_init[i] < df[x]:
            sf[x] = ver
            df[x] = s_init[i]
            pf[x] = -1
            _kv_push(hk, hv, nf, s_init[i], x)
            nf += 1
    for i in range(t_pos.shape[0]):
        x = t_pos[i]
        if sb[x] != ver or t_init[i] < db[x]:
            sb[x] = ver
            db[x] = t_init[i]
            pb[x] = -1
            _kv_push(hk2, hv2, nb_, t_init[i], x)
            nb_ += 1
    best = _INF
    meet = -1
    while True:
        kf = hk[0] if nf > 0 else _INF
        kb = hk2[0] if nb_ > 0 else _INF
        if kf >= best and kb >= best:
            break
        if kf == _INF and kb == _INF:
            break
        if kf <= kb:
            d, x = _pop(hk, hv, nf)
            nf -= 1
            if d > df[x]:
                continue
            if sb[x] == ver and d + db[x] < best:
                best = d + db[x]
                meet = x
            for k in range(up_indptr[x], up_indptr[x + 1]):
                y = up_indices[k]
                nd = d + up_w[k]
                if sf[y] != ver or nd < df[y]:
                    sf[y] = ver
                    df[y] = nd
                    pf[y] = k
                    _kv_push(hk, hv, nf, nd, y)
                    nf += 1
        else:
            d, x = _pop(hk2, hv2, nb_)
            nb_ -= 1
            if d > db[x]:
                continue
            if sf[x] == ver and d + df[x] < best:
                best = d + df[x]
                meet = x
            for k in range(dn_indptr[x], dn_indptr[x + 1]):
                a = dn_indices[k]
                nd = d + dn_w[k]
                if sb[a] != ver or nd < db[a]:
                    sb[a] = ver
                    db[a] = nd
                    pb[a] = k
                    _kv_push(hk2, hv2, nb_, nd, a)
                    nb_ += 1
    return best, meet


@nb.njit(cache=True, inline="always")
def _find(ptr, idx, row, col):  # pragma: no cover
    for k in range(ptr[row], ptr[row + 1]):
        if idx[k] == col:
            return k
    return -1


@nb.njit(cache=True, nogil=True)
def ch_path(up_indptr, up_indices, up_mid, dn_indptr, dn_indices, dn_mid, up_src, dn_dst,
            meet, pf, pb, node_of_pos, indptr, indices, buf, stack):  # pragma: no cover
    """Unpack the CH path through ``meet`` into original edge ids (CSR positions), in order.

    ``up_src[k]`` is the tail position of up-edge ``k``, ``dn_dst[k]`` the head position of
    dn-entry ``k`` (the row it is listed under). Shortcut ``a -> b`` bypassing ``m`` unpacks
    into ``a -> m`` (listed in ``dn[m]``) and ``m -> b`` (in ``up[m]``). Writes into ``buf``;
    returns the number of edges.
    """
    # CH edges of the path as (tail, head) positions: forward part reversed, then backward
    nch = 0
    x = meet
    while pf[x] != -1:
        k = pf[x]
        stack[2 * nch] = up_src[k]
        stack[2 * nch + 1] = x
        nch += 1
        x = up_src[k]
    # reverse the forward part into path order
    for i in range(nch // 2):
        j = nch - 1 - i
        a0 = stack[2 * i]
        b0 = stack[2 * i + 1]
        stack[2 * i] = stack[2 * j]
        stack[2 * i + 1] = stack[2 * j + 1]
        stack[2 * j] = a0
        stack[2 * j + 1] = b0
    x = meet
    while pb[x] != -1:
        k = pb[x]
        y = dn_dst[k]
        stack[2 * nch] = x
        stack[2 * nch + 1] = y
        nch += 1
        x = y
    # unpack each, left to right, with a stack kept at the end of ``stack``
    out = 0
    top0 = stack.shape[0]
    for c in range(nch):
        top = top0
        top -= 2
        stack[top] = stack[2 * c]
        stack[top + 1] = stack[2 * c + 1]
        while top < top0:
            a = stack[top]
            b = stack[top + 1]
            top += 2
            # the CH edge a -> b: upward when a ranks below b (larger position)
            if a > b:
                k = _find(up_indptr, up_indices, a, b)
                m = up_mid[k]
            else:
                k = _find(dn_indptr, dn_indices, b, a)
                m = dn_mid[k]
            if m < 0:
                u = node_of_pos[a]
                buf[out] = _find(indptr, indices, u, node_of_pos[b])
                out += 1
            else:  # push m -> b, then a -> m (popped first)
                top -= 2
                stack[top] = m
                stack[top + 1] = b
                top -= 2
                stack[top] = a
                stack[top + 1] = m
    return out


# -- many-to-many: CH buckets --------------------------------------------------------------

@nb.njit(cache=True, nogil=True)
def ch_many_to_many(up_indptr, up_indices, up_w, dn_indptr, dn_indices, dn_w, sources,
                    s_init, s_owner, n_rows, targets, t_init, t_owner, n_cols, cutoff, dist,
                    stamp, ver, heap_k, heap_v, touched):  # pragma: no cover
    """``(n_rows, n_cols)`` distances by CH buckets (Knopp et al. 2007).

    Each target entry (position ``targets[j]``, ``t_init[j]`` seconds still to go, column
    ``t_owner[j]``) runs an upward search along ``dn`` lists and leaves ``(column, distance)``
    in a bucket at every node it settles; each source entry then runs its upward search along
    ``up`` edges and scans the buckets of the nodes it settles; both searches stall on demand.
    Several entries may share a row or column (points on an edge start from both its ends);
    the minimum is kept.
    """
    n = up_indptr.shape[0] - 1
    out = np.full((n_rows, n_cols), _INF)
    # backward searches: count bucket entries per node, then fill (two passes, CSR buckets)
    nt = targets.shape[0]
    spaces_ptr = np.zeros(nt + 1, dtype=np.int64)
    cap = 1 << 16
    sp_node = np.empty(cap, dtype=np.int64)
    sp_dist = np.empty(cap)
    one = np.empty(1, dtype=np.int64)
    one_init = np.empty(1)
    total = 0
    for j in range(nt):
        one[0] = targets[j]
        one_init[0] = t_init[j]
        c = _upward(dn_indptr, dn_indices, dn_w, one, one_init, dist, stamp, ver + j, heap_k,
                    heap_v, touched, True, up_indptr, up_indices, up_w)
        if total + c > cap:
            while total + c > cap:
                cap *= 2
            nn = np.empty(cap, dtype=np.int64)
            nd = np.empty(cap)
            nn[:total] = sp_node[:total]
            nd[:total] = sp_dist[:total]
            sp_node = nn
            sp_dist = nd
        for i in range(c):
            v = touched[i]
            sp_node[total] = v
            sp_dist[total] = dist[v]
            total += 1
        spaces_ptr[j + 1] = total
    bptr = np.zeros(n + 1, dtype=np.int64)
    for i in range(total):
        bptr[sp_node[i] + 1] += 1
    for v in range(n):
        bptr[v + 1] += bptr[v]
    fill = bptr[:-1].copy()
    b_col = np.empty(total, dtype=np.int64)
    b_dist = np.empty(total)
    for j in range(nt):
        col = t_owner[j]
        for i in range(spaces_ptr[j], spaces_ptr[j + 1]):
            v = sp_node[i]
            d = sp_dist[i]
            if d <= cutoff:
                f = fill[v]
                b_col[f] = col
                b_dist[f] = d
                fill[v] = f + 1
    base = ver + nt
    for i in range(sources.shape[0]):
        one[0] = sources[i]
        one_init[0] = s_init[i]
        c = _upward(up_indptr, up_indices, up_w, one, one_init, dist, stamp, base + i, heap_k,
                    heap_v, touched, True, dn_indptr, dn_indices, dn_w)
        row = s_owner[i]
        for q in range(c):
            v = touched[q]
            dv = dist[v]
            if dv > cutoff:
                continue
            for f in range(bptr[v], fill[v]):
                d = dv + b_dist[f]
                col = b_col[f]
                if d < out[row, col]:
                    out[row, col] = d
    for r in range(n_rows):
        for c2 in range(n_cols):
            if out[r, c2] > cutoff:
                out[r, c2] = _INF
    return out


__all__ = ["ch_many_to_many", "ch_path", "ch_query", "contraction_order", "phast", "phast_ws",
           "rphast", "rphast_ws"]
