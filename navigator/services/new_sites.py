"""The planner's new sites: solve a siting model for a scenario, measure it, audit it.

:func:`recommend_new_sites` runs :func:`navigator.services.siting.recommend_sites` on the
scenario's facilities and the people of :mod:`navigator.services.planning`, measures the
people within the target before and after (and with greedy's sites), records the decision
with ``store.record`` and returns a frozen :class:`NewSitePlan` for the CLI and the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from navigator.decide.coverage import check_targets
from navigator.jsonsafe import json_safe
from navigator.model import CANDIDATE_GROUPS, FACILITY_KINDS, FacilityKind
from navigator.services.planner import facility_surface
from navigator.services.planning import demand_for, scenario_inputs
from navigator.services.reports import people_covered
from navigator.services.sim_busy import merged_busy, simulated_busy
from navigator.services.siting import SiteRecommendation, candidate_sites, recommend_sites

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import datetime

    import geopandas as gpd

    from navigator.config import Settings
    from navigator.decide.allocation import Allocation, Model
    from navigator.model import BedType, ResourceKind
    from navigator.roads import TravelGraph
    from navigator.services.planning import PopulationLayer
    from navigator.services.reports import Demand
    from navigator.store import Store

__all__ = ["NewSitePlan", "recommend_new_sites"]


@dataclass(frozen=True, eq=False)
class NewSitePlan:
    """New sites for a scenario, with the people covered within the target before and after.

    Attributes
    ----------
    kind, model, k, target_s
        What was asked: facility kind, ``mclp``/``lscp``/``p_median``, sites, target seconds.
    existing
        The facilities in service (forced open).
    candidates
        Candidate sites considered.
    total_people
        People in the demand units.
    people_covered_before, people_covered_after, greedy_people_covered
        People within the target today, with the chosen sites and with greedy's.
    recommendation
        The allocation and the chosen sites; None when everyone is already within the
        target, the model (not p-median) could not improve on it and nothing was solved.
    notes
        What was left out or assumed.
    """

    kind: str
    model: str
    k: int
    target_s: float
    existing: gpd.GeoDataFrame
    candidates: int
    total_people: float
    people_covered_before: float
    people_covered_after: float
    greedy_people_covered: float
    recommendation: SiteRecommendation | None
    notes: tuple[str, ...]

    @property
    def needed(self) -> bool:
        """Whether a new site can improve on today (False: everyone already within target)."""
        return self.recommendation is not None

    @property
    def allocation(self) -> Allocation | None:
        """The solver's result (objective, greedy baseline, gap, status), if solved."""
        return None if self.recommendation is None else self.recommendation.allocation

    @property
    def sites(self) -> gpd.GeoDataFrame:
        """The chosen sites (``id``, ``name``, ``kind``, EPSG:4326 points); none if not needed."""
        return self._frame("sites")

    @property
    def greedy_sites(self) -> gpd.GeoDataFrame:
        """The greedy baseline's sites."""
        return self._frame("greedy_sites")

    def _frame(self, name: str) -> gpd.GeoDataFrame:
        if self.recommendation is not None:
            frame: gpd.GeoDataFrame = getattr(self.recommendation, name)
            return frame
        return self.existing.iloc[0:0][["id", "name", "kind", "geometry"]]

    def summary(self) -> dict[str, Any]:
        """Return the figures and the solver's result as plain JSON types (no geometries)."""
        a = self.allocation
        return json_safe({
            "model": self.model, "k": self.k, "target_min": self.target_s / 60.0,
            "candidates": self.candidates, "existing": len(self.existing),
            "total_people": self.total_people, "needed": self.needed,
            "people_covered_before": self.people_covered_before,
            "people_covered_after": self.people_covered_after,
            "greedy_people_covered": self.greedy_people_covered,
            "objective": a.objective if a else None,
            "greedy_objective": a.greedy_objective if a else None,
            "gap": a.gap if a else None, "status": a.status if a else None,
            "solve_time_s": a.solve_time_s if a else None, "notes": list(self.notes),
        })


