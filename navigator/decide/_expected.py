"""Expected covering with a busy fraction per site: outer approximation, exact to 1e-6.

With site ``j`` busy a share ``q[j]`` of the time, a unit within the target of the open sites
``J`` is covered with probability ``1 - prod_{j in J} q[j] = 1 - exp(s)``, ``s = sum log q[j]``:
concave in ``s``, which is linear in the sites. Each unit's expected coverage ``e[i]`` is
capped by tangents of ``1 - exp(s)``; every tangent lies above the curve, so the MILP's bound
is a true upper bound, and its solution's true value a lower one. Tangents at the solution's
own ``s`` are added and the MILP solved again (from the best solution) until the two meet
within a relative 1e-6 (the "optimal" of every model; HiGHS's own tolerances are 1e-7).
"""

from __future__ import annotations

import time

import numpy as np
import numpy.typing as npt

from navigator.decide._locate import Allocation, finish, nearest_open, relative_gap, solve_milp

#: log of the smallest busy fraction the model carries (q = 0, "never busy", is 1e-12)
_LOG_FLOOR = float(np.log(1e-12))
_ROUNDS = 30


def expected_value(cover: npt.NDArray[np.bool_], w: npt.NDArray[np.float64],
                   q: npt.NDArray[np.float64], open_rows: npt.NDArray[np.int64]) -> float:
    """Return the expected people covered by ``open_rows``, each busy its own ``q``."""
    if open_rows.size == 0:
        return 0.0
    all_busy = np.where(cover[open_rows], q[open_rows, None], 1.0).prod(axis=0)
    return float((w * (1.0 - all_busy)).sum())


def greedy_expected(cover: npt.NDArray[np.bool_], w: npt.NDArray[np.float64],
                    q: npt.NDArray[np.float64], forced: npt.NDArray[np.int64], k: int
                    ) -> npt.NDArray[np.int64]:
    """Add the site with the largest expected gain k times."""
    all_busy = np.where(cover[forced], q[forced, None], 1.0).prod(axis=0) if forced.size \
        else np.ones(cover.shape[1])
    free = np.ones(cover.shape[0], bool)
    free[forced] = False
    chosen: list[int] = []
    for _ in range(k):
        gain = (1.0 - q) * (cover @ (w * all_busy))
        gain[~free] = -1.0
        j = int(np.argmax(gain))
        chosen.append(j)
        free[j] = False
        all_busy = all_busy * np.where(cover[j], q[j], 1.0)
    return np.sort(np.asarray(chosen, dtype=np.int64))


def expected_by_site(c: npt.NDArray[np.float64], w: npt.NDArray[np.float64],
                     f: npt.NDArray[np.int64], *, k: int, target: float,
                     q: npt.NDArray[np.float64], time_limit_s: float) -> Allocation:
    """Solve MEXCLP with busy fraction ``q[j]`` per site row (checked by the caller)."""
    t_end = time.perf_counter() + float(time_limit_s)
    cover = c <= target
    n_s = c.shape[0]
    g = np.maximum(np.log(np.maximum(q, 1e-300)), _LOG_FLOOR)
    free = np.ones(n_s, bool)
    free[f] = False
    base = (cover[f] * g[f, None]).sum(axis=0) if f.size else np.zeros(c.shape[1])
    live = np.flatnonzero((w > 0) & cover[free].any(axis=0) & (base > _LOG_FLOOR))
    fixed = np.setdiff1d(np.arange(c.shape[1]), live)
    const = float((w[fixed] * (1.0 - np.exp(base[fixed]))).sum())
    si, ui = np.nonzero(cover[:, live] & free[:, None])
    n_e = live.size

    def s_of(x_open: npt.NDArray[np.bool_]) -> npt.NDArray[np.float64]:
        on = x_open[si]
        return base[live] + np.bincount(ui[on], weights=g[si[on]], minlength=n_e)

    greedy = greedy_expected(cover, w, q, f, k)
    g_value = expected_value(cover, w, q, np.r_[f, greedy].astype(np.int64))
    best = np.zeros(n_s, bool)
    best[f] = True
    best[greedy] = True
    best_value, bound = g_value, np.inf
    gbar = float(np.median(g[free])) if free.any() else _LOG_FLOOR
    tangents = [(np.arange(n_e), base[live] + n * gbar) for n in range(4)]
    tangents.append((np.arange(n_e), s_of(best)))
    lower = np.zeros(n_s + n_e)
    lower[f] = 1.0
    upper = np.ones(n_s + n_e)
    status, seconds, rounds = "Optimal", 0.0, 0
    while rounds < _ROUNDS:
        rounds += 1
        unit = np.concatenate([u for u, _ in tangents])
        t = np.concatenate([v for _, v in tangents])
        slope = np.exp(t)
        n_row = unit.size
        # row r (unit u, tangent t): e_u + e^t * sum_j g_j x_j <= 1 - e^t + e^t (t - base_u)
        pos = np.r_[0, np.cumsum(np.bincount(ui, minlength=n_e))]
        order = np.argsort(ui, kind="stable")
        per = np.diff(pos)[unit]
        rr = np.repeat(np.arange(n_row), per)
        take = order[np.concatenate([np.arange(pos[u], pos[u + 1]) for u in unit])] \
            if n_row else np.zeros(0, dtype=np.int64)
        r = np.concatenate([np.arange(n_row), rr, np.full(n_s, n_row)])
        col = np.concatenate([n_s + unit, si[take], np.arange(n_s)])
        val = np.concatenate([np.ones(n_row), slope[rr] * g[si[take]], np.ones(n_s)])
        hi = 1.0 - slope + slope * (t - base[live][unit])
        total = float(k + f.size)
        x0 = np.r_[best.astype(float), 1.0 - np.exp(s_of(best))]
        sol = solve_milp(n_s + n_e, np.r_[np.zeros(n_s), w[live]], lower, upper,
                         np.arange(n_s + n_e) < n_s, (r, col, val),
                         np.r_[np.full(n_row, -np.inf), total], np.r_[hi, total],
                         model="mexclp", maximize=True,
                         time_limit_s=max(t_end - time.perf_counter(), 1e-3), start=x0,
                         offset=const)
        seconds += sol.seconds
        bound = min(bound, sol.bound)
        x_open = sol.x[:n_s] > 0.5
        value = expected_value(cover, w, q, np.flatnonzero(x_open))
        if value > best_value:
            best, best_value = x_open, value
        if relative_gap(best_value, bound) <= 1e-6:
            break
        if sol.status != "Optimal" or time.perf_counter() >= t_end:
            status = sol.status if sol.status != "Optimal" else "Time limit reached"
            break
        s_new = s_of(x_open)
        loose = sol.x[n_s:] > 1.0 - np.exp(s_new) + 1e-7
        if not loose.any():  # the MILP's solution is priced exactly: it is optimal
            bound = min(bound, value)
            break
        tangents.append((np.flatnonzero(loose), s_new[loose]))
    else:
        status = "Iteration limit reached"
    sites = np.setdiff1d(np.flatnonzero(best), f)
    return finish("mexclp", sites=sites, value=best_value, greedy=greedy, greedy_value=g_value,
                  forced=f, bound=bound, status=status, seconds=seconds,
                  assigned_of=lambda rows: nearest_open(c, rows, target),
                  uncoverable=np.flatnonzero(~cover.any(axis=0)), iterations=rounds)
