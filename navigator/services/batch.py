"""The dispatcher's batch plan: pair the open incidents with teams, optimal and greedy."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from navigator.decide.dispatch import (
    AssignmentPlan,
    BatchPlan,
    SkillPolicy,
    assign_greedy,
    assign_optimal,
    covers,
    plan_totals,
    priority_weight,
)
from navigator.model import IncidentStatus, Objective
from navigator.services._on_road import snap_places
from navigator.services._teams import speaks, team_statuses

if TYPE_CHECKING:
    from navigator.config import Settings
    from navigator.roads import TravelGraph
    from navigator.store import Store

__all__ = ["plan_batch"]


def plan_batch(store: Store, graph: TravelGraph, settings: Settings, *, actor: str,
               objective: Objective = "total", include_returning: bool = False,
               skill_policy: SkillPolicy = "require", penalty_s: float = 900.0,
               incident_ids: list[str] | None = None) -> BatchPlan:
    """Pair open incidents with teams: optimal (``objective``) and greedy, both reported.

    The optimal plan first serves as many priority-1 incidents as any plan can, then as many
    priority-2, and so on (:func:`navigator.decide.dispatch.assign_optimal` gives the exact
    order); then ``"total"`` minimises the sum of priority-weighted ETAs (priority 1 weighs 4,
    4 weighs 1) and ``"bottleneck"`` the worst ETA. Greedy serves the highest priority first
    with its nearest free team. Each plan counts its unassigned incidents per priority; totals
    use road ETAs, seconds: for an area incident the expected ETA over the area's road nodes
    (uniform-weighted, :mod:`navigator.services.incident_area`). Nothing is written: send
    teams with :func:`~navigator.services.dispatcher.assign_team`.
    """
    from navigator.roads import point_travel_time_matrix
    from navigator.services.incident_area import area_spread

    incidents = store.incidents(statuses=[IncidentStatus.OPEN]).reset_index(drop=True)
    if incident_ids is not None:
        incidents = incidents[incidents["id"].isin(incident_ids)].reset_index(drop=True)
    teams = store.teams(statuses=team_statuses(include_returning)).reset_index(drop=True)
    t_on = snap_places(graph, teams, max_snap_m=settings.max_snap_m)
    i_on = snap_places(graph, incidents, max_snap_m=settings.max_snap_m)
    eta = np.full((len(teams), len(incidents)), np.inf)
    areas = incidents["area"].notna().to_numpy() if len(incidents) else np.zeros(0, bool)
    tr, ic = np.flatnonzero(t_on.edge >= 0), np.flatnonzero((i_on.edge >= 0) & ~areas)
    if tr.size and ic.size:
        eta[np.ix_(tr, ic)] = point_travel_time_matrix(graph, t_on.take(tr), i_on.take(ic))
    for a in np.flatnonzero(areas):
        eta[:, a] = area_spread(graph, store.incident(incidents["id"].iloc[a]),
                                t_on).expected_s
    cost = eta.copy()
    for j, inc in enumerate(incidents.itertuples(index=False)):
        misfit = (~covers(teams["skills"], inc.needed_skills)).astype(float) + np.array(
            [not speaks(x, tuple(inc.needed_languages)) for x in teams["languages"]], float)
        cost[:, j] = (np.where(misfit > 0, np.inf, eta[:, j]) if skill_policy == "require"
                      else eta[:, j] + penalty_s * misfit)
    priority = incidents["priority"].to_numpy(dtype=int)
    weight = priority_weight(priority) if len(incidents) else np.zeros(0)

    def plan(method: str, pairs: list[tuple[int, int]]) -> AssignmentPlan:
        weighted, total, worst = plan_totals(eta, pairs, weight=weight)
        done = {j for _, j in pairs}
        left = [int(priority[j]) for j in range(len(incidents)) if j not in done]
        by_priority = tuple((int(p), left.count(int(p))) for p in sorted(set(priority.tolist())))
        return AssignmentPlan(
            method=method,
            pairs=tuple((teams["id"].iloc[i], incidents["id"].iloc[j], float(eta[i, j]))
                        for i, j in pairs),
            weighted_total_s=weighted, total_s=total, worst_s=worst,
            unassigned=tuple(incidents["id"].iloc[j] for j in range(len(incidents))
                             if j not in done),
            unassigned_by_priority=by_priority)

    result = BatchPlan(objective=objective,
                       optimal=plan(f"optimal-{objective}",
                                    assign_optimal(cost, weight=weight, priority=priority,
                                                   objective=objective)),
                       greedy=plan("greedy", assign_greedy(cost, priority=priority)))
    store.record("plan_batch", actor=actor,
                 inputs={"objective": objective, "include_returning": include_returning,
                         "skill_policy": skill_policy, "incident_ids": incident_ids},
                 result=result.to_dict())
    return result
