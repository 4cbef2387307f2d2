"""What the location models share: the result type, input checks and the HiGHS call."""

from __future__ import annotations

import ctypes
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from navigator.errors import ValidationError
from navigator.model import Model

#: What each model's ``objective`` measures, and whether more is better.
OBJECTIVES: dict[Model, tuple[str, bool]] = {
    "mclp": ("people covered", True),
    "lscp": ("new sites", False),
    "p_median": ("people-weighted seconds", False),
    "p_center": ("worst seconds", False),
    "mexclp": ("expected people covered", True),
    "backup": ("people covered twice", True),
}

#: HiGHS options per model, measured on the Columbus instance (500 candidates x 472 block
#: groups, ``benchmarks/bench_allocation.py --settings``): presolve and the feasibility-jump
#: heuristic only cost time on the MCLP-like models (3.4 -> 2.1 s); turning them off slows
#: LSCP's set-cover solve ~5x, so it keeps HiGHS's defaults; p-center's feasibility steps
#: (set cover within a budget, no objective) are ~3x faster without presolve (0.85 -> 0.25
#: CPU-s per step at p = 5), as is the reduced p-median model (p = 20: 8.7 -> 1.6 s).
HIGHS_OPTIONS: dict[str, dict[str, bool | int | float | str]] = {
    "mclp": {"presolve": "off", "mip_heuristic_run_feasibility_jump": False},
    "mexclp": {"presolve": "off", "mip_heuristic_run_feasibility_jump": False},
    # backup k = 5 (real instance): optimal in 39 CPU-s with HiGHS's defaults, 90 with
    # presolve and feasibility jump off
    "backup": {},
    "lscp": {},
    "p_center": {"presolve": "off"},
    "p_median": {"presolve": "off"},
}


_BANNER_LOCK = threading.Lock()
_banner_shown = False


def _new_highs(highspy: Any) -> Any:
    """Return a ``highspy.Highs()``; its once-per-process banner goes to stderr, not stdout.

    HiGHS prints the banner from C++ when the first instance is built, before any option can
    silence it, so ``navigator ... --json`` would start with it. The first construction runs
    with file descriptor 1 pointed at 2 (under a lock; C buffers flushed before restoring).
    """
    global _banner_shown
    if _banner_shown:
        return highspy.Highs()
    with _BANNER_LOCK:
        if _banner_shown:
            return highspy.Highs()
        sys.stdout.flush()
        saved = os.dup(1)
        try:
            os.dup2(2, 1)
            h = highspy.Highs()
            ctypes.CDLL(None).fflush(None)
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        _banner_shown = True
        return h


