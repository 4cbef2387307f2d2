"""Location-allocation on travel-time matrices: MCLP, LSCP and p-median, exact and greedy.

Public API
----------
- :class:`Allocation` - chosen sites, objective, the greedy baseline and the gap between them.
- :func:`max_coverage` - maximal covering (MCLP): k new sites maximising people within a target.
- :func:`min_sites` - set covering (LSCP): fewest new sites covering every coverable unit.
- :func:`p_median` - p new sites minimising people-weighted travel time (sparse formulation).
- :func:`cost_matrix` - the one adapter from the road network: sites x demand nodes, seconds.

Every model takes ``cost_s`` shaped ``(n_sites, n_demand)`` in seconds (``inf`` = unreachable)
and ``people`` per demand unit, and is solved exactly with HiGHS (``highspy``). Sites listed
in ``forced`` (existing facilities) are open in every solution and count toward no budget.
Only pairs within the target (MCLP, LSCP) or the cutoff (p-median) become matrix entries, so
the models stay sparse.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt

from navigator.errors import ValidationError

if TYPE_CHECKING:
    from navigator.roads import TravelGraph

__all__ = ["Allocation", "cost_matrix", "max_coverage", "min_sites", "p_median"]

Model = Literal["mclp", "lscp", "p_median"]
#: HiGHS options for every model. Presolve removes nothing from these models and the
#: feasibility-jump heuristic finds nothing the root LP does not, so both only cost time
#: (measured on 500 candidates x 472 block groups: p-median 17.8 -> 12.4 s, MCLP 3.4 -> 2.1 s).
_HIGHS_OPTIONS: dict[str, bool | int | float | str] = {"presolve": "off",
                                     "mip_heuristic_run_feasibility_jump": False}


@dataclass(frozen=True)
class Allocation:
    """A location-allocation solution.

    Attributes
    ----------
    model
        ``"mclp"``, ``"lscp"`` or ``"p_median"``.
    sites
        Row indices of the chosen new sites (forced sites excluded), ascending.
    forced
        Row indices of the sites forced open.
    objective
        MCLP: people covered; LSCP: number of new sites; p-median: people-weighted seconds.
    greedy_sites, greedy_objective
        The greedy baseline's choice and objective.
    gap
        Relative gap of greedy to exact, ``|greedy - exact| / |exact|`` (0 if equal).
    status
        HiGHS model status (``"Optimal"`` when solved to optimality).
    solve_time_s
        Wall-clock seconds spent in HiGHS.
    assigned
        Per demand unit, the row index of the site serving it (-1: none within reach).
    uncoverable
        Demand units no candidate or forced site can reach within the target/cutoff.
    """

    model: Model
    sites: npt.NDArray[np.int64]
    forced: npt.NDArray[np.int64]
    objective: float
    greedy_sites: npt.NDArray[np.int64]
    greedy_objective: float
    gap: float
    status: str
    solve_time_s: float
    assigned: npt.NDArray[np.int64]
    uncoverable: npt.NDArray[np.int64]


def _inputs(cost_s: npt.ArrayLike, people: npt.ArrayLike | None, forced: npt.ArrayLike
            ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    c = np.asarray(cost_s, dtype=np.float64)
    if c.ndim != 2 or c.shape[0] == 0 or c.shape[1] == 0:
        msg = f"cost_s must be a non-empty (sites, demand) matrix, got shape {c.shape}"
        raise ValidationError(msg)
    if np.isnan(c).any() or (c < 0).any():
        msg = "cost_s must hold non-negative seconds (inf = unreachable), no NaN"
        raise ValidationError(msg)
    w = np.ones(c.shape[1]) if people is None else np.asarray(people, dtype=np.float64)
    if w.shape != (c.shape[1],) or not np.isfinite(w).all() or (w < 0).any():
        msg = f"people must be {c.shape[1]} non-negative finite numbers"
        raise ValidationError(msg)
    f = np.unique(np.asarray(forced, dtype=np.int64).reshape(-1))
    if f.size and (f.min() < 0 or f.max() >= c.shape[0]):
        msg = f"forced sites must be row indices 0..{c.shape[0] - 1}"
        raise ValidationError(msg)
    return c, w, f


def _target(target_s: float) -> float:
    t = float(target_s)
    if not np.isfinite(t) or t <= 0:
        msg = f"target_s must be positive finite seconds, got {target_s!r}"
        raise ValidationError(msg)
    return t


def _budget(k: int, n_free: int, what: str) -> int:
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 0:
        msg = f"{what} must be a non-negative integer, got {k!r}"
        raise ValidationError(msg)
    if k > n_free:
        msg = f"{what}={k} exceeds the {n_free} candidate sites not already open"
        raise ValidationError(msg)
    return int(k)


def _solve(n_col: int, cost: npt.NDArray[np.float64], lower: npt.NDArray[np.float64],
           upper: npt.NDArray[np.float64], integer: npt.NDArray[np.bool_],
           rows: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]],
           row_lo: npt.NDArray[np.float64], row_hi: npt.NDArray[np.float64], *,
           maximize: bool, time_limit_s: float) -> tuple[npt.NDArray[np.float64], str, float]:
    """Solve a MILP given as COO rows with HiGHS; return the column values, status, seconds.

    The objective is scaled to at most 1 in magnitude (people x seconds reach 1e9, which
    slows the simplex); callers recompute objective values from their matrices.
    """
    import highspy
    import scipy.sparse as sp

    r, col, val = rows
    a = sp.csc_matrix((val, (r, col)), shape=(len(row_lo), n_col))
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n_col, len(row_lo)
    scale = float(np.abs(cost).max()) if cost.size and np.abs(cost).max() > 0 else 1.0
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = cost / scale, lower, upper
    lp.row_lower_, lp.row_upper_ = row_lo, row_hi
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr.astype(np.int32)
    lp.a_matrix_.index_ = a.indices.astype(np.int32)
    lp.a_matrix_.value_ = a.data.astype(np.float64)
    lp.integrality_ = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
                       for i in integer]
    lp.sense_ = highspy.ObjSense.kMaximize if maximize else highspy.ObjSense.kMinimize
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", 1e-9)
    h.setOptionValue("time_limit", float(time_limit_s))
    for key, value in _HIGHS_OPTIONS.items():
        h.setOptionValue(key, value)
    h.passModel(lp)
    t0 = time.perf_counter()
    h.run()
    seconds = time.perf_counter() - t0
    status = h.modelStatusToString(h.getModelStatus())
    if status not in ("Optimal", "Time limit reached") or h.getInfo().primal_solution_status < 2:
        msg = f"HiGHS could not solve the model: {status}"
        raise ValidationError(msg)
    return np.asarray(h.getSolution().col_value), status, seconds


def _gap(exact: float, greedy: float) -> float:
    if exact == greedy:
        return 0.0
    return abs(greedy - exact) / abs(exact) if exact else float("inf")


def _assign(c: npt.NDArray[np.float64], open_rows: npt.NDArray[np.int64], limit: float
            ) -> npt.NDArray[np.int64]:
    if open_rows.size == 0:
        return np.full(c.shape[1], -1, dtype=np.int64)
    sub = c[open_rows]
    best = np.argmin(sub, axis=0)
    ok = sub[best, np.arange(c.shape[1])] <= limit
    return np.where(ok, open_rows[best], -1).astype(np.int64)


def _greedy_cover(cover: npt.NDArray[np.bool_], w: npt.NDArray[np.float64],
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


def max_coverage(cost_s: npt.ArrayLike, people: npt.ArrayLike | None = None, *, k: int,
                 target_s: float, forced: npt.ArrayLike = (), time_limit_s: float = 60.0
                 ) -> Allocation:
    """Choose k new sites maximising the people within ``target_s`` of an open site (MCLP).

    Parameters
    ----------
    cost_s
        Seconds, ``(n_sites, n_demand)``; ``inf`` = unreachable.
    people
        People per demand unit (default 1 each).
    k
        Number of new sites.
    target_s
        Coverage target, seconds.
    forced
        Row indices of sites open regardless (existing facilities).
    time_limit_s
        HiGHS time limit, seconds.
    """
    c, w, f = _inputs(cost_s, people, forced)
    target = _target(target_s)
    k = _budget(k, c.shape[0] - f.size, "k")
    cover = c <= target
    pre = cover[f].any(axis=0) if f.size else np.zeros(c.shape[1], bool)
    demand = np.flatnonzero(~pre & cover.any(axis=0) & (w > 0))
    n_s = c.shape[0]
    si, di = np.nonzero(cover[:, demand])
    # columns: x_0..x_{n_s-1}, then y per open demand; rows: y_d - sum_{j covers d} x_j <= 0
    n_col = n_s + demand.size
    rows = (np.concatenate([np.arange(demand.size), di, np.full(n_s, demand.size)]),
            np.concatenate([n_s + np.arange(demand.size), si, np.arange(n_s)]),
            np.concatenate([np.ones(demand.size), -np.ones(si.size), np.ones(n_s)]))
    lower = np.zeros(n_col)
    lower[f] = 1.0
    upper = np.ones(n_col)
    total = float(k + f.size)
    x, status, secs = _solve(
        n_col, np.concatenate([np.zeros(n_s), w[demand]]), lower, upper,
        np.arange(n_col) < n_s, rows, np.r_[np.full(demand.size, -np.inf), total],
        np.r_[np.zeros(demand.size), total], maximize=True, time_limit_s=time_limit_s)
    opened = np.flatnonzero(x[:n_s] > 0.5)
    sites = np.setdiff1d(opened, f)
    value = float(w[cover[opened].any(axis=0)].sum())
    greedy = _greedy_cover(cover, w, f, k)
    g_value = float(w[cover[np.r_[f, greedy]].any(axis=0)].sum())
    return Allocation("mclp", sites, f, value, greedy, g_value, _gap(value, g_value), status,
                      secs, _assign(c, opened, target), np.flatnonzero(~cover.any(axis=0)))


def min_sites(cost_s: npt.ArrayLike, people: npt.ArrayLike | None = None, *, target_s: float,
              forced: npt.ArrayLike = (), time_limit_s: float = 60.0) -> Allocation:
    """Choose the fewest new sites so every coverable unit is within ``target_s`` (LSCP).

    Units no site can reach within the target are reported in ``uncoverable`` and left out;
    units with zero people are still covered (everyone coverable means every place).
    Parameters are those of :func:`max_coverage`; ``objective`` is the number of new sites.
    """
    c, w, f = _inputs(cost_s, people, forced)
    target = _target(target_s)
    cover = c <= target
    coverable = cover.any(axis=0)
    pre = cover[f].any(axis=0) if f.size else np.zeros(c.shape[1], bool)
    demand = np.flatnonzero(coverable & ~pre)
    n_s = c.shape[0]
    si, di = np.nonzero(cover[:, demand])
    lower = np.zeros(n_s)
    lower[f] = 1.0
    cost = np.ones(n_s)
    cost[f] = 0.0
    x, status, secs = _solve(n_s, cost, lower, np.ones(n_s), np.ones(n_s, bool), (di, si,
                             np.ones(si.size)), np.ones(demand.size),
                             np.full(demand.size, np.inf), maximize=False,
                             time_limit_s=time_limit_s)
    opened = np.flatnonzero(x > 0.5)
    sites = np.setdiff1d(opened, f)
    greedy = _greedy_cover(cover, w, f, None)
    return Allocation("lscp", sites, f, float(sites.size), greedy, float(greedy.size),
                      _gap(float(sites.size), float(greedy.size)), status, secs,
                      _assign(c, opened, target), np.flatnonzero(~coverable))


def _median_value(c: npt.NDArray[np.float64], w: npt.NDArray[np.float64],
                  open_rows: npt.NDArray[np.int64], penalty: float) -> float:
    best = np.minimum(c[open_rows].min(axis=0), penalty) if open_rows.size else \
        np.full(c.shape[1], penalty)
    return float((w * best).sum())


def p_median(cost_s: npt.ArrayLike, people: npt.ArrayLike | None = None, *, p: int,
             cutoff_s: float = np.inf, forced: npt.ArrayLike = (), time_limit_s: float = 60.0
             ) -> Allocation:
    """Choose p new sites minimising the people-weighted time to the nearest open site.

    Sparse formulation: an assignment variable exists only where ``cost_s <= cutoff_s``; a
    unit with no open site within the cutoff is charged ``cutoff_s`` (an unserved penalty). With
    ``cutoff_s=inf`` it is the classic p-median (units no site reaches are left out). With a
    finite cutoff the solution is exact for times capped at the cutoff, which equals the
    classic optimum whenever every unit has an open site within the cutoff.

    Parameters
    ----------
    cost_s, people, forced, time_limit_s
        As in :func:`max_coverage`.
    p
        Number of new sites.
    cutoff_s
        Drop assignments beyond this many seconds (and charge it for unserved units).
    """
    c, w, f = _inputs(cost_s, people, forced)
    p = _budget(p, c.shape[0] - f.size, "p")
    cutoff = float(cutoff_s)
    if np.isnan(cutoff) or cutoff <= 0:
        msg = f"cutoff_s must be positive seconds (inf allowed), got {cutoff_s!r}"
        raise ValidationError(msg)
    reach = np.isfinite(c).any(axis=0)
    penalty = cutoff if np.isfinite(cutoff) else 0.0
    demand = np.flatnonzero(reach) if not np.isfinite(cutoff) else np.arange(c.shape[1])
    cd = c[:, demand]
    keep = np.isfinite(cd) & (cd <= cutoff)
    if f.size:  # exact reduction: never assign beyond the nearest forced (always open) site
        keep &= cd <= cd[f].min(axis=0)[None, :]
    si, di = np.nonzero(keep)
    n_s, n_d, n_z = c.shape[0], demand.size, si.size
    # columns: x sites | z pairs | u unserved (finite cutoff only)
    n_u = n_d if np.isfinite(cutoff) else 0
    n_col = n_s + n_z + n_u
    z = n_s + np.arange(n_z)
    u = n_s + n_z + np.arange(n_u)
    # rows: sum_j z_dj + u_d = 1 (n_d) ; z_dj - x_j <= 0 (n_z) ; sum x = p + |forced|
    r = np.concatenate([di, np.arange(n_u), n_d + np.arange(n_z), n_d + np.arange(n_z),
                        np.full(n_s, n_d + n_z)])
    col = np.concatenate([z, u, z, si, np.arange(n_s)])
    val = np.concatenate([np.ones(n_z), np.ones(n_u), np.ones(n_z), -np.ones(n_z), np.ones(n_s)])
    total = float(p + f.size)
    cost = np.concatenate([np.zeros(n_s), w[demand][di] * cd[si, di], w[demand][:n_u] * penalty])
    lower = np.zeros(n_col)
    lower[f] = 1.0
    x, status, secs = _solve(
        n_col, cost, lower, np.ones(n_col), np.arange(n_col) < n_s, (r, col, val),
        np.r_[np.ones(n_d), np.full(n_z, -np.inf), total],
        np.r_[np.ones(n_d), np.zeros(n_z), total], maximize=False, time_limit_s=time_limit_s)
    opened = np.flatnonzero(x[:n_s] > 0.5)
    cap = np.where(np.isfinite(c[:, demand]), np.minimum(c[:, demand], cutoff), np.inf)
    value = _median_value(cap, w[demand], opened, cutoff)
    # greedy: add the site that lowers the weighted time most
    chosen = list(f)
    free = np.setdiff1d(np.arange(n_s), f)
    for _ in range(p):
        vals = [_median_value(cap, w[demand], np.asarray([*chosen, j], dtype=np.int64), cutoff)
                for j in free]
        j = int(free[int(np.argmin(vals))])
        chosen.append(j)
        free = free[free != j]
    greedy = np.sort(np.setdiff1d(np.asarray(chosen, dtype=np.int64), f))
    g_value = _median_value(cap, w[demand], np.asarray(chosen, dtype=np.int64), cutoff)
    return Allocation("p_median", np.setdiff1d(opened, f), f, value, greedy, g_value,
                      _gap(value, g_value), status, secs, _assign(c, opened, cutoff),
                      np.flatnonzero(~(np.isfinite(c) & (c <= cutoff)).any(axis=0)))


def cost_matrix(tg: TravelGraph, site_nodes: npt.ArrayLike, demand_nodes: npt.ArrayLike, *,
                direction: Literal["from", "to"] = "from", cutoff_s: float | None = None
                ) -> npt.NDArray[np.float64]:
    """Return travel seconds between candidate sites and demand nodes, ``(sites, demand)``.

    Parameters
    ----------
    tg
        Road network.
    site_nodes, demand_nodes
        Node indices (demand nodes of -1, units off the network, get ``inf``).
    direction
        ``"from"``: site to people (teams drive out, default); ``"to"``: people to the site
        (shelters, clinics).
    cutoff_s
        Searches stop here; farther pairs are ``inf`` (keep it >= the largest target).
    """
    from navigator.roads import travel_time_matrix

    sites = np.asarray(site_nodes, dtype=np.int64)
    dem = np.asarray(demand_nodes, dtype=np.int64)
    ok = dem >= 0
    out = np.full((sites.size, dem.size), np.inf)
    if direction == "from":
        out[:, ok] = travel_time_matrix(tg, sites, dem[ok], cutoff_s=cutoff_s)
    elif direction == "to":
        out[:, ok] = travel_time_matrix(tg, dem[ok], sites, cutoff_s=cutoff_s).T
    else:
        msg = f"direction must be 'from' or 'to', got {direction!r}"
        raise ValidationError(msg)
    return out
