"""Response-time compliance: dispatch-to-on-scene times against a target per priority."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["DEFAULT_TARGETS_MIN", "MIN_ARRIVALS", "ComplianceRow", "compliance_by_group",
           "compliance_by_priority"]

#: Default dispatch-to-on-scene targets, minutes, per priority (1 highest); configurable per
#: report (``navigator compliance --target 1=15``).
DEFAULT_TARGETS_MIN = {1: 20.0, 2: 30.0, 3: 60.0, 4: 120.0}
#: A cell with fewer arrivals than this is flagged ``few``: its p50 / p90 / share mean little.
MIN_ARRIVALS = 5


@dataclass(frozen=True)
class ComplianceRow:
    """One priority's response times over a period.

    Attributes
    ----------
    priority
        1 (highest) to 4.
    dispatched
        Assignments made in the period.
    arrived
        Of those, how many teams were recorded on scene.
    p50_s, p90_s
        Median and 90th percentile dispatch-to-on-scene time, seconds (None: no arrival).
    target_s
        The target, seconds.
    within_target
        Share of arrivals within the target (None: no arrival).
    group
        Which group (e.g. compliance area) the row is for, 0-based (0 when not grouped).
    few
        Fewer than :data:`MIN_ARRIVALS` arrivals: too few for the figures to mean much.
    """

    priority: int
    dispatched: int
    arrived: int
    p50_s: float | None
    p90_s: float | None
    target_s: float
    within_target: float | None
    group: int = 0
    few: bool = True

    def to_dict(self) -> dict[str, Any]:
        """Return the row as plain values."""
        return dict(self.__dict__)


def compliance_by_priority(priority: npt.ArrayLike, response_s: npt.ArrayLike, *,
                           targets_s: dict[int, float]) -> tuple[ComplianceRow, ...]:
    """Return per-priority p50 / p90 response time and share within target.

    Parameters
    ----------
    priority
        Priority of each dispatch.
    response_s
        Dispatch-to-on-scene time of each, seconds; NaN when no arrival was recorded
        (cancelled, or still on the way).
    targets_s
        Target per priority, seconds; every priority in ``priority`` needs one.

    Returns
    -------
    tuple of ComplianceRow
        One per priority present (and per priority with a target), ascending.
    """
    p = np.asarray(priority, dtype=np.int64).reshape(-1)
    return compliance_by_group(np.zeros(p.shape, dtype=np.int64), p, response_s,
                               targets_s=[targets_s])


def compliance_by_group(group: npt.ArrayLike, priority: npt.ArrayLike,
                        response_s: npt.ArrayLike, *,
                        targets_s: Sequence[Mapping[int, float]]) -> tuple[ComplianceRow, ...]:
    """Return p50 / p90 response time and share within target per group and priority.

    Parameters
    ----------
    group
        Group of each dispatch (e.g. the compliance area of its incident), 0-based.
    priority
        Priority of each dispatch.
    response_s
        Dispatch-to-on-scene time of each, seconds; NaN when no arrival was recorded.
    targets_s
        Per group, the target per priority, seconds; a group's priorities must cover those
        of its dispatches.

    Returns
    -------
    tuple of ComplianceRow
        One per group and priority (with a target or a dispatch), by group then priority;
        ``few`` flags cells with fewer than :data:`MIN_ARRIVALS` arrivals.

    Raises
    ------
    ValueError
        Arrays of different lengths, a group outside ``targets_s`` or a priority without a
        target.
    """
    g = np.asarray(group, dtype=np.int64).reshape(-1)
    p = np.asarray(priority, dtype=np.int64).reshape(-1)
    t = np.asarray(response_s, dtype=np.float64).reshape(-1)
    if not (g.shape == p.shape == t.shape):
        msg = f"group, priority and response_s differ in length ({g.size}, {p.size}, {t.size})"
        raise ValueError(msg)
    if g.size and (g.min() < 0 or g.max() >= len(targets_s)):
        msg = f"group {int(g.min())}..{int(g.max())} outside the {len(targets_s)} target sets"
        raise ValueError(msg)
    rows = []
    for index, targets in enumerate(targets_s):
        mine_p, mine_t = p[g == index], t[g == index]
        missing = sorted(set(mine_p.tolist()) - set(targets))
        if missing:
            msg = f"no response target for priority {missing}"
            raise ValueError(msg)
        for level in sorted(set(mine_p.tolist()) | set(targets)):
            mine = mine_t[mine_p == level]
            came = mine[np.isfinite(mine)]
            target = float(targets[level])
            rows.append(ComplianceRow(
                priority=int(level), dispatched=int(mine.size), arrived=int(came.size),
                p50_s=float(np.percentile(came, 50)) if came.size else None,
                p90_s=float(np.percentile(came, 90)) if came.size else None,
                target_s=target,
                within_target=float(np.mean(came <= target)) if came.size else None,
                group=index, few=bool(came.size < MIN_ARRIVALS)))
    return tuple(rows)