def recommend_new_sites(store: Store, graph: TravelGraph, settings: Settings, *, actor: str,
                        kind: FacilityKind | str = FacilityKind.TEAM_BASES,
                        at: datetime | None = None, bed_type: BedType | str | None = None,
                        free_beds: bool = False, closed: Sequence[str] = (),
                        candidate_kinds: Sequence[ResourceKind | str] = CANDIDATE_GROUPS[
                            "public"], k: int = 3, target_s: float = 900.0,
                        model: Model = "mclp", time_limit_s: float = 60.0,
                        busy: Mapping[str, float] | None = None,
                        busy_from: Mapping[str, Any] | None = None,
                        busy_policy: str | None = None,
                        solve_when_covered: bool = False, demand: Demand | None = None,
                        population: PopulationLayer | None = None) -> NewSitePlan:
    """Return ``k`` new sites among public facilities that cover the most people in time.

    Parameters
    ----------
    candidate_kinds
        Resource kinds whose public sites (not already in service) are candidates.
    k
        New sites to choose (``lscp`` chooses as few as cover everyone).
    target_s
        Target time, seconds.
    model
        ``"mclp"`` (most people within the target), ``"lscp"`` (fewest sites covering all)
        or ``"p_median"`` (least people-seconds).
    time_limit_s
        Solver time limit, seconds (the best solution by then; ``status`` says if optimal).
    busy
        ``mexclp``: busy fraction per existing base or candidate site (e.g. measured by a
        simulator run), keyed by its id or name, each in [0, 1); the others take
        ``settings.team_busy_fraction``.
    busy_from, busy_policy
        ``mexclp``: a saved ``navigator simulate --json`` result of this store; each base in
        service takes its teams' utilisation under ``busy_policy`` (default the run's first
        policy) unless ``busy`` names it; the notes say which fraction came from where.
    solve_when_covered
        Solve even when everyone is already within the target (any ``k`` sites then cover
        as many people); by default ``mclp`` and ``lscp`` then recommend nothing.
    store, graph, settings, actor, kind, at, bed_type, free_beds, closed, demand, population
        As in :func:`assess_coverage`; travel is measured the way ``kind`` travels.

    Raises
    ------
    ValidationError
        No candidate site, or a bad target, ``k`` or model; a saved simulation of another
        region or store, with fractions outside [0, 1) or none of its bases in service.
    """
    target = float(check_targets(target_s)[0])
    run = facility_surface(store, graph, kind=kind, at=at, bed_type=bed_type,
                           free_beds=free_beds, fresh_hours=settings.bed_fresh_hours, closed=closed)
    people = demand_for(graph, settings, demand, population)

    def covered(sites: gpd.GeoDataFrame) -> float:
        after = run
        if len(sites):
            after = facility_surface(store, graph, kind=kind, at=at, bed_type=bed_type,
                                     free_beds=free_beds,
                                     fresh_hours=settings.bed_fresh_hours, closed=closed,
                                     added=sites[["id", "name", "geometry"]])
        return float(people_covered(graph, after, people, targets_s=[target]).people_covered[0])

    today = people_covered(graph, run, people, targets_s=[target])
    before, total = float(today.people_covered[0]), float(today.total_people)
    rec: SiteRecommendation | None = None
    n_candidates = 0
    notes = list(run.notes)
    simulated = None
    if busy_from is not None:
        known = set(store.resources(include_confidential=False)["id"].astype(str))
        simulated = simulated_busy(busy_from, settings, known_bases=known, policy=busy_policy)
        busy, sim_notes = merged_busy(simulated, busy, in_service=set(run.facilities["id"]),
                                      default=settings.team_busy_fraction)
        notes.extend(sim_notes)
    if today.people_uncovered[0] == 0 and model != "p_median" and not solve_when_covered:
        notes.append(f"everyone in the network area is already within {target / 60:g} min of "
                     f"the {len(run.facilities)} {kind}: no new site is needed")
        after = greedy = before
    else:
        cand = candidate_sites(store, kinds=candidate_kinds, exclude=set(run.facilities["id"]))
        n_candidates = len(cand)
        rec = recommend_sites(graph, people, cand, k=k, target_s=target, model=model,
                              busy=settings.team_busy_fraction, base_busy=busy,
                              existing=run.facilities,
                              direction=FACILITY_KINDS[kind][1], time_limit_s=time_limit_s)
        notes.extend(rec.notes)
        after, greedy = covered(rec.sites), covered(rec.greedy_sites)
    plan = NewSitePlan(str(kind), model, k, target, run.facilities, n_candidates, total, before,
                       after, greedy, rec, tuple(notes))
    summary = plan.summary()
    store.record("coverage_recommend", actor=actor,
                 inputs={**scenario_inputs(kind, at, bed_type, free_beds, closed),
                         "candidate_kinds": [str(c) for c in candidate_kinds], "k": k,
                         "target_s": target, "model": model, "time_limit_s": time_limit_s,
                         "busy": dict(busy or {}),
                         "busy_from": None if simulated is None else simulated.inputs(),
                         "population": people.population.source},
                 result={key: v for key, v in summary.items() if key != "notes"}
                 | {"sites": [str(i) for i in plan.sites["id"]]})
    return plan
