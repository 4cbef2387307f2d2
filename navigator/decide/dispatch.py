"""Dispatcher decisions: rank mobile teams for an incident, assign several incidents at once.

Pure functions on arrays of seconds (one row per team, one column per incident or node):
:func:`team_order` ranks candidate teams, :func:`coverage_without` measures what each team's
departure leaves beyond the response-time target, :func:`assign_optimal` and
:func:`assign_greedy` pair teams with incidents. :mod:`navigator.services` builds the arrays
from the store and the road network.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

from navigator.errors import ValidationError
from navigator.jsonsafe import json_safe
from navigator.model import Objective

if TYPE_CHECKING:
    from navigator.roads import Route

__all__ = ["AssignmentPlan", "BatchPlan", "TeamOption", "TeamRanking", "assign_greedy",
           "assign_optimal", "coverage_without", "covers", "plan_totals", "priority_weight",
           "team_order"]

SkillPolicy = Literal["require", "penalty"]


def covers(have: Sequence[Sequence[str]], needed: Sequence[str]) -> npt.NDArray[np.bool_]:
    """Return, per team, whether its skills (or languages) include every needed one."""
    want = set(needed)
    return np.array([want <= set(h or ()) for h in have], dtype=bool)


def priority_weight(priority: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Return the ETA weight of incident priorities: 1 (highest) weighs 4, 4 weighs 1."""
    p = np.asarray(priority, dtype=np.float64)
    if np.any((p < 1) | (p > 4)):
        msg = "priority must be 1 (highest) to 4"
        raise ValidationError(msg)
    return 5.0 - p


