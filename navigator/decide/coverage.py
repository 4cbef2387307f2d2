"""Coverage: travel time from the nearest facility everywhere, population covered, gaps, scenarios.

Public API
----------
- :func:`check_targets` - validate target times (seconds).
- :class:`CoverageSurface`, :func:`coverage_surface` - seconds per node from (or to) the nearest
  facility, one multi-source search.
- :func:`hex_surface` - min/median time per H3 cell (EPSG:4326 hexagons).
- :func:`unit_times` - time per population unit (snapped representative point or node median).
- :class:`PopulationCoverage`, :func:`population_coverage` - people covered per target time.
- :func:`coverage_gaps` - contiguous uncovered units (or hexes) dissolved, ranked by people.
- :class:`ScenarioComparison`, :func:`compare_scenarios` - two surfaces side by side.

Times are seconds and ``inf`` means unreachable; the pure functions take numpy arrays, the
GeoDataFrame helpers are the one adapter to GIS outputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt

from navigator.errors import ValidationError

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from navigator.decide.population import Population, UnitNodes
    from navigator.roads import EdgeSnap, TravelGraph

__all__ = [
    "DEFAULT_TARGETS_S",
    "CoverageSurface",
    "PopulationCoverage",
    "ScenarioComparison",
    "check_targets",
    "compare_scenarios",
    "coverage_gaps",
    "coverage_surface",
    "hex_surface",
    "population_coverage",
    "unit_times",
]

#: Default target times: 15, 30 and 60 minutes, in seconds.
DEFAULT_TARGETS_S = (900.0, 1800.0, 3600.0)
Direction = Literal["from", "to"]


def check_targets(targets_s: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Return target times as a sorted unique float array, seconds.

    Raises
    ------
    ValidationError
        If there is no target, or one is not a positive finite number.
    """
    try:
        t = np.atleast_1d(np.asarray(targets_s, dtype=np.float64))
    except (TypeError, ValueError) as e:
        msg = f"target times must be numbers of seconds, got {targets_s!r}"
        raise ValidationError(msg) from e
    if t.ndim != 1 or t.size == 0:
        msg = "give at least one target time (seconds)"
        raise ValidationError(msg)
    bad = ~np.isfinite(t) | (t <= 0)
    if bad.any():
        msg = f"target times must be positive finite seconds, got {t[bad][0]!r}"
        raise ValidationError(msg)
    return np.unique(t)


@dataclass(frozen=True, eq=False)
class CoverageSurface:
    """Travel time between every node and its nearest facility.

    Attributes
    ----------
    time_s
        Seconds per node, ``inf`` where no facility is reachable (or beyond a cutoff).
    facility
        Position in ``facility_ids`` of each node's nearest facility, -1 if none.
    facility_ids
        Facility ids (store ids, or positions as text).
    facility_nodes
        Node index of each facility.
    direction
        ``"from"``: facility to node (a team driving out); ``"to"``: node to facility.
    label
        Scenario name shown in tables and maps.
    """

    time_s: npt.NDArray[np.float64]
    facility: npt.NDArray[np.int64]
    facility_ids: tuple[str, ...]
    facility_nodes: npt.NDArray[np.int64]
    direction: Direction
    label: str = ""


def coverage_surface(tg: TravelGraph, facility_nodes: npt.ArrayLike, *,
                     facility_ids: tuple[str, ...] | None = None, direction: Direction = "from",
                     cutoff_s: float | None = None, label: str = "",
                     facility_points: EdgeSnap | None = None) -> CoverageSurface:
    """Return the time to the nearest facility for every node, by one multi-source search.

    Parameters
    ----------
    tg
        Road network.
    facility_nodes
        Node index of each facility (see :func:`navigator.network.snap`).
    facility_ids
        Ids in the same order (default: positions).
    direction
        ``"from"`` the facility (mobile teams, default) or ``"to"`` it (people travelling).
    cutoff_s
        Stop the search here, seconds; farther nodes are ``inf``.
    label
        Scenario name.
    facility_points
        The facilities as on-road points (:func:`navigator.roads.snap_to_edges`, same
        order): times then include the partial edge time from each point to its edge's ends;
        ``facility_nodes`` is only recorded.

    Raises
    ------
    ValidationError
        If there is no facility, or ids and nodes differ in length.
    """
    from navigator.roads import nearest_facility, nearest_point_facility

    nodes = np.atleast_1d(np.asarray(facility_nodes))
    if nodes.size == 0:
        msg = f"no facility to measure coverage from{f' ({label})' if label else ''}"
        raise ValidationError(msg)
    ids = tuple(str(i) for i in range(nodes.size)) if facility_ids is None else facility_ids
    if len(ids) != nodes.size:
        msg = f"{len(ids)} facility ids for {nodes.size} facility nodes"
        raise ValidationError(msg)
    if facility_points is not None and len(facility_points) != nodes.size:
        msg = f"{len(facility_points)} facility points for {nodes.size} facility nodes"
        raise ValidationError(msg)
    nf = (nearest_facility(tg, nodes, direction=direction, cutoff_s=cutoff_s)
          if facility_points is None else
          nearest_point_facility(tg, facility_points, direction=direction, cutoff_s=cutoff_s))
    return CoverageSurface(time_s=nf.time_s, facility=nf.facility, facility_ids=tuple(ids),
                           facility_nodes=nodes.astype(np.int64), direction=direction,
                           label=label)


