"""Planner services: coverage of a scenario and a scenario against today; audited.

Every function takes the store, the graph and the settings first and options keyword-only,
runs the building blocks of :mod:`navigator.services.planner` and
:mod:`navigator.services.reports` in order, records its decision
with ``store.record`` (inputs and a compact result) whichever edge calls it, and returns a
frozen result that the CLI and the web page render.

The people are the demand units of a population layer: pass ``demand`` (loaded once with
:func:`load_demand`, as the web app does per process) or ``population`` (a layer to load
now); with neither, the region's shipped census units are loaded. New sites, the third
planner decision, are in :mod:`navigator.services.new_sites`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from navigator.decide.coverage import DEFAULT_TARGETS_S, check_targets
from navigator.demo.city import demo_city
from navigator.errors import ValidationError
from navigator.jsonsafe import json_safe
from navigator.model import FacilityKind, check_lonlat
from navigator.services.planner import FacilityRun, facility_surface
from navigator.services.reports import Demand, compare, coverage_report, demand_units

if TYPE_CHECKING:
    from collections.abc import Sequence

    import geopandas as gpd

    from navigator.config import Settings
    from navigator.decide.coverage import CoverageReport, ScenarioComparison
    from navigator.model import BedType
    from navigator.roads import TravelGraph
    from navigator.store import Store

__all__ = ["CoverageAssessment", "CoverageChange", "PopulationLayer", "assess_coverage",
           "compare_coverage", "demand_for", "load_demand", "scenario_inputs"]


# -- the people ----------------------------------------------------------------------------
@dataclass(frozen=True)
class PopulationLayer:
    """A layer of population units (polygons or points) and its people column.

    ``path`` None is the region's own layer under ``settings.data_dir`` (Columbus: 2010
    block groups, ``pop2010``; Imperial: 2017 tract points, ``pop2017``), with its column.
    """

    path: Path | None = None
    layer: str | None = None
    column: str = "pop2010"


def load_demand(graph: TravelGraph, settings: Settings,
                population: PopulationLayer | None = None) -> Demand:
    """Return the population units clipped to ``graph``'s area and snapped to it.

    ``population`` defaults to the region's layer (``settings.region``); a rural region's
    units are clipped to the network's outline (see :class:`navigator.demo.city.City`).
    """
    if population is not None and population.path is not None:
        return demand_units(graph, population.path, layer=population.layer,
                            column=population.column)
    from navigator.roads import network_area

    city = demo_city(settings)
    area = network_area(graph).convex_hull if city.rural else None
    return demand_units(graph, city.population_file,
                        layer=city.population_layer if population is None or
                        population.layer is None else population.layer,
                        column=city.population_column, area=area,
                        max_snap_m=city.population_snap_m)


def demand_for(graph: TravelGraph, settings: Settings, demand: Demand | None,
               population: PopulationLayer | None) -> Demand:
    """Return ``demand``, else ``population`` loaded, else the region's layer (not both)."""
    if demand is not None and population is not None:
        msg = "give the demand units or a population layer to load, not both"
        raise ValidationError(msg)
    return demand if demand is not None else load_demand(graph, settings, population)


# -- inputs shared by the scenarios --------------------------------------------------------
def _new_sites(points: Sequence[tuple[float, float]]) -> gpd.GeoDataFrame | None:
    """Return new sites at ``(lon, lat)`` points (EPSG:4326) as ``new-1``, ``new-2``, ..."""
    if not points:
        return None
    import geopandas as gpd

    for i, point in enumerate(points):
        if len(point) != 2:
            msg = f"new site {i + 1}: give (lon, lat), got {point!r}"
            raise ValidationError(msg)
        check_lonlat(f"new site {i + 1}", point[0], point[1])
    lon, lat = zip(*points, strict=True)
    n = len(points)
    return gpd.GeoDataFrame({"id": [f"new-{i + 1}" for i in range(n)],
                             "name": [f"New site {i + 1}" for i in range(n)]},
                            geometry=gpd.points_from_xy(lon, lat), crs=4326)


def scenario_inputs(kind: FacilityKind | str, at: datetime | None,
                    bed_type: BedType | str | None, free_beds: bool, closed: Sequence[str]
                    ) -> dict[str, Any]:
    """Return a scenario's inputs as plain JSON types, for the audit log."""
    return {"kind": str(kind), "at": at.isoformat() if at else None,
            "bed_type": None if bed_type is None else str(bed_type), "free_beds": free_beds,
            "closed": [str(c) for c in closed]}


def _seconds(values: Sequence[float] | float) -> list[float]:
    return [float(v) for v in np.atleast_1d(np.asarray(values, dtype=float))]