def team_order(eta_s: npt.ArrayLike, *, fits_skills: npt.ArrayLike, fits_language: npt.ArrayLike,
               shift_ok: npt.ArrayLike, skill_policy: SkillPolicy = "require",
               penalty_s: float = 900.0, exclude_short_shift: bool = False,
               coverage_loss: npt.ArrayLike | None = None, prefer_coverage: bool = False,
               tolerance_s: float = 120.0) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Return candidate teams in the order to offer them, and their scores.

    Parameters
    ----------
    eta_s
        Road travel time of each team to the incident, seconds (``inf`` = unreachable).
    fits_skills, fits_language
        Whether each team has every needed skill / speaks a needed language.
    shift_ok
        Whether the shift lasts beyond arrival plus the expected time on scene.
    skill_policy
        ``"require"``: teams lacking a skill or language are left out; ``"penalty"``: they
        stay, with ``penalty_s`` added to their score per missing fit.
    penalty_s
        Seconds added per missing fit under ``"penalty"``.
    exclude_short_shift
        Leave out teams whose shift ends too soon (default: offer them after all others).
    coverage_loss
        Share of the area (or population) newly left beyond the target if the team leaves.
    prefer_coverage
        Among teams scoring within ``tolerance_s`` of the best, offer first the one whose
        departure hurts coverage least.
    tolerance_s
        Seconds.

    Returns
    -------
    order : numpy.ndarray
        Team positions, best first (unreachable and excluded teams left out).
    score_s : numpy.ndarray
        Score per team (ETA plus penalties), seconds; ``inf`` for those left out.
    """
    eta = np.asarray(eta_s, dtype=np.float64)
    skills = np.asarray(fits_skills, dtype=bool)
    lang = np.asarray(fits_language, dtype=bool)
    shift = np.asarray(shift_ok, dtype=bool)
    if skill_policy not in ("require", "penalty"):
        msg = f"skill_policy must be 'require' or 'penalty', got {skill_policy!r}"
        raise ValidationError(msg)
    score = eta.copy()
    if skill_policy == "require":
        score[~(skills & lang)] = np.inf
    else:
        score = score + penalty_s * (~skills) + penalty_s * (~lang)
    if exclude_short_shift:
        score[~shift] = np.inf
    pos = np.flatnonzero(np.isfinite(score))
    # Short shifts go last; then by score; ties by position.
    order = pos[np.lexsort((pos, score[pos], ~shift[pos]))]
    if prefer_coverage and coverage_loss is not None and order.size > 1:
        loss = np.asarray(coverage_loss, dtype=np.float64)
        best = score[order[0]]
        near = order[(score[order] <= best + tolerance_s) & (shift[order] == shift[order[0]])]
        near = near[np.lexsort((near, score[near], loss[near]))]
        order = np.concatenate([near, order[~np.isin(order, near)]])
    return order.astype(np.int64), score


def coverage_without(time_s: npt.ArrayLike, target_s: npt.ArrayLike, *,
                     weight: npt.ArrayLike | None = None) -> tuple[float, npt.NDArray[np.float64]]:
    """Return the share beyond target with every team, and with each team gone in turn.

    Parameters
    ----------
    time_s
        ``(n_teams, n_nodes)`` travel time from each available team to each place, seconds.
    target_s
        Response-time target, seconds, scalar or one per place.
    weight
        Weight per place (e.g. population); default every place counts 1.

    Returns
    -------
    baseline : float
        Share (0-1) of places (or weight) beyond target from the nearest team.
    without : numpy.ndarray
        Share beyond target when team ``i`` leaves, one per team.
    """
    t = np.asarray(time_s, dtype=np.float64)
    if t.ndim != 2:
        msg = "time_s must be a (n_teams, n_nodes) matrix"
        raise ValidationError(msg)
    n_teams, n_nodes = t.shape
    w = np.ones(n_nodes) if weight is None else np.asarray(weight, dtype=np.float64)
    total = float(w.sum())
    if n_nodes == 0 or total <= 0:
        return 0.0, np.zeros(n_teams)
    target = np.broadcast_to(np.asarray(target_s, dtype=np.float64), (n_nodes,))
    if n_teams == 0:
        return 1.0, np.zeros(0)
    # Best and second-best time per place: removing the best team leaves the second.
    part = np.partition(t, 1, axis=0) if n_teams > 1 else np.vstack([t, np.full_like(t, np.inf)])
    first, second = part[0], part[1]
    best_team = np.argmin(t, axis=0)
    baseline = float(w[first > target].sum()) / total
    # Team i's departure changes only the places it is nearest to: first -> second there.
    beyond_first = w * (first > target)
    change = np.bincount(best_team, weights=w * (second > target) - beyond_first,
                         minlength=n_teams)
    without = np.asarray((float(beyond_first.sum()) + change) / total, dtype=np.float64)
    return baseline, without


def _max_matching(allowed: npt.NDArray[np.bool_]) -> int:
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import maximum_bipartite_matching

    if allowed.size == 0:
        return 0
    match = maximum_bipartite_matching(csr_matrix(allowed.astype(np.int8)), perm_type="column")
    return int((match >= 0).sum())


def _levels(priority: npt.ArrayLike | None, n: int) -> npt.NDArray[np.int64]:
    """Return each incident's priority level as 0 (most urgent) .. L-1."""
    if priority is None:
        return np.zeros(n, dtype=np.int64)
    p = np.asarray(priority)
    if p.shape != (n,):
        msg = f"priority must have one value per incident ({n}), got shape {p.shape}"
        raise ValidationError(msg)
    return np.unique(p, return_inverse=True)[1].astype(np.int64).reshape(n)


def _best_counts(allowed: npt.NDArray[np.bool_], level: npt.NDArray[np.int64]
                 ) -> npt.NDArray[np.int64]:
    """Return, per priority level, how many incidents the lexicographically best plan serves.

    One assignment with integer rewards ``(k + 1) ** (L - 1 - level)`` (``k`` = most incidents
    any plan serves): one more incident of a level outweighs every plan of the levels below,
    and every sum stays an integer below 2**53, so floating point is exact here.
    """
    from scipy.optimize import linear_sum_assignment

    n_levels = int(level.max()) + 1 if level.size else 0
    counts = np.zeros(n_levels, dtype=np.int64)
    k = _max_matching(allowed)
    if k == 0:
        return counts
    reward = float(k + 1) ** (n_levels - 1 - level)
    if float(k) * float(reward.max()) >= 2.0 ** 53:
        msg = "too many priority levels and incidents for one exact plan"
        raise ValidationError(msg)
    rows, cols = linear_sum_assignment(np.where(allowed, reward[None, :], 0.0), maximize=True)
    served = [int(j) for i, j in zip(rows, cols, strict=True) if allowed[i, j]]
    np.add.at(counts, level[served], 1)
    return counts


