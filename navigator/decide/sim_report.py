"""What a simulated policy achieved: response times by priority and area, utilisation, waits.

:func:`policy_report` turns one run (:mod:`navigator.decide._sim_engine`) into a frozen
:class:`PolicyReport`. Response time is from the call to the team on scene; calls no team
reached before the run ended are *unserved*: counted per priority and area, never given a
time, and never within target. A figure with nothing to compute from is None, not 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from navigator.jsonsafe import json_safe

if TYPE_CHECKING:
    from navigator.decide._sim_engine import EngineOutput

__all__ = ["CDF_MINUTES", "PolicyReport", "percentile", "policy_report"]

#: Minutes at which the response-time CDF is given (share of all calls reached by then).
CDF_MINUTES = np.arange(0, 121, dtype=np.float64)


def percentile(values: npt.ArrayLike, q: float) -> float | None:
    """Return the ``q``-th percentile of the finite values, or None when there are none."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    return float(np.percentile(v, q)) if v.size else None


def _group(response_s: npt.NDArray[np.float64], target_s: npt.NDArray[np.float64],
           wait_s: npt.NDArray[np.float64]) -> dict[str, Any]:
    served = np.isfinite(response_s)
    n = int(response_s.size)
    return {"calls": n, "served": int(served.sum()), "unserved": int(n - served.sum()),
            "p50_s": percentile(response_s, 50), "p90_s": percentile(response_s, 90),
            "mean_wait_s": float(wait_s[served].mean()) if served.any() else None,
            "share_within_target": float(np.mean(served & (response_s <= target_s)))
            if n else None}


def _per_hour(intervals: npt.NDArray[np.float64], start_tod_s: float, horizon_s: float
              ) -> npt.NDArray[np.float64]:
    """Return seconds of ``(team, start, end)`` intervals per local hour of day (24 values)."""
    out = np.zeros(24)
    for _, a, b in intervals:
        a, b = max(float(a), 0.0), min(float(b), horizon_s)
        while a < b:
            local = a + start_tod_s
            edge = (np.floor(local / 3600.0) + 1) * 3600.0 - start_tod_s
            stop = min(b, edge)
            out[int(local // 3600.0) % 24] += stop - a
            a = stop
    return out


@dataclass(frozen=True, eq=False)
class PolicyReport:
    """One policy over one call stream.

    Attributes
    ----------
    policy, label
        The policy name and the scenario label (e.g. ``"closest, 8 teams"``).
    response_s, wait_s
        Per call: call to team on scene, and call to (last) dispatch, seconds; NaN unserved.
    team
        Team position that served each call (-1 unserved).
    overall, by_priority, by_area
        ``calls``, ``served``, ``unserved``, ``p50_s``, ``p90_s``, ``mean_wait_s``,
        ``share_within_target`` (of all calls: unserved count as missed); rows by priority
        (1 first) and by area label.
    utilisation, team_utilisation, utilisation_by_hour
        Busy share of on-duty time (travel, on scene, return), over all teams, per team, and
        per local hour of day (None where no team was on duty).
    calls_waited, mean_queue, max_queue
        Calls that found no team to send, the time-averaged and the largest number waiting.
    preemptions
        Calls whose team was diverted to a more urgent one.
    cdf_share
        Share of all calls reached within each of :data:`CDF_MINUTES`.
    """

    policy: str
    label: str
    response_s: npt.NDArray[np.float64]
    wait_s: npt.NDArray[np.float64]
    team: npt.NDArray[np.int64]
    overall: dict[str, Any]
    by_priority: tuple[dict[str, Any], ...]
    by_area: tuple[dict[str, Any], ...]
    utilisation: float | None
    team_utilisation: tuple[float | None, ...]
    utilisation_by_hour: tuple[float | None, ...]
    calls_waited: int
    mean_queue: float
    max_queue: int
    preemptions: int
    cdf_share: tuple[float, ...]

    @property
    def unserved(self) -> int:
        """Calls no team reached."""
        return int(self.overall["unserved"])

    def summary(self) -> dict[str, Any]:
        """Return the figures as plain JSON types (no per-call arrays)."""
        return json_safe({
            "policy": self.policy, "label": self.label, **self.overall,
            "by_priority": list(self.by_priority), "by_area": list(self.by_area),
            "utilisation": self.utilisation, "team_utilisation": list(self.team_utilisation),
            "utilisation_by_hour": list(self.utilisation_by_hour),
            "calls_waited": self.calls_waited, "mean_queue": self.mean_queue,
            "max_queue": self.max_queue, "preemptions": self.preemptions,
            "cdf": {"minutes": CDF_MINUTES.tolist(), "share": list(self.cdf_share)}})


def policy_report(out: EngineOutput, *, policy: str, label: str,
                  call_time_s: npt.NDArray[np.float64], priority: npt.NDArray[np.int64],
                  area: Sequence[str], target_s: npt.NDArray[np.float64], n_teams: int,
                  start_tod_s: float, horizon_s: float) -> PolicyReport:
    """Return the report of one run.

    Parameters
    ----------
    out
        The run.
    policy, label
        Names for the report.
    call_time_s, priority, area, target_s
        Per call: time (seconds from the start), priority 1-4, area label, target seconds.
    n_teams
        Teams in the roster.
    start_tod_s
        Local seconds into the day at the start (for utilisation by hour).
    horizon_s
        Seconds over which utilisation is measured (from 0).
    """
    response = out.arrive_s - call_time_s
    wait = out.dispatch_s - call_time_s
    areas = np.asarray(list(area), dtype=object)
    by_priority = tuple({"priority": int(p), **_group(response[priority == p],
                                                      target_s[priority == p],
                                                      wait[priority == p])}
                        for p in np.unique(priority))
    by_area: tuple[dict[str, Any], ...] = ()
    if areas.size:
        labels, inverse = np.unique(areas, return_inverse=True)
        by_area = tuple({"area": str(a), **_group(response[inverse == k],
                                                  target_s[inverse == k], wait[inverse == k])}
                        for k, a in enumerate(labels))
    busy_h = _per_hour(out.busy, start_tod_s, horizon_s)
    duty_h = _per_hour(out.duty, start_tod_s, horizon_s)
    by_hour = tuple(float(b / d) if d > 0 else None for b, d in zip(busy_h, duty_h, strict=True))
    per_team = []
    for i in range(n_teams):
        b = _per_hour(out.busy[out.busy[:, 0] == i], start_tod_s, horizon_s).sum()
        d = _per_hour(out.duty[out.duty[:, 0] == i], start_tod_s, horizon_s).sum()
        per_team.append(float(b / d) if d > 0 else None)
    total_duty = duty_h.sum()
    reached = np.where(np.isfinite(response), response, np.inf)
    cdf = tuple(float(np.mean(reached <= m * 60.0)) if reached.size else 0.0
                for m in CDF_MINUTES)
    return PolicyReport(
        policy=policy, label=label, response_s=response, wait_s=wait, team=out.team,
        overall=_group(response, target_s, wait), by_priority=by_priority, by_area=by_area,
        utilisation=float(busy_h.sum() / total_duty) if total_duty > 0 else None,
        team_utilisation=tuple(per_team), utilisation_by_hour=by_hour,
        calls_waited=int(out.waited.sum()),
        mean_queue=float(out.queue_area_s / out.end_s) if out.end_s > 0 else 0.0,
        max_queue=int(out.queue_max), preemptions=int(out.preempted.sum()), cdf_share=cdf)