# -- coverage of one scenario --------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class CoverageAssessment:
    """Coverage of one scenario: its facilities and surface, the report, the people.

    Attributes
    ----------
    kind
        The facility kind measured from.
    run
        The facilities (EPSG:4326 points with their graph node) and their coverage surface.
    report
        Hexes (with ``population``), units (with ``time_s``), people covered per target and
        the gaps beyond ``gap_target_s``, ranked by people.
    demand
        The population units.
    gap_target_s
        Target the gaps are drawn at, seconds.
    """

    kind: str
    run: FacilityRun
    report: CoverageReport
    demand: Demand
    gap_target_s: float

    @property
    def facilities(self) -> gpd.GeoDataFrame:
        """The facilities measured from (``id``, ``name``, ``kind``, ``node``, points)."""
        return self.run.facilities

    def gap_hexes(self) -> gpd.GeoDataFrame:
        """Return the hexes with ``gap``: True where no facility is within the gap target."""
        hexes = self.report.hexes
        return hexes.assign(gap=~(hexes["min_time_s"] <= self.gap_target_s))

    def layers(self) -> dict[str, gpd.GeoDataFrame]:
        """Return the layers to export (EPSG:4326), by name.

        ``hexes`` (``min_time_s``, ``population``, ``gap``), ``units`` (the population units
        with ``time_s``), ``gaps`` (ranked) and ``facilities``; seconds, ``inf`` unreachable.
        """
        return {"hexes": self.gap_hexes(),
                "units": self.report.units, "gaps": self.report.gaps,
                "facilities": self.facilities}

    def summary(self) -> dict[str, Any]:
        """Return the headline figures as plain JSON types (road shares over graph nodes)."""
        t = self.run.surface.time_s
        finite = t[np.isfinite(t)]
        gaps = self.report.gaps
        return json_safe({
            "kind": self.kind, "facilities": len(self.facilities),
            "target_s": self.gap_target_s,
            "share_of_roads_within_target": float(np.mean(t <= self.gap_target_s))
            if t.size else None,
            "median_time_s": float(np.median(finite)) if finite.size else None,
            "max_time_s": float(finite.max()) if finite.size else None,
            "unreachable_share": float(np.mean(~np.isfinite(t))) if t.size else None,
            "gap_hexes": int(self.gap_hexes()["gap"].sum()), "hexes": len(self.report.hexes),
            "gaps": len(gaps), "people_beyond_target": float(gaps["people_uncovered"].sum()),
            "notes": list(self.report.notes),
        })


def assess_coverage(store: Store, graph: TravelGraph, settings: Settings, *, actor: str,
                    kind: FacilityKind | str = FacilityKind.TEAM_BASES,
                    at: datetime | None = None, bed_type: BedType | str | None = None,
                    free_beds: bool = False, closed: Sequence[str] = (),
                    added: Sequence[tuple[float, float]] = (),
                    targets_s: Sequence[float] = DEFAULT_TARGETS_S,
                    gap_target_s: float | None = None, hex_resolution: int = 8,
                    demand: Demand | None = None, population: PopulationLayer | None = None
                    ) -> CoverageAssessment:
    """Return the road time from the nearest facility and the people beyond each target.

    Parameters
    ----------
    store, graph, settings
        Where facilities, roads and defaults come from.
    actor
        Who asks (audit log).
    kind, at, bed_type, free_beds
        Which facilities serve: a :class:`~navigator.model.FacilityKind`, open (teams: on
        shift) at a timezone-aware moment, shelters with beds of a type or a free bed.
    closed
        Ids of facilities closed in this scenario.
    added
        New sites, ``(lon, lat)`` in EPSG:4326 degrees.
    targets_s
        Target times, seconds.
    gap_target_s
        Target the gaps are drawn at, seconds (default: the smallest target); added to
        ``targets_s`` when not among them, so the people per target include it.
    hex_resolution
        H3 resolution of the hexes.
    demand, population
        Preloaded demand units, or a population layer to load (see the module).

    Raises
    ------
    ValidationError
        An unknown closed id, no facility left, a bad target or new site.
    UnreachableError
        A new site is farther than the snap limit from a road.
    """
    new = _new_sites(added)
    if gap_target_s is not None:  # the people table always has a row for the gap target
        targets_s = check_targets([*_seconds(targets_s), float(gap_target_s)]).tolist()
    run = facility_surface(store, graph, kind=kind, at=at, bed_type=bed_type,
                           free_beds=free_beds, fresh_hours=settings.bed_fresh_hours,
                           closed=closed, added=new)
    people = demand_for(graph, settings, demand, population)
    report = coverage_report(graph, run, people, targets_s=targets_s,
                             hex_resolution=hex_resolution, gap_target_s=gap_target_s)
    gap_t = float(report.coverage.targets_s[0]) if gap_target_s is None else gap_target_s
    result = CoverageAssessment(str(kind), run, report, people, gap_t)
    summary = result.summary()
    store.record("coverage_report", actor=actor,
                 inputs={**scenario_inputs(kind, at, bed_type, free_beds, closed),
                         "added": [list(p) for p in added], "targets_s": _seconds(targets_s),
                         "gap_target_s": gap_t, "hex_resolution": hex_resolution,
                         "population": people.population.source},
                 result={k: summary[k] for k in ("facilities", "gaps", "people_beyond_target")})
    return result


