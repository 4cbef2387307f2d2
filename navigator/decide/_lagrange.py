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


@nb.njit(cache=True)
def _swaps(wd: npt.NDArray[np.float64], forced: npt.NDArray[np.int64],
           sites: npt.NDArray[np.int64], passes: int) -> npt.NDArray[np.int64]:
    n_s, n_u = wd.shape
    cur = sites.copy()
    is_open = np.zeros(n_s, np.bool_)
    is_open[forced] = True
    is_open[cur] = True
    d1, d2 = np.empty(n_u), np.empty(n_u)
    arg1 = np.empty(n_u, np.int64)
    without = np.empty(n_u)
    for _ in range(passes):
        improved = False
        for pos in range(cur.size):
            d1[:], d2[:], arg1[:] = np.inf, np.inf, -1
            for r in np.flatnonzero(is_open):
                for i in range(n_u):
                    v = wd[r, i]
                    if v < d1[i]:
                        d2[i], d1[i], arg1[i] = d1[i], v, r
                    elif v < d2[i]:
                        d2[i] = v
            base = 0.0
            for i in range(n_u):
                base += d1[i]
                without[i] = d2[i] if arg1[i] == cur[pos] else d1[i]
            best_v, best_j = base * (1 - 1e-12), -1
            for j in range(n_s):
                if is_open[j]:
                    continue
                v = 0.0
                for i in range(n_u):  # partial sums only grow: stop once past the best
                    v += min(without[i], wd[j, i])
                    if v >= best_v:
                        break
                if v < best_v:
                    best_v, best_j = v, j
            if best_j >= 0:
                is_open[cur[pos]] = False
                is_open[best_j] = True
                cur[pos] = best_j
                improved = True
        if not improved:
            break
    return np.sort(cur)


def swap_improve(wd: npt.NDArray[np.float64], forced: npt.NDArray[np.int64],
                 sites: npt.NDArray[np.int64], *, passes: int = 10) -> npt.NDArray[np.int64]:
    """Return ``sites`` improved by single swaps (best replacement per open site, in turn)."""
    return _swaps(np.ascontiguousarray(wd, dtype=np.float64), forced.astype(np.int64),
                  np.asarray(sites, dtype=np.int64), passes)


