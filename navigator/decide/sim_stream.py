"""Inputs of the dispatch-policy simulator: incident streams (synthetic or imported), shifts.

Public API
----------
- :class:`IncidentStream` - calls in time order: seconds from the start, graph node, place,
  priority, crisis type and time on scene.
- :func:`synthetic_stream` - Poisson arrivals weighted by population and an hour-of-week
  profile, a crisis-type mix and log-normal times on scene (seeded, reproducible).
- :class:`Shift`, :class:`ShiftTable`, :func:`default_shifts` - teams on duty by time of day.
- :data:`HOUR_OF_WEEK`, :data:`CRISIS_MIX` - the synthetic profile and mix (labelled
  synthetic; planners can pass their own).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from navigator.demo.operations import INCIDENT_NEEDS
from navigator.errors import ValidationError
from navigator.model import CrisisType

__all__ = ["CRISIS_MIX", "HOUR_OF_WEEK", "IncidentStream", "Shift", "ShiftTable",
           "default_shifts", "hour_of_week_profile", "shifts_from_rows", "synthetic_stream"]

WEEK_S = 7 * 86400.0


def hour_of_week_profile() -> npt.NDArray[np.float64]:
    """Return a synthetic call-rate profile, 168 hours from Monday 00:00, mean 1.

    Crisis lines see fewest calls before dawn and most in the late afternoon and evening,
    a little more on weekend nights; the shape is synthetic, not measured.
    """
    h = np.arange(168) % 24
    day = np.arange(168) // 24
    rate = 0.35 + np.exp(-(((h - 17.0) / 5.0) ** 2)) + 0.25 * np.exp(-(((h - 11.0) / 3.0) ** 2))
    weekend_night = ((day >= 4) & (h >= 20)) | ((day >= 5) & (h <= 3))
    rate = rate * np.where(weekend_night, 1.3, 1.0)
    out: npt.NDArray[np.float64] = rate / rate.mean()
    return out


#: Synthetic call-rate profile by hour of the week (Monday 00:00 first), mean 1.
HOUR_OF_WEEK = hour_of_week_profile()

#: Synthetic crisis-type mix: share of calls and median minutes on scene (log-normal).
CRISIS_MIX: Mapping[CrisisType, tuple[float, float]] = {
    CrisisType.MENTAL_HEALTH: (0.30, 60.0),
    CrisisType.SUICIDE_RISK: (0.15, 75.0),
    CrisisType.SUBSTANCE_USE: (0.15, 50.0),
    CrisisType.WELFARE_CHECK: (0.15, 35.0),
    CrisisType.YOUTH: (0.10, 55.0),
    CrisisType.DOMESTIC_VIOLENCE: (0.08, 60.0),
    CrisisType.HOUSING: (0.07, 40.0),
}
#: Spread (sigma of the log) of the time on scene.
ON_SCENE_SIGMA = 0.45


@dataclass(frozen=True, eq=False)
class IncidentStream:
    """Calls to replay, in time order.

    Attributes
    ----------
    time_s
        Seconds from the start of the simulation (non-decreasing).
    node
        Graph node of each call.
    lon, lat
        Where the call is, EPSG:4326 degrees.
    priority
        1 (most urgent) to 4.
    crisis_type
        A :class:`~navigator.model.CrisisType` value per call.
    on_scene_s
        Time the team spends on scene, seconds.
    start_how_s
        Seconds into the week (Monday 00:00, local time) at which ``time_s`` = 0.
    source
        Where the calls came from (``synthetic (seed 7)``, a file name).
    """

    time_s: npt.NDArray[np.float64]
    node: npt.NDArray[np.int64]
    lon: npt.NDArray[np.float64]
    lat: npt.NDArray[np.float64]
    priority: npt.NDArray[np.int64]
    crisis_type: tuple[str, ...]
    on_scene_s: npt.NDArray[np.float64]
    start_how_s: float = 0.0
    source: str = ""

    def __post_init__(self) -> None:
        n = len(self.time_s)
        for name in ("node", "lon", "lat", "priority", "on_scene_s", "crisis_type"):
            if len(getattr(self, name)) != n:
                msg = f"incident stream: {name} has {len(getattr(self, name))} values for {n} calls"
                raise ValidationError(msg)
        t = np.asarray(self.time_s, dtype=np.float64)
        if n and (not np.all(np.isfinite(t)) or t[0] < 0 or np.any(np.diff(t) < 0)):
            msg = "incident stream: times must be finite, non-negative seconds in order"
            raise ValidationError(msg)
        p = np.asarray(self.priority)
        if n and (np.any(p < 1) or np.any(p > 4)):
            msg = "incident stream: priority must be 1 (most urgent) to 4"
            raise ValidationError(msg)
        s = np.asarray(self.on_scene_s, dtype=np.float64)
        if n and not (np.all(np.isfinite(s)) and np.all(s >= 0)):
            msg = "incident stream: time on scene must be finite, non-negative seconds"
            raise ValidationError(msg)
        if not 0 <= self.start_how_s < WEEK_S:
            msg = f"incident stream: start_how_s must be in [0, {WEEK_S:g}), got {self.start_how_s}"
            raise ValidationError(msg)

    def __len__(self) -> int:
        """Return the number of calls."""
        return len(self.time_s)

    @property
    def horizon_s(self) -> float:
        """Seconds from the start to the last call (0 without calls)."""
        return float(self.time_s[-1]) if len(self.time_s) else 0.0


def synthetic_stream(unit_node: npt.ArrayLike, people: npt.ArrayLike,
                     node_lon: npt.ArrayLike, node_lat: npt.ArrayLike, *, days: float,
                     calls_per_day: float, seed: int, start_how_s: float = 0.0,
                     profile: npt.ArrayLike | None = None,
                     mix: Mapping[CrisisType, tuple[float, float]] | None = None
                     ) -> IncidentStream:
    """Return seeded synthetic calls: where people live, when crisis calls come.

    Parameters
    ----------
    unit_node
        Graph node of each population unit (-1: off the network, never drawn).
    people
        People per unit: a call's unit is drawn in proportion.
    node_lon, node_lat
        Coordinates of every graph node (EPSG:4326), to place the calls.
    days, calls_per_day
        Length of the stream and mean calls a day (arrivals are Poisson per hour, the rate
        shaped by ``profile``).
    seed
        Random seed: the same seed gives the same calls.
    start_how_s
        Seconds into the week (Monday 00:00) at which the stream starts.
    profile
        168 relative rates by hour of week (default :data:`HOUR_OF_WEEK`).
    mix
        Crisis type -> (share, median minutes on scene) (default :data:`CRISIS_MIX`).

    Raises
    ------
    ValidationError
        For non-positive or non-finite days or calls a day, a bad profile or mix, or no
        populated unit on the network.
    """
    if not (math.isfinite(days) and 0 < days <= 3660):
        msg = f"days must be a positive number up to 3660, got {days!r}"
        raise ValidationError(msg)
    if not (math.isfinite(calls_per_day) and 0 < calls_per_day <= 100_000):
        msg = f"calls per day must be a positive number up to 100000, got {calls_per_day!r}"
        raise ValidationError(msg)
    prof = HOUR_OF_WEEK if profile is None else np.asarray(profile, dtype=np.float64)
    if prof.shape != (168,) or not np.all(np.isfinite(prof)) or np.any(prof < 0) \
            or prof.sum() <= 0:
        msg = "profile must be 168 non-negative rates (Monday 00:00 first)"
        raise ValidationError(msg)
    prof = prof / prof.mean()
    mix = CRISIS_MIX if mix is None else mix
    types = [CrisisType(t) for t in mix]
    share = np.array([mix[t][0] for t in types], dtype=np.float64)
    median_s = np.array([mix[t][1] * 60.0 for t in types], dtype=np.float64)
    if not types or np.any(~np.isfinite(share)) or np.any(share < 0) or share.sum() <= 0 \
            or np.any(~(median_s > 0)):
        msg = "mix must give each crisis type a non-negative share and positive minutes"
        raise ValidationError(msg)
    un = np.asarray(unit_node, dtype=np.int64)
    w = np.where(un >= 0, np.asarray(people, dtype=np.float64), 0.0)
    if not np.any(w > 0):
        msg = "no populated unit lies on the road network: nowhere to place synthetic calls"
        raise ValidationError(msg)
    rng = np.random.default_rng(seed)
    hours = math.ceil(days * 24)
    first = int(start_how_s // 3600)
    lam = calls_per_day / 24.0 * prof[(first + np.arange(hours)) % 168]
    lam[-1] *= days * 24 - (hours - 1)  # a part hour at the end
    counts = rng.poisson(lam)
    hour_of = np.repeat(np.arange(hours), counts)
    t = np.sort(hour_of * 3600.0 + rng.random(hour_of.size) * 3600.0)
    t = t[t < days * 86400.0]
    n = t.size
    unit = rng.choice(un.size, size=n, p=w / w.sum())
    kind = rng.choice(len(types), size=n, p=share / share.sum())
    on_scene = median_s[kind] * np.exp(ON_SCENE_SIGMA * rng.standard_normal(n))
    node = un[unit]
    lon = np.asarray(node_lon, dtype=np.float64)[node]
    lat = np.asarray(node_lat, dtype=np.float64)[node]
    prio = np.array([INCIDENT_NEEDS[types[k]][0] for k in range(len(types))], dtype=np.int64)
    return IncidentStream(time_s=t, node=node, lon=lon, lat=lat, priority=prio[kind],
                          crisis_type=tuple(types[k].value for k in kind),
                          on_scene_s=np.round(on_scene), start_how_s=float(start_how_s),
                          source=f"synthetic (seed {seed}): {days:g} days x {calls_per_day:g} "
                                 "calls a day, Poisson by population and hour of week")


# -- shifts --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Shift:
    """A shift: local hours (``end_h`` < ``start_h`` runs past midnight) and teams on duty."""

    name: str
    start_h: float
    end_h: float
    teams: int


@dataclass(frozen=True)
class ShiftTable:
    """Teams on duty by time of day, the same every day.

    Shifts that overlap add up; team ``i`` of the roster is on duty while ``i`` is below the
    number on duty (so teams go off duty last-first).
    """

    shifts: tuple[Shift, ...]

    def on_duty(self, n_teams: int) -> npt.NDArray[np.int64]:
        """Return the teams on duty in each minute of the day (1440 values).

        Raises
        ------
        ValidationError
            Zero teams, a shift with bad hours or no team, more teams than the roster, or a
            minute of the day with no team on duty (a gap), each named.
        """
        if n_teams < 1:
            msg = "zero teams: the simulation needs at least one team"
            raise ValidationError(msg)
        if not self.shifts:
            msg = "the shift table is empty: no team is ever on duty"
            raise ValidationError(msg)
        minutes = np.zeros(1440, dtype=np.int64)
        for i, s in enumerate(self.shifts):
            what = f"shift {i + 1} ({s.name or 'unnamed'})"
            if not (isinstance(s.teams, int) and s.teams >= 1):
                msg = f"{what}: teams must be a whole number of at least 1, got {s.teams!r}"
                raise ValidationError(msg)
            for field, h in (("start_h", s.start_h), ("end_h", s.end_h)):
                if not (math.isfinite(h) and 0 <= h <= 24):
                    msg = f"{what}: {field} must be an hour of the day from 0 to 24, got {h!r}"
                    raise ValidationError(msg)
            a, b = round(s.start_h * 60) % 1440, round(s.end_h * 60) % 1440
            if s.start_h == s.end_h:
                msg = f"{what}: starts and ends at the same time"
                raise ValidationError(msg)
            span = np.arange(a, a + ((b - a) % 1440 or 1440)) % 1440
            minutes[span] += s.teams
        if minutes.max() > n_teams:
            msg = (f"the shift table puts {int(minutes.max())} teams on duty at once; the roster "
                   f"has {n_teams}")
            raise ValidationError(msg)
        if np.any(minutes == 0):
            msg = f"the shift table leaves {_gaps(minutes == 0)} with no team on duty"
            raise ValidationError(msg)
        return minutes


def _gaps(empty: npt.NDArray[np.bool_]) -> str:
    """Return the empty minutes of a day as ``03:00-07:00, 23:30-24:00``."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], empty.astype(np.int8), [0]])))
    spans = [f"{a // 60:02d}:{a % 60:02d}-{b // 60:02d}:{b % 60:02d}"
             for a, b in zip(edges[::2], edges[1::2], strict=True)]
    return ", ".join(spans)


def default_shifts(n_teams: int) -> ShiftTable:
    """Return two 12-hour shifts: all teams 07:00-19:00, two thirds 19:00-07:00."""
    if n_teams < 1:
        msg = "zero teams: the simulation needs at least one team"
        raise ValidationError(msg)
    night = max(1, math.ceil(2 * n_teams / 3))
    return ShiftTable((Shift("day", 7.0, 19.0, n_teams), Shift("night", 19.0, 7.0, night)))


def shifts_from_rows(rows: Sequence[tuple[str, float, float, int]]) -> ShiftTable:
    """Return a shift table from ``(name, start hour, end hour, teams)`` rows."""
    return ShiftTable(tuple(Shift(str(n), float(a), float(b), int(t)) for n, a, b, t in rows))
