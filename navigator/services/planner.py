"""Planner building blocks: facilities, coverage surfaces, population covered, new sites.

The planner's role functions, which call these in order and write the audit log, are in
:mod:`navigator.services.planning`.

Public API
----------
- :func:`facilities` - the facilities of a kind open at a moment, snapped to the network.
- :func:`facility_surface` - a scenario's coverage surface (closed sites, added bases);
  :func:`surface_nodes` - its per-node times as points.
- :func:`demand_units` - the population layer clipped to the network and snapped to it.
- :func:`coverage_report` - hexes, units, population table and ranked gaps for one surface.
- :func:`coverage_reports` - many scenarios as a Dask batch.
- :func:`people_covered` - the population table alone (cheap, for before/after figures).
- :func:`compare` - two scenarios side by side, per unit, with people gained and lost.
- :func:`candidate_sites`, :func:`recommend_sites` - location-allocation of new sites from
  candidate points (public resources by default).

Maps and file exports of these results live in :mod:`navigator.maps.coverage`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from navigator.decide.coverage import (
    DEFAULT_TARGETS_S,
    CoverageReport,
    CoverageSurface,
    PopulationCoverage,
    ScenarioComparison,
    check_targets,
    compare_scenarios,
    coverage_gaps,
    coverage_surface,
    hex_surface,
    population_coverage,
    unit_times,
)
from navigator.errors import ValidationError
from navigator.model import FACILITY_KINDS, FacilityKind, ResourceKind
from navigator.roads import network_timezone

if TYPE_CHECKING:
    from collections.abc import Container, Mapping, Sequence

    import geopandas as gpd
    import numpy.typing as npt
    import pandas as pd
    from distributed import Client
    from shapely.geometry.base import BaseGeometry

    from navigator.decide.allocation import Allocation, Model
    from navigator.decide.population import Population, UnitNodes
    from navigator.roads import EdgeSnap, TravelGraph
    from navigator.store import Store

# FACILITY_KINDS is defined in navigator.model; re-exported for web/coverage.py.
__all__ = ["FACILITY_KINDS", "CoverageReport", "Demand", "FacilityRun", "SiteRecommendation",
           "candidate_sites", "compare", "coverage_report", "coverage_reports", "demand_units",
           "facilities", "facility_surface", "people_covered", "recommend_sites",
           "surface_nodes"]



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
        left out. Facilities snap to their nearest edge (see :func:`_on_road`).
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
        res = res.assign(**_on_road(graph, res.geometry.x.to_numpy(), res.geometry.y.to_numpy(),
                                    max_snap_m=max_snap_m, strict=False))
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


def _on_road(graph: TravelGraph, lon: np.ndarray, lat: np.ndarray, *,
             max_snap_m: float = 500.0, strict: bool = True) -> dict[str, np.ndarray]:
    """Return facility columns for points snapped to their nearest edge (issue 14).

    ``edge``, ``fraction``, ``road_lon``/``road_lat`` (the on-road point) and ``snap_m`` (the
    distance to the road) come from :func:`~navigator.roads.snap_to_edges`; ``node`` is the
    nearer end of the edge, -1 where the point is too far from a road (``strict=False``).
    """
    from navigator.roads import snap_to_edges

    s = snap_to_edges(graph, lon, lat, max_snap_m=max_snap_m, strict=strict)
    e = np.maximum(s.edge, 0)
    tails, heads = graph.road_ends()
    near = np.where(s.fraction >= 0.5, heads[e], tails[e])
    return {"node": np.where(s.edge >= 0, near, -1).astype(np.int64), "edge": s.edge,
            "fraction": s.fraction, "road_lon": s.lon, "road_lat": s.lat,
            "snap_m": s.distance_m}


def _facility_points(fac: pd.DataFrame) -> EdgeSnap:
    """Return the facilities' on-road points (columns from :func:`_on_road`)."""
    from navigator.roads import EdgeSnap

    return EdgeSnap(edge=fac["edge"].to_numpy(np.int64), distance_m=fac["snap_m"].to_numpy(float),
                    lon=fac["road_lon"].to_numpy(float), lat=fac["road_lat"].to_numpy(float),
                    fraction=fac["fraction"].to_numpy(float))


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
                         **_on_road(graph, pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy()))
        fac = pd.concat([fac, new[fac.columns]], ignore_index=True)
    label = label or kind
    if fac.empty:
        msg = f"scenario {label!r}: no {kind} left to measure coverage from"
        raise ValidationError(msg)
    d = direction or FACILITY_KINDS[kind][1]
    surf = coverage_surface(graph, fac["node"].to_numpy(np.int64), direction=d,
                            facility_ids=tuple(fac["id"].astype(str)), cutoff_s=cutoff_s,
                            label=label, facility_points=_facility_points(fac))
    return FacilityRun(surf, fac.reset_index(drop=True), notes)


