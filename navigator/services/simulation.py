"""The planner's dispatch-policy simulator: compare policies, sweep team counts and bases.

:func:`simulate_policies` replays a call stream (synthetic from the region's population, or a
CSV of past calls) through dispatch policies with the store's teams and bases;
:func:`sweep_policies` runs policies x team counts x base sets (through Dask when asked).
Both build the inputs once (teams, bases, calls and population units snapped to the nearest
edge, issue 14; travel times between every place that matters, partial edge times included,
from :func:`navigator.roads.point_travel_time_matrix`), run the pure simulator
(:mod:`navigator.decide.simulate`, places as the integer keys of
:func:`navigator.services._on_road.place_keys`) and record the decision in the audit log.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from navigator.decide.results import ResponseTargets
from navigator.decide.sim_stream import IncidentStream, ShiftTable, default_shifts, synthetic_stream
from navigator.decide.simulate import (
    Fleet,
    SimulationInput,
    SweepCase,
    check_policies,
    grid_areas,
    places_needed,
    simulate,
    sweep,
)
from navigator.errors import ValidationError
from navigator.jsonsafe import json_safe
from navigator.model import DispatchPolicy
from navigator.roads import network_timezone, point_travel_time_matrix, snap_to_edges
from navigator.services._on_road import key_points, place_keys, snap_places
from navigator.services.context import region_name
from navigator.services.planning import load_demand

if TYPE_CHECKING:
    from collections.abc import Sequence

    from distributed import Client

    from navigator.config import Settings
    from navigator.decide.sim_report import PolicyReport
    from navigator.roads import EdgeSnap, TravelGraph
    from navigator.services.reports import Demand
    from navigator.store import Store

__all__ = ["MAX_PLACES", "SimulationRun", "SweepRun", "simulate_policies", "sweep_policies"]

#: Most distinct road places one simulation builds travel times between (an n x n matrix).
MAX_PLACES = 6000
ALL_POLICIES = tuple(p.value for p in DispatchPolicy)


@dataclass(frozen=True, eq=False)
class SimulationRun:
    """Policies compared on one call stream.

    Attributes
    ----------
    reports
        One per policy, in the order asked; the first is the reference of the differences.
    input
        What was simulated (stream, fleet, shifts, travel times, targets, areas).
    area_cell_deg
        Side of the grid cells calls are reported by, degrees.
    timings_s
        Seconds spent building travel times (``matrix``) and simulating (``simulate``).
    notes
        What was assumed or left out.
    bases
        Per team (the fleet's order), the id of the site it returns to.
    seed, region
        The synthetic stream's seed (None for imported calls) and the store's region name,
        saved with the busy fractions so a recommendation can say where they came from.
    """

    reports: tuple[PolicyReport, ...]
    input: SimulationInput
    area_cell_deg: float
    timings_s: dict[str, float]
    notes: tuple[str, ...]
    bases: tuple[str, ...] = ()
    seed: int | None = None
    region: str = ""

    def busy_by_base(self, policy: str | None = None) -> dict[str, float]:
        """Return per base its teams' mean utilisation under ``policy`` (default: the first).

        For MEXCLP's ``busy=`` (capped at 0.999); bases never on duty are left out (unknown).
        """
        report = self.reports[0] if policy is None else next(
            (r for r in self.reports if r.policy == policy), None)
        if report is None:
            msg = (f"policy {policy!r} was not simulated (simulated: "
                   f"{', '.join(r.policy for r in self.reports)})")
            raise ValidationError(msg)
        per: dict[str, list[float]] = {}
        for base, u in zip(self.bases, report.team_utilisation, strict=False):
            if u is not None:
                per.setdefault(base, []).append(float(u))
        return {b: min(float(np.mean(v)), 0.999) for b, v in per.items()}

    def summary(self) -> dict[str, Any]:
        """Return the comparison as plain JSON types (no per-call arrays)."""
        s = self.input.stream
        return json_safe({
            "source": s.source, "calls": len(s), "teams": len(self.input.fleet.names),
            "days": self.input.horizon_s / 86400.0, "places": len(self.input.nodes),
            "area_cell_deg": self.area_cell_deg, "timings_s": self.timings_s,
            "notes": list(self.notes), "policies": [r.summary() for r in self.reports],
            "seed": self.seed, "region": self.region,
            "busy_by_base": {r.policy: self.busy_by_base(r.policy) for r in self.reports}})

    def rows(self) -> list[dict[str, Any]]:
        """Return one flat row per policy and priority (and ``all``), for a CSV."""
        out = []
        for r in self.reports:
            for row in (dict(r.overall, priority="all"), *r.by_priority):
                out.append(json_safe({"policy": r.policy, "priority": row["priority"], **row,
                                      "utilisation": r.utilisation,
                                      "calls_waited": r.calls_waited,
                                      "max_queue": r.max_queue,
                                      "preemptions": r.preemptions}))
        return out

    def area_rows(self) -> list[dict[str, Any]]:
        """Return per grid cell: calls and each policy's p50/p90 and change from the first."""
        ref = {a["area"]: a for a in self.reports[0].by_area}
        rows: dict[str, dict[str, Any]] = {}
        for r in self.reports:
            for a in r.by_area:
                row = rows.setdefault(a["area"], {"area": a["area"], "calls": a["calls"]})
                row[f"{r.policy}_p50_s"] = a["p50_s"]
                row[f"{r.policy}_p90_s"] = a["p90_s"]
                row[f"{r.policy}_unserved"] = a["unserved"]
                base = ref[a["area"]]["p90_s"]
                row[f"{r.policy}_p90_change_s"] = (None if base is None or a["p90_s"] is None
                                                   else a["p90_s"] - base)
        return [json_safe(rows[k]) for k in sorted(rows)]


@dataclass(frozen=True, eq=False)
class SweepRun:
    """Sweep cells in order: label, policy, teams, base set and the run's summary."""

    cells: tuple[dict[str, Any], ...]
    timings_s: dict[str, float]

    def rows(self) -> list[dict[str, Any]]:
        """Return one flat row per cell (overall figures)."""
        keep = ("calls", "served", "unserved", "p50_s", "p90_s", "share_within_target",
                "mean_wait_s", "utilisation", "calls_waited", "max_queue", "preemptions")
        return [json_safe({k: c[k] for k in ("label", "policy", "teams", "bases")}
                          | {k: c["summary"][k] for k in keep}) for c in self.cells]


# -- the inputs ----------------------------------------------------------------------------
def _fleet(store: Store, graph: TravelGraph, settings: Settings, *, teams: int | None,
           base_ids: Sequence[str] | None) -> tuple[Fleet, list[str]]:
    """Return the store's teams at their real positions, with their (or the given) bases."""
    roster = store.teams().sort_values("id", kind="stable")
    if roster.empty:
        msg = "zero teams: the store holds no team to simulate (load the demo or import teams)"
        raise ValidationError(msg)
    n = len(roster) if teams is None else int(teams)
    if not 1 <= n <= len(roster):
        msg = f"teams must be 1 to {len(roster)} (the store's teams), got {teams}"
        raise ValidationError(msg)
    roster = roster.iloc[:n]
    start = place_keys(snap_places(graph, roster, max_snap_m=settings.max_snap_m))
    sites = store.resources(include_confidential=False).set_index("id")
    if base_ids:
        unknown = [b for b in base_ids if b not in sites.index]
        if unknown:
            msg = f"unknown base id(s) {', '.join(unknown)}: give resource ids of team bases"
            raise ValidationError(msg)
        bases = [base_ids[i % len(base_ids)] for i in range(n)]
    else:
        bases = [str(b) if isinstance(b, str) and b in sites.index else "" for b in
                 roster["base_id"]]
    lon = [sites.geometry.x[b] if b else x for b, x in zip(bases, roster.geometry.x, strict=True)]
    lat = [sites.geometry.y[b] if b else y for b, y in zip(bases, roster.geometry.y, strict=True)]
    base = place_keys(snap_to_edges(graph, np.array(lon), np.array(lat),
                                    max_snap_m=settings.max_snap_m, strict=False))
    far = [str(i) for i, s, b in zip(roster["id"], start, base, strict=True) if s < 0 or b < 0]
    if far:
        msg = f"team(s) {', '.join(far)} or their bases lie off the road network"
        raise ValidationError(msg)
    return Fleet(tuple(str(i) for i in roster["id"]), start.astype(np.int64),
                 base.astype(np.int64)), bases


def _week_seconds(at: datetime) -> float:
    return at.weekday() * 86400.0 + at.hour * 3600.0 + at.minute * 60.0 + at.second


def _imported(graph: TravelGraph, settings: Settings, path: Path | str, text: str | None,
              tz: str) -> IncidentStream:
    from navigator.exchange.calls import read_calls

    calls = read_calls(path, timezone=tz, text=text)
    s = snap_to_edges(graph, np.array(calls.lon), np.array(calls.lat),
                      max_snap_m=settings.max_snap_m, strict=False)
    off = np.flatnonzero(s.edge < 0)
    if off.size:
        i = int(off[0])
        msg = (f"{calls.source} line {calls.line[i]}: lon, lat ({calls.lon[i]}, {calls.lat[i]}) "
               f"is more than {settings.max_snap_m:g} m from any road of the network (off the "
               f"network); {off.size} call(s) in all")
        raise ValidationError(msg)
    local = [t.astimezone(ZoneInfo(tz)) for t in calls.time]
    t0 = min(local)
    secs = np.array([(t - t0).total_seconds() for t in local])
    order = np.argsort(secs, kind="stable")
    return IncidentStream(
        time_s=secs[order], node=place_keys(s)[order],
        lon=np.array(calls.lon)[order], lat=np.array(calls.lat)[order],
        priority=np.array(calls.priority, dtype=np.int64)[order],
        crisis_type=tuple(calls.crisis_type[i] for i in order),
        on_scene_s=np.array(calls.on_scene_min)[order] * 60.0,
        start_how_s=_week_seconds(t0), source=f"{calls.source} ({len(order)} calls)")


def _cell(stream: IncidentStream, cell_deg: float | None) -> float:
    if cell_deg is not None:
        return float(cell_deg)
    if not len(stream):
        return 0.02
    span = max(float(np.ptp(stream.lon)), float(np.ptp(stream.lat)))
    return max(0.005, round(span / 8 / 0.005) * 0.005)


def _unit_places(graph: TravelGraph, demand: Demand) -> tuple[npt.NDArray[np.int64], EdgeSnap]:
    """Return the place key of each population unit (-1 off the network) and its road point.

    Which units are on the network is the population layer's own snapping (its distance);
    where an on-network unit waits is the nearest point on a road to its representative point.
    """
    pts = demand.population.units.geometry.representative_point()
    on = snap_to_edges(graph, pts.x.to_numpy(), pts.y.to_numpy(), max_snap_m=math.inf,
                       strict=False)
    return np.where(demand.nodes.node >= 0, place_keys(on), -1).astype(np.int64), on


def _synthetic(graph: TravelGraph, demand: Demand, *, days: float, calls_per_day: float,
               seed: int) -> IncidentStream:
    """Return calls drawn from the population units, each at its unit's road point."""
    from dataclasses import replace

    keys, on = _unit_places(graph, demand)
    unit = np.where(keys >= 0, np.arange(len(keys)), -1)
    stream = synthetic_stream(unit, demand.people, on.lon, on.lat, days=days,
                              calls_per_day=calls_per_day, seed=seed)
    return replace(stream, node=keys[np.asarray(stream.node, dtype=np.int64)])


def _build(graph: TravelGraph, stream: IncidentStream, fleets: Sequence[Fleet],
           shifts: ShiftTable, demand: Demand, target_s: float, cell_deg: float | None
           ) -> tuple[SimulationInput, float, float]:
    units = demand.population.units
    un, _ = _unit_places(graph, demand)
    nodes = places_needed(stream, fleets, un)
    if len(nodes) > MAX_PLACES:
        msg = (f"the calls lie at {len(nodes)} distinct road places; at most {MAX_PLACES} fit "
               "one simulation (round positions, or split the file)")
        raise ValidationError(msg)
    started = time.perf_counter()
    at = key_points(graph, nodes)
    T = point_travel_time_matrix(graph, at, at)
    matrix_s = time.perf_counter() - started
    targets = ResponseTargets(target_s)
    pts = units.geometry.representative_point()
    cell = _cell(stream, cell_deg)
    inp = SimulationInput(
        stream=stream, fleet=fleets[0], shifts=shifts, nodes=nodes, time_s=T,
        call_target_s=targets.at(stream.lon, stream.lat),
        call_area=grid_areas(stream.lon, stream.lat, cell), unit_node=un,
        unit_people=demand.people.astype(np.float64),
        unit_target_s=targets.at(pts.x.to_numpy(), pts.y.to_numpy()),
        horizon_s=max(stream.horizon_s, 1.0))
    return inp, matrix_s, cell


def _stream(graph: TravelGraph, settings: Settings, demand: Demand, *, days: float,
            calls_per_day: float, seed: int, incidents: Path | str | None,
            incidents_text: str | None) -> IncidentStream:
    if incidents is not None or incidents_text is not None:
        return _imported(graph, settings, incidents or "upload", incidents_text,
                         network_timezone(graph))
    return _synthetic(graph, demand, days=days, calls_per_day=calls_per_day, seed=seed)


def _check_target(target_s: float | None, settings: Settings) -> float:
    t = settings.response_target_s if target_s is None else float(target_s)
    if not (math.isfinite(t) and 0 < t <= 86400):
        msg = f"target must be positive seconds up to a day, got {target_s!r}"
        raise ValidationError(msg)
    return t


# -- the decisions -------------------------------------------------------------------------
def simulate_policies(store: Store, graph: TravelGraph, settings: Settings, *, actor: str,
                      policies: Sequence[str] = ALL_POLICIES, days: float = 30.0,
                      calls_per_day: float = 50.0, seed: int = 7,
                      incidents: Path | str | None = None, incidents_text: str | None = None,
                      teams: int | None = None, base_ids: Sequence[str] | None = None,
                      shifts: ShiftTable | None = None, target_s: float | None = None,
                      slack_s: float = 180.0, batch_every_s: float = 300.0,
                      area_cell_deg: float | None = None, demand: Demand | None = None
                      ) -> SimulationRun:
    """Return the dispatch policies compared on one call stream, with the store's teams.

    Parameters
    ----------
    store, graph, settings
        Teams and bases, roads, defaults (``response_target_s``, ``max_snap_m``).
    actor
        Who asks (audit log).
    policies
        :class:`~navigator.model.DispatchPolicy` values; the first is the reference.
    days, calls_per_day, seed
        The synthetic stream (Poisson by population and hour of week; seeded).
    incidents, incidents_text
        A CSV of past calls (:mod:`navigator.exchange.calls`) instead: a path, or its text
        (``incidents`` then names it).
    teams
        Simulate the first ``teams`` of the store's teams (default all).
    base_ids
        Base the teams at these resources in turn (default: each team's own base).
    shifts
        Teams on duty by time of day (default :func:`~navigator.decide.sim_stream.default_shifts`).
    target_s
        Response-time target, seconds (default ``settings.response_target_s``).
    slack_s, batch_every_s
        Coverage-aware slack and batch interval, seconds.
    area_cell_deg
        Grid cell the areas are reported by, degrees (default: about an eighth of the calls'
        extent).
    demand
        Preloaded population units (default: the region's layer).

    Raises
    ------
    ValidationError
        Unknown policy, zero teams, a shift table with gaps, a bad CSV (file, line, field),
        calls off the network, bad options.
    """
    names = check_policies(policies)
    target = _check_target(target_s, settings)
    fleet, bases = _fleet(store, graph, settings, teams=teams, base_ids=base_ids)
    table = shifts or default_shifts(len(fleet.names))
    table.on_duty(len(fleet.names))
    people = demand if demand is not None else load_demand(graph, settings)
    stream = _stream(graph, settings, people, days=days, calls_per_day=calls_per_day,
                     seed=seed, incidents=incidents, incidents_text=incidents_text)
    inp, matrix_s, cell = _build(graph, stream, [fleet], table, people, target, area_cell_deg)
    if incidents is None and incidents_text is None:
        inp = _with_horizon(inp, days)
    started = time.perf_counter()
    reports = simulate(inp, names, slack_s=slack_s, batch_every_s=batch_every_s)
    timings = {"matrix": matrix_s, "simulate": time.perf_counter() - started}
    notes = (f"{len(stream)} calls from {stream.source}",
             f"{len(fleet.names)} teams from their current positions, returning to "
             f"{len(set(bases))} bases; shifts: "
             + "; ".join(f"{s.name} {s.start_h:g}-{s.end_h:g} h x {s.teams}" for s in table.shifts),
             "a team on its way is placed by its progress along the leg (an estimate between "
             "two road times); calls no team reached are counted as unserved")
    synthetic = incidents is None and incidents_text is None
    run = SimulationRun(reports, inp, cell, timings, notes, tuple(str(b) for b in bases),
                        seed if synthetic else None, region_name(settings))
    store.record("simulate_policies", actor=actor,
                 inputs={"policies": list(names), "days": days, "calls_per_day": calls_per_day,
                         "seed": seed, "incidents": None if incidents is None else str(incidents),
                         "teams": len(fleet.names), "base_ids": list(base_ids or ()),
                         "target_s": target, "slack_s": slack_s, "batch_every_s": batch_every_s},
                 result={"calls": len(stream), "policies": [
                     {k: r.summary()[k] for k in ("policy", "p50_s", "p90_s", "unserved",
                                                  "share_within_target", "utilisation")}
                     for r in reports]})
    return run


def _with_horizon(inp: SimulationInput, days: float) -> SimulationInput:
    from dataclasses import replace

    return replace(inp, horizon_s=days * 86400.0)


def sweep_policies(store: Store, graph: TravelGraph, settings: Settings, *, actor: str,
                   policies: Sequence[str] = ALL_POLICIES, team_counts: Sequence[int] = (),
                   base_sets: Sequence[Sequence[str]] = (), days: float = 30.0,
                   calls_per_day: float = 50.0, seed: int = 7, target_s: float | None = None,
                   slack_s: float = 180.0, batch_every_s: float = 300.0,
                   demand: Demand | None = None, scheduler: str | Client | None = "sync",
                   n_workers: int | None = None) -> SweepRun:
    """Return policies x team counts x base sets on one synthetic stream, in that order.

    ``team_counts`` default to the store's team count; ``base_sets`` (resource ids the teams
    are based at in turn) default to the teams' own bases. ``scheduler`` as in
    :func:`navigator.decide.parallel.resolve_scheduler` (``"sync"`` sequential; Dask gives
    the same results). Other parameters and errors as in :func:`simulate_policies`.
    """
    names = check_policies(policies)
    target = _check_target(target_s, settings)
    full, _ = _fleet(store, graph, settings, teams=None, base_ids=None)
    counts = [int(c) for c in team_counts] or [len(full.names)]
    sets: list[Sequence[str] | None] = list(base_sets) or [None]
    fleets = {}
    for b_i, ids in enumerate(sets):
        for n in counts:
            fleets[(b_i, n)] = _fleet(store, graph, settings, teams=n, base_ids=ids)[0]
    people = demand if demand is not None else load_demand(graph, settings)
    stream = _synthetic(graph, people, days=days, calls_per_day=calls_per_day, seed=seed)
    inp, matrix_s, _ = _build(graph, stream, list(fleets.values()), default_shifts(1), people,
                              target, None)
    inp = _with_horizon(inp, days)
    cases, meta = [], []
    for p in names:
        for (b_i, n), fl in fleets.items():
            label = f"{p}, {n} teams, bases {b_i + 1}" if sets[b_i] else f"{p}, {n} teams"
            cases.append(SweepCase(p, fl, default_shifts(n), label))
            meta.append({"label": label, "policy": p, "teams": n,
                         "bases": list(sets[b_i] or ["(own)"])})
    started = time.perf_counter()
    results = sweep(inp, cases, slack_s=slack_s, batch_every_s=batch_every_s,
                    scheduler=scheduler, n_workers=n_workers)
    cells = tuple(m | {"summary": r["summary"]} for m, r in zip(meta, results, strict=True))
    run = SweepRun(cells, {"matrix": matrix_s, "sweep": time.perf_counter() - started})
    store.record("sweep_policies", actor=actor,
                 inputs={"policies": list(names), "team_counts": counts,
                         "base_sets": [list(s or ()) for s in sets], "days": days,
                         "calls_per_day": calls_per_day, "seed": seed, "target_s": target},
                 result={"cells": len(cells)})
    return run
