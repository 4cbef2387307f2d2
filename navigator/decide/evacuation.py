"""Evacuee placement: people by need into shelter spaces by need, by road time.

Public API
----------
- :func:`place_evacuees` - assign demand groups to shelters: ``"optimal"`` (a transportation
  problem on HiGHS) or ``"greedy"`` (nearest shelter with room until full, the baseline).
- :class:`Placement` - the frozen result: people per group and shelter, who is left unplaced
  and why, per-shelter load by need, total / mean / worst travel time.

The model
---------
A *demand group* is people of one need at one road node: either an estimate (people of a
census block group, which may be split between shelters) or one household (``whole``: all
of its members go to the same shelter or none do). A shelter offers spaces per need; a
person of one need takes only a space of that need (an FNSS space has the support, a pet space
the crate). Needs are therefore independent problems, solved one after the other.

The optimal method first places as many people as possible, then minimises the total
travel time in person-seconds: each unplaced person costs ``M`` seconds, more than any
placement's whole travel time (``M = max_t * (people + 1) + 1``). Without households this is a
transportation LP whose vertices are integral (the constraint matrix is totally unimodular and
supplies and capacities are whole numbers); HiGHS' dual simplex returns a vertex, checked to be
integral. With households (one 0/1 variable per household and shelter) the LP relaxation is
solved first; at a vertex at most one household per binding shelter is fractional, and only
those are re-solved exactly as a MILP on the capacity left. ``proven_optimal`` says whether the
result reaches the relaxation's bound (otherwise it is within the few repaired households).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from navigator.errors import ValidationError
from navigator.model import PLACEMENT_METHODS, PlacementMethod

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["METHODS", "REASONS", "Method", "Placement", "place_evacuees"]

Method = PlacementMethod
METHODS = PLACEMENT_METHODS
#: Why people of a group are unplaced: no shelter offers their need at all, none that does is
#: reachable by road, or the reachable ones are full.
REASONS = ("no shelter offers the need", "unreachable by road", "shelters full")
_INTEGRAL_TOL = 1e-6
#: Households are solved as one exact MILP up to this many household-shelter pairs per need;
#: beyond it, by the LP relaxation with the fractional households repaired exactly (see above).
EXACT_MILP_ARCS = 3000


@dataclass(frozen=True, eq=False)
class Placement:
    """Where each group's people go, who is left and why, and the travel times.

    Attributes
    ----------
    method
        ``"optimal"`` or ``"greedy"``.
    needs
        Need names, the column order of ``load``.
    flow
        ``(groups, shelters)`` people of each group placed at each shelter.
    unplaced
        People of each group left unplaced.
    reason
        Per group, why people are unplaced (one of :data:`REASONS`, ``""`` if none).
    load
        ``(shelters, needs)`` people placed at each shelter by need.
    travel_s
        ``(groups, shelters)`` the road seconds used (``inf`` unreachable).
    proven_optimal
        True when the solver proved optimality (always False for greedy).
    solve_s
        Seconds the method took.
    """

    method: str
    needs: tuple[str, ...]
    flow: npt.NDArray[np.int64]
    unplaced: npt.NDArray[np.int64]
    reason: tuple[str, ...]
    load: npt.NDArray[np.int64]
    travel_s: npt.NDArray[np.float64]
    group_need: npt.NDArray[np.int64]
    proven_optimal: bool
    solve_s: float

    @property
    def placed(self) -> int:
        """People placed."""
        return int(self.flow.sum())

    @property
    def total_time_s(self) -> float:
        """Sum over placed people of their travel time, person-seconds."""
        used = self.flow > 0
        return float((self.flow[used] * self.travel_s[used]).sum())

    @property
    def mean_time_s(self) -> float | None:
        """Mean travel time of a placed person, seconds (None when nobody is placed)."""
        return self.total_time_s / self.placed if self.placed else None

    @property
    def worst_time_s(self) -> float | None:
        """Longest travel time of a placed person, seconds (None when nobody is placed)."""
        used = self.flow > 0
        return float(self.travel_s[used].max()) if used.any() else None

    def unplaced_by_need(self) -> dict[str, int]:
        """Return people left unplaced per need (every need listed, 0 included)."""
        out = np.bincount(self.group_need, weights=self.unplaced, minlength=len(self.needs))
        return {n: int(v) for n, v in zip(self.needs, out, strict=True)}

    def unplaced_by_reason(self) -> dict[str, int]:
        """Return people left unplaced per reason (only reasons that occur)."""
        out: dict[str, int] = {}
        for r, u in zip(self.reason, self.unplaced, strict=True):
            if u:
                out[r] = out.get(r, 0) + int(u)
        return out


def _int_array(name: str, value: npt.ArrayLike, shape: tuple[int, ...] | None = None
               ) -> npt.NDArray[np.int64]:
    a = np.asarray(value)
    if a.dtype == bool or not (np.issubdtype(a.dtype, np.integer)
                               or (np.issubdtype(a.dtype, np.floating)
                                   and np.all(np.isfinite(a)) and np.all(a == np.round(a)))):
        msg = f"{name} must hold whole numbers"
        raise ValidationError(msg)
    a = a.astype(np.int64)
    if shape is not None and a.shape != shape:
        msg = f"{name} has shape {a.shape}, expected {shape}"
        raise ValidationError(msg)
    if (a < 0).any():
        at = tuple(int(i) for i in np.argwhere(a < 0)[0])
        msg = f"{name}{list(at)}={int(a[at])} must not be negative"
        raise ValidationError(msg)
    return a


def _check(needs: Sequence[str], group_need: npt.ArrayLike, group_people: npt.ArrayLike,
           travel_s: npt.ArrayLike, capacity: npt.ArrayLike, whole: npt.ArrayLike | None
           ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64],
                      npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    people = _int_array("group_people", group_people)
    if people.ndim != 1:
        msg = "group_people must be one-dimensional"
        raise ValidationError(msg)
    g = people.size
    need = _int_array("group_need", group_need, (g,))
    if (need >= len(needs)).any():
        msg = f"group_need holds {int(need.max())}: there are {len(needs)} needs"
        raise ValidationError(msg)
    t = np.asarray(travel_s, dtype=np.float64)
    if t.ndim != 2 or t.shape[0] != g:
        msg = f"travel_s has shape {t.shape}, expected ({g}, shelters)"
        raise ValidationError(msg)
    if np.isnan(t).any() or (t < 0).any():
        msg = "travel_s must be non-negative seconds (inf where unreachable), not NaN"
        raise ValidationError(msg)
    cap = _int_array("capacity", capacity, (t.shape[1], len(needs)))
    w = np.zeros(g, dtype=bool) if whole is None else np.asarray(whole, dtype=bool)
    if w.shape != (g,):
        msg = f"whole has shape {w.shape}, expected ({g},)"
        raise ValidationError(msg)
    if (w & (people <= 0)).any():
        i = int(np.flatnonzero(w & (people <= 0))[0])
        msg = f"household {i}: size={int(people[i])} must be at least 1"
        raise ValidationError(msg)
    return need, people, t, cap, w


def place_evacuees(needs: Sequence[str], group_need: npt.ArrayLike, group_people: npt.ArrayLike,
                   travel_s: npt.ArrayLike, capacity: npt.ArrayLike, *,
                   whole: npt.ArrayLike | None = None, method: Method = "optimal",
                   time_limit_s: float = 30.0) -> Placement:
    """Assign people by need to shelter spaces by need, by road travel time.

    Parameters
    ----------
    needs
        Need names (e.g. ``general``, ``fnss``, ``medical``, ``pets``).
    group_need
        Per demand group, the index of its need in ``needs``.
    group_people
        Per demand group, people (whole, >= 0; a household has at least 1).
    travel_s
        ``(groups, shelters)`` seconds by road, ``inf`` where unreachable.
    capacity
        ``(shelters, needs)`` spaces free now (whole, >= 0).
    whole
        Per group, True for a household that must not be split (default: none).
    method
        ``"optimal"`` (most people placed, then least total person-seconds) or
        ``"greedy"`` (groups nearest to a shelter first, each to its nearest shelter with
        room, spilling to the next nearest; a household goes whole or not at all).
    time_limit_s
        Limit of a MILP solve (households); the result says whether optimality was proven.

    Returns
    -------
    Placement

    Raises
    ------
    ValidationError
        Shapes disagree, negative or fractional people or capacities, NaN or negative times,
        an unknown need index, a household of size 0, an unknown method.
    """
    if method not in METHODS:
        msg = f"method={method!r} is not one of {', '.join(METHODS)}"
        raise ValidationError(msg)
    need, people, t, cap, w = _check(needs, group_need, group_people, travel_s, capacity, whole)
    start = time.perf_counter()
    flow = np.zeros(t.shape, dtype=np.int64)
    proven = method == "optimal"
    for n in range(len(needs)):
        rows_n = np.flatnonzero((need == n) & (people > 0))
        cols_n = np.flatnonzero(cap[:, n] > 0)
        if rows_n.size == 0 or cols_n.size == 0:
            continue
        sub_t = t[np.ix_(rows_n, cols_n)]
        if method == "greedy":
            sub = _greedy(people[rows_n], sub_t, cap[cols_n, n], w[rows_n])
        else:
            sub, ok = _optimal(people[rows_n], sub_t, cap[cols_n, n], w[rows_n], time_limit_s)
            proven = proven and ok
        flow[np.ix_(rows_n, cols_n)] = sub
    unplaced = people - flow.sum(axis=1)
    load = np.zeros(cap.shape, dtype=np.int64)
    for n in range(len(needs)):
        load[:, n] = flow[need == n].sum(axis=0)
    reason = tuple(_reason(cap[:, need[i]], t[i]) if unplaced[i] else ""
                   for i in range(people.size))
    return Placement(method=method, needs=tuple(needs), flow=flow, unplaced=unplaced,
                     reason=reason, load=load, travel_s=t, group_need=need,
                     proven_optimal=proven, solve_s=time.perf_counter() - start)


def _reason(cap: npt.NDArray[np.int64], t: npt.NDArray[np.float64]) -> str:
    if not (cap > 0).any():
        return REASONS[0]
    if not np.isfinite(t[cap > 0]).any():
        return REASONS[1]
    return REASONS[2]


def _greedy(people: npt.NDArray[np.int64], t: npt.NDArray[np.float64],
            cap: npt.NDArray[np.int64], whole: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
    """Nearest shelter with room until full; groups nearest to any shelter go first."""
    left = cap.copy()
    flow = np.zeros(t.shape, dtype=np.int64)
    for i in np.argsort(t.min(axis=1), kind="stable"):
        need = int(people[i])
        for j in np.argsort(t[i], kind="stable"):
            if need == 0 or not np.isfinite(t[i, j]):
                break
            if whole[i]:
                if left[j] >= need:
                    flow[i, j] = need
                    left[j] -= need
                    need = 0
                continue
            take = min(need, int(left[j]))
            flow[i, j] += take
            left[j] -= take
            need -= take
    return flow


def _optimal(people: npt.NDArray[np.int64], t: npt.NDArray[np.float64],
             cap: npt.NDArray[np.int64], whole: npt.NDArray[np.bool_], time_limit_s: float
             ) -> tuple[npt.NDArray[np.int64], bool]:
    """Solve one need's transportation problem on HiGHS; return the flow and proven flag.

    The LP relaxation is solved by dual simplex (a vertex). Groups whose values are all whole
    keep them; the few that are fractional (households split by the relaxation: at most one
    per binding shelter at a vertex) are re-solved exactly as a MILP on the capacity left.
    The result is proven optimal when it costs no more than the relaxation's bound.
    """
    g, s = t.shape
    gi, sj = np.nonzero(np.isfinite(t))
    if gi.size == 0:
        return np.zeros((g, s), dtype=np.int64), True
    big = float(t[gi, sj].max()) * (float(people.sum()) + 1.0) + 1.0
    a = gi.size
    if whole.any() and a <= EXACT_MILP_ARCS:
        y, _, ok = _solve(people, t, cap, whole, gi, sj, big, integral=True,
                          time_limit_s=time_limit_s)
        return _flow(_people_on_arcs(y[:a], people, whole, gi), gi, sj, g, s), ok
    x, bound, _ = _solve(people, t, cap, whole, gi, sj, big, integral=False,
                      time_limit_s=time_limit_s)
    frac = np.abs(x - np.round(x)) > _INTEGRAL_TOL
    if not frac.any():
        return _flow(_people_on_arcs(x[:a], people, whole, gi), gi, sj, g, s), True
    bad = np.zeros(g, dtype=bool)
    bad[gi[frac[:a]]] = True
    bad[np.flatnonzero(frac[a:])] = True
    keep = np.where(bad[gi], 0, np.round(x[:a])).astype(np.int64)
    fixed = _flow(_people_on_arcs(keep, people, whole, gi), gi, sj, g, s)
    left = cap - fixed.sum(axis=0)
    rows = np.flatnonzero(bad)
    sub_t = t[rows]
    si, ss = np.nonzero(np.isfinite(sub_t))
    y, _, _ = _solve(people[rows], sub_t, left, whole[rows], si, ss, big, integral=True,
                  time_limit_s=time_limit_s)
    fixed[rows] = _flow(_people_on_arcs(np.round(y[:si.size]).astype(np.int64), people[rows],
                                        whole[rows], si), si, ss, rows.size, s)
    cost = _cost(fixed, t, people, big)
    if cost > bound * (1 + 1e-9) + 1e-6:
        # the repair could not reach the bound: never return worse than the greedy baseline
        base = _greedy(people, t, cap, whole)
        if _cost(base, t, people, big) < cost:
            return base, False
        return fixed, False
    return fixed, True


def _cost(flow: npt.NDArray[np.int64], t: npt.NDArray[np.float64],
          people: npt.NDArray[np.int64], big: float) -> float:
    used = flow > 0
    return float((flow[used] * t[used]).sum()) + big * float(people.sum() - flow.sum())


def _people_on_arcs(x: npt.NDArray[np.int64] | npt.NDArray[np.float64],
                    people: npt.NDArray[np.int64], whole: npt.NDArray[np.bool_],
                    gi: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Return people per arc: a household's variable counts households (0 or 1)."""
    x = np.round(np.asarray(x)).astype(np.int64)
    return np.where(whole[gi], x * people[gi], x)


