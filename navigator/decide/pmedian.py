"""Median and center siting: p-median (Lagrangian bound + radius MILP) and p-center, exact.

p-median, in three steps, each proven: (1) Beasley's Lagrangian relaxation of the assignment
constraints (:mod:`navigator.decide._lagrange`) gives a lower bound within ~0.1 % and, with
swap moves, the incumbent; (2) reduced-cost tests fix sites open or closed and cap each unit's
time in any *better* solution (``lam[i] + upper - lower``), then Lagrangian probing tries
each site left the other way from the incumbent with re-optimised multipliers and fixes it
when the bound reaches the incumbent (often every site: then nothing is left to solve);
(3) what is left is solved in
Elloumi's radius formulation (2010, after Cornuejols, Nemhauser and Wolsey 1980): per unit,
its distinct times to the remaining sites, sorted, are levels, and ``z[i, k] = 1`` says "no
open site within level k", charged the step to the next level. No assignment variable exists.
The MILP proves the incumbent optimal or finds a better solution; its bound, with the
Lagrangian's, is the proven bound reported.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from navigator.decide._cover import greedy_cover
from navigator.decide._lagrange import Bound, lagrangian, probe_fix
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

__all__ = ["p_center", "p_median"]


def _levels(cap: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.int64],
                                                    npt.NDArray[np.float64],
                                                    npt.NDArray[np.int64]]:
    """Return each pair's level, the levels' seconds (flat) and per-unit level offsets.

    ``cap`` is ``(sites, units)``; ``inf`` pairs get level ``K[i]`` (beyond the last).
    """
    order = np.argsort(cap, axis=0, kind="stable")
    srt = np.take_along_axis(cap, order, axis=0)
    new = np.ones(srt.shape, dtype=bool)
    new[1:] = srt[1:] != srt[:-1]
    new &= np.isfinite(srt)
    rank = np.cumsum(new, axis=0) - 1
    rank = np.where(np.isfinite(srt), rank, rank[-1] + 1)
    level = np.empty_like(rank)
    np.put_along_axis(level, order, rank, axis=0)
    n_levels = new.sum(axis=0)
    start = np.r_[0, np.cumsum(n_levels)].astype(np.int64)
    values = srt.T[new.T]  # unit-major, ascending within a unit
    return level.astype(np.int64), values, start


def _radius_model(level: npt.NDArray[np.int64], values: npt.NDArray[np.float64],
                  start: npt.NDArray[np.int64], w: npt.NDArray[np.float64],
                  keep: npt.NDArray[np.int64]
                  ) -> tuple[int, npt.NDArray[np.float64], tuple[npt.NDArray[np.int64], ...],
                             npt.NDArray[np.float64], float, npt.NDArray[np.int64]]:
    """Build the truncated radius model: columns ``y`` (sites) then ``z`` (unit levels).

    Returns the z column count, z costs, COO rows (without the budget row), row lower
    bounds, the constant term and each unit's first z column.
    """
    n_s = level.shape[0]
    k_all = np.diff(start)
    rows_i = np.minimum(keep, k_all)  # level rows per unit
    z_i = np.maximum(np.minimum(keep, k_all - 1), 0)  # z columns per unit
    row0 = np.r_[0, np.cumsum(rows_i)][:-1]
    z0 = np.r_[0, np.cumsum(z_i)][:-1]
    si, ui = np.nonzero(level < rows_i[None, :])
    unit_of_z = np.repeat(np.arange(w.size), z_i)
    k_of_z = np.arange(z_i.sum()) - np.repeat(z0, z_i)
    nxt = k_of_z + 1 < rows_i[unit_of_z]
    zcol = n_s + np.arange(z_i.sum())
    r = np.concatenate([row0[ui] + level[si, ui], row0[unit_of_z] + k_of_z,
                        row0[unit_of_z][nxt] + k_of_z[nxt] + 1])
    col = np.concatenate([si, zcol, zcol[nxt]])
    val = np.concatenate([np.ones(si.size), np.ones(zcol.size), -np.ones(int(nxt.sum()))])
    step = values[start[unit_of_z] + k_of_z + 1] - values[start[unit_of_z] + k_of_z]
    row_lo = np.zeros(int(rows_i.sum()))
    row_lo[row0[rows_i > 0]] = 1.0
    constant = float((w * values[start[:-1]]).sum())
    return int(z_i.sum()), w[unit_of_z] * step, (r, col, val), row_lo, constant, z0


def _greedy_median(cap: npt.NDArray[np.float64], w: npt.NDArray[np.float64],
                   forced: npt.NDArray[np.int64], p: int) -> npt.NDArray[np.int64]:
    """Add the site lowering the people-weighted time most, p times."""
    best = cap[forced].min(axis=0) if forced.size else np.full(cap.shape[1], np.inf)
    free = np.ones(cap.shape[0], bool)
    free[forced] = False
    chosen = []
    for _ in range(p):
        with np.errstate(invalid="ignore"):
            value = (w * np.minimum(best[None, :], cap)).sum(axis=1)
        value = np.where(np.isnan(value), np.inf, value)
        value[~free] = np.inf
        j = int(np.argmin(value)) if np.isfinite(value).any() else int(np.flatnonzero(free)[0])
        chosen.append(j)
        free[j] = False
        best = np.minimum(best, cap[j])
    return np.sort(np.asarray(chosen, dtype=np.int64))


def _median_value(cap: npt.NDArray[np.float64], w: npt.NDArray[np.float64],
                  open_rows: npt.NDArray[np.int64]) -> float:
    best = cap[open_rows].min(axis=0) if open_rows.size else np.full(cap.shape[1], np.inf)
    return float((w * best).sum()) if np.isfinite(best[w > 0]).all() else float("inf")


def p_median(cost_s: npt.ArrayLike, people: npt.ArrayLike | None = None, *, p: int,
             cutoff_s: float = np.inf, forced: npt.ArrayLike = (), time_limit_s: float = 60.0
             ) -> Allocation:
    """Choose p new sites minimising the people-weighted time to the nearest open site.

    Times are capped at ``cutoff_s``: a unit with no open site within the cutoff is charged
    ``cutoff_s`` (an unserved penalty). With ``cutoff_s=inf`` it is the classic p-median (units
    no site reaches are left out). Solved exactly (module docstring) from the greedy
    solution; the better of the two is returned.

    Parameters
    ----------
    cost_s
        Seconds, ``(n_sites, n_demand)``; ``inf`` = unreachable.
    people
        People per demand unit (default 1 each).
    p
        Number of new sites.
    cutoff_s
        Cap on the time charged per unit, seconds (``inf``: no cap).
    forced
        Row indices of sites open regardless (existing facilities).
    time_limit_s
        Time limit, seconds, for all HiGHS solves together; when reached, the best solution
        found is returned with ``optimal=False`` and its proven ``mip_gap``.

    Returns
    -------
    Allocation
        ``objective`` in people-weighted seconds.
    """
    c, w, f = check_inputs(cost_s, people, forced)
    p = check_budget(p, c.shape[0] - f.size, "p")
    check_people(w, "p_median")
    cutoff = float(cutoff_s)
    if np.isnan(cutoff) or cutoff <= 0:
        msg = f"cutoff_s must be positive seconds (inf allowed), got {cutoff_s!r}"
        raise ValidationError(msg)
    if p + f.size == 0:
        msg = "p_median needs p >= 1 or at least one forced site"
        raise ValidationError(msg)
    finite = np.isfinite(cutoff)
    reach = np.isfinite(c).any(axis=0) | finite
    cap = np.minimum(c, cutoff)
    if f.size:  # exact reduction: a unit's time never exceeds its nearest forced site's
        cap = np.minimum(cap, cap[f].min(axis=0)[None, :])
    demand = np.flatnonzero(reach & (w > 0))
    uncoverable = np.flatnonzero(~(np.isfinite(c) & (c <= cutoff)).any(axis=0))

    def assigned(rows: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        return nearest_open(c, rows, cutoff)

    greedy = _greedy_median(cap[:, demand], w[demand], f, p)
    g_value = _median_value(cap[:, demand], w[demand], np.r_[f, greedy].astype(np.int64))
    if demand.size == 0:
        return finish("p_median", sites=greedy, value=0.0, greedy=greedy, greedy_value=0.0,
                      forced=f, bound=0.0, status="Optimal", seconds=0.0,
                      assigned_of=assigned, uncoverable=uncoverable, iterations=0)
    t0 = time.perf_counter()
    cd, wd = cap[:, demand], w[demand]
    lag = lagrangian(wd[None, :] * cd, f, p, greedy)
    best_sites, best_value = lag.sites, lag.upper
    bound, status, seconds = lag.lower, "Optimal", 0.0
    opened = np.union1d(f, lag.fix_open).astype(np.int64)
    rest = np.setdiff1d(np.setdiff1d(np.arange(c.shape[0]), opened), lag.fix_closed)
    budget = p - lag.fix_open.size
    if budget > 0 and rest.size > budget and lag.lower < lag.upper * (1 - 1e-9):
        # an improving solution never pays unit i more than lam[i] + (upper - lower): a pair
        # costing more lifts the Lagrangian bound past the incumbent
        limit = (lag.lam + (lag.upper - lag.lower) * (1 + 1e-9)) / wd
        near = np.where(cd <= limit[None, :], cd, np.inf)
        # probing gets at most half the time left; the MILP closes whatever it leaves
        opened, rest, budget = _probe(near, wd, opened, rest, budget, lag,
                                      (time_limit_s - (time.perf_counter() - t0)) / 2)
        if budget == 0 or rest.size <= budget:  # the fixings leave one solution (or none)
            sites = np.r_[opened, rest if budget else rest[:0]].astype(np.int64)
            value = _median_value(cd, wd, sites) if sites.size == p + f.size else np.inf
            if value < best_value:
                best_sites, best_value = np.setdiff1d(sites, f), value
            bound = best_value
        else:
            sol = _radius_milp(near, wd, opened, rest, budget, best_sites,
                               time_limit_s - (time.perf_counter() - t0))
            seconds, status = sol.seconds, sol.status
            value = _median_value(cd, wd, sol.sites)
            if value < best_value:
                best_sites, best_value = np.setdiff1d(sol.sites, f), value
            # better solutions keep the fixings, so the reduced model's bound holds for them
            bound = max(bound, min(best_value, sol.bound))
    else:
        bound = best_value
    return finish("p_median", sites=best_sites, value=best_value, greedy=greedy,
                  greedy_value=g_value, forced=f, bound=bound, status=status,
                  seconds=seconds + lag.seconds, assigned_of=assigned,
                  uncoverable=uncoverable, iterations=lag.iterations)


def _probe(near: npt.NDArray[np.float64], wd: npt.NDArray[np.float64],
           opened: npt.NDArray[np.int64], rest: npt.NDArray[np.int64], budget: int,
           lag: Bound, seconds: float
           ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], int]:
    """Return the open rows, the free rows and the budget left after Lagrangian probing."""
    rows = np.r_[opened, rest].astype(np.int64)
    first = np.zeros(rows.size, bool)
    first[:opened.size] = True
    is_open, free = probe_fix(wd[None, :] * near[rows], first, np.isin(rows, lag.sites),
                              lag.lam, budget, lag.upper, seconds=seconds)
    return rows[is_open], rows[free], budget - int(is_open.sum()) + opened.size


@dataclass(frozen=True)
class _Reduced:
    sites: npt.NDArray[np.int64]
    bound: float
    status: str
    seconds: float


def _radius_milp(cd: npt.NDArray[np.float64], wd: npt.NDArray[np.float64],
                 opened: npt.NDArray[np.int64], rest: npt.NDArray[np.int64], budget: int,
                 incumbent: npt.NDArray[np.int64], time_limit_s: float) -> _Reduced:
    """Solve the radius formulation on ``opened`` (fixed open) and ``budget`` of ``rest``."""
    rows = np.r_[opened, rest].astype(np.int64)
    sub = cd[rows]
    if opened.size:  # exact reduction: a unit's time never exceeds its nearest open site's
        sub = np.minimum(sub, sub[:opened.size].min(axis=0)[None, :])
    level, values, start = _levels(sub)
    k_all = np.diff(start)
    n_s = rows.size
    n_z, z_cost, (r, col, val), row_lo, const, z0 = _radius_model(level, values, start, wd,
                                                                  k_all)
    n_row = row_lo.size
    lower = np.zeros(n_s + n_z)
    lower[:opened.size] = 1.0
    total = float(opened.size + budget)
    x0 = None
    inc = np.flatnonzero(np.isin(rows, np.r_[opened, incumbent]))
    if k_all.min() == 0:  # some unit has no site within its limit: nothing improves
        return _Reduced(inc, np.inf, "Optimal", 0.0)
    # start from the incumbent when it keeps the fixings and every unit's limit
    if inc.size == total and (level[inc].min(axis=0) < k_all).all():
        x0 = np.zeros(n_s + n_z)
        x0[inc] = 1.0
        z_units = np.repeat(np.arange(wd.size), np.maximum(k_all - 1, 0))
        x0[n_s:] = (level[inc].min(axis=0)[z_units] > np.arange(n_z) - z0[z_units])
    sol = solve_milp(n_s + n_z, np.r_[np.zeros(n_s), z_cost], lower, np.ones(n_s + n_z),
                     np.arange(n_s + n_z) < n_s,
                     (np.r_[r, np.full(n_s, n_row)], np.r_[col, np.arange(n_s)],
                      np.r_[val, np.ones(n_s)]), np.r_[row_lo, total],
                     np.r_[np.full(n_row, np.inf), total], model="p_median", maximize=False,
                     time_limit_s=time_limit_s, start=x0, offset=const, allow_infeasible=True)
    if sol.status == "Infeasible":  # no solution better than the incumbent exists
        return _Reduced(inc, np.inf, "Optimal", sol.seconds)
    return _Reduced(rows[np.flatnonzero(sol.x[:n_s] > 0.5)], sol.bound, sol.status,
                    sol.seconds)


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
        As in :func:`p_median`.
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