def _h3_cells(tg: TravelGraph, resolution: int) -> npt.NDArray[np.object_]:
    import h3

    return np.array([h3.latlng_to_cell(la, lo, resolution)
                     for lo, la in zip(tg.lon.tolist(), tg.lat.tolist(), strict=True)],
                    dtype=object)


def _node_cells(tg: TravelGraph, resolution: int) -> npt.NDArray[np.object_]:
    return tg.cached(_h3_cells, resolution)


def hex_surface(tg: TravelGraph, surface: CoverageSurface, *, resolution: int = 8
                ) -> gpd.GeoDataFrame:
    """Aggregate node times to H3 cells (only cells holding a node).

    Parameters
    ----------
    tg
        Road network the surface was computed on.
    surface
        Node times.
    resolution
        H3 resolution (8: cells of about 0.74 km²; 9: about 0.11 km²).

    Returns
    -------
    geopandas.GeoDataFrame
        ``h3``, ``n_nodes``, ``min_time_s``, ``median_time_s`` (seconds, ``inf`` = unreachable)
        and hexagon ``geometry`` in EPSG:4326.
    """
    import geopandas as gpd
    import h3
    import pandas as pd
    import shapely

    if not 0 <= resolution <= 15:
        msg = f"H3 resolution must be 0..15, got {resolution}"
        raise ValidationError(msg)
    cells = _node_cells(tg, resolution)
    df = pd.DataFrame({"h3": cells, "t": surface.time_s})
    agg = df.groupby("h3", sort=True)["t"].agg(n_nodes="size", min_time_s="min",
                                              median_time_s="median").reset_index()
    polys = [shapely.Polygon([(lo, la) for la, lo in h3.cell_to_boundary(c)]) for c in agg["h3"]]
    return gpd.GeoDataFrame(agg, geometry=polys, crs=4326)


def unit_times(tg: TravelGraph, surface: CoverageSurface, population: Population,
               unit_nodes: UnitNodes, *, method: Literal["centroid", "median"] = "centroid"
               ) -> npt.NDArray[np.float64]:
    """Return the travel time of each population unit, seconds (``inf``: unreachable).

    ``"centroid"`` takes the time at the node snapped from the unit's representative point;
    ``"median"`` the median over the nodes inside the unit's polygon (see
    :func:`navigator.population.unit_values`). Units off the network are ``inf``.
    """
    from navigator.decide.population import unit_values

    return unit_values(tg, surface.time_s, population, unit_nodes, method=method,
                       missing=np.inf)


@dataclass(frozen=True)
class PopulationCoverage:
    """People within each target time of the nearest facility.

    Attributes
    ----------
    targets_s
        Target times, seconds, ascending.
    people_covered, people_uncovered
        People per target (uncovered includes units that cannot reach any facility).
    share_covered
        Covered share of ``total_people`` per target, 0..1.
    units_covered
        Units per target.
    total_people
        People in all units considered.
    people_unreachable
        People in units with no reachable facility (or off the network).
    mean_time_s
        Population-weighted mean time of the reachable people, seconds (``nan`` if none).
    """

    targets_s: npt.NDArray[np.float64]
    people_covered: npt.NDArray[np.float64]
    people_uncovered: npt.NDArray[np.float64]
    share_covered: npt.NDArray[np.float64]
    units_covered: npt.NDArray[np.int64]
    total_people: float
    people_unreachable: float
    mean_time_s: float

    def to_frame(self) -> pd.DataFrame:
        """Return one row per target (minutes, people, share)."""
        import pandas as pd

        return pd.DataFrame({
            "target_min": self.targets_s / 60.0,
            "people_covered": self.people_covered,
            "people_uncovered": self.people_uncovered,
            "share_covered": self.share_covered,
            "units_covered": self.units_covered,
        })