@dataclass(frozen=True, eq=False)
class Demand:
    """Population units clipped to the network and snapped to it."""

    population: Population
    nodes: UnitNodes

    @property
    def people(self) -> np.ndarray:
        """People per unit; units off the network are kept (and count as uncovered)."""
        return self.population.units["population"].to_numpy()


def demand_units(graph: TravelGraph, path: str | Path, *, layer: str | None = None,
                 column: str = "pop2010", max_snap_m: float = 1000.0,
                 area: BaseGeometry | None = None) -> Demand:
    """Load a population layer, clip it to an area and snap it (see population).

    ``area`` (EPSG:4326) defaults to the area ``graph``'s roads cover
    (:func:`navigator.roads.network_area`); units farther than ``max_snap_m`` metres from a
    road stay in and count as uncovered.
    """
    from navigator.decide.population import load_population, snap_population
    from navigator.roads import network_area

    pop = load_population(path, layer=layer, column=column,
                          area=network_area(graph) if area is None else area)
    return Demand(pop, snap_population(graph, pop, max_snap_m=max_snap_m))


def coverage_report(graph: TravelGraph, run: FacilityRun, demand: Demand, *,
                    targets_s: Sequence[float] = DEFAULT_TARGETS_S, hex_resolution: int = 8,
                    method: Literal["centroid", "median"] = "centroid",
                    gap_target_s: float | None = None) -> CoverageReport:
    """Return hexes, unit times, the population table and ranked gaps for a scenario.

    Gaps are drawn at ``gap_target_s`` (default: the smallest target), seconds, from the
    units (``gaps``) and from the H3 cells by their minimum time (``hex_gaps``; people per
    cell by areal weighting of the units, ``population`` column of ``hexes``).
    """
    from navigator.decide.population import areal_people

    targets = check_targets(targets_s)
    t = unit_times(graph, run.surface, demand.population, demand.nodes, method=method)
    units = demand.population.units.assign(time_s=t)
    table = population_coverage(t, demand.people, targets)
    gap_t = float(targets[0]) if gap_target_s is None else gap_target_s
    gaps = coverage_gaps(units, t, gap_t)
    notes = (*run.notes, demand.population.note(),
             f"{int((~demand.nodes.snapped).sum())} units farther than the snap limit from a "
             "road count as uncovered")
    hexes = hex_surface(graph, run.surface, resolution=hex_resolution)
    hexes = hexes.assign(population=areal_people(hexes, demand.population))
    hex_gaps = coverage_gaps(hexes, hexes["min_time_s"].to_numpy(), gap_t)
    return CoverageReport(run.surface.label, hexes, units, table, gaps, hex_gaps, notes)


def _report_task(graph: TravelGraph, run: FacilityRun, demand: Demand,
                 targets_s: Sequence[float], hex_resolution: int) -> CoverageReport:
    return coverage_report(graph, run, demand, targets_s=targets_s,
                           hex_resolution=hex_resolution)


def coverage_reports(graph: TravelGraph, runs: Sequence[FacilityRun], demand: Demand, *,
                     targets_s: Sequence[float] = DEFAULT_TARGETS_S, hex_resolution: int = 8,
                     scheduler: str | Client | None = None) -> list[CoverageReport]:
    """Return the report of every scenario, as a batch (see :mod:`navigator.batch`).

    Surfaces are cheap; the per-scenario H3 maps, areal weighting and dissolved gaps are what
    the workers share out. ``scheduler``: ``"sync"``, ``"processes"``, an address or a
    ``Client`` (default: ``NAVIGATOR_DASK_SCHEDULER``, else a local process cluster).
    """
    from navigator.decide.parallel import run_batch

    jobs = [(run, demand, tuple(targets_s), hex_resolution) for run in runs]
    return run_batch(graph, _report_task, jobs, scheduler=scheduler)


def people_covered(graph: TravelGraph, run: FacilityRun, demand: Demand, *,
                   targets_s: Sequence[float] = DEFAULT_TARGETS_S) -> PopulationCoverage:
    """Return the people covered per target by a scenario (no hexes or gaps: cheap)."""
    t = unit_times(graph, run.surface, demand.population, demand.nodes)
    return population_coverage(t, demand.people, check_targets(targets_s))


