"""Busy-aware coverage: expected covering (MEXCLP), backup coverage and coverage counts.

A crisis team is busy a share of its shift; a place reachable from one base that is busy 40 %
of the time is not covered like a place reachable from three. :func:`expected_coverage` is
Daskin's maximum expected covering location problem (1983): with every base busy
independently with probability ``q``, a unit within the target of ``n`` open bases is
covered with probability ``1 - q**n``. :func:`backup_coverage` maximises the people within
the target of at least two open sites (Hogan and ReVelle 1986). Both are exact MILPs (HiGHS)
started from a greedy solution, like the other models.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from navigator.decide._cover import level_coverage
from navigator.decide._expected import expected_by_site
from navigator.decide._locate import (
    Allocation,
    check_budget,
    check_inputs,
    check_people,
    check_reachable,
    check_target,
)
from navigator.errors import ValidationError

__all__ = ["backup_coverage", "coverage_counts", "expected_coverage", "people_by_count"]


def _busy(busy: float | npt.ArrayLike, n_demand: int) -> npt.NDArray[np.float64]:
    q = np.asarray(busy, dtype=np.float64)
    if q.ndim > 1 or (q.ndim == 1 and q.shape != (n_demand,)):
        msg = (f"busy must be one fraction or one per demand unit ({n_demand}), got shape "
               f"{q.shape}")
        raise ValidationError(msg)
    if not np.isfinite(q).all() or (q < 0).any() or (q >= 1).any():
        msg = ("busy fractions must be in [0, 1) (the share of time a base's team is out on a "
               f"call; 1 would mean never available), got {np.unique(q)[:5].tolist()}")
        raise ValidationError(msg)
    return np.broadcast_to(q, (n_demand,))


def expected_coverage(cost_s: npt.ArrayLike, people: npt.ArrayLike | None = None, *, k: int,
                      target_s: float, busy: float | npt.ArrayLike,
                      forced: npt.ArrayLike = (), forced_busy: npt.ArrayLike | None = None,
                      site_busy: npt.ArrayLike | None = None, time_limit_s: float = 60.0
                      ) -> Allocation:
    """Choose k new bases maximising the expected people covered within ``target_s`` (MEXCLP).

    Parameters
    ----------
    cost_s
        Seconds, ``(n_sites, n_demand)``; ``inf`` = unreachable.
    people
        People per demand unit (default 1 each).
    k
        Number of new bases (one team each).
    target_s
        Coverage target, seconds.
    busy
        Probability a base's team is busy, in [0, 1): one value for every base (Daskin's
        ``q``, e.g. the teams' utilisation setting) or one per demand unit (the busy share of
        the bases serving that area, e.g. from the simulator).
    forced
        Row indices of bases open regardless (existing bases).
    forced_busy
        Busy fraction of each forced base, in the order of ``forced`` (e.g. measured per
        base, or a base's teams combined); default ``busy``.
    site_busy
        Busy fraction of every site row, in [0, 1) (``n_sites`` values: a candidate's own,
        e.g. from the simulator, else the setting); ``busy`` must then be one fraction, and
        ``forced_busy``, when given, still wins for the forced rows.
    time_limit_s
        HiGHS time limit, seconds.

    Returns
    -------
    Allocation
        ``objective``: expected people covered, ``sum people * (1 - prod q_j)`` over the open
        bases ``j`` within the target (``1 - q**n`` with one fraction).

    Notes
    -----
    Still exact and linear with per-base fractions for the forced bases: they are open in
    every solution, so a unit within reach of forced bases busy ``Q = prod q_j`` and of ``n``
    new ones is covered with probability ``1 - Q q**n``, a per-unit level coefficient. New
    sites with fractions of their own (``site_busy`` not all equal) are solved by outer
    approximation (:mod:`navigator.decide._expected`), exact to a relative 1e-6.
    """
    c, w, f = check_inputs(cost_s, people, forced)
    target = check_target(target_s)
    k = check_budget(k, c.shape[0] - f.size, "k")
    q = _busy(busy, c.shape[1])
    check_people(w, "mexclp")
    cover = c <= target
    check_reachable(cover, w, target, "mexclp")
    q_forced = _forced_busy(forced, forced_busy, f)
    if site_busy is not None:
        q_site = _site_busy(site_busy, c.shape[0], busy)
        if q_forced is not None:
            q_site[f] = q_forced
        free = np.setdiff1d(np.arange(c.shape[0]), f)
        if free.size and not (q_site[free] == q_site[free[0]]).all():
            return expected_by_site(c, w, f, k=k, target=target, q=q_site,
                                    time_limit_s=time_limit_s)
        q = np.full(c.shape[1], q_site[free[0]] if free.size else float(q[0]))
        q_forced = q_site[f]
    # forced bases' chance all are busy, per unit; their levels carry 1 - Q in the first
    n_f = cover[f].sum(axis=0)
    all_busy = np.where(cover[f], q_forced[:, None], 1.0).prod(axis=0) if q_forced is not None \
        else q ** n_f
    levels = max(1, min(k + f.size, c.shape[0]))
    extra = np.arange(levels)[None, :] - n_f[:, None]  # new bases before this level
    coef = np.where(extra >= 0, all_busy[:, None] * (1.0 - q)[:, None]
                    * q[:, None] ** np.maximum(extra, 0), 0.0)
    coef[:, 0] = np.where(n_f > 0, 1.0 - all_busy, coef[:, 0])
    return level_coverage("mexclp", c, w, f, k=k, target=target, coef=coef,
                          time_limit_s=time_limit_s)


def _site_busy(site_busy: npt.ArrayLike, n_sites: int, busy: float | npt.ArrayLike
               ) -> npt.NDArray[np.float64]:
    """Return one busy fraction per site row, checked, as a new array."""
    if np.ndim(busy) != 0:
        msg = "site_busy needs busy as one fraction (not one per demand unit)"
        raise ValidationError(msg)
    qs = np.array(site_busy, dtype=np.float64).reshape(-1)
    if qs.shape != (n_sites,):
        msg = f"site_busy needs one fraction per site ({n_sites}), got {qs.size}"
        raise ValidationError(msg)
    bad = ~(np.isfinite(qs) & (qs >= 0) & (qs < 1))
    if bad.any():
        at = int(np.flatnonzero(bad)[0])
        msg = f"busy fraction of site row {at} must be in [0, 1), got {qs[at]!r}"
        raise ValidationError(msg)
    return qs


def _forced_busy(forced: npt.ArrayLike, forced_busy: npt.ArrayLike | None,
                 f: npt.NDArray[np.int64]) -> npt.NDArray[np.float64] | None:
    """Return the busy fraction per sorted forced row, checked (None: not given)."""
    if forced_busy is None:
        return None
    rows = np.asarray(forced, dtype=np.int64).reshape(-1)
    fb = np.asarray(forced_busy, dtype=np.float64).reshape(-1)
    if fb.shape != rows.shape:
        msg = f"forced_busy needs one fraction per forced base ({rows.size}), got {fb.size}"
        raise ValidationError(msg)
    out = np.full(f.size, np.nan)
    for row, value in zip(rows.tolist(), fb.tolist(), strict=True):
        if not (np.isfinite(value) and 0.0 <= value < 1.0):
            msg = (f"busy fraction of forced base (site row {row}) must be in [0, 1), got "
                   f"{value!r}")
            raise ValidationError(msg)
        at = int(np.searchsorted(f, row))
        if np.isfinite(out[at]) and out[at] != value:
            msg = f"forced base (site row {row}) has two busy fractions: {out[at]} and {value}"
            raise ValidationError(msg)
        out[at] = value
    return out


def backup_coverage(cost_s: npt.ArrayLike, people: npt.ArrayLike | None = None, *, k: int,
                    target_s: float, single_weight: float = 0.0, forced: npt.ArrayLike = (),
                    time_limit_s: float = 60.0) -> Allocation:
    """Choose k new sites maximising the people within ``target_s`` of two open sites.

    Parameters
    ----------
    cost_s, people, k, target_s, forced, time_limit_s
        As in :func:`expected_coverage`.
    single_weight
        Weight, in [0, 1], of first coverage beside double coverage (Hogan and ReVelle's
        BACOP2 ``theta / (1 - theta)``); 0 maximises double coverage only (greedy ties are
        still broken toward people covered once).

    Returns
    -------
    Allocation
        ``objective``: people covered at least twice, plus ``single_weight`` times people
        covered at least once.
    """
    c, w, f = check_inputs(cost_s, people, forced)
    target = check_target(target_s)
    k = check_budget(k, c.shape[0] - f.size, "k")
    a = float(single_weight)
    if not 0.0 <= a <= 1.0:
        msg = f"single_weight must be in [0, 1], got {single_weight!r}"
        raise ValidationError(msg)
    check_people(w, "backup")
    check_reachable(c <= target, w, target, "backup")
    return level_coverage("backup", c, w, f, k=k, target=target, coef=np.array([a, 1.0]),
                          time_limit_s=time_limit_s)


def coverage_counts(cost_s: npt.ArrayLike, open_rows: npt.ArrayLike, *, target_s: float
                    ) -> npt.NDArray[np.int64]:
    """Return, per demand unit, how many of ``open_rows`` reach it within ``target_s``.

    Parameters
    ----------
    cost_s
        Seconds, ``(n_sites, n_demand)``; ``inf`` = unreachable.
    open_rows
        Row indices of the open sites (bases, clinics).
    target_s
        Coverage target, seconds.
    """
    c, _, rows = check_inputs(cost_s, None, open_rows)
    target = check_target(target_s)
    return (c[rows] <= target).sum(axis=0).astype(np.int64)


def people_by_count(counts: npt.ArrayLike, people: npt.ArrayLike, *, k_max: int = 3
                    ) -> npt.NDArray[np.float64]:
    """Return the people covered by at least k sites, for k = 0..k_max (entry 0 is everyone).

    Parameters
    ----------
    counts
        Sites within the target per demand unit (:func:`coverage_counts`).
    people
        People per demand unit.
    k_max
        Largest k reported ("covered by at least 3 bases" for the coverage page).
    """
    n = np.asarray(counts, dtype=np.int64)
    w = np.asarray(people, dtype=np.float64)
    if n.shape != w.shape or n.ndim != 1 or (n < 0).any():
        msg = "counts and people must be 1-d, of equal length, counts non-negative"
        raise ValidationError(msg)
    if isinstance(k_max, bool) or not isinstance(k_max, int | np.integer) or k_max < 0:
        msg = f"k_max must be a non-negative integer, got {k_max!r}"
        raise ValidationError(msg)
    return np.array([float(w[n >= k].sum()) for k in range(int(k_max) + 1)])