def population_coverage(time_s: npt.ArrayLike, people: npt.ArrayLike,
                        targets_s: npt.ArrayLike = DEFAULT_TARGETS_S) -> PopulationCoverage:
    """Count people within each target time.

    Parameters
    ----------
    time_s
        Seconds per unit (``inf`` = unreachable).
    people
        People per unit (non-negative).
    targets_s
        Target times, seconds.

    Raises
    ------
    ValidationError
        For invalid targets, mismatched lengths, or no people at all (never a silent 0 %).
    """
    targets = check_targets(targets_s)
    t = np.asarray(time_s, dtype=np.float64)
    w = np.asarray(people, dtype=np.float64)
    if t.shape != w.shape or t.ndim != 1:
        msg = f"{t.shape} unit times for {w.shape} unit populations"
        raise ValidationError(msg)
    total = float(w.sum())
    if not total > 0:
        msg = "no people to measure coverage for (empty or all-zero population)"
        raise ValidationError(msg)
    within = t[None, :] <= targets[:, None]
    covered = (within * w).sum(axis=1)
    reach = np.isfinite(t)
    mean = float(np.average(t[reach], weights=w[reach])) if w[reach].sum() > 0 else float("nan")
    return PopulationCoverage(
        targets_s=targets, people_covered=covered, people_uncovered=total - covered,
        share_covered=covered / total, units_covered=within.sum(axis=1).astype(np.int64),
        total_people=total, people_unreachable=float(w[~reach].sum()), mean_time_s=mean)


def coverage_gaps(areas: gpd.GeoDataFrame, time_s: npt.ArrayLike, target_s: float, *,
                  people_column: str = "population", min_people: float = 0.0
                  ) -> gpd.GeoDataFrame:
    """Dissolve contiguous areas beyond the target time into gaps ranked by people uncovered.

    Parameters
    ----------
    areas
        Polygons (population units or H3 cells), EPSG:4326, with a people column.
    time_s
        Seconds per area (``inf`` = unreachable).
    target_s
        Target time, seconds.
    people_column
        Column of people per area.
    min_people
        Drop gaps with fewer people.

    Returns
    -------
    geopandas.GeoDataFrame
        ``rank`` (1 = most people), ``people_uncovered``, ``n_areas``, ``max_time_s``
        (``inf`` if a part is unreachable) and the dissolved ``geometry`` (EPSG:4326).
    """
    import geopandas as gpd
    import shapely

    target = float(check_targets(target_s)[0])
    t = np.asarray(time_s, dtype=np.float64)
    if len(t) != len(areas):
        msg = f"{len(t)} times for {len(areas)} areas"
        raise ValidationError(msg)
    out = areas.loc[t > target, [people_column, "geometry"]].to_crs(4326)
    out = out.assign(time_s=t[t > target])
    cols = ["rank", "people_uncovered", "n_areas", "max_time_s"]
    if out.empty:
        return gpd.GeoDataFrame(columns=[*cols, "geometry"], geometry="geometry", crs=4326)
    # Touching polygons form one gap; a tiny buffer bridges slivers between census polygons.
    merged = shapely.union_all(shapely.buffer(out.geometry.to_numpy(), 1e-7))
    parts = gpd.GeoDataFrame(geometry=list(getattr(merged, "geoms", [merged])), crs=4326)
    reps = gpd.GeoDataFrame(out.drop(columns="geometry"),
                            geometry=out.geometry.representative_point(), crs=4326)
    hit = gpd.sjoin(reps, parts, predicate="within", how="left")
    g = hit.groupby("index_right").agg(people_uncovered=(people_column, "sum"),
                                       n_areas=(people_column, "size"),
                                       max_time_s=("time_s", "max"))
    gaps = parts.join(g, how="inner")
    gaps = gaps[gaps["people_uncovered"] >= min_people]
    gaps = gaps.sort_values(["people_uncovered", "n_areas"], ascending=False,
                            kind="stable").reset_index(drop=True)
    gaps.insert(0, "rank", np.arange(1, len(gaps) + 1))
    return gaps[[*cols, "geometry"]]