def candidate_sites(store: Store, *, kinds: Sequence[str], exclude: Container[str] = ()
                    ) -> gpd.GeoDataFrame:
    """Return public resources of ``kinds`` as candidate sites, leaving out ``exclude`` ids.

    Confidential sites are never candidates (a recommendation would reveal them).
    """
    res = store.resources(kinds=[ResourceKind(k) for k in kinds], include_confidential=False)
    res = res[~res["id"].isin([i for i in res["id"] if i in exclude])]
    return res[["id", "name", "kind", "geometry"]].reset_index(drop=True)


def compare(a: FacilityRun, b: FacilityRun, demand: Demand, *,
            targets_s: Sequence[float] = DEFAULT_TARGETS_S
            ) -> tuple[ScenarioComparison, gpd.GeoDataFrame]:
    """Compare two scenarios; return the comparison and units with ``delta_s`` (b - a)."""
    cmp = compare_scenarios(a.surface, b.surface, unit_nodes=demand.nodes.node,
                            people=demand.people, targets_s=targets_s)
    return cmp, demand.population.units.assign(delta_s=cmp.unit_delta_s)


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
    named (by id or name) in ``base_busy`` its own fraction; ``backup`` maximises the people
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
    on = pd.DataFrame(_on_road(graph, cand.geometry.x.to_numpy(), cand.geometry.y.to_numpy(),
                               max_snap_m=max_snap_m, strict=False))
    ok = on["edge"].to_numpy() >= 0
    notes = [f"{int((~ok).sum())} candidate/existing sites farther than {max_snap_m:g} m from a "
             "road were left out"] if (~ok).any() else []
    rows = np.flatnonzero(ok)
    cutoff = cutoff_s or 2 * target
    c = cost_matrix(graph, on["node"].to_numpy(np.int64)[rows], demand.nodes.node,
                    direction=direction, cutoff_s=cutoff,
                    site_points=_facility_points(on.iloc[rows]))
    forced = np.flatnonzero(rows >= n_new)
    w = demand.people
    per_base = None
    if base_busy:  # checked whatever the model, so a typo never passes silently
        per_base = _base_busy(existing, base_busy, busy)[rows[forced] - n_new]
        notes.append(f"{len(base_busy)} base(s) with their own busy fraction, the others and "
                     f"new bases {busy:g}" if model == "mexclp" else
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
                              forced_busy=per_base, time_limit_s=time_limit_s)
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


def _base_busy(existing: gpd.GeoDataFrame | None, base_busy: Mapping[str, float],
               default: float) -> npt.NDArray[np.float64]:
    """Return a busy fraction per existing facility row from fractions keyed by id or name."""
    ids = [] if existing is None else [str(v) for v in existing["id"]]
    names = [] if existing is None else [str(v) for v in existing["name"]]
    out = np.full(len(ids), float(default))
    for key, value in base_busy.items():
        at = [i for i, v in enumerate(ids) if v == key] or \
            [i for i, v in enumerate(names) if v == key]
        if not at:
            known = ", ".join(ids[:8]) + (", ..." if len(ids) > 8 else "")
            msg = (f"busy fraction for {key!r}: no such base among the {len(ids)} in service"
                   f"{' (' + known + ')' if ids else ''}")
            raise ValidationError(msg)
        if len(at) > 1:
            msg = f"busy fraction for {key!r}: {len(at)} bases have that name; use the id"
            raise ValidationError(msg)
        q = float(value) if isinstance(value, int | float) and not isinstance(value, bool) \
            else float("nan")
        if not (np.isfinite(q) and 0.0 <= q < 1.0):
            msg = (f"busy fraction for base {key!r} must be in [0, 1) (the share of time its "
                   f"team is out on a call), got {value!r}")
            raise ValidationError(msg)
        out[at[0]] = q
    return out


def surface_nodes(graph: TravelGraph, run: FacilityRun) -> gpd.GeoDataFrame:
    """Return every node with ``time_s`` and its nearest ``facility_id`` (EPSG:4326 points)."""
    import geopandas as gpd

    s = run.surface
    ids = np.asarray(s.facility_ids, dtype=object)
    return gpd.GeoDataFrame(
        {"node": np.arange(graph.n_nodes), "time_s": s.time_s,
         "facility_id": [ids[f] if f >= 0 else None for f in s.facility.tolist()]},
        geometry=gpd.points_from_xy(graph.lon, graph.lat), crs=4326)
