"""Coverage of population: demand units, reports per scenario, people covered, comparisons.

Public API
----------
- :class:`Demand`, :func:`demand_units` - the population layer clipped to the network and
  snapped to it.
- :func:`coverage_report` - hexes, units, population table and ranked gaps for one surface.
- :func:`coverage_reports` - many scenarios as a Dask batch.
- :func:`people_covered` - the population table alone (cheap, for before/after figures).
- :func:`compare` - two scenarios side by side, per unit, with people gained and lost.

The scenarios (:class:`~navigator.services.planner.FacilityRun`) come from
:mod:`navigator.services.planner`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from navigator.decide.coverage import (
    DEFAULT_TARGETS_S,
    CoverageReport,
    PopulationCoverage,
    ScenarioComparison,
    check_targets,
    compare_scenarios,
    coverage_gaps,
    hex_surface,
    population_coverage,
    unit_times,
)

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    import geopandas as gpd
    import numpy as np
    from distributed import Client
    from shapely.geometry.base import BaseGeometry

    from navigator.decide.population import Population, UnitNodes
    from navigator.roads import TravelGraph
    from navigator.services.planner import FacilityRun

__all__ = ["CoverageReport", "Demand", "compare", "coverage_report", "coverage_reports",
           "demand_units", "people_covered"]


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


def compare(a: FacilityRun, b: FacilityRun, demand: Demand, *,
            targets_s: Sequence[float] = DEFAULT_TARGETS_S
            ) -> tuple[ScenarioComparison, gpd.GeoDataFrame]:
    """Compare two scenarios; return the comparison and units with ``delta_s`` (b - a)."""
    cmp = compare_scenarios(a.surface, b.surface, unit_nodes=demand.nodes.node,
                            people=demand.people, targets_s=targets_s)
    return cmp, demand.population.units.assign(delta_s=cmp.unit_delta_s)
