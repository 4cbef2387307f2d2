"""Location-allocation on travel-time matrices: the models, exact and greedy, in one place.

Public API
----------
- :class:`Allocation` - chosen sites, objective, status, proven gap and the greedy baseline.
- :func:`max_coverage` - maximal covering (MCLP): k new sites maximising people within a target.
- :func:`min_sites` - set covering (LSCP): fewest new sites covering every coverable unit.
- :func:`p_median` - p new sites minimising people-weighted travel time (radius formulation).
- :func:`p_center` - p new sites minimising the worst travel time.
- :func:`expected_coverage` - MEXCLP: expected people covered when bases are busy.
- :func:`backup_coverage` - people covered twice within the target.
- :func:`coverage_counts`, :func:`people_by_count` - how many open sites reach each unit.
- :func:`cost_matrix` - the one adapter from the road network: sites x demand nodes, seconds.
- :data:`MODELS` - every model name (``Allocation.model``), for menus and request schemas.

Every model takes ``cost_s`` shaped ``(n_sites, n_demand)`` in seconds (``inf`` = unreachable)
and ``people`` per demand unit, and is solved exactly with HiGHS (``highspy``), started from the
greedy solution; the better of the two is returned, with HiGHS's status and proven gap. Sites
listed in ``forced`` (existing facilities) are open in every solution and count toward no
budget. Only pairs within the target (covering models) or below the incumbent's level
(p-median) become matrix entries, so the models stay sparse.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt

from navigator.decide._cover import level_coverage, min_sites
from navigator.decide._locate import (
    OBJECTIVES,
    Allocation,
    check_budget,
    check_inputs,
    check_reachable,
    check_target,
)
from navigator.decide.busy import (
    backup_coverage,
    coverage_counts,
    expected_coverage,
    people_by_count,
)
from navigator.decide.pcenter import p_center
from navigator.decide.pmedian import p_median
from navigator.errors import ValidationError
from navigator.model import MODELS, Model

if TYPE_CHECKING:
    from navigator.roads import EdgeSnap, TravelGraph

__all__ = ["MODELS", "OBJECTIVES", "Allocation", "Model", "backup_coverage", "cost_matrix",
           "coverage_counts", "expected_coverage", "max_coverage", "min_sites", "p_center",
           "p_median", "people_by_count"]


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
    c, w, f = check_inputs(cost_s, people, forced)
    target = check_target(target_s)
    k = check_budget(k, c.shape[0] - f.size, "k")
    check_reachable(c <= target, w, target, "mclp")
    return level_coverage("mclp", c, w, f, k=k, target=target, coef=np.ones(1),
                          time_limit_s=time_limit_s)


def cost_matrix(tg: TravelGraph, site_nodes: npt.ArrayLike, demand_nodes: npt.ArrayLike, *,
                direction: Literal["from", "to"] = "from", cutoff_s: float | None = None,
                site_points: EdgeSnap | None = None) -> npt.NDArray[np.float64]:
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
    site_points
        The sites as on-road points (:func:`navigator.roads.snap_to_edges`, same order):
        times then include the partial edge time at each site (one search per site).
    """
    from navigator.roads import travel_time_matrix, travel_times_from_point, travel_times_to_point

    sites = np.asarray(site_nodes, dtype=np.int64)
    dem = np.asarray(demand_nodes, dtype=np.int64)
    ok = dem >= 0
    out = np.full((sites.size, dem.size), np.inf)
    if direction not in ("from", "to"):
        msg = f"direction must be 'from' or 'to', got {direction!r}"
        raise ValidationError(msg)
    if site_points is not None:
        if len(site_points) != sites.size:
            msg = f"{len(site_points)} site points for {sites.size} site nodes"
            raise ValidationError(msg)
        one = travel_times_from_point if direction == "from" else travel_times_to_point
        for i in range(sites.size):
            out[i, ok] = one(tg, site_points.take(i), dem[ok], cutoff_s=cutoff_s)
        return out
    if direction == "from":
        out[:, ok] = travel_time_matrix(tg, sites, dem[ok], cutoff_s=cutoff_s)
    elif direction == "to":
        out[:, ok] = travel_time_matrix(tg, dem[ok], sites, cutoff_s=cutoff_s).T
    else:
        msg = f"direction must be 'from' or 'to', got {direction!r}"
        raise ValidationError(msg)
    return out
