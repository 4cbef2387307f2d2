"""Planner building blocks: the facilities in service and their coverage surfaces.

Population, coverage reports and comparisons over them are in
:mod:`navigator.services.reports`; new sites (location-allocation) in
:mod:`navigator.services.siting`; the planner's role functions, which call these in order and
write the audit log, in :mod:`navigator.services.planning` and
:mod:`navigator.services.new_sites`.

Public API
----------
- :func:`facilities` - the facilities of a kind open at a moment, snapped to the network.
- :func:`facility_surface` - a scenario's coverage surface (closed sites, added bases);
  :func:`surface_nodes` - its per-node times as points.

Maps and file exports of these results live in :mod:`navigator.maps.coverage`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Literal

import numpy as np

from navigator.decide.coverage import CoverageSurface, coverage_surface
from navigator.errors import ValidationError
from navigator.model import FACILITY_KINDS, FacilityKind
from navigator.roads import network_timezone
from navigator.services._on_road import on_road_columns, points_of

if TYPE_CHECKING:
    from collections.abc import Container, Sequence

    import geopandas as gpd
    import pandas as pd

    from navigator.roads import TravelGraph
    from navigator.store import Store

# FACILITY_KINDS is defined in navigator.model; re-exported for web/coverage.py.
__all__ = ["FACILITY_KINDS", "FacilityRun", "facilities", "facility_surface", "surface_nodes"]


def _fresh_sites(store: Store, counts: pd.DataFrame, fresh_hours: float,
                 at: datetime | None) -> set[str]:
    """Return the sites of ``counts`` whose every bed count is fresh at ``at`` (now: None)."""
    import pandas as pd

    from navigator.decide.matching import fresh_counts

    now = at or datetime.now(UTC)
    ids = sorted(set(counts["resource_id"].astype(str)))
    window = {str(s.resource_id): float(s.fresh_hours) * 3600.0
              for s in store.bed_sites(ids).itertuples(index=False)
              if s.fresh_hours is not None and np.isfinite(s.fresh_hours)}
    stale: set[str] = set()
    for b in counts.itertuples(index=False):
        age = np.nan if pd.isna(b.reported_at) else (now - b.reported_at).total_seconds()
        if not fresh_counts([age], [window.get(str(b.resource_id), fresh_hours * 3600.0)])[0]:
            stale.add(str(b.resource_id))
    return set(ids) - stale


def facilities(store: Store, graph: TravelGraph, *, kind: str = "team_bases",
               at: datetime | None = None, bed_type: str | None = None,
               free_beds: bool = False, unknown_open: bool = False,
               include_confidential: bool = False, fresh_hours: float | None = None,
               max_snap_m: float = 500.0, tz: str | None = None,
               holidays: Container[date] | None = None
               ) -> tuple[gpd.GeoDataFrame, tuple[str, ...]]:
    """Return the facilities of ``kind`` in service at ``at``, with their graph node.

    Parameters
    ----------
    store, graph
        Where resources and roads come from.
    kind
        A :class:`~navigator.model.FacilityKind` (see :data:`~navigator.model.FACILITY_KINDS`).
        ``"team_bases"`` are the ``team_base`` sites some team is based at (every
        ``team_base`` site while no team is stored); the sites no team is based at stay
        candidates for new bases (:func:`candidate_sites`).
    at
        Timezone-aware moment: keep places open then (OSM ``opening_hours``, the area's time
        zone and public holidays) and, for ``"teams"``, bases of teams on shift then. None:
        every place; teams not off duty now.
    bed_type
        Shelters only: keep those with beds of this type (capacity > 0).
    free_beds
        Shelters only: keep those with a free bed (of ``bed_type`` if given) now.
    fresh_hours
        With ``free_beds``: only a count staff confirmed within this many hours (or the
        site's own window) is a free bed; a stale count is not (and the notes say how many
        shelters that left out). None: every count, whatever its age.
    unknown_open
        Count places with unknown hours as open (team bases always are).
    include_confidential
        Include confidential sites (off by default: a surface would reveal their location).
    max_snap_m
        Places farther from a road are left out (and named in the notes), metres.
    tz, holidays
        The area's IANA time zone (default: from the network's median node) and public
        holidays for ``PH`` rules (default: US, Ohio, as
        :func:`navigator.services.context.area_context`).

    Returns
    -------
    facilities, notes
        GeoDataFrame (``id``, ``name``, ``kind``, ``node``, ``edge``, ``fraction``,
        ``road_lon``, ``road_lat``, ``snap_m``, EPSG:4326 points) and sentences on what was
        left out. Facilities snap to their nearest edge
        (:func:`~navigator.services._on_road.on_road_columns`).
    """
    if kind not in FACILITY_KINDS:
        msg = f"kind must be one of {', '.join(FacilityKind)}, got {kind!r}"
        raise ValidationError(msg)
    kinds, _ = FACILITY_KINDS[kind]
    res = store.resources(kinds=list(kinds),
                          include_confidential=include_confidential)
    notes: list[str] = []
    if bed_type is not None or free_beds:
        beds = store.bed_counts(res["id"].tolist())  # live counts, with when they were confirmed
        fit = beds["capacity"] > 0
        if bed_type is not None:
            fit &= beds["bed_type"] == bed_type
        if free_beds:
            fit &= beds["free"] > 0
        if free_beds and fresh_hours is not None:
            fresh = _fresh_sites(store, beds, fresh_hours, at)
            stale = set(beds.loc[fit, "resource_id"]) - fresh
            fit &= beds["resource_id"].isin(fresh)
            notes.append(f"free beds count only where staff confirmed them within "
                         f"{fresh_hours:g} h (or the site's own window): {len(stale)} "
                         "shelter(s) with older counts left out")
        res = res[res["id"].isin(set(beds.loc[fit, "resource_id"]))]
    if kind == "teams":
        res = res[res["id"].isin(_on_shift_bases(store, at))]
    elif kind == "team_bases":
        hosting = _hosting_bases(store)
        if hosting:
            notes.append(f"{len(hosting & set(res['id']))} of {len(res)} team_base sites "
                         "host a team; the others are candidate sites, not bases")
            res = res[res["id"].isin(hosting)]
        else:
            notes.append(f"no team is stored: all {len(res)} team_base sites count as bases")
    elif at is not None:
        keep, bad = _open_at(res, at, tz or network_timezone(graph),
                             _holidays(at) if holidays is None else holidays, unknown_open)
        notes.append(f"{len(res) - int(keep.sum())} of {len(res)} {kind} closed at "
                     f"{at.isoformat()}")
        if bad:
            notes.append(f"unreadable opening_hours counted as unknown for: {', '.join(bad)}")
        res = res[keep]
    res = res[["id", "name", "kind", "geometry"]].reset_index(drop=True)
    if len(res):
        res = res.assign(**on_road_columns(graph, res.geometry.x.to_numpy(),
                                           res.geometry.y.to_numpy(), max_snap_m=max_snap_m,
                                           strict=False))
        far = res["node"] < 0
        if far.any():
            notes.append(f"{int(far.sum())} {kind} farther than {max_snap_m:g} m from a road left "
                         f"out: {', '.join(res.loc[far, 'name'].astype(str))}")
            res = res[~far].reset_index(drop=True)
    else:
        res = res.assign(node=np.zeros(0, np.int64), edge=np.zeros(0, np.int64),
                         fraction=np.zeros(0), road_lon=np.zeros(0), road_lat=np.zeros(0),
                         snap_m=np.zeros(0))
    return res, tuple(notes)


def _holidays(at: datetime) -> Container[date]:
    import holidays

    found: Container[date] = holidays.country_holidays("US", subdiv="OH", years=at.year)
    return found


def _open_at(res: gpd.GeoDataFrame, at: datetime, tz: str, hol: Container[date],
             unknown_open: bool) -> tuple[np.ndarray, list[str]]:
    """Return which places are open at ``at`` (team bases always) and unreadable hours."""
    from navigator.hours import is_open

    if at.tzinfo is None:
        msg = f"at must be a timezone-aware datetime, got {at!r}"
        raise ValidationError(msg)
    keep, bad = [], []
    for r in res.itertuples():
        if r.kind == "team_base":
            keep.append(True)
            continue
        try:
            keep.append(is_open(r.opening_hours or "", at, tz=tz, holidays=hol,
                                unknown_open=unknown_open))
        except ValidationError:  # malformed hours: unknown, like navigator.services does
            bad.append(str(r.name))
            keep.append(unknown_open)
    return np.asarray(keep, dtype=bool), bad


def _hosting_bases(store: Store) -> set[str]:
    """Return the ids of the sites some team (any status) is based at."""
    teams = store.teams()
    return set(teams["base_id"].dropna().astype(str))


def _on_shift_bases(store: Store, at: datetime | None) -> set[str]:
    teams = store.teams()
    if at is None:
        on = teams["status"] != "off_duty"
    else:
        if at.tzinfo is None:
            msg = f"at must be timezone-aware, got {at!r}"
            raise ValidationError(msg)
        start, end = teams["shift_start"], teams["shift_end"]
        on = (start.isna() | (start <= at)) & (end.isna() | (at < end))
    return set(teams.loc[on, "base_id"].astype(str))


@dataclass(frozen=True, eq=False)
class FacilityRun:
    """A scenario: its facilities and their coverage surface."""

    surface: CoverageSurface
    facilities: gpd.GeoDataFrame
    notes: tuple[str, ...]


def facility_surface(store: Store, graph: TravelGraph, *, kind: str = "team_bases",
                     at: datetime | None = None, bed_type: str | None = None,
                     free_beds: bool = False, closed: Sequence[str] = (),
                     added: gpd.GeoDataFrame | None = None,
                     direction: Literal["from", "to"] | None = None, label: str = "",
                     cutoff_s: float | None = None, fresh_hours: float | None = None
                     ) -> FacilityRun:
    """Return the coverage surface of a scenario.

    Parameters
    ----------
    store, graph, kind, at, bed_type, free_beds, fresh_hours
        As in :func:`facilities`.
    closed
        Ids of facilities closed in this scenario.
    added
        New sites (EPSG:4326 points; ``id``/``name`` columns optional).
    direction
        Default per kind: ``"from"`` for teams and bases, ``"to"`` for places people go to.
    label
        Scenario name.
    cutoff_s
        Search limit, seconds.

    Raises
    ------
    ValidationError
        If a closed id is unknown or no facility is left.
    """
    fac, notes = facilities(store, graph, kind=kind, at=at, bed_type=bed_type,
                            fresh_hours=fresh_hours,
                            free_beds=free_beds)
    unknown = set(closed) - set(fac["id"])
    if unknown:
        msg = f"cannot close {sorted(unknown)}: not among the {kind} in this scenario"
        raise ValidationError(msg)
    fac = fac[~fac["id"].isin(list(closed))]
    if added is not None and len(added):
        import pandas as pd

        pts = added.to_crs(4326)
        ids = pts["id"].astype(str) if "id" in pts else [f"new-{i + 1}" for i in range(len(pts))]
        new = pts.assign(id=list(ids), name=pts.get("name", pd.Series(ids, index=pts.index)),
                         kind="new_site",
                         **on_road_columns(graph, pts.geometry.x.to_numpy(),
                                           pts.geometry.y.to_numpy()))
        fac = pd.concat([fac, new[fac.columns]], ignore_index=True)
    label = label or kind
    if fac.empty:
        msg = f"scenario {label!r}: no {kind} left to measure coverage from"
        raise ValidationError(msg)
    d = direction or FACILITY_KINDS[kind][1]
    surf = coverage_surface(graph, fac["node"].to_numpy(np.int64), direction=d,
                            facility_ids=tuple(fac["id"].astype(str)), cutoff_s=cutoff_s,
                            label=label, facility_points=points_of(fac))
    return FacilityRun(surf, fac.reset_index(drop=True), notes)


def surface_nodes(graph: TravelGraph, run: FacilityRun) -> gpd.GeoDataFrame:
    """Return every node with ``time_s`` and its nearest ``facility_id`` (EPSG:4326 points)."""
    import geopandas as gpd

    s = run.surface
    ids = np.asarray(s.facility_ids, dtype=object)
    return gpd.GeoDataFrame(
        {"node": np.arange(graph.n_nodes), "time_s": s.time_s,
         "facility_id": [ids[f] if f >= 0 else None for f in s.facility.tolist()]},
        geometry=gpd.points_from_xy(graph.lon, graph.lat), crs=4326)
