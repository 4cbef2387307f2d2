"""Response-time compliance: dispatch-to-on-scene times against a target per priority."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["DEFAULT_TARGETS_MIN", "ComplianceRow", "compliance_by_priority"]

#: Default dispatch-to-on-scene targets, minutes, per priority (1 highest); configurable per
#: report (``navigator compliance --target 1=15``).
DEFAULT_TARGETS_MIN = {1: 20.0, 2: 30.0, 3: 60.0, 4: 120.0}


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
    """

    priority: int
    dispatched: int
    arrived: int
    p50_s: float | None
    p90_s: float | None
    target_s: float
    within_target: float | None

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
    t = np.asarray(response_s, dtype=np.float64).reshape(-1)
    if p.shape != t.shape:
        msg = f"priority and response_s differ in length ({p.size} vs {t.size})"
        raise ValueError(msg)
    missing = sorted(set(p.tolist()) - set(targets_s))
    if missing:
        msg = f"no response target for priority {missing}"
        raise ValueError(msg)
    rows = []
    for level in sorted(set(p.tolist()) | set(targets_s)):
        mine = t[p == level]
        came = mine[np.isfinite(mine)]
        target = float(targets_s[level])
        rows.append(ComplianceRow(
            priority=int(level), dispatched=int(mine.size), arrived=int(came.size),
            p50_s=float(np.percentile(came, 50)) if came.size else None,
            p90_s=float(np.percentile(came, 90)) if came.size else None,
            target_s=target,
            within_target=float(np.mean(came <= target)) if came.size else None))
    return tuple(rows)