@dataclass(frozen=True, eq=False)
class ScenarioComparison:
    """Two coverage scenarios side by side.

    Attributes
    ----------
    label_a, label_b
        Scenario names.
    node_delta_s
        ``b - a`` seconds per node (negative: faster in b); ``nan`` where both unreachable,
        ``±inf`` where only one reaches.
    unit_delta_s
        ``b - a`` seconds per population unit (None without units).
    coverage_a, coverage_b
        Population coverage per target (None without units).
    people_newly_covered, people_newly_uncovered
        People per target covered in b but not a, and in a but not b.
    """

    label_a: str
    label_b: str
    node_delta_s: npt.NDArray[np.float64]
    unit_delta_s: npt.NDArray[np.float64] | None
    coverage_a: PopulationCoverage | None
    coverage_b: PopulationCoverage | None
    people_newly_covered: npt.NDArray[np.float64] | None
    people_newly_uncovered: npt.NDArray[np.float64] | None

    def to_frame(self) -> pd.DataFrame:
        """Return one row per target: coverage in a and b, people gained and lost."""
        import pandas as pd

        if self.coverage_a is None or self.coverage_b is None:
            msg = "compare with population units to get a coverage table"
            raise ValidationError(msg)
        a, b = self.coverage_a, self.coverage_b
        return pd.DataFrame({
            "target_min": a.targets_s / 60.0,
            f"covered_{self.label_a}": a.people_covered,
            f"covered_{self.label_b}": b.people_covered,
            "newly_covered": self.people_newly_covered,
            "newly_uncovered": self.people_newly_uncovered,
            "share_change": b.share_covered - a.share_covered,
        })


def _delta(b: npt.NDArray[np.float64], a: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    with np.errstate(invalid="ignore"):
        d = b - a
    d[np.isinf(a) & np.isinf(b)] = np.nan
    return d


def compare_scenarios(a: CoverageSurface, b: CoverageSurface, *,
                      unit_nodes: npt.ArrayLike | None = None, people: npt.ArrayLike | None = None,
                      targets_s: npt.ArrayLike = DEFAULT_TARGETS_S) -> ScenarioComparison:
    """Compare two surfaces on the same graph, per node and (optionally) per population unit.

    Parameters
    ----------
    a, b
        Surfaces (e.g. today and with a base added, or day and night).
    unit_nodes
        Node per population unit (-1 = off the network); with ``people``.
    people
        People per unit.
    targets_s
        Target times, seconds.

    Raises
    ------
    ValidationError
        If the surfaces come from graphs of different sizes or units are half given.
    """
    if a.time_s.shape != b.time_s.shape:
        msg = "scenarios were computed on different road networks"
        raise ValidationError(msg)
    node_delta = _delta(b.time_s, a.time_s)
    if unit_nodes is None and people is None:
        return ScenarioComparison(a.label or "a", b.label or "b", node_delta, None, None, None,
                                  None, None)
    if unit_nodes is None or people is None:
        msg = "give both unit_nodes and people, or neither"
        raise ValidationError(msg)
    nodes = np.asarray(unit_nodes, dtype=np.int64)
    w = np.asarray(people, dtype=np.float64)
    ta = np.where(nodes >= 0, a.time_s[np.maximum(nodes, 0)], np.inf)
    tb = np.where(nodes >= 0, b.time_s[np.maximum(nodes, 0)], np.inf)
    ca, cb = population_coverage(ta, w, targets_s), population_coverage(tb, w, targets_s)
    targets = ca.targets_s[:, None]
    in_a, in_b = ta[None, :] <= targets, tb[None, :] <= targets
    return ScenarioComparison(
        a.label or "a", b.label or "b", node_delta, _delta(tb, ta), ca, cb,
        people_newly_covered=((in_b & ~in_a) * w).sum(axis=1),
        people_newly_uncovered=((in_a & ~in_b) * w).sum(axis=1))


@dataclass(frozen=True, eq=False)
class CoverageReport:
    """Everything a coverage page shows for one scenario (GeoDataFrames in EPSG:4326)."""

    label: str
    hexes: gpd.GeoDataFrame
    units: gpd.GeoDataFrame
    coverage: PopulationCoverage
    gaps: gpd.GeoDataFrame
    hex_gaps: gpd.GeoDataFrame
    notes: tuple[str, ...]
