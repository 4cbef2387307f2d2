"""Center siting: p-center (minimise the worst travel time), exact by a binary search.

Over the sorted distinct travel times, each step asks "can p sites cover every populated unit
within r?": a greedy cover of at most p sites says yes and a packing bound above p says no
without a solver; the rest go to a budgeted set-cover feasibility MILP (HiGHS).
"""

from __future__ import annotations

import time

import numpy as np
import numpy.typing as npt

from navigator.decide._cover import greedy_cover
from navigator.decide._locate import (
    Allocation,
    check_budget,
    check_inputs,
    check_people,
    finish,
    nearest_open,
    solve_milp,
)
from navigator.errors import ValidationError

__all__ = ["p_center"]


def _packing_bound(cover: npt.NDArray[np.bool_]) -> int:
    """Return a lower bound on the sites covering every column: units no site covers twice.

    Greedy, fewest covering sites first: each unit picked shares no covering site with the
    units picked before it, so each needs a site of its own.
    """
    used = np.zeros(cover.shape[0], bool)
    count = 0
    for i in np.argsort(cover.sum(axis=0), kind="stable"):
        col = cover[:, i]
        if not (col & used).any():
            used |= col
            count += 1
    return count


def _cover_within(cd: npt.NDArray[np.float64], w: npt.NDArray[np.float64],
                  f: npt.NDArray[np.int64], p: int, radius: float, time_limit_s: float
                  ) -> tuple[bool | None, npt.NDArray[np.int64], float, str]:
    """Answer "can p new sites cover every unit within ``radius``?" as cheaply as possible.

    Returns the answer (None: time ran out), sites that do it, HiGHS seconds and status.
    A greedy cover of at most p sites answers yes and a packing bound above p answers no
    without a MILP; only the rest go to the set-covering MILP.
    """
    cover = cd <= radius
    need = ~cover[f].any(axis=0) if f.size else np.ones(cd.shape[1], bool)
    sub = cover[:, need]
    if not sub.any(axis=0).all():
        return False, f[:0], 0.0, "Optimal"
    greedy = greedy_cover(cover, w, f, None)
    if greedy.size <= p:
        return True, greedy, 0.0, "Optimal"
    free = np.ones(cd.shape[0], bool)
    free[f] = False
    if _packing_bound(sub[free]) > p:
        return False, f[:0], 0.0, "Optimal"
    # feasibility MILP: cover every unit left with at most p free sites (no objective, so
    # HiGHS stops at the first cover it finds)
    n_s = cd.shape[0]
    si, di = np.nonzero(sub & free[:, None])
    upper = free.astype(np.float64)
    sol = solve_milp(n_s, np.zeros(n_s), np.zeros(n_s), upper, np.ones(n_s, bool),
                     (np.r_[di, np.full(n_s, sub.shape[1])], np.r_[si, np.arange(n_s)],
                      np.ones(si.size + n_s)), np.r_[np.ones(sub.shape[1]), 0.0],
                     np.r_[np.full(sub.shape[1], np.inf), float(p)], model="p_center",
                     maximize=False, time_limit_s=time_limit_s, allow_infeasible=True)
    if sol.status == "Infeasible":
        return False, f[:0], sol.seconds, "Optimal"
    if sol.status != "Optimal":
        return None, f[:0], sol.seconds, sol.status
    return True, np.flatnonzero(sol.x > 0.5).astype(np.int64), sol.seconds, sol.status


