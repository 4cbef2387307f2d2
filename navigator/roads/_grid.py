"""A uniform grid over points in local metres: nearest point, points within a radius (numpy).

The snapping indexes (nodes, pieces of edges) are built once per command, so they must build
quickly and import nothing heavy: a stable sort of cell keys is all this index needs (scipy's
KD-tree made every command import scipy.spatial, ~0.07 s beyond the scipy.linalg numba loads,
and took ~0.04 s more to build). Queries are exact and deterministic (ties go to the lowest
point index); a query far from every point scans the cells up to its nearest one, so it costs
more than near ones (~0.1-0.3 ms a few km out on the Columbus network, ~15 ms at 100 km).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["PointGrid"]

_PER_CELL = 3.0  # points per occupied cell aimed at by the default cell size
_PAIRS_PER_BATCH = 1 << 22  # (query, point) pairs looked at in one go: ~100 MB at most


def _spread(counts: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.int64],
                                                    npt.NDArray[np.int64]]:
    """Return for ``counts`` the owner of every item and its rank within its owner."""
    owner = np.repeat(np.arange(counts.shape[0], dtype=np.int64), counts)
    first = np.cumsum(counts) - counts
    return owner, np.arange(owner.shape[0], dtype=np.int64) - first[owner]


def _ring(x: npt.NDArray[np.int64], y: npt.NDArray[np.int64], r0: npt.NDArray[np.int64],
          r1: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Return the cell rectangles between squares of radius ``r0`` and ``r1`` around (x, y).

    The square of radius ``r0`` (none when -1) is left out: a band above, a band below and
    one on either side. Returns the query of each rectangle and the ``(x0, x1, y0, y1)`` rows.
    """
    first = r0 < 0
    r0 = np.where(first, -1, r0)
    above = [x - r1, x + r1, y + r0 + 1, y + r1]
    below = [x - r1, x + r1, y - r1, np.where(first, y + r1, y - r0 - 1)]  # the whole square
    left = [x - r1, x - r0 - 1, y - r0, y + r0]
    right = [x + r0 + 1, x + r1, y - r0, y + r0]
    rect = np.stack([np.column_stack(side) for side in (below, above, left, right)], axis=1)
    rect[first, 1:, 3] = rect[first, 1:, 2] - 1  # a first ring is its one square
    owner = np.repeat(np.arange(x.shape[0], dtype=np.int64), 4)
    return owner, rect.reshape(-1, 4)


def _keep_least(dist: npt.NDArray[np.float64], index: npt.NDArray[np.int64],
                q: npt.NDArray[np.int64], d: npt.NDArray[np.float64],
                idx: npt.NDArray[np.int64]) -> None:
    """Lower ``dist[q]`` / ``index[q]`` to each nearer (or as near, lower index) candidate."""
    if not q.shape[0]:
        return
    big = np.iinfo(np.int64).max
    seen = np.unique(q)
    before = dist[seen]
    np.minimum.at(dist, q, d)
    pick = np.where(index[seen] < 0, big, index[seen])
    pick[dist[seen] < before] = big  # a nearer point: the old index no longer ties
    index[seen] = pick
    tie = d == dist[q]
    np.minimum.at(index, q[tie], idx[tie])
    index[seen] = np.where(index[seen] == big, -1, index[seen])


