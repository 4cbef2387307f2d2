"""Covering models by levels: MCLP, backup and expected coverage share one MILP and one greedy.

A unit covered by ``n`` open sites earns ``people * (coef[0] + ... + coef[n - 1])``: MCLP is
``coef = [1]``, backup coverage ``[single_weight, 1]``, Daskin's MEXCLP
``(1 - q) q**(l - 1)``. With ``coef`` non-increasing (MCLP, MEXCLP) the LP fills the cheap
levels first; backup's increasing ``coef`` needs binary level variables with
``y[i, l] <= y[i, l - 1]`` (else two half levels would share one covering site).

Every level model's objective only grows with the number of open sites covering each unit, so
a free site ``j`` whose covered units are a subset of free site ``l``'s is *dominated*: some
optimal solution opens ``l`` whenever it opens ``j`` (swap ``j`` for ``l`` until none is left;
ties between equal sites broken by row). The MILP gets ``x[j] <= x[l]`` for each such pair and
closes every site with ``k`` or more dominators outright (opening it would open them all).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from navigator.decide._locate import (
    Allocation,
    Model,
    check_inputs,
    check_reachable,
    check_target,
    finish,
    nearest_open,
    solve_milp,
)


def greedy_cover(cover: npt.NDArray[np.bool_], w: npt.NDArray[np.float64],
                 forced: npt.NDArray[np.int64], k: int | None) -> npt.NDArray[np.int64]:
    """Add the site covering most uncovered people until k sites (or all coverable) are open."""
    done = cover[forced].any(axis=0) if forced.size else np.zeros(cover.shape[1], bool)
    chosen: list[int] = []
    free = np.ones(cover.shape[0], bool)
    free[forced] = False
    coverable = cover.any(axis=0)
    while (k is None or len(chosen) < k) and free.any():
        gain = (cover[:, ~done] * w[~done]).sum(axis=1) if k is not None else \
            cover[:, ~done & coverable].sum(axis=1).astype(float)
        gain[~free] = -1.0
        j = int(np.argmax(gain))
        if gain[j] <= 0:
            if k is None:
                break
            j = int(np.flatnonzero(free)[0])  # nothing left to gain: fill the budget
        chosen.append(j)
        free[j] = False
        done |= cover[j]
        if k is None and not (coverable & ~done).any():
            break
    return np.sort(np.asarray(chosen, dtype=np.int64))


def level_value(cover: npt.NDArray[np.bool_], w: npt.NDArray[np.float64],
                coef: npt.NDArray[np.float64], open_rows: npt.NDArray[np.int64]) -> float:
    """Return the objective of ``open_rows``: people times the coefficients of their levels."""
    n = cover[open_rows].sum(axis=0) if open_rows.size else np.zeros(cover.shape[1], int)
    cum = np.r_[0.0, np.cumsum(coef)]
    per_unit = cum[np.minimum(n, coef.shape[-1])] if coef.ndim == 1 else \
        np.take_along_axis(np.c_[np.zeros(coef.shape[0]), np.cumsum(coef, axis=1)],
                           np.minimum(n, coef.shape[1])[:, None], axis=1)[:, 0]
    return float((w * per_unit).sum())


def greedy_levels(cover: npt.NDArray[np.bool_], w: npt.NDArray[np.float64],
                  coef: npt.NDArray[np.float64], forced: npt.NDArray[np.int64], k: int
                  ) -> npt.NDArray[np.int64]:
    """Add the site with the largest gain k times (ties: the one covering most new people)."""
    coefs = np.atleast_2d(coef) if coef.ndim == 2 else np.broadcast_to(coef, (w.size, coef.size))
    n = cover[forced].sum(axis=0) if forced.size else np.zeros(cover.shape[1], int)
    free = np.ones(cover.shape[0], bool)
    free[forced] = False
    chosen: list[int] = []
    rows = np.arange(w.size)
    for _ in range(k):
        nxt = np.where(n < coefs.shape[1], coefs[rows, np.minimum(n, coefs.shape[1] - 1)], 0.0)
        gain = cover @ (w * nxt)
        tie = cover @ (w * (n == 0))
        order = np.lexsort((tie, gain))[::-1]
        j = int(next(s for s in order if free[s]))
        chosen.append(j)
        free[j] = False
        n = n + cover[j]
    return np.sort(np.asarray(chosen, dtype=np.int64))


def dominance(cover: npt.NDArray[np.bool_], free: npt.NDArray[np.bool_], k: int
              ) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Return the free sites to close and every dominance pair ``(j, l)``: ``x[j] <= x[l]``.

    ``cover`` holds only the units whose coverage can change the objective. Sites with ``k``
    or more dominators are closed (the MILP needs only the pairs among the others).
    """
    b = cover.astype(np.float32)
    outside = b @ (1.0 - b).T  # [j, l]: units j covers and l does not
    sub = outside == 0
    dom = sub & (~sub.T | (np.arange(b.shape[0])[None, :] < np.arange(b.shape[0])[:, None]))
    dom &= free[:, None] & free[None, :]
    np.fill_diagonal(dom, False)
    closed = dom.sum(axis=1) >= max(k, 1)
    j, l_ = np.nonzero(dom)
    return closed, j.astype(np.int64), l_.astype(np.int64)