# -- a scenario against its baseline -------------------------------------------------------
@dataclass(frozen=True, eq=False)
class CoverageChange:
    """A scenario (facilities closed, sites added) against its baseline.

    Attributes
    ----------
    kind
        The facility kind measured from.
    base, scenario
        Facilities and surfaces of the baseline (label ``today``) and the scenario.
    comparison
        People covered per target in both, people newly covered and uncovered.
    units
        The population units with ``delta_s``: scenario minus baseline, seconds.
    demand
        The population units.
    """

    kind: str
    base: FacilityRun
    scenario: FacilityRun
    comparison: ScenarioComparison
    units: gpd.GeoDataFrame
    demand: Demand

    @property
    def added(self) -> gpd.GeoDataFrame:
        """The sites added in the scenario (``id``, ``name``, EPSG:4326 points)."""
        fac = self.scenario.facilities
        return fac[fac["kind"] == "new_site"].reset_index(drop=True)

    def changed_units(self, *, min_change_s: float = 1.0) -> gpd.GeoDataFrame:
        """Return the units whose time changed by more than ``min_change_s`` seconds."""
        delta = np.nan_to_num(self.units["delta_s"].to_numpy(dtype=float), nan=0.0)
        return self.units[np.abs(delta) > min_change_s]

    def units_losing(self) -> list[dict[str, float]]:
        """Return per target the units (and their people) within it before, beyond it after.

        With road closures as the scenario: the places that lose coverage, counted.
        """
        nodes = np.asarray(self.demand.nodes.node, dtype=np.int64)
        people = np.asarray(self.demand.people, dtype=np.float64)
        ok = nodes >= 0
        ta = np.where(ok, self.base.surface.time_s[np.maximum(nodes, 0)], np.inf)
        tb = np.where(ok, self.scenario.surface.time_s[np.maximum(nodes, 0)], np.inf)
        out = []
        for t in self.comparison.coverage_a.targets_s if self.comparison.coverage_a else ():
            lost = (ta <= t) & ~(tb <= t)
            out.append({"target_min": float(t) / 60.0, "units": int(lost.sum()),
                        "people": float(people[lost].sum())})
        return out

    def rows(self) -> list[dict[str, float]]:
        """Return per target: minutes, people covered before and after, gained and lost."""
        c = self.comparison
        if (c.coverage_a is None or c.coverage_b is None or c.people_newly_covered is None
                or c.people_newly_uncovered is None):
            msg = "comparison without population units"  # compare always passes units
            raise RuntimeError(msg)
        return [{"target_min": float(t) / 60.0, "covered_before": float(a),
                 "covered_after": float(b), "newly_covered": float(gained),
                 "newly_uncovered": float(lost)}
                for t, a, b, gained, lost in zip(c.coverage_a.targets_s,
                                                 c.coverage_a.people_covered,
                                                 c.coverage_b.people_covered,
                                                 c.people_newly_covered,
                                                 c.people_newly_uncovered, strict=True)]


def compare_coverage(store: Store, graph: TravelGraph, settings: Settings, *, actor: str,
                     kind: FacilityKind | str = FacilityKind.TEAM_BASES,
                     at: datetime | None = None, bed_type: BedType | str | None = None,
                     free_beds: bool = False, closed: Sequence[str] = (),
                     close: Sequence[str] = (), added: Sequence[tuple[float, float]] = (),
                     targets_s: Sequence[float] = DEFAULT_TARGETS_S,
                     demand: Demand | None = None, population: PopulationLayer | None = None,
                     scenario_graph: TravelGraph | None = None) -> CoverageChange:
    """Return the coverage of a scenario against its baseline, per target and per unit.

    The baseline is ``kind`` at ``at`` with ``closed`` facilities closed; the scenario also
    closes ``close`` and adds sites at ``added`` ``(lon, lat)`` points (EPSG:4326), and routes
    on ``scenario_graph`` (default ``graph``; the network with road closures applied compares
    coverage with closures against without). Other parameters and errors as in
    :func:`assess_coverage`.
    """
    new = _new_sites(added)
    base = facility_surface(store, graph, kind=kind, at=at, bed_type=bed_type,
                            free_beds=free_beds, fresh_hours=settings.bed_fresh_hours,
                            closed=closed, label="today")
    roads = graph if scenario_graph is None else scenario_graph
    scenario = facility_surface(store, roads, kind=kind, at=at, bed_type=bed_type,
                                free_beds=free_beds, fresh_hours=settings.bed_fresh_hours,
                                closed=(*closed, *close), added=new,
                                label="scenario")
    people = demand_for(graph, settings, demand, population)
    cmp, units = compare(base, scenario, people, targets_s=targets_s)
    result = CoverageChange(str(kind), base, scenario, cmp, units, people)
    store.record("coverage_compare", actor=actor,
                 inputs={**scenario_inputs(kind, at, bed_type, free_beds, closed),
                         "close": [str(c) for c in close], "added": [list(p) for p in added],
                         "closed_edges": int(roads.closed_edges.shape[0]),
                         "targets_s": _seconds(targets_s),
                         "population": people.population.source},
                 result={"targets": result.rows()})
    return result
