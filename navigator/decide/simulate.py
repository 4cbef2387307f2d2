"""The dispatch-policy simulator: replay a call stream through dispatch policies (pure, seeded).

Public API
----------
- :class:`Fleet` - teams: names, start and base graph nodes.
- :class:`SimulationInput` - a stream, a fleet, a shift table, the travel times between the
  places that matter, and the population units the coverage-aware policy protects.
- :func:`places_needed` - the graph nodes to build the travel-time matrix over.
- :func:`simulate` - one :class:`~navigator.decide.sim_report.PolicyReport` per policy.
- :class:`SweepCase`, :func:`sweep` - policies x team counts x base sets, through
  :func:`navigator.decide.parallel.run_batch` (same results as sequential).
- :func:`grid_areas`, :func:`area_box` - the grid cells calls are reported by.

The event loop is in :mod:`navigator.decide._sim_engine`, the figures in
:mod:`navigator.decide.sim_report`, streams and shifts in :mod:`navigator.decide.sim_stream`.
Everything is deterministic: the same input gives the same report.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from navigator.decide._sim_engine import EngineInput, run_policy
from navigator.decide.sim_report import PolicyReport, policy_report
from navigator.errors import ValidationError
from navigator.model import DispatchPolicy

if TYPE_CHECKING:
    from distributed import Client

    from navigator.decide.sim_stream import IncidentStream, ShiftTable

__all__ = ["Fleet", "SimulationInput", "SweepCase", "area_box", "check_policies", "grid_areas",
           "places_needed", "simulate", "sweep"]


def check_policies(policies: Sequence[str]) -> tuple[str, ...]:
    """Return the policy names, checked against :class:`~navigator.model.DispatchPolicy`."""
    known = [p.value for p in DispatchPolicy]
    if not policies:
        msg = f"give at least one policy: {', '.join(known)}"
        raise ValidationError(msg)
    for p in policies:
        if p not in known:
            msg = f"unknown policy {p!r}: choose from {', '.join(known)}"
            raise ValidationError(msg)
    return tuple(dict.fromkeys(str(p) for p in policies))


@dataclass(frozen=True, eq=False)
class Fleet:
    """The teams: a name, the place each starts at and the place of its base.

    Places are int64 keys the caller chose (graph nodes, or the services' on-road place keys,
    :func:`navigator.services._on_road.place_keys`); :func:`places_needed` and the travel-time
    matrix use the same keys.
    """

    names: tuple[str, ...]
    start_node: npt.NDArray[np.int64]
    base_node: npt.NDArray[np.int64]

    def __post_init__(self) -> None:
        if not self.names:
            msg = "zero teams: the simulation needs at least one team"
            raise ValidationError(msg)
        if not len(self.start_node) == len(self.base_node) == len(self.names):
            msg = "fleet: one start and one base place per team"
            raise ValidationError(msg)

    def first(self, n: int) -> Fleet:
        """Return the first ``n`` teams."""
        if not 1 <= n <= len(self.names):
            msg = f"team count must be from 1 to {len(self.names)}, got {n}"
            raise ValidationError(msg)
        return Fleet(self.names[:n], self.start_node[:n], self.base_node[:n])


def grid_areas(lon: npt.ArrayLike, lat: npt.ArrayLike, cell_deg: float) -> tuple[str, ...]:
    """Return the grid cell of each point as ``"ix:iy"`` (cells of ``cell_deg`` degrees)."""
    if not (math.isfinite(cell_deg) and cell_deg > 0):
        msg = f"area cell must be positive degrees, got {cell_deg!r}"
        raise ValidationError(msg)
    ix = np.floor(np.asarray(lon, dtype=np.float64) / cell_deg).astype(np.int64)
    iy = np.floor(np.asarray(lat, dtype=np.float64) / cell_deg).astype(np.int64)
    return tuple(f"{a}:{b}" for a, b in zip(ix, iy, strict=True))


def area_box(label: str, cell_deg: float) -> tuple[float, float, float, float]:
    """Return ``(lon0, lat0, lon1, lat1)`` of a grid cell named by :func:`grid_areas`."""
    ix, iy = (int(v) for v in label.split(":"))
    return (ix * cell_deg, iy * cell_deg, (ix + 1) * cell_deg, (iy + 1) * cell_deg)


def places_needed(stream: IncidentStream, fleets: Sequence[Fleet],
                  unit_node: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Return the sorted places (int64 keys, see :class:`Fleet`) a run needs times between."""
    un = np.asarray(unit_node, dtype=np.int64)
    parts = [np.asarray(stream.node, dtype=np.int64), un[un >= 0]]
    parts += [np.concatenate([f.start_node, f.base_node]) for f in fleets]
    return np.unique(np.concatenate(parts).astype(np.int64))