def undominated(sites: npt.NDArray[np.int64], j: npt.NDArray[np.int64],
                l_: npt.NDArray[np.int64], n_sites: int) -> npt.NDArray[np.int64]:
    """Return ``sites`` with each dominated open site swapped for a closed dominator."""
    is_open = np.zeros(n_sites, bool)
    is_open[sites] = True
    above = np.bincount(j, minlength=n_sites)  # dominators per site: fewer is higher up
    while True:
        bad = is_open[j] & ~is_open[l_]
        if not bad.any():
            return np.flatnonzero(is_open).astype(np.int64)
        at = np.flatnonzero(bad)
        pick = at[np.argmin(above[l_[at]])]
        is_open[j[pick]], is_open[l_[pick]] = False, True


def _after_first(paid: npt.NDArray[np.bool_], starts: npt.NDArray[np.bool_]
                 ) -> npt.NDArray[np.bool_]:
    """Return per level (unit-major runs) whether its unit has a paid level at or before it."""
    if not paid.size:
        return np.zeros(0, bool)
    group = np.cumsum(starts) - 1
    csum = np.cumsum(paid)
    before = np.r_[0, csum][np.flatnonzero(starts)]  # paid levels before each run
    return np.asarray(csum - before[group] > 0)


def level_coverage(model: Model, c: npt.NDArray[np.float64], w: npt.NDArray[np.float64],
                   f: npt.NDArray[np.int64], *, k: int, target: float,
                   coef: npt.NDArray[np.float64], time_limit_s: float) -> Allocation:
    """Solve a covering-by-levels model exactly (warm-started from greedy) and return it.

    ``coef`` is ``(levels,)`` or ``(n_demand, levels)`` (per-unit coefficients).
    """
    cover = c <= target
    coefs = np.broadcast_to(coef, (w.size, coef.shape[-1]))
    n_f = cover[f].sum(axis=0) if f.size else np.zeros(c.shape[1], int)
    n_max = np.minimum(cover.sum(axis=0), coefs.shape[1])
    # level variables only where a unit can still gain: levels n_f+1 .. n_max, people > 0
    span = np.where(w > 0, np.maximum(n_max - n_f, 0), 0)
    unit = np.repeat(np.arange(w.size), span)
    first = np.r_[0, np.cumsum(span)][:-1]
    lev = n_f[unit] + np.arange(span.sum()) - first[unit]  # 0-based level
    # a unit's leading levels worth nothing (backup's first cover at single_weight 0) need no
    # variable: the first level worth something carries their count in the covering row
    paid = coefs[unit, lev] > 0
    lead = _after_first(paid, first[unit] == np.arange(unit.size))
    mult = np.ones(unit.size)
    unit, lev, mult = unit[lead], lev[lead], mult[lead]
    span = np.bincount(unit, minlength=w.size)
    first = np.r_[0, np.cumsum(span)][:-1]
    mult[first[span > 0]] = lev[first[span > 0]] - n_f[unit[first[span > 0]]] + 1
    n_s, n_y = c.shape[0], int(span.sum())
    live = np.flatnonzero(span > 0)
    row_of = np.full(w.size, -1)
    row_of[live] = np.arange(live.size)
    si, ui = np.nonzero(cover[:, live])
    free_pair = ~np.isin(si, f)  # forced sites' coverage is already in n_f
    si, ui = si[free_pair], ui[free_pair]
    ycol = n_s + np.arange(n_y)
    # rows: sum_l y_il - sum_{free j covers i} x_j <= 0 ; y_il - y_i,l-1 <= 0 ; budget
    # only levels a solution can still fill matter (forced sites fill the first n_f)
    rising = np.diff(coefs, axis=1) > 0
    increasing = bool((rising & (np.arange(rising.shape[1])[None, :] >= n_f[:, None])).any())
    chain = np.flatnonzero(np.arange(n_y) - first[unit] > 0) if increasing else \
        np.zeros(0, dtype=np.int64)
    n_cov = live.size
    r = np.concatenate([row_of[unit], ui, n_cov + np.arange(chain.size),
                        n_cov + np.arange(chain.size), np.full(n_s, n_cov + chain.size)])
    col = np.concatenate([ycol, si, ycol[chain], ycol[chain - 1], np.arange(n_s)])
    val = np.concatenate([mult, -np.ones(si.size), np.ones(chain.size),
                          -np.ones(chain.size), np.ones(n_s)])
    total = float(k + f.size)
    n_row = n_cov + chain.size
    lower = np.zeros(n_s + n_y)
    lower[f] = 1.0
    upper = np.ones(n_s + n_y)
    free = np.ones(n_s, bool)
    free[f] = False
    closed, aj, al = dominance(cover[:, live], free, k)
    upper[:n_s][closed] = 0.0
    kept = ~closed[aj] & ~closed[al]
    dj, dl = aj[kept], al[kept]
    n_dom = dj.size
    r = np.concatenate([r[:-n_s], n_row + np.repeat(np.arange(n_dom), 2), r[-n_s:] + n_dom])
    col = np.concatenate([col[:-n_s], np.c_[dj, dl].ravel(), col[-n_s:]])
    val = np.concatenate([val[:-n_s], np.tile([1.0, -1.0], n_dom), val[-n_s:]])
    n_row += n_dom
    greedy = greedy_levels(cover, w, coef, f, k)
    g_open = np.r_[f, undominated(greedy, aj, al, n_s)].astype(np.int64)
    x0 = np.zeros(n_s + n_y)
    x0[g_open] = 1.0
    x0[n_s:] = (lev < cover[g_open].sum(axis=0)[unit]).astype(float)
    const = level_value(cover, w, coef, f)
    sol = solve_milp(n_s + n_y, np.r_[np.zeros(n_s), w[unit] * coefs[unit, lev]], lower,
                     upper, (np.arange(n_s + n_y) < n_s) | increasing, (r, col, val),
                     np.r_[np.full(n_row, -np.inf), total], np.r_[np.zeros(n_row), total],
                     model=model, maximize=True, time_limit_s=time_limit_s, start=x0,
                     offset=const)
    opened = np.flatnonzero(sol.x[:n_s] > 0.5)
    return finish(model, sites=np.setdiff1d(opened, f), value=level_value(cover, w, coef, opened),
                  greedy=greedy, greedy_value=level_value(cover, w, coef, np.r_[f, greedy]),
                  forced=f,
                  bound=sol.bound, status=sol.status, seconds=sol.seconds,
                  assigned_of=lambda rows: nearest_open(c, rows, target),
                  uncoverable=np.flatnonzero(~cover.any(axis=0)))


