"""p-median bounds and improvements: Lagrangian subgradient, reduced-cost fixing, swaps.

Beasley's Lagrangian relaxation (1993) of the assignment constraints: with multipliers
``lam``, site ``j`` is worth ``rho[j] = sum_i min(0, wd[i, j] - lam[i])`` and the bound is
``sum(lam) + the p most negative rho`` (plus the forced sites'). Kernels walk each unit's
sites in increasing cost and stop at the first non-negative term, so an iteration touches
only the pairs cheaper than the multipliers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numba as nb
import numpy as np
import numpy.typing as npt


@nb.njit(cache=True)
def _rho(wd_sorted: npt.NDArray[np.float64], order: npt.NDArray[np.int64],
         lam: npt.NDArray[np.float64], n_sites: int) -> npt.NDArray[np.float64]:
    rho = np.zeros(n_sites)
    for i in range(wd_sorted.shape[0]):
        for t in range(wd_sorted.shape[1]):
            v = wd_sorted[i, t] - lam[i]
            if v >= 0.0:
                break
            rho[order[i, t]] += v
    return rho


@nb.njit(cache=True)
def _subgradient(wd_sorted: npt.NDArray[np.float64], order: npt.NDArray[np.int64],
                 lam: npt.NDArray[np.float64], is_open: npt.NDArray[np.bool_]
                 ) -> npt.NDArray[np.float64]:
    g = np.ones(wd_sorted.shape[0])
    for i in range(wd_sorted.shape[0]):
        for t in range(wd_sorted.shape[1]):
            if wd_sorted[i, t] - lam[i] >= 0.0:
                break
            if is_open[order[i, t]]:
                g[i] -= 1.0
    return g


@nb.njit(cache=True)
def _cost(wd_sorted: npt.NDArray[np.float64], order: npt.NDArray[np.int64],
          is_open: npt.NDArray[np.bool_]) -> float:
    total = 0.0
    for i in range(wd_sorted.shape[0]):
        best = np.inf
        for t in range(wd_sorted.shape[1]):
            if is_open[order[i, t]]:
                best = wd_sorted[i, t]
                break
        total += best
    return total


@dataclass(frozen=True)
class Bound:
    """The Lagrangian's best bound and what it lets us fix."""

    lower: float
    sites: npt.NDArray[np.int64]  # best free sites found (upper bound), incl. local search
    upper: float
    fix_open: npt.NDArray[np.int64]
    fix_closed: npt.NDArray[np.int64]
    lam: npt.NDArray[np.float64]  # best multipliers, people-weighted seconds per unit
    iterations: int
    seconds: float


def swap_improve(wd: npt.NDArray[np.float64], forced: npt.NDArray[np.int64],
                 sites: npt.NDArray[np.int64], *, passes: int = 10) -> npt.NDArray[np.int64]:
    """Return ``sites`` improved by single swaps (best replacement per open site, in turn)."""
    n_s = wd.shape[0]
    cur = [int(s) for s in sites]
    for _ in range(passes):
        improved = False
        for pos in range(len(cur)):
            rows = np.r_[forced, np.asarray(cur, dtype=np.int64)].astype(np.int64)
            sub = wd[rows]
            srt = np.sort(sub, axis=0)
            d1 = srt[0]
            d2 = srt[1] if rows.size > 1 else np.full(wd.shape[1], np.inf)
            base = float(d1.sum())
            without = np.where(sub[forced.size + pos] <= d1, d2, d1)
            with np.errstate(invalid="ignore"):
                value = np.minimum(without[None, :], wd).sum(axis=1)
            value[rows] = np.inf
            j = int(np.argmin(value))
            if value[j] < base * (1 - 1e-12) and j < n_s:
                cur[pos] = j
                improved = True
        if not improved:
            break
    return np.sort(np.asarray(cur, dtype=np.int64))


