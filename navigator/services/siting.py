"""New sites for a scenario: location-allocation among candidate points, on the road network.

Public API
----------
- :func:`candidate_sites` - public resources of some kinds as candidate sites.
- :func:`recommend_sites` - the chosen sites of one model (:data:`~navigator.decide.allocation.
  MODELS`), the greedy baseline's, and what was left out or assumed.

The planner's audited role function over these is
:func:`navigator.services.new_sites.recommend_new_sites`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from navigator.decide.coverage import check_targets
from navigator.errors import ValidationError
from navigator.model import ResourceKind
from navigator.services._on_road import on_road_columns, points_of

if TYPE_CHECKING:
    from collections.abc import Container, Mapping, Sequence

    import geopandas as gpd
    import numpy.typing as npt

    from navigator.decide.allocation import Allocation, Model
    from navigator.roads import TravelGraph
    from navigator.services.reports import Demand
    from navigator.store import Store

__all__ = ["SiteRecommendation", "candidate_sites", "recommend_sites"]


def candidate_sites(store: Store, *, kinds: Sequence[str], exclude: Container[str] = ()
                    ) -> gpd.GeoDataFrame:
    """Return public resources of ``kinds`` as candidate sites, leaving out ``exclude`` ids.

    Confidential sites are never candidates (a recommendation would reveal them).
    """
    res = store.resources(kinds=[ResourceKind(k) for k in kinds], include_confidential=False)
    res = res[~res["id"].isin([i for i in res["id"] if i in exclude])]
    return res[["id", "name", "kind", "geometry"]].reset_index(drop=True)


@dataclass(frozen=True, eq=False)
class SiteRecommendation:
    """Location-allocation result with the chosen sites as points (EPSG:4326)."""

    allocation: Allocation
    sites: gpd.GeoDataFrame
    greedy_sites: gpd.GeoDataFrame
    notes: tuple[str, ...]


def recommend_sites(graph: TravelGraph, demand: Demand, candidates: gpd.GeoDataFrame, *,
                    k: int, target_s: float, model: Model = "mclp", busy: float = 0.3,
                    base_busy: Mapping[str, float] | None = None,
                    existing: gpd.GeoDataFrame | None = None,
                    direction: Literal["from", "to"] = "from", max_snap_m: float = 500.0,
                    cutoff_s: float | None = None, time_limit_s: float = 60.0
                    ) -> SiteRecommendation:
    """Recommend new sites among ``candidates`` for the demand units.

    ``existing`` facilities are forced open. ``direction="from"`` measures site to people (teams
    driving out); use ``"to"`` for places people travel to. The p-median drops assignments
    beyond ``cutoff_s`` (default twice the target). ``time_limit_s`` bounds the solver, seconds
    (the best solution found by then is returned; ``allocation.status`` says whether optimal).
    ``model`` is one of :data:`navigator.decide.allocation.MODELS`; ``mexclp`` counts each base
    as busy a ``busy`` fraction of the time (Daskin's expected coverage), or an existing base
    or a candidate site named (by id or name) in ``base_busy`` its own fraction (e.g. from a
    simulator run); ``backup`` maximises the people
    covered twice, ``p_center`` minimises the worst time.
    """
    import pandas as pd

    from navigator.decide.allocation import (
        backup_coverage,
        cost_matrix,
        expected_coverage,
        max_coverage,
        min_sites,
        p_center,
        p_median,
    )
    target = float(check_targets(target_s)[0])
    cand = candidates.to_crs(4326).reset_index(drop=True)
    if cand.empty:
        msg = "no candidate sites"
        raise ValidationError(msg)
    n_new = len(cand)
    if existing is not None and len(existing):
        cand = pd.concat([cand, existing.to_crs(4326)], ignore_index=True)
    on = pd.DataFrame(on_road_columns(graph, cand.geometry.x.to_numpy(),
                                      cand.geometry.y.to_numpy(), max_snap_m=max_snap_m,
                                      strict=False))
    ok = on["edge"].to_numpy() >= 0
    notes = [f"{int((~ok).sum())} candidate/existing sites farther than {max_snap_m:g} m from a "
             "road were left out"] if (~ok).any() else []
    rows = np.flatnonzero(ok)
    cutoff = cutoff_s or 2 * target
    c = cost_matrix(graph, on["node"].to_numpy(np.int64)[rows], demand.nodes.node,
                    direction=direction, cutoff_s=cutoff,
                    site_points=points_of(on.iloc[rows]))
    forced = np.flatnonzero(rows >= n_new)
    w = demand.people
    per_site = None
    if base_busy:  # checked whatever the model, so a typo never passes silently
        per_row, n_bases = _site_busy(cand, n_new, base_busy, busy)
        per_site = per_row[rows]
        notes.append(f"{n_bases} base(s) with their own busy fraction, "
                     f"{len(base_busy) - n_bases} candidate site(s) with their own, the others "
                     f"{busy:g}" if model == "mexclp" else
                     f"busy fractions weigh only mexclp's expected coverage, not {model}")
    if model == "mclp":
        a = max_coverage(c, w, k=k, target_s=target, forced=forced, time_limit_s=time_limit_s)
    elif model == "lscp":
        a = min_sites(c, w, target_s=target, forced=forced, time_limit_s=time_limit_s)
    elif model == "p_median":
        a = p_median(c, w, p=k, cutoff_s=cutoff, forced=forced,
                     time_limit_s=time_limit_s)
    elif model == "p_center":
        a = p_center(c, w, p=k, forced=forced, time_limit_s=time_limit_s)
    elif model == "mexclp":
        a = expected_coverage(c, w, k=k, target_s=target, busy=busy, forced=forced,
                              site_busy=per_site, time_limit_s=time_limit_s)
    elif model == "backup":
        a = backup_coverage(c, w, k=k, target_s=target, forced=forced,
                            time_limit_s=time_limit_s)
    else:
        from navigator.decide.allocation import MODELS

        msg = f"model must be one of {', '.join(MODELS)}, got {model!r}"
        raise ValidationError(msg)
    notes.append(f"{model}: {len(demand.people)} demand units, {n_new} candidates, "
                 f"{forced.size} existing sites forced open, direction {direction!r}")
    return SiteRecommendation(a, cand.iloc[rows[a.sites]].reset_index(drop=True),
                              cand.iloc[rows[a.greedy_sites]].reset_index(drop=True),
                              tuple(notes))


def _site_busy(sites: gpd.GeoDataFrame, n_new: int, fractions: Mapping[str, float],
               default: float) -> tuple[npt.NDArray[np.float64], int]:
    """Return a busy fraction per row of ``sites`` (candidates, then bases) and the bases named.

    ``fractions`` are keyed by a base's or candidate's id, else by its (unique) name.
    """
    ids = [str(v) for v in sites["id"]]
    names = [str(v) for v in sites["name"]]
    out = np.full(len(ids), float(default))
    n_bases = 0
    for key, value in fractions.items():
        at = [i for i, v in enumerate(ids) if v == key] or \
            [i for i, v in enumerate(names) if v == key]
        if not at:
            known = ", ".join(ids[n_new:n_new + 8]) + (", ..." if len(ids) > n_new + 8 else "")
            msg = (f"busy fraction for {key!r}: no such base among the {len(ids) - n_new} in "
                   f"service{' (' + known + ')' if len(ids) > n_new else ''}, nor a candidate "
                   f"site among the {n_new}")
            raise ValidationError(msg)
        if len(at) > 1:
            msg = f"busy fraction for {key!r}: {len(at)} sites have that name; use the id"
            raise ValidationError(msg)
        what = "base" if at[0] >= n_new else "candidate site"
        q = float(value) if isinstance(value, int | float) and not isinstance(value, bool) \
            else float("nan")
        if not (np.isfinite(q) and 0.0 <= q < 1.0):
            msg = (f"busy fraction for {what} {key!r} must be in [0, 1) (the share of time its "
                   f"team is out on a call), got {value!r}")
            raise ValidationError(msg)
        out[at[0]] = q
        n_bases += at[0] >= n_new
    return out, n_bases