def _solve(people: npt.NDArray[np.int64], t: npt.NDArray[np.float64],
           cap: npt.NDArray[np.int64], whole: npt.NDArray[np.bool_],
           gi: npt.NDArray[np.int64], sj: npt.NDArray[np.int64], big: float, *,
           integral: bool, time_limit_s: float) -> tuple[npt.NDArray[np.float64], float, bool]:
    """Solve min time + big * unplaced over arcs ``(gi, sj)``: values, objective, optimal."""
    from scipy import sparse
    from scipy.optimize import Bounds, LinearConstraint, linprog, milp

    g, s = t.shape
    a = gi.size
    size = np.where(whole, people, 1).astype(np.float64)
    amount = np.where(whole, 1, people).astype(np.float64)
    cost = np.concatenate([t[gi, sj] * size[gi], big * size])
    supply = sparse.csr_array((np.ones(a + g), (np.concatenate([gi, np.arange(g)]),
                                                np.arange(a + g))), shape=(g, a + g))
    room = sparse.csr_array((size[gi], (sj, np.arange(a))), shape=(s, a + g))
    upper = np.concatenate([amount[gi], amount])
    if not integral:
        res = linprog(cost, A_ub=room, b_ub=cap.astype(np.float64), A_eq=supply, b_eq=amount,
                      bounds=np.column_stack([np.zeros(a + g), upper]), method="highs-ds")
    else:
        res = milp(cost, integrality=np.ones(a + g), bounds=Bounds(np.zeros(a + g), upper),
                   constraints=[LinearConstraint(supply, amount, amount),
                                LinearConstraint(room, -np.inf, cap.astype(np.float64))],
                   options={"time_limit": time_limit_s})
    if res.x is None:  # pragma: no cover - everyone unplaced is always feasible
        msg = f"the placement solver found no solution ({res.message})"
        raise ValidationError(msg)
    return np.asarray(res.x, dtype=np.float64), float(res.fun), int(res.status) == 0


def _flow(x: npt.NDArray[np.int64], gi: npt.NDArray[np.int64], sj: npt.NDArray[np.int64],
          g: int, s: int) -> npt.NDArray[np.int64]:
    out = np.zeros((g, s), dtype=np.int64)
    np.add.at(out, (gi, sj), x)
    return out