def min_sites(cost_s: npt.ArrayLike, people: npt.ArrayLike | None = None, *, target_s: float,
              forced: npt.ArrayLike = (), time_limit_s: float = 60.0) -> Allocation:
    """Choose the fewest new sites so every coverable unit is within ``target_s`` (LSCP).

    Units no site can reach within the target are reported in ``uncoverable`` and left out;
    units with zero people are still covered (everyone coverable means every place).
    Parameters are those of :func:`navigator.decide.allocation.max_coverage`; ``objective``
    is the number of new sites.
    """
    c, w, f = check_inputs(cost_s, people, forced)
    target = check_target(target_s)
    cover = c <= target
    check_reachable(cover, np.ones(c.shape[1]), target, "lscp")
    coverable = cover.any(axis=0)
    pre = cover[f].any(axis=0) if f.size else np.zeros(c.shape[1], bool)
    demand = np.flatnonzero(coverable & ~pre)
    n_s = c.shape[0]
    si, di = np.nonzero(cover[:, demand])
    lower = np.zeros(n_s)
    lower[f] = 1.0
    cost = np.ones(n_s)
    cost[f] = 0.0
    greedy = greedy_cover(cover, w, f, None)
    x0 = np.zeros(n_s)
    x0[np.r_[f, greedy].astype(np.int64)] = 1.0
    sol = solve_milp(n_s, cost, lower, np.ones(n_s), np.ones(n_s, bool),
                     (di, si, np.ones(si.size)), np.ones(demand.size),
                     np.full(demand.size, np.inf), model="lscp", maximize=False,
                     time_limit_s=time_limit_s, start=x0)
    sites = np.setdiff1d(np.flatnonzero(sol.x > 0.5), f)
    return finish("lscp", sites=sites, value=float(sites.size), greedy=greedy,
                  greedy_value=float(greedy.size), forced=f, bound=float(np.ceil(sol.bound - 1e-6)),
                  status=sol.status, seconds=sol.seconds,
                  assigned_of=lambda rows: nearest_open(c, rows, target),
                  uncoverable=np.flatnonzero(~coverable))