def lagrangian(wd: npt.NDArray[np.float64], forced: npt.NDArray[np.int64], p: int,
               start: npt.NDArray[np.int64], *, max_iter: int = 3000,
               stop_gap: float = 1e-5, tol: float = 1e-9, min_step: float = 1e-3,
               stall_limit: int = 30) -> Bound:
    """Run the subgradient method from ``start`` (free sites) and fix what the bound proves.

    ``wd`` is people-weighted seconds, ``(sites, units)``. The iterations stop at a relative
    gap of ``stop_gap`` or once the step (halved after ``stall_limit`` iterations without a
    better bound) falls below ``min_step``: :func:`probe_fix` and the MILP on what is left
    close the rest faster than more iterations would. A site is fixed
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
    swapped = best_sites
    for it in range(1, max_iter + 1):
        rho = _rho(wd_sorted, order, lam, n_s)
        pick = free_idx[np.argpartition(rho[free_idx], p - 1)[:p]] if p else free_idx[:0]
        bound = float(lam.sum() + rho[forced].sum() + rho[pick].sum())
        if bound > lb + 1e-12 * abs(ub):
            lb, best_lam, stall = bound, lam.copy(), 0
        else:
            stall += 1
            if stall >= stall_limit:
                step, stall = step / 2, 0
        v = value(np.r_[forced, pick].astype(np.int64))
        if v < ub:
            ub, best_sites = v, np.sort(pick)
        if it % 100 == 0 and not np.array_equal(np.sort(pick), swapped):
            # the relaxation's choice is often a swap or two from a better one
            swapped = np.sort(pick)
            better = swap_improve(wd, forced, pick)
            v = value(np.r_[forced, better].astype(np.int64))
            if v < ub:
                ub, best_sites = v, better
        if ub - lb <= stop_gap * ub or step < min_step:
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


@nb.njit(cache=True)
def _probe_bound(wd_sorted: npt.NDArray[np.float64], order: npt.NDArray[np.int64],
                 lam0: npt.NDArray[np.float64], fixed_open: npt.NDArray[np.bool_],
                 free: npt.NDArray[np.bool_], k: int, target: float, max_iter: int) -> float:
    """Return the best Lagrangian bound with ``fixed_open`` open and k more of ``free``.

    Subgradient from ``lam0`` with Polyak steps toward ``target``; stops once the bound
    reaches ``target`` (then no solution with these fixings beats it). ``inf`` when the
    fixings leave fewer than k free sites (no solution).
    """
    free_idx = np.flatnonzero(free)
    if k < 0 or k > free_idx.size:
        return np.inf
    n_u, n_t = wd_sorted.shape
    n_s = fixed_open.size
    lam = lam0.copy()
    best, step, stall = -np.inf, 2.0, 0
    rho = np.zeros(n_s)
    is_open = np.zeros(n_s, np.bool_)
    g = np.zeros(n_u)
    for _ in range(max_iter):
        rho[:] = 0.0
        for i in range(n_u):
            for t in range(n_t):
                v = wd_sorted[i, t] - lam[i]
                if v >= 0.0:
                    break
                rho[order[i, t]] += v
        bound = lam.sum()
        is_open[:] = fixed_open
        for j in range(n_s):
            if fixed_open[j]:
                bound += rho[j]
        if k > 0:
            for j in free_idx[np.argsort(rho[free_idx])[:k]]:
                bound += rho[j]
                is_open[j] = True
        if bound > best + 1e-12 * abs(target):
            best, stall = bound, 0
        else:
            stall += 1
            if stall >= 20:
                step, stall = step / 2, 0
        if best >= target or step < 1e-4:
            break
        norm = 0.0
        for i in range(n_u):
            gi = 1.0
            for t in range(n_t):
                if wd_sorted[i, t] - lam[i] >= 0.0:
                    break
                if is_open[order[i, t]]:
                    gi -= 1.0
            g[i] = gi
            norm += gi * gi
        if norm == 0.0:
            break
        for i in range(n_u):
            lam[i] = max(lam[i] + step * (target - bound) / norm * g[i], 0.0)
    return best


def probe_fix(wd: npt.NDArray[np.float64], fixed_open: npt.NDArray[np.bool_],
              incumbent: npt.NDArray[np.bool_], lam: npt.NDArray[np.float64], budget: int,
              upper: float, *, max_iter: int = 300, rounds: int = 6, tol: float = 1e-9,
              seconds: float = np.inf) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Fix sites by Lagrangian probing; return the open and still-free site masks.

    ``wd`` is people-weighted seconds, ``(sites, units)``, ``inf`` for pairs no improving
    solution uses; ``fixed_open`` sites are open and ``budget`` more are to be chosen from
    the rest. Each free site is tried the other way from the incumbent (opened if the
    incumbent leaves it closed, closed if it opens it) and the multipliers re-optimised
    from ``lam``: when the bound then reaches ``upper`` (within ``tol``), no solution better
    than the incumbent makes that choice, so the site is fixed as the incumbent has it.
    Rounds repeat while something was fixed (each fixing tightens the next probes), for at
    most ``seconds`` (what is still free then is left to the caller's exact solve).
    """
    deadline = time.perf_counter() + seconds
    order = np.argsort(wd.T, axis=1, kind="stable").astype(np.int64)
    wd_sorted = np.take_along_axis(wd.T, order, axis=1)
    width = max(int(np.isfinite(wd_sorted).sum(axis=1).max()), 1)
    wd_sorted, order = wd_sorted[:, :width].copy(), order[:, :width].copy()
    is_open = fixed_open.copy()
    free = ~fixed_open
    left = budget
    cut = upper - tol * abs(upper)
    for _ in range(rounds):
        changed = False
        for j in np.flatnonzero(free):
            if time.perf_counter() > deadline:
                return is_open, free
            trial_free = free.copy()
            trial_free[j] = False
            trial_open = is_open.copy()
            trial_open[j] = not incumbent[j]
            k = left - (0 if incumbent[j] else 1)
            if _probe_bound(wd_sorted, order, lam, trial_open, trial_free, k, cut,
                            max_iter) >= cut:
                free[j] = False
                is_open[j] = bool(incumbent[j])
                left -= int(incumbent[j])
                changed = True
        if not changed or not free.any():
            break
    return is_open, free