def p_center(cost_s: npt.ArrayLike, people: npt.ArrayLike | None = None, *, p: int,
             forced: npt.ArrayLike = (), time_limit_s: float = 60.0) -> Allocation:
    """Choose p new sites minimising the worst time from a populated unit to its nearest site.

    Exact: a binary search over the sorted distinct times between the largest per-unit
    nearest-candidate time and the greedy solution's worst time, each step a set-covering
    feasibility check ("can p sites cover every populated unit within r?") answered by a
    greedy cover or a packing bound when they settle it, else by the set-covering MILP; a
    feasible cover's own worst time moves the upper end further down. Units no site reaches
    are left out (reported in ``uncoverable``); units with zero people do not count.

    Parameters
    ----------
    cost_s, people, forced, time_limit_s
        As in :func:`navigator.decide.pmedian.p_median`.
    p
        Number of new sites.

    Returns
    -------
    Allocation
        ``objective`` is the worst time, seconds; ``iterations`` the feasibility checks.
    """
    c, w, f = check_inputs(cost_s, people, forced)
    p = check_budget(p, c.shape[0] - f.size, "p")
    check_people(w, "p_center")
    if p + f.size == 0:
        msg = "p_center needs p >= 1 or at least one forced site"
        raise ValidationError(msg)
    reach = np.isfinite(c).any(axis=0)
    demand = np.flatnonzero(reach & (w > 0))
    uncoverable = np.flatnonzero(~reach)
    cd, wd = c[:, demand], w[demand]
    greedy = _greedy_center(cd, wd, f, p)
    g_value = _worst(cd, np.r_[f, greedy].astype(np.int64))
    radii = np.unique(cd[np.isfinite(cd)])
    lo_r = float(cd.min(axis=0).max()) if demand.size else 0.0
    radii = radii[(radii >= lo_r) & (radii < g_value)]
    lo, hi = 0, radii.size  # answer: radii[lo..hi-1] or g_value (index hi)
    best_sites, value = greedy, g_value
    deadline = time.perf_counter() + float(time_limit_s)
    seconds, rounds, status = 0.0, 0, "Optimal"
    while lo < hi and time.perf_counter() < deadline:
        mid = (lo + hi) // 2
        rounds += 1
        ok, sites, secs, st = _cover_within(cd, wd, f, p, float(radii[mid]),
                                            deadline - time.perf_counter())
        seconds += secs
        if ok:
            value = _worst(cd, np.r_[f, sites].astype(np.int64))
            best_sites, hi = sites, int(np.searchsorted(radii, value))
        elif ok is None:  # time ran out before the cover was proven too large
            status = st
            break
        else:
            lo = mid + 1
    done = lo >= hi
    bound = value if done else float(radii[lo])
    if not done and status == "Optimal":
        status = "Time limit reached"
    # fewer than p sites may already meet the radius: fill the budget, greedy's picks first
    taken = {*best_sites.tolist(), *f.tolist()}
    pad = [j for j in dict.fromkeys([*greedy.tolist(), *range(c.shape[0])]) if j not in taken]
    best_sites = np.unique(np.r_[best_sites, pad[:p - best_sites.size]]).astype(np.int64)
    return finish("p_center", sites=best_sites, value=value, greedy=greedy,
                  greedy_value=g_value, forced=f, bound=bound, status=status,
                  seconds=seconds, assigned_of=lambda rows: nearest_open(c, rows, np.inf),
                  uncoverable=uncoverable, iterations=rounds)


def _worst(cd: npt.NDArray[np.float64], rows: npt.NDArray[np.int64]) -> float:
    """Return the worst time to the nearest of ``rows`` (0 with no demand)."""
    return float(cd[rows].min(axis=0).max()) if cd.shape[1] and rows.size else \
        (0.0 if not cd.shape[1] else float("inf"))


def _greedy_center(cd: npt.NDArray[np.float64], wd: npt.NDArray[np.float64],
                   f: npt.NDArray[np.int64], p: int) -> npt.NDArray[np.int64]:
    """Add the site lowering the worst time most, p times (ties: the total people-time)."""
    best = cd[f].min(axis=0) if f.size else np.full(cd.shape[1], np.inf)
    free = np.ones(cd.shape[0], bool)
    free[f] = False
    chosen: list[int] = []
    for _ in range(p):
        with np.errstate(invalid="ignore"):
            reach_j = np.minimum(best[None, :], cd)
        score = np.lexsort(((reach_j * wd).sum(axis=1), reach_j.max(axis=1)))
        j = int(next(s for s in score if free[s]))
        chosen.append(j)
        free[j] = False
        best = np.minimum(best, cd[j])
    return np.sort(np.asarray(chosen, dtype=np.int64))