@dataclass(frozen=True)
class Allocation:
    """A location-allocation solution.

    Attributes
    ----------
    model
        One of :data:`MODELS`.
    sites
        Row indices of the chosen new sites (forced sites excluded), ascending.
    forced
        Row indices of the sites forced open.
    objective
        The model's objective for ``sites`` (see ``objective_name``).
    greedy_sites, greedy_objective
        The greedy baseline's choice and objective.
    gap
        Signed relative advantage of the returned solution over greedy,
        ``(objective - greedy) / |objective|`` for maximising models and
        ``(greedy - objective) / |objective|`` for minimising ones: positive when greedy is
        worse, never negative (the better of the two is returned).
    status
        HiGHS model status of the last solve (``"Optimal"``, ``"Time limit reached"``, ...).
    solve_time_s
        Wall-clock seconds spent solving: every HiGHS solve, plus the Lagrangian bound for
        the p-median.
    assigned
        Per demand unit, the row index of the site serving it (-1: none within reach).
    uncoverable
        Demand units no candidate or forced site can reach within the target/cutoff.
    mip_gap
        Proven relative optimality gap of ``objective``, ``|objective - bound| / |objective|``
        (0 when optimal, ``inf`` when no bound is known).
    bound
        Proven bound on the optimum (upper for maximising models, lower for minimising ones).
    optimal
        True only when ``objective`` is proven optimal (``mip_gap`` within 1e-6).
    source
        ``"milp"``, or ``"greedy"`` when the MILP (stopped early) found nothing better.
    objective_name
        What ``objective`` measures, e.g. ``"people covered"``.
    iterations
        p-median: Lagrangian iterations; p-center: set-covering solves; others: 1.
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
    mip_gap: float = 0.0
    bound: float = float("nan")
    optimal: bool = True
    source: Literal["milp", "greedy"] = "milp"
    objective_name: str = ""
    iterations: int = 1


def check_inputs(cost_s: npt.ArrayLike, people: npt.ArrayLike | None, forced: npt.ArrayLike
                 ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64],
                            npt.NDArray[np.int64]]:
    """Return the cost matrix, people and forced rows, checked."""
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


def check_people(w: npt.NDArray[np.float64], model: str) -> None:
    """Refuse demand with no people for models whose objective weighs people."""
    if not w.sum() > 0:
        msg = f"{model}: the demand units hold no people (total population is 0)"
        raise ValidationError(msg)


def check_target(target_s: float) -> float:
    """Return the coverage target, seconds, checked positive and finite."""
    t = float(target_s)
    if not np.isfinite(t) or t <= 0:
        msg = f"target_s must be positive finite seconds, got {target_s!r}"
        raise ValidationError(msg)
    return t


def check_budget(k: int, n_free: int, what: str) -> int:
    """Return a site budget, checked to be an integer no larger than the free candidates."""
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 0:
        msg = f"{what} must be a non-negative integer, got {k!r}"
        raise ValidationError(msg)
    if k > n_free:
        msg = f"{what}={k} exceeds the {n_free} candidate sites not already open"
        raise ValidationError(msg)
    return int(k)


def check_reachable(cover: npt.NDArray[np.bool_], w: npt.NDArray[np.float64], target: float,
                    model: str) -> None:
    """Refuse a target no candidate meets for anyone (every answer would be empty)."""
    if not (cover.any(axis=0) & (w > 0)).any():
        msg = (f"{model}: no candidate site reaches any populated demand unit within "
               f"{target:g} s; raise target_s or add candidates")
        raise ValidationError(msg)


@dataclass(frozen=True)
class MilpSolution:
    """Column values and what HiGHS proved about them (objective in the caller's units)."""

    x: npt.NDArray[np.float64]
    status: str
    objective: float
    bound: float
    seconds: float


def solve_milp(n_col: int, cost: npt.NDArray[np.float64], lower: npt.NDArray[np.float64],
               upper: npt.NDArray[np.float64], integer: npt.NDArray[np.bool_],
               rows: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64],
                           npt.NDArray[np.float64]],
               row_lo: npt.NDArray[np.float64], row_hi: npt.NDArray[np.float64], *,
               model: Model, maximize: bool, time_limit_s: float,
               start: npt.NDArray[np.float64] | None = None, offset: float = 0.0,
               allow_infeasible: bool = False) -> MilpSolution:
    """Solve a MILP given as COO rows with HiGHS, optionally from a feasible start.

    The objective is scaled to at most 1 in magnitude (people x seconds reach 1e9, which
    slows the simplex); ``objective`` and ``bound`` are returned unscaled plus ``offset``.
    With ``allow_infeasible``, a proven-infeasible model returns status ``"Infeasible"`` and an
    infinite bound instead of raising.
    """
    import highspy
    import scipy.sparse as sp

    if not (len(cost) == len(lower) == len(upper) == len(integer) == n_col):
        msg = f"internal: {model} model has inconsistent column arrays"
        raise RuntimeError(msg)
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
    kind = np.where(integer, int(highspy.HighsVarType.kInteger),
                    int(highspy.HighsVarType.kContinuous))
    lp.integrality_ = [highspy.HighsVarType(int(v)) for v in kind]
    lp.sense_ = highspy.ObjSense.kMaximize if maximize else highspy.ObjSense.kMinimize
    h = _new_highs(highspy)
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", 1e-9)
    h.setOptionValue("time_limit", max(float(time_limit_s), 1e-3))
    for key, value in HIGHS_OPTIONS[model].items():
        h.setOptionValue(key, value)
    h.passModel(lp)
    if start is not None and HIGHS_OPTIONS[model].get("presolve") != "off":
        # with presolve on, HiGHS 1.16 given a start can report a wrong "optimum" and hand
        # the start back (an LSCP: objective 3, start of 8 sites, true optimum 5), costing a
        # second solve below; those models run without it (greedy stays their baseline)
        start = None
    if start is not None:
        sol = highspy.HighsSolution()
        sol.col_value = np.asarray(start, dtype=np.float64).tolist()
        h.setSolution(sol)
    t0 = time.perf_counter()
    h.run()
    seconds = time.perf_counter() - t0
    status = h.modelStatusToString(h.getModelStatus())
    info = h.getInfo()
    if allow_infeasible and status == "Infeasible":
        return MilpSolution(np.zeros(n_col), status, np.nan,
                            -np.inf if maximize else np.inf, seconds)
    if status not in ("Optimal", "Time limit reached") or info.primal_solution_status < 2:
        msg = f"HiGHS could not solve the {model} model: {status}"
        raise ValidationError(msg)
    x = np.asarray(h.getSolution().col_value)
    if start is not None and abs(float((cost / scale) @ x) - info.objective_function_value) > \
            1e-7 * max(1.0, abs(info.objective_function_value)):
        # HiGHS 1.16 can report the optimum yet hand back the start as its solution (seen
        # when presolve solves the model): solve again without the start
        return solve_milp(n_col, cost, lower, upper, integer, rows, row_lo, row_hi,
                          model=model, maximize=maximize, time_limit_s=time_limit_s,
                          offset=offset, allow_infeasible=allow_infeasible)
    bound = info.mip_dual_bound if status != "Optimal" else info.objective_function_value
    if not np.isfinite(bound):
        bound = np.inf if maximize else -np.inf
    return MilpSolution(x, status,
                        info.objective_function_value * scale + offset, bound * scale + offset,
                        seconds)