class PointGrid:
    """Points bucketed in square cells of ``cell_m`` metres, sorted by cell (row-major).

    Parameters
    ----------
    xy
        ``(n, 2)`` point coordinates, metres (any planar frame).
    cell_m
        Cell side, metres (default: about three points per occupied cell; at least 1 m).
    """

    def __init__(self, xy: npt.NDArray[np.float64], *, cell_m: float | None = None) -> None:
        xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        self.n = int(xy.shape[0])
        lo = xy.min(axis=0) if self.n else np.zeros(2)
        span = (xy.max(axis=0) - lo) if self.n else np.zeros(2)
        if cell_m is None:  # a few points per cell; along a line, sqrt(n) cells
            n = max(self.n, 1)
            cell_m = max(2.0 * float(np.sqrt(span[0] * span[1] / n)), float(span.max()) / n**0.5)
        self.origin = lo
        for fit in (False, True):
            self.cell_m = max(float(cell_m), 1.0)
            ix, iy = self._cells(xy)
            self.nx = int(ix.max()) + 1 if self.n else 1
            self.ny = int(iy.max()) + 1 if self.n else 1
            key = iy * self.nx + ix
            if fit or self.nx * self.ny > 8 * max(self.n, 1):
                break
            per_cell = self.n / max(int(np.count_nonzero(np.bincount(key))), 1)
            if per_cell <= _PER_CELL * 2:
                break
            # roads leave most of a region's box empty: size the cells for where points are
            cell_m = self.cell_m * float(np.sqrt(_PER_CELL / per_cell))
        self.order = np.argsort(key, kind="stable")  # within a cell: by point index
        self.keys = key[self.order]
        self.xy = xy[self.order]

    def _cells(self, xy: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.int64],
                                                           npt.NDArray[np.int64]]:
        c = np.floor((xy - self.origin) / self.cell_m)
        c = np.clip(c, -(1 << 40), 1 << 40)  # far away stays far away, without overflow
        return c[:, 0].astype(np.int64), c[:, 1].astype(np.int64)

    def _pair_batches(self, rect: npt.NDArray[np.int64]
                      ) -> Iterator[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]]:
        """Yield (rectangle, sorted position) of the points in each cell rectangle.

        ``rect`` rows are ``(x0, x1, y0, y1)``, inclusive cell numbers (clipped to the grid;
        empty when x1 < x0 or y1 < y0). In batches of at most ~4M pairs (one rectangle may
        hold more).
        """
        k = rect.shape[0]
        x0, x1 = np.maximum(rect[:, 0], 0), np.minimum(rect[:, 1], self.nx - 1)
        y0, y1 = np.maximum(rect[:, 2], 0), np.minimum(rect[:, 3], self.ny - 1)
        rows = np.where((x1 >= x0) & (y1 >= y0), y1 - y0 + 1, 0)
        r_row, rank = _spread(rows)  # one contiguous run of sorted points per row of cells
        y = y0[r_row] + rank
        start = np.searchsorted(self.keys, y * self.nx + x0[r_row], side="left")
        stop = np.searchsorted(self.keys, y * self.nx + x1[r_row], side="right")
        total = np.cumsum(np.bincount(r_row, weights=stop - start, minlength=k))
        b = 0
        while b < k:
            before = total[b - 1] if b else 0.0
            e = max(b + 1, int(np.searchsorted(total, before + _PAIRS_PER_BATCH, side="right")))
            r0, r1 = np.searchsorted(r_row, [b, e])
            row_of, at = _spread(stop[r0:r1] - start[r0:r1])
            yield r_row[r0:r1][row_of], start[r0:r1][row_of] + at
            b = e

    def nearest(self, p: npt.NDArray[np.float64]
                ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
        """Return the distance to the nearest point and its index, per query point.

        Cells are scanned in growing square rings around each query (each cell once), until
        the ring reaches the nearest point found.

        Parameters
        ----------
        p
            ``(k, 2)`` query points, metres.

        Returns
        -------
        distance_m, index
            Ties go to the lowest index; ``inf`` and -1 for every query when the grid holds
            no point, and for a query with a NaN or infinite coordinate.
        """
        p = np.asarray(p, dtype=np.float64).reshape(-1, 2)
        k = p.shape[0]
        dist, index = np.full(k, np.inf), np.full(k, -1, dtype=np.int64)
        if not self.n:
            return dist, index
        finite = np.all(np.isfinite(p), axis=1).reshape(-1)
        ix, iy = self._cells(np.where(finite[:, None], p, 0.0))
        todo = np.flatnonzero(finite)  # a NaN or inf query is near nothing: no ring ends it
        inner = np.full(k, -1, dtype=np.int64)  # rings up to inner are scanned
        outer = np.ones(k, dtype=np.int64)
        while todo.shape[0]:
            x, y, r0, r1 = ix[todo], iy[todo], inner[todo], outer[todo]
            owner, rect = _ring(x, y, r0, r1)
            for i, pos in self._pair_batches(rect):
                q = todo[owner[i]]
                d = np.hypot(*(self.xy[pos] - p[q]).T)
                _keep_least(dist, index, q, d, self.order[pos])
            # every point within r1 * cell_m of a query lies within r1 cells of its cell
            best = dist[todo]
            covers = ((x - r1 <= 0) & (x + r1 >= self.nx - 1)
                      & (y - r1 <= 0) & (y + r1 >= self.ny - 1))
            done = (best <= r1 * self.cell_m) | covers
            reach = np.ceil(np.minimum(best, 1e15) / self.cell_m).astype(np.int64)
            inner[todo] = r1
            outer[todo] = np.where(np.isfinite(best), np.maximum(reach, r1 + 1), 2 * r1)
            todo = todo[~done]
        return dist, index

    def within(self, p: npt.NDArray[np.float64], radius_m: npt.NDArray[np.float64]
               ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Return every (query, point index) pair no farther apart than the query's radius.

        Parameters
        ----------
        p
            ``(k, 2)`` query points, metres.
        radius_m
            ``(k,)`` radii, metres (finite).

        Returns
        -------
        query, index
            Pairs sorted by query, then by point index.
        """
        p = np.asarray(p, dtype=np.float64).reshape(-1, 2)
        r = np.broadcast_to(np.asarray(radius_m, dtype=np.float64), (p.shape[0],))
        lo_x, lo_y = self._cells(p - r[:, None])
        hi_x, hi_y = self._cells(p + r[:, None])
        found_q, found_i = [np.empty(0, dtype=np.int64)], [np.empty(0, dtype=np.int64)]
        for q, pos in self._pair_batches(np.column_stack([lo_x, hi_x, lo_y, hi_y])):
            keep = np.hypot(*(self.xy[pos] - p[q]).T) <= r[q]
            found_q.append(q[keep])
            found_i.append(self.order[pos[keep]])
        key = np.sort(np.concatenate(found_q) * self.n + np.concatenate(found_i))
        return key // self.n, key % self.n
