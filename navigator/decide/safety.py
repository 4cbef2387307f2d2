"""Team safety check-ins: when each team on scene is due, and which are overdue."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["checkin_due"]


def checkin_due(on_scene_s: npt.ArrayLike, checked_in_s: npt.ArrayLike,
                acknowledged_s: npt.ArrayLike, *, now_s: float, interval_s: float
                ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Return when each team's next check-in is due and how long it is overdue.

    The clock restarts at the latest of arrival on scene, the last check-in and the last
    acknowledgement of an overdue alert (an acknowledgement buys one more interval).

    Parameters
    ----------
    on_scene_s, checked_in_s, acknowledged_s
        Epoch seconds per team; NaN where there is none (``on_scene_s`` must be set).
    now_s
        Now, epoch seconds.
    interval_s
        Seconds allowed between check-ins (positive).

    Returns
    -------
    due_s, overdue_s
        Epoch seconds the check-in is due, and seconds past it (0 when not yet due).
    """
    if not interval_s > 0 or not np.isfinite(interval_s):
        msg = f"interval_s must be a positive number of seconds, got {interval_s!r}"
        raise ValueError(msg)
    stack = np.vstack([np.asarray(a, dtype=np.float64).reshape(-1)
                       for a in (on_scene_s, checked_in_s, acknowledged_s)])
    if stack.shape[1] and np.isnan(stack[0]).any():
        msg = "on_scene_s must be set for every team"
        raise ValueError(msg)
    start = np.nanmax(stack, axis=0) if stack.shape[1] else np.zeros(0)
    due = start + float(interval_s)
    return due, np.maximum(0.0, float(now_s) - due)