def lagrangian(wd: npt.NDArray[np.float64], forced: npt.NDArray[np.int64], p: int,
               start: npt.NDArray[np.int64], *, max_iter: int = 3000,
               stop_gap: float = 1e-5, tol: float = 1e-9) -> Bound:
    """Run the subgradient method from ``start`` (free sites) and fix what the bound proves.

    ``wd`` is people-weighted seconds, ``(sites, units)``. The iterations stop at a relative
    gap of ``stop_gap`` (the MILP on what is left closes the rest faster). A site is fixed
    closed (open) when opening (closing) it lifts the bound to within ``tol`` of the best
    solution, so every solution better than the returned ``upper`` keeps those fixings.
    """
    t0 = time.perf_counter()
    n_s = wd.shape[0]
    order = np.argsort(wd.T, axis=1, kind="stable").astype(np.int64)
    wd_sorted = np.take_along_axis(wd.T, order, axis=1).copy()
    free = np.ones(n_s, bool)
    free[forced] = False
    free_idx = np.flatnonzero(free)

    def value(rows: npt.NDArray[np.int64]) -> float:
        is_open = np.zeros(n_s, bool)
        is_open[rows] = True
        return float(_cost(wd_sorted, order, is_open))

    best_sites = swap_improve(wd, forced, start)
    ub = value(np.r_[forced, best_sites].astype(np.int64))
    rows0 = np.r_[forced, best_sites].astype(np.int64)
    lam = np.where(np.isfinite(wd[rows0].min(axis=0)), wd[rows0].min(axis=0), 0.0)
    lb, best_lam, step, stall, it = -np.inf, lam.copy(), 2.0, 0, 0
    for it in range(1, max_iter + 1):
        rho = _rho(wd_sorted, order, lam, n_s)
        pick = free_idx[np.argpartition(rho[free_idx], p - 1)[:p]] if p else free_idx[:0]
        bound = float(lam.sum() + rho[forced].sum() + rho[pick].sum())
        if bound > lb + 1e-12 * abs(ub):
            lb, best_lam, stall = bound, lam.copy(), 0
        else:
            stall += 1
            if stall >= 60:
                step, stall = step / 2, 0
        v = value(np.r_[forced, pick].astype(np.int64))
        if v < ub:
            ub, best_sites = v, np.sort(pick)
        if it % 100 == 0:  # the relaxation's choice is often a swap or two from a better one
            better = swap_improve(wd, forced, pick)
            v = value(np.r_[forced, better].astype(np.int64))
            if v < ub:
                ub, best_sites = v, better
        if ub - lb <= stop_gap * ub or step < 1e-5:
            break
        is_open = np.zeros(n_s, bool)
        is_open[forced] = True
        is_open[pick] = True
        g = _subgradient(wd_sorted, order, lam, is_open)
        norm = float((g * g).sum())
        if norm == 0:
            break
        lam = np.maximum(lam + step * (ub - bound) / norm * g, 0.0)
    improved = swap_improve(wd, forced, best_sites)
    v = value(np.r_[forced, improved].astype(np.int64))
    if v < ub:
        ub, best_sites = v, improved
    rho = _rho(wd_sorted, order, best_lam, n_s)
    ranked = free_idx[np.argsort(rho[free_idx], kind="stable")]
    if p == 0 or p == free_idx.size:  # nothing to choose
        return Bound(ub, best_sites, ub, ranked[:p].astype(np.int64),
                     ranked[p:].astype(np.int64), best_lam, it, time.perf_counter() - t0)
    inside, outside = ranked[:p], ranked[p:]
    rho_p, rho_next = rho[inside[-1]], rho[outside[0]]
    cut = ub - tol * abs(ub)
    fix_closed = outside[lb - rho_p + rho[outside] >= cut]
    fix_open = inside[lb - rho[inside] + rho_next >= cut]
    return Bound(lb, best_sites, ub, np.sort(fix_open).astype(np.int64),
                 np.sort(fix_closed).astype(np.int64), best_lam, it, time.perf_counter() - t0)