def _min_cost_serving(cost: npt.NDArray[np.float64], allowed: npt.NDArray[np.bool_],
                      level: npt.NDArray[np.int64], counts: npt.NDArray[np.int64]
                      ) -> list[tuple[int, int]]:
    """Return the least-cost pairs that serve exactly ``counts[l]`` incidents of each level.

    A perfect matching on a padded square: rows are the teams plus, per level, one "skip"
    row for each incident of that level left unserved (it may take only incidents of its
    level, at no cost); columns are the incidents plus one "idle" column per team left
    unused (only real teams may take it, at no cost). Every skip row must be used, so each
    level serves exactly its count, and the costs never mix with the level rewards.
    """
    from scipy.optimize import linear_sum_assignment

    n_teams, n_inc = cost.shape
    served = int(counts.sum())
    if served == 0:
        return []
    skips = np.repeat(np.arange(len(counts)), np.bincount(level, minlength=len(counts)) - counts)
    idle = n_teams - served
    size = n_teams + len(skips)
    ok = np.zeros((size, n_inc + idle), dtype=bool)
    ok[:n_teams, :n_inc] = allowed
    ok[:n_teams, n_inc:] = True
    ok[n_teams:, :n_inc] = skips[:, None] == level[None, :]
    c = np.zeros(ok.shape)
    c[:n_teams, :n_inc] = np.where(allowed, cost, 0.0)
    big = (size + 1) * (float(np.abs(c).max()) + 1.0)  # worse than any feasible sum
    rows, cols = linear_sum_assignment(np.where(ok, c, big))
    return [(int(i), int(j)) for i, j in zip(rows, cols, strict=True)
            if i < n_teams and j < n_inc and allowed[i, j]]


def assign_optimal(eta_s: npt.ArrayLike, *, weight: npt.ArrayLike | None = None,
                   priority: npt.ArrayLike | None = None,
                   objective: Objective = "total") -> list[tuple[int, int]]:
    """Return ``(team, incident)`` pairs of the best plan, in this exact order of goals.

    1. Serve as many incidents of the most urgent priority as any plan can; then, among those
       plans, as many of the next priority; and so on down (so a priority-3 call never takes
       the team a priority-1 call could have had). With no ``priority``, all are equal.
    2. That fixes how many incidents are served in all: the most a plan with those counts can.
    3. Among those plans, ``"total"``: the least sum of weight x ETA; ``"bottleneck"``: the
       least worst ETA, ties broken by the least weighted total.

    Parameters
    ----------
    eta_s
        ``(n_teams, n_incidents)`` seconds; ``inf`` where a team cannot (or may not) go.
    weight
        Weight per incident (see :func:`priority_weight`); default 1.
    priority
        Priority per incident, 1 most urgent (any ordered values); default all equal.
    objective
        ``"total"`` or ``"bottleneck"``.
    """
    eta = np.asarray(eta_s, dtype=np.float64)
    if eta.ndim != 2:
        msg = "eta_s must be a (n_teams, n_incidents) matrix"
        raise ValidationError(msg)
    if objective not in ("total", "bottleneck"):
        msg = f"objective must be 'total' or 'bottleneck', got {objective!r}"
        raise ValidationError(msg)
    w = np.ones(eta.shape[1]) if weight is None else np.asarray(weight, dtype=np.float64)
    level = _levels(priority, eta.shape[1])
    allowed = np.isfinite(eta)
    cost = np.where(allowed, eta, 0.0) * w[None, :]
    counts = _best_counts(allowed, level)
    if objective == "bottleneck" and counts.sum():
        levels = np.unique(eta[allowed])
        lo, hi = 0, len(levels) - 1
        while lo < hi:  # smallest threshold that still serves the same counts
            mid = (lo + hi) // 2
            if np.array_equal(_best_counts(allowed & (eta <= levels[mid]), level), counts):
                hi = mid
            else:
                lo = mid + 1
        allowed = allowed & (eta <= levels[lo])
    return _min_cost_serving(cost, allowed, level, counts)


def assign_greedy(eta_s: npt.ArrayLike, *, priority: npt.ArrayLike) -> list[tuple[int, int]]:
    """Return pairs from closest-first: highest priority first, each takes its nearest free team.

    Ties in priority keep incident order; ties in ETA the lower team position.
    """
    eta = np.asarray(eta_s, dtype=np.float64)
    p = np.asarray(priority)
    free = np.ones(eta.shape[0], dtype=bool)
    pairs = []
    for j in np.lexsort((np.arange(eta.shape[1]), p)):
        times = np.where(free, eta[:, j], np.inf)
        if times.size and np.isfinite(times.min()):
            i = int(np.argmin(times))
            free[i] = False
            pairs.append((i, int(j)))
    return pairs


