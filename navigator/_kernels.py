"""Compiled (numba) kernels: graph simplification and Dijkstra searches on CSR arrays.

Every kernel is compiled with ``cache=True`` so only the first run on a machine pays the JIT
cost; :func:`warm_up` compiles them all on a tiny graph.
"""

from __future__ import annotations

import numba as nb
import numpy as np

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
        for k in range(indptr[x], indptr[x + 1]):
            y = indices[k]
            if y == x:
                loop = True
            elif y != a and y != b:
                if a == -1:
                    a = y
                else:
                    b = y
                nb_count += 1
        for k in range(rindptr[x], rindptr[x + 1]):
            y = rindices[k]
            if y == x:
                loop = True
            elif y != a and y != b:
                if a == -1:
                    a = y
                else:
                    b = y
                nb_count += 1
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
            if pos[s] == -1:
                heap[size] = s
                pos[s] = size
                size += 1
            _sift_up(heap, pos, key, pos[s])
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
                if py == -1:
                    heap[size] = y
                    pos[y] = size
                    size += 1
                    _sift_up(heap, pos, key, size - 1)
                else:
                    _sift_up(heap, pos, key, py)
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




# -- contraction hierarchy (CH) and PHAST sweeps ---------------------------------------------
# The CH adds shortcut edges so that every shortest distance is realised by a path going up
# in contraction rank and then down. PHAST (Delling et al. 2011) answers one-to-all (or
# many-to-all) by a tiny upward Dijkstra and one linear sweep over nodes by decreasing rank.

_WITNESS_SETTLE_LIMIT = 64


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
    size = 0
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
        if size > 0:  # sift the last entry down from the root
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
                        i = size
                        size += 1
                        while i > 0:
                            p = (i - 1) >> 1
                            if heap_k[p] <= nd:
                                break
                            heap_k[i] = heap_k[p]
                            heap_v[i] = heap_v[p]
                            i = p
                        heap_k[i] = nd
                        heap_v[i] = y
            e = out_next[e]
    return n_t


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
                                for i in range(n_t):
                                    dist[touched[i]] = _INF
                                return -1
                    e = out_next[e]
                for i in range(n_t):
                    dist[touched[i]] = _INF
        e_in = in_next[e_in]
    return added


@nb.njit(cache=True)
def _degree(v, e_src, e_dst, out_head, out_next, in_head, in_next,  # pragma: no cover
            contracted):
    d = 0
    e = out_head[v]
    while e != -1:
        if not contracted[e_dst[e]]:
            d += 1
        e = out_next[e]
    e = in_head[v]
    while e != -1:
        if not contracted[e_src[e]]:
            d += 1
        e = in_next[e]
    return d


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
        # pop
        size -= 1
        lk = pq_k[size]
        lv = pq_v[size]
        i = 0
        while True:
            c = 2 * i + 1
            if c >= size:
                break
            if c + 1 < size and pq_k[c + 1] < pq_k[c]:
                c += 1
            if pq_k[c] >= lk:
                break
            pq_k[i] = pq_k[c]
            pq_v[i] = pq_v[c]
            i = c
        if size > 0:
            pq_k[i] = lk
            pq_v[i] = lv
        s = _contract(v, True, e_src, e_dst, e_w, out_head, out_next, in_head, in_next, count,
                      contracted, dist, touched, heap_k, heap_v)
        prio = 2 * (s - _degree(v, e_src, e_dst, out_head, out_next, in_head, in_next,
                                contracted)) + deleted[v] + level[v]
        if size > 0 and prio > pq_k[0]:
            # push back with the fresh priority
            i = size
            size += 1
            while i > 0:
                p = (i - 1) >> 1
                if pq_k[p] <= prio:
                    break
                pq_k[i] = pq_k[p]
                pq_v[i] = pq_v[p]
                i = p
            pq_k[i] = prio
            pq_v[i] = v
            continue
        if _contract(v, False, e_src, e_dst, e_w, out_head, out_next, in_head, in_next, count,
                     contracted, dist, touched, heap_k, heap_v) < 0:
            return np.empty(0, dtype=np.int64), e_src[:0], e_dst[:0], e_w[:0]
        contracted[v] = True
        rank[v] = next_rank
        next_rank += 1
        e = out_head[v]
        while e != -1:
            deleted[e_dst[e]] += 1
            level[e_dst[e]] = max(level[e_dst[e]], level[v] + 1)
            e = out_next[e]
        e = in_head[v]
        while e != -1:
            deleted[e_src[e]] += 1
            level[e_src[e]] = max(level[e_src[e]], level[v] + 1)
            e = in_next[e]
    k = count[0]
    return rank, e_src[:k].copy(), e_dst[:k].copy(), e_w[:k].copy()


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
            j = size
            size += 1
            while j > 0:
                p = (j - 1) >> 1
                if heap_k[p] <= init[i]:
                    break
                heap_k[j] = heap_k[p]
                heap_v[j] = heap_v[p]
                j = p
            heap_k[j] = init[i]
            heap_v[j] = s
    while size > 0:
        d = heap_k[0]
        x = heap_v[0]
        size -= 1
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
        if d > dist[x]:
            continue
        for k in range(up_indptr[x], up_indptr[x + 1]):
            y = up_indices[k]
            nd = d + up_w[k]
            if nd < dist[y]:
                dist[y] = nd
                origin[y] = origin[x]
                j = size
                size += 1
                while j > 0:
                    p = (j - 1) >> 1
                    if heap_k[p] <= nd:
                        break
                    heap_k[j] = heap_k[p]
                    heap_v[j] = heap_v[p]
                    j = p
                heap_k[j] = nd
                heap_v[j] = y
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
            dv = dist[v]
            for k in range(dn_indptr[v], dn_indptr[v + 1]):
                dv = min(dv, dist[dn_indices[k]] + dn_w[k])
            dist[v] = dv
    out = np.empty(targets.shape[0])
    for i in range(targets.shape[0]):
        out[i] = dist[targets[i]]
    return out


__all__ = ["contraction_order", "dijkstra", "phast", "phast_many", "rphast", "simplify_chains",
           "warm_up"]