def relative_gap(value: float, bound: float) -> float:
    """Return ``|value - bound| / |value|`` (0 when equal, ``inf`` when value is 0)."""
    if value == bound:
        return 0.0
    if not np.isfinite(bound):
        return float("inf")
    return abs(value - bound) / abs(value) if value else float("inf")


def nearest_open(c: npt.NDArray[np.float64], open_rows: npt.NDArray[np.int64], limit: float
                 ) -> npt.NDArray[np.int64]:
    """Return per demand unit the open row nearest to it within ``limit`` (-1: none)."""
    if open_rows.size == 0:
        return np.full(c.shape[1], -1, dtype=np.int64)
    sub = c[open_rows]
    best = np.argmin(sub, axis=0)
    ok = sub[best, np.arange(c.shape[1])] <= limit
    return np.where(ok, open_rows[best], -1).astype(np.int64)


def finish(model: Model, *, sites: npt.NDArray[np.int64], value: float, greedy: npt.NDArray[
           np.int64], greedy_value: float, forced: npt.NDArray[np.int64], bound: float,
           status: str, seconds: float,
           assigned_of: Callable[[npt.NDArray[np.int64]], npt.NDArray[np.int64]],
           uncoverable: npt.NDArray[np.int64],
           iterations: int = 1) -> Allocation:
    """Return the better of the MILP and greedy solutions, with honest status and gaps.

    ``assigned_of`` is a callable taking the open rows and returning ``assigned``.
    """
    name, maximize = OBJECTIVES[model]
    sign = 1.0 if maximize else -1.0
    source: Literal["milp", "greedy"] = "milp"
    if sign * (greedy_value - value) > 1e-9 * max(1.0, abs(value)):
        sites, value, source = greedy, greedy_value, "greedy"
    # the bound never claims more than the incumbent allows (rounding of the scaled model)
    bound = max(bound, value) if maximize else min(bound, value)
    mip_gap = relative_gap(value, bound)
    optimal = (status == "Optimal" and mip_gap <= 1e-6) or mip_gap <= 1e-9
    gap = 0.0 + sign * (value - greedy_value) / abs(value) if value else (
        0.0 if value == greedy_value else float("inf"))
    assigned = assigned_of(np.union1d(sites, forced).astype(np.int64))
    return Allocation(model, np.sort(sites).astype(np.int64), forced, float(value),
                      np.sort(greedy).astype(np.int64), float(greedy_value), max(gap, 0.0),
                      status, seconds, assigned, uncoverable, mip_gap=mip_gap,
                      bound=float(bound), optimal=bool(optimal), source=source,
                      objective_name=name, iterations=iterations)
