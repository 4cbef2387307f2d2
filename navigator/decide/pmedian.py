"""Median siting: p-median, exact (Lagrangian bound, probing, radius MILP).

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

__all__ = ["p_median"]


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