@dataclass(frozen=True, eq=False)
class SimulationInput:
    """Everything one simulation reads.

    Attributes
    ----------
    stream
        The calls.
    fleet
        The teams (a sweep may use the first few, or other bases).
    shifts
        Teams on duty by time of day.
    nodes, time_s
        The places of :func:`places_needed` and the ``(n, n)`` travel times between them,
        seconds (``inf`` unreachable).
    call_target_s, call_area
        Per call: the response-time target, seconds, and the area label.
    unit_node, unit_people, unit_target_s
        Population units (place, -1 off the network), people and target seconds: what the
        coverage-aware policy keeps covered.
    horizon_s
        Seconds over which utilisation is measured (the stream's length).
    """

    stream: IncidentStream
    fleet: Fleet
    shifts: ShiftTable
    nodes: npt.NDArray[np.int64]
    time_s: npt.NDArray[np.float64]
    call_target_s: npt.NDArray[np.float64]
    call_area: tuple[str, ...]
    unit_node: npt.NDArray[np.int64]
    unit_people: npt.NDArray[np.float64]
    unit_target_s: npt.NDArray[np.float64]
    horizon_s: float

    def index(self, graph_nodes: npt.ArrayLike, what: str) -> npt.NDArray[np.int64]:
        """Return the matrix index of each place."""
        g = np.asarray(graph_nodes, dtype=np.int64)
        pos = np.searchsorted(self.nodes, g)
        pos = np.minimum(pos, len(self.nodes) - 1)
        if g.size and not np.array_equal(self.nodes[pos], g):
            msg = f"{what}: a place is missing from the travel-time matrix"
            raise ValidationError(msg)
        return pos.astype(np.int64)

    def engine_input(self, fleet: Fleet | None = None) -> EngineInput:
        """Return the arrays of one run for ``fleet`` (default: the whole fleet)."""
        f = fleet or self.fleet
        s = self.stream
        snapped = self.unit_node >= 0
        return EngineInput(
            T=self.time_s, team_start=self.index(f.start_node, "team start"),
            team_base=self.index(f.base_node, "team base"),
            duty_minutes=self.shifts.on_duty(len(f.names)),
            call_time_s=np.asarray(s.time_s, dtype=np.float64),
            call_place=self.index(s.node, "call"),
            call_priority=np.asarray(s.priority, dtype=np.int64),
            call_on_scene_s=np.asarray(s.on_scene_s, dtype=np.float64),
            start_tod_s=float(s.start_how_s % 86400.0),
            unit_place=self.index(self.unit_node[snapped], "population unit"),
            unit_people=self.unit_people[snapped], unit_target_s=self.unit_target_s[snapped])


def _run(inp: SimulationInput, policy: str, fleet: Fleet, shifts: ShiftTable, label: str,
         slack_s: float, batch_every_s: float) -> PolicyReport:
    sim = replace(inp, shifts=shifts)
    engine = sim.engine_input(fleet)
    out = run_policy(engine, policy, slack_s=slack_s, every_s=batch_every_s)
    return policy_report(out, policy=policy, label=label, call_time_s=engine.call_time_s,
                         priority=engine.call_priority, area=inp.call_area,
                         target_s=inp.call_target_s, n_teams=len(fleet.names),
                         start_tod_s=engine.start_tod_s, horizon_s=inp.horizon_s)


def _check_options(slack_s: float, batch_every_s: float) -> None:
    if not (math.isfinite(slack_s) and 0 <= slack_s <= 3600):
        msg = f"slack must be 0 to 3600 seconds, got {slack_s!r}"
        raise ValidationError(msg)
    if not (math.isfinite(batch_every_s) and 10 <= batch_every_s <= 3600):
        msg = f"batch interval must be 10 to 3600 seconds, got {batch_every_s!r}"
        raise ValidationError(msg)


def simulate(inp: SimulationInput, policies: Sequence[str], *, slack_s: float = 180.0,
             batch_every_s: float = 300.0) -> tuple[PolicyReport, ...]:
    """Return one report per policy, in the order given.

    Parameters
    ----------
    inp
        The calls, teams, shifts and travel times.
    policies
        :class:`~navigator.model.DispatchPolicy` values.
    slack_s
        Coverage-aware: seconds a team may be behind the nearest and still go instead.
    batch_every_s
        Batch: seconds between re-optimisations.

    Raises
    ------
    ValidationError
        An unknown policy, zero teams, a shift table with gaps, bad options.
    """
    names = check_policies(policies)
    _check_options(slack_s, batch_every_s)
    inp.shifts.on_duty(len(inp.fleet.names))  # fail before any run
    return tuple(_run(inp, p, inp.fleet, inp.shifts, p, slack_s, batch_every_s) for p in names)


@dataclass(frozen=True, eq=False)
class SweepCase:
    """One cell of a sweep: a policy, a fleet (team count, bases) and its shift table."""

    policy: str
    fleet: Fleet
    shifts: ShiftTable
    label: str


def _sweep_task(inp: SimulationInput, case: SweepCase, slack_s: float, batch_every_s: float
                ) -> dict[str, Any]:
    """Run one case; return its summary and per-call times (small, picklable)."""
    r = _run(inp, case.policy, case.fleet, case.shifts, case.label, slack_s, batch_every_s)
    return {"summary": r.summary(), "response_s": r.response_s}


def sweep(inp: SimulationInput, cases: Sequence[SweepCase], *, slack_s: float = 180.0,
          batch_every_s: float = 300.0, scheduler: str | Client | None = "sync",
          n_workers: int | None = None) -> list[dict[str, Any]]:
    """Return, per case in order, ``{"summary": ..., "response_s": ...}``.

    The input (matrix and stream) goes to each worker once; ``scheduler`` as in
    :func:`navigator.decide.parallel.resolve_scheduler` (``"sync"``: this process, the
    sequential reference the Dask path equals).

    Raises
    ------
    ValidationError
        An unknown policy, a fleet node missing from the matrix or a bad shift table, before
        anything runs.
    """
    from navigator.decide.parallel import run_batch

    _check_options(slack_s, batch_every_s)
    for c in cases:
        check_policies([c.policy])
        c.shifts.on_duty(len(c.fleet.names))
        inp.index(np.concatenate([c.fleet.start_node, c.fleet.base_node]), c.label)
    jobs = [(c, slack_s, batch_every_s) for c in cases]
    return run_batch(inp, _sweep_task, jobs, scheduler=scheduler, n_workers=n_workers)
