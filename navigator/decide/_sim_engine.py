"""The discrete-event core of the dispatch-policy simulator: one policy over one call stream.

Everything is an index into one travel-time matrix ``T`` (seconds, ``inf`` unreachable) over
the places that matter: team start positions, bases, call places and population units.
A team's position is exact at a node (idle, on scene); on its way (to a scene or back to
base) it is placed by its progress along the leg: the ETA from there is
``(1 - f) * T[from, x] + f * T[to, x]``, ``f`` the share of the leg driven. That is an
estimate between two exact road times; a team diverted mid-leg starts its new leg from the
nearer end.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from navigator.decide.dispatch import assign_optimal, coverage_without, priority_weight, team_order
from navigator.errors import ValidationError

OFF, IDLE, TO_SCENE, ON_SCENE, RETURNING = 0, 1, 2, 3, 4
# Event ranks at equal times: shifts, then teams freed, then calls, then batch ticks.
SHIFT, AT_BASE, CLEAR, ON_SCENE_EV, ARRIVE, TICK = 0, 1, 2, 3, 4, 5


@dataclass(frozen=True, eq=False)
class EngineInput:
    """Arrays one run needs (all places are indices into ``T``)."""

    T: npt.NDArray[np.float64]
    team_start: npt.NDArray[np.int64]
    team_base: npt.NDArray[np.int64]
    duty_minutes: npt.NDArray[np.int64]
    call_time_s: npt.NDArray[np.float64]
    call_place: npt.NDArray[np.int64]
    call_priority: npt.NDArray[np.int64]
    call_on_scene_s: npt.NDArray[np.float64]
    start_tod_s: float = 0.0
    unit_place: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    unit_people: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    unit_target_s: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    drain_s: float = 86400.0


@dataclass(frozen=True, eq=False)
class EngineOutput:
    """What happened to each call and when each team was busy and on duty (seconds)."""

    team: npt.NDArray[np.int64]
    dispatch_s: npt.NDArray[np.float64]
    arrive_s: npt.NDArray[np.float64]
    clear_s: npt.NDArray[np.float64]
    waited: npt.NDArray[np.bool_]
    preempted: npt.NDArray[np.int64]
    busy: npt.NDArray[np.float64]
    duty: npt.NDArray[np.float64]
    queue_area_s: float
    queue_max: int
    end_s: float


class _Run:
    """One simulation run; state in arrays, events on a heap."""

    def __init__(self, inp: EngineInput, policy: str, slack_s: float, every_s: float) -> None:
        self.inp, self.policy, self.slack_s, self.every_s = inp, policy, slack_s, every_s
        n, m = len(inp.team_start), len(inp.call_time_s)
        self.status = np.full(n, OFF, dtype=np.int64)
        self.frm = inp.team_start.copy()
        self.to = inp.team_start.copy()
        self.leg_t0 = np.zeros(n)
        self.leg_len = np.zeros(n)
        self.call = np.full(n, -1, dtype=np.int64)
        self.gen = np.zeros(n, dtype=np.int64)
        self.going_off = np.zeros(n, dtype=bool)
        self.busy_since = np.full(n, np.nan)
        self.duty_since = np.full(n, np.nan)
        self.busy: list[tuple[int, float, float]] = []
        self.duty: list[tuple[int, float, float]] = []
        self.team = np.full(m, -1, dtype=np.int64)
        self.dispatch_s = np.full(m, np.nan)
        self.arrive_s = np.full(m, np.nan)
        self.clear_s = np.full(m, np.nan)
        self.waited = np.zeros(m, dtype=bool)
        self.preempted = np.zeros(m, dtype=np.int64)
        self.queue: list[tuple[int, float, int]] = []
        self.queued = np.zeros(m, dtype=bool)
        self.q_len, self.q_area, self.q_max, self.q_t = 0, 0.0, 0, 0.0
        self.events: list[tuple[float, int, int, int, int]] = []
        self.seq = 0
        self._t = 0.0

    # -- events and the queue ------------------------------------------------------------
    def push(self, t: float, kind: int, who: int, gen: int = 0) -> None:
        self.seq += 1
        heapq.heappush(self.events, (t, kind, self.seq, who, gen))

    def _queue_len(self, t: float, delta: int) -> None:
        self.q_area += self.q_len * (t - self.q_t)
        self.q_t, self.q_len = t, self.q_len + delta
        self.q_max = max(self.q_max, self.q_len)

    def enqueue(self, j: int, t: float) -> None:
        self.waited[j] = True
        self.queued[j] = True
        entry = (int(self.inp.call_priority[j]), float(self.inp.call_time_s[j]), j)
        heapq.heappush(self.queue, entry)
        self._queue_len(t, +1)

    def waiting(self) -> list[tuple[int, float, int]]:
        """Return the waiting calls, most urgent and oldest first (and prune the heap)."""
        self.queue = sorted({e for e in self.queue if self.queued[e[2]]})
        return list(self.queue)

    # -- positions -------------------------------------------------------------------------
    def progress(self) -> npt.NDArray[np.float64]:
        f = np.ones(len(self.status))
        moving = self.leg_len > 0
        f[moving] = np.clip((self._t - self.leg_t0[moving]) / self.leg_len[moving], 0.0, 1.0)
        return f

    def eta(self, places: npt.NDArray[np.int64], teams: npt.NDArray[np.int64]
            ) -> npt.NDArray[np.float64]:
        """Return ``(teams, places)`` ETAs, seconds, from where each team is now."""
        T = self.inp.T
        f = self.progress()[teams][:, None]
        a, b = T[np.ix_(self.frm[teams], places)], T[np.ix_(self.to[teams], places)]
        with np.errstate(invalid="ignore"):
            mid = (1.0 - f) * a + f * b
        out: npt.NDArray[np.float64] = np.where(f >= 1.0, b, np.where(f <= 0.0, a, mid))
        return out

    def eta_to(self, place: int, teams: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        """Return the ETAs, seconds, of ``teams`` to one place (as :meth:`eta`, one column)."""
        T = self.inp.T
        f = self.progress()[teams]
        a, b = T[self.frm[teams], place], T[self.to[teams], place]
        with np.errstate(invalid="ignore"):
            mid = (1.0 - f) * a + f * b
        out: npt.NDArray[np.float64] = np.where(f >= 1.0, b, np.where(f <= 0.0, a, mid))
        return out

    def free(self) -> npt.NDArray[np.int64]:
        ok = (self.status == IDLE) | ((self.status == RETURNING) & ~self.going_off)
        return np.flatnonzero(ok)

    # -- actions ---------------------------------------------------------------------------
    def dispatch(self, i: int, j: int, eta_s: float, t: float) -> None:
        if self.status[i] == IDLE:
            self.busy_since[i] = t
            origin = self.to[i]
        else:
            origin = self.frm[i] if self.progress()[i] < 0.5 else self.to[i]
        if self.queued[j]:
            self.queued[j] = False
            self._queue_len(t, -1)
        place = self.inp.call_place[j]
        self.frm[i], self.to[i], self.leg_t0[i], self.leg_len[i] = origin, place, t, eta_s
        self.status[i], self.call[i] = TO_SCENE, j
        self.gen[i] += 1
        self.team[j], self.dispatch_s[j] = i, t
        self.push(t + eta_s, ON_SCENE_EV, i, int(self.gen[i]))

    def serve_queue(self, i: int, t: float) -> None:
        """Send a freed team to the most urgent, oldest waiting call it can reach."""
        for _, _, j in self.waiting():
            e = float(self.eta_to(int(self.inp.call_place[j]), np.array([i]))[0])
            if np.isfinite(e):
                self.dispatch(i, j, e, t)
                return

    def choose(self, j: int, t: float) -> bool:
        """Send a team to a new call by the policy; return False to queue it."""
        free = self.free()
        if free.size:
            e = self.eta_to(int(self.inp.call_place[j]), free)
            if np.isfinite(e).any():
                pick = int(np.argmin(e))
                # only teams within the slack of the nearest can change the choice
                if self.policy == "coverage" and np.sum(e <= e[pick] + self.slack_s) > 1:
                    pick = self._coverage_pick(free, e)
                self.dispatch(int(free[pick]), j, float(e[pick]), t)
                return True
        if self.policy == "preempt":
            return self._preempt(j, t)
        return False

    def _coverage_pick(self, free: npt.NDArray[np.int64], e: npt.NDArray[np.float64]) -> int:
        inp = self.inp
        times = self.eta(inp.unit_place, free)
        _, without = coverage_without(times, inp.unit_target_s, weight=inp.unit_people)
        ones = np.ones(free.size, dtype=bool)
        order, _ = team_order(e, fits_skills=ones, fits_language=ones, shift_ok=ones,
                              coverage_loss=without, prefer_coverage=True,
                              tolerance_s=self.slack_s)
        return int(order[0])

    def _preempt(self, j: int, t: float) -> bool:
        p = self.inp.call_priority
        en_route = np.flatnonzero((self.status == TO_SCENE) & ~self.going_off)
        en_route = en_route[p[self.call[en_route]] > p[j]]
        if not en_route.size:
            return False
        e = self.eta_to(int(self.inp.call_place[j]), en_route)
        if not np.isfinite(e).any():
            return False
        k = int(np.argmin(e))
        i, old = int(en_route[k]), int(self.call[en_route[k]])
        self.team[old], self.dispatch_s[old] = -1, np.nan
        self.preempted[old] += 1
        self.enqueue(old, t)
        self.dispatch(i, j, float(e[k]), t)
        return True

    def batch(self, t: float) -> None:
        if not self.q_len:
            return
        free = self.free()
        if not free.size:
            return
        waiting = [j for _, _, j in self.waiting()]
        if len(waiting) == 1:  # the optimal plan for one call: its nearest free team
            e1 = self.eta_to(int(self.inp.call_place[waiting[0]]), free)
            if np.isfinite(e1).any():
                k = int(np.argmin(e1))
                self.dispatch(int(free[k]), waiting[0], float(e1[k]), t)
            return
        calls = np.array(waiting, dtype=np.int64)
        e = self.eta(self.inp.call_place[calls], free)
        prio = self.inp.call_priority[calls]
        pairs = assign_optimal(e, weight=priority_weight(prio), priority=prio)
        for a, b in pairs:
            self.dispatch(int(free[a]), int(calls[b]), float(e[a, b]), t)

    # -- shifts ----------------------------------------------------------------------------
    def shift(self, t: float) -> None:
        minute = int(((t + self.inp.start_tod_s) % 86400.0) // 60)
        on = np.arange(len(self.status)) < self.inp.duty_minutes[minute]
        for i in range(len(self.status)):
            if on[i] and self.status[i] == OFF:
                self.status[i] = IDLE
                start = self.inp.team_start[i] if t == 0 else self.inp.team_base[i]
                self.frm[i] = self.to[i] = start
                self.leg_len[i] = 0.0
                self.duty_since[i] = t
            elif on[i]:
                self.going_off[i] = False
            elif self.status[i] == IDLE:
                self._off(i, t)
            elif self.status[i] != OFF:
                self.going_off[i] = True
        if self.policy != "batch":
            for i in self.free():
                self.serve_queue(int(i), t)

    def _off(self, i: int, t: float) -> None:
        self.status[i] = OFF
        self.going_off[i] = False
        self.duty.append((i, float(self.duty_since[i]), t))

    def _idle(self, i: int, place: int, t: float) -> None:
        self.status[i] = IDLE
        self.frm[i] = self.to[i] = place
        self.leg_len[i] = 0.0
        self.busy.append((i, float(self.busy_since[i]), t))
        if self.going_off[i]:
            self._off(i, t)

    # -- the loop --------------------------------------------------------------------------
    def run(self) -> EngineOutput:
        inp = self.inp
        horizon = float(inp.call_time_s[-1]) if len(inp.call_time_s) else 0.0
        end = horizon + inp.drain_s
        day = np.concatenate([[inp.duty_minutes[-1]], inp.duty_minutes])
        changes = np.flatnonzero(np.diff(day) != 0) * 60.0  # seconds into the day
        first_day = -(inp.start_tod_s % 86400.0)  # the local midnight at or before t = 0
        self._t = 0.0
        self.push(0.0, SHIFT, -1)
        d = first_day
        while d <= end:
            for c in changes:
                if 0 < d + c <= end:
                    self.push(d + c, SHIFT, -1)
            d += 86400.0
        for j, tj in enumerate(inp.call_time_s):
            self.push(float(tj), ARRIVE, j)
        if self.policy == "batch":
            self.push(self.every_s, TICK, -1)
        t = 0.0
        while self.events:
            t, kind, _, who, gen = heapq.heappop(self.events)
            if t > end:
                t = end
                break
            self._t = t
            if kind == ARRIVE:
                if self.policy == "batch" or not self.choose(who, t):
                    self.enqueue(who, t)
            elif kind == SHIFT:
                self.shift(t)
            elif kind == TICK:
                self.batch(t)
                if t + self.every_s <= end and (t < horizon or self.q_len):
                    self.push(t + self.every_s, TICK, -1)
            elif gen == self.gen[who]:
                self._team_event(kind, who, t)
        self._t = t
        self._queue_len(t, 0)
        for i in range(len(self.status)):
            if self.status[i] not in (OFF, IDLE):
                self.busy.append((i, float(self.busy_since[i]), t))
            if self.status[i] != OFF:
                self.duty.append((i, float(self.duty_since[i]), t))
        return EngineOutput(self.team, self.dispatch_s, self.arrive_s, self.clear_s,
                            self.waited, self.preempted, np.array(self.busy).reshape(-1, 3),
                            np.array(self.duty).reshape(-1, 3), self.q_area, self.q_max, t)

    def _team_event(self, kind: int, i: int, t: float) -> None:
        inp = self.inp
        j = int(self.call[i])
        if kind == ON_SCENE_EV:
            self.arrive_s[j] = t
            self.status[i] = ON_SCENE
            self.frm[i] = self.to[i] = inp.call_place[j]
            self.leg_len[i] = 0.0
            self.push(t + float(inp.call_on_scene_s[j]), CLEAR, i, int(self.gen[i]))
        elif kind == CLEAR:
            self.clear_s[j] = t
            self.call[i] = -1
            self.gen[i] += 1
            scene, base = inp.call_place[j], inp.team_base[i]
            back = float(inp.T[scene, base])
            if not np.isfinite(back) or back == 0:
                self._idle(i, int(scene if not np.isfinite(back) else base), t)
            else:
                self.status[i] = RETURNING
                self.frm[i], self.to[i], self.leg_t0[i], self.leg_len[i] = scene, base, t, back
                self.push(t + back, AT_BASE, i, int(self.gen[i]))
            if self.policy != "batch" and self.status[i] != OFF and not self.going_off[i]:
                self.serve_queue(i, t)
        elif kind == AT_BASE:
            self._idle(i, int(inp.team_base[i]), t)


def run_policy(inp: EngineInput, policy: str, *, slack_s: float = 180.0,
               every_s: float = 300.0) -> EngineOutput:
    """Replay the calls of ``inp`` under ``policy`` and return what happened.

    Parameters
    ----------
    inp
        The travel matrix, teams, duty table and calls.
    policy
        ``closest``, ``coverage``, ``preempt`` or ``batch``
        (:class:`~navigator.model.DispatchPolicy`).
    slack_s
        Coverage-aware: teams this many seconds behind the nearest may go instead.
    every_s
        Batch: seconds between re-optimisations.
    """
    if policy == "coverage" and not len(inp.unit_place):
        msg = "the coverage-aware policy needs population units"
        raise ValidationError(msg)
    return _Run(inp, policy, slack_s, every_s).run()