def plan_totals(eta_s: npt.ArrayLike, pairs: Sequence[tuple[int, int]], *,
                weight: npt.ArrayLike | None = None) -> tuple[float, float, float]:
    """Return ``(weighted total, total, worst)`` ETA of pairs, seconds (0 for no pairs)."""
    eta = np.asarray(eta_s, dtype=np.float64)
    w = np.ones(eta.shape[1]) if weight is None else np.asarray(weight, dtype=np.float64)
    times = np.array([eta[i, j] for i, j in pairs])
    ws = np.array([w[j] for _, j in pairs])
    if times.size == 0:
        return 0.0, 0.0, 0.0
    return float((times * ws).sum()), float(times.sum()), float(times.max())


def _to_dict(obj: Any) -> dict[str, Any]:
    return {f.name: json_safe(getattr(obj, f.name)) for f in fields(obj)}


@dataclass(frozen=True)
class TeamOption:
    """One team considered for an incident.

    Attributes
    ----------
    eta_s
        Road travel time from the team's current position to the incident, seconds.
    score_s
        ETA plus skill/language penalties, seconds (what the ranking sorts by).
    shift_ok
        False when the shift ends before arrival plus the expected time on scene.
    uncovered_share, coverage_loss
        Share (0-1) of the area (or population) beyond the target if this team leaves, and
        how much that is above today's share.
    meets_target
        Whether ``eta_s <= target_s`` (the incident's area target).
    missing_skills, missing_languages
        Needed skills the team lacks; the needed languages when it speaks none of them.
    position_at, position_age_s, position_stale
        When the position the ETA starts from was fixed, its age in seconds at ranking time
        (None: never fixed, e.g. a position only imported), and whether it is older than
        the stale setting.
    eta_best_s, eta_worst_s
        For an area incident, ``eta_s`` is the expected ETA over the area's road nodes and
        these the best and worst, seconds; None for a point incident.
    """

    team_id: str
    name: str
    status: str
    eta_s: float
    score_s: float
    fits_skills: bool
    fits_language: bool
    missing_skills: tuple[str, ...]
    shift_ok: bool
    shift_end: datetime | None
    uncovered_share: float
    coverage_loss: float
    meets_target: bool
    target_s: float
    route: Route | None = None
    missing_languages: tuple[str, ...] = ()
    position_at: datetime | None = None
    position_age_s: float | None = None
    position_stale: bool = False
    eta_best_s: float | None = None
    eta_worst_s: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict."""
        return _to_dict(self)


@dataclass(frozen=True)
class TeamRanking:
    """Teams for one incident, best first, with the policy used.

    ``nothing_fits`` is True when no team meets the policy: ``options`` then holds the
    nearest teams anyway, each with what it lacks, and sending one needs an override.
    ``area`` describes an area incident's ranking (its road ``nodes``, the ``weighting``
    of the expected ETA, where routes go: ``route_to``); None for a point incident.
    """

    incident_id: str
    options: tuple[TeamOption, ...]
    baseline_uncovered_share: float
    target_s: float
    skill_policy: str
    prefer_coverage: bool
    message: str
    nothing_fits: bool = False
    area: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict."""
        return _to_dict(self)


@dataclass(frozen=True)
class AssignmentPlan:
    """Pairs of one method; totals in seconds (weighted by priority where named).

    ``unassigned_by_priority`` counts the incidents left without a team per priority (1 most
    urgent), every priority of the batch listed, so two plans compare at a glance.
    """

    method: str
    pairs: tuple[tuple[str, str, float], ...]
    weighted_total_s: float
    total_s: float
    worst_s: float
    unassigned: tuple[str, ...]
    unassigned_by_priority: tuple[tuple[int, int], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict (pairs as ``{team_id, incident_id, eta_s}``)."""
        d = _to_dict(self)
        d["unassigned_by_priority"] = {str(p): n for p, n in self.unassigned_by_priority}
        d["pairs"] = [{"team_id": t, "incident_id": i, "eta_s": json_safe(e)}
                      for t, i, e in self.pairs]
        return d


@dataclass(frozen=True)
class BatchPlan:
    """Optimal and greedy plans for the open incidents, to compare."""

    objective: str
    optimal: AssignmentPlan
    greedy: AssignmentPlan

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict."""
        return _to_dict(self)
