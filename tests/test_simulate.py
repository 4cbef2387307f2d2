"""The dispatch-policy simulator on hand-checked tiny scenarios: 2 teams, 3 calls, each policy."""

from __future__ import annotations

import numpy as np
import pytest

from navigator.decide.sim_stream import (
    IncidentStream,
    Shift,
    ShiftTable,
    default_shifts,
    synthetic_stream,
)
from navigator.decide.simulate import Fleet, SimulationInput, SweepCase, simulate, sweep
from navigator.errors import ValidationError

#: Five places on a line, positions in seconds of driving: base A, base B, three call sites.
X = np.array([0.0, 1000.0, 100.0, 600.0, 900.0])
ALL_DAY = ShiftTable((Shift("all", 0.0, 24.0, 2),))


def _input(*, calls=((0.0, 2, 2, 1000.0), (10.0, 3, 2, 1000.0), (20.0, 4, 1, 100.0)),
           T=None, units=((2, 10.0), (4, 1000.0)), target_s=300.0, shifts=ALL_DAY,
           horizon_s=None):
    t, node, prio, scene = (np.array(v) for v in zip(*calls, strict=True))
    n = len(t)
    stream = IncidentStream(time_s=t.astype(float), node=node.astype(np.int64),
                            lon=np.zeros(n), lat=np.zeros(n), priority=prio.astype(np.int64),
                            crisis_type=("mental_health",) * n, on_scene_s=scene.astype(float))
    time_s = np.abs(X[:, None] - X[None, :]) if T is None else T
    un = np.array([u for u, _ in units], dtype=np.int64)
    return SimulationInput(
        stream=stream, fleet=Fleet(("A", "B"), np.array([0, 1]), np.array([0, 1])),
        shifts=shifts, nodes=np.arange(len(time_s)), time_s=time_s,
        call_target_s=np.full(n, target_s), call_area=("a", "a", "b")[:n] + ("b",) * (n - 3),
        unit_node=un, unit_people=np.array([p for _, p in units]),
        unit_target_s=np.full(un.size, target_s),
        horizon_s=float(t[-1]) + 1 if horizon_s is None else horizon_s)


def _responses(report):
    return [round(float(r), 6) for r in report.response_s]


def test_closest_idle_sends_the_nearest_free_team_and_queues_the_rest():
    (r,) = simulate(_input(), ["closest"])
    # c0: A (100 s); c1: B (400 s); c2 waits until A clears c0 at 1100 s, then drives 800 s.
    assert _responses(r) == [100.0, 400.0, 1880.0]
    assert list(r.team) == [0, 1, 0]
    assert r.calls_waited == 1 and r.max_queue == 1 and r.preemptions == 0
    assert r.overall["unserved"] == 0
    assert r.overall["share_within_target"] == pytest.approx(1 / 3)  # only 100 s <= 300 s


def test_preemption_diverts_the_team_bound_for_a_less_urgent_call():
    (r,) = simulate(_input(), ["preempt"])
    # c2 (priority 1) at 20 s: B is 2.5 % along its 400 s leg to c1, so 105 s from c2; c1
    # goes back to the queue and B takes it after clearing c2 at 225 s (300 s away).
    assert _responses(r) == [100.0, 515.0, 105.0]
    assert list(r.team) == [0, 1, 1]
    assert r.preemptions == 1


def test_coverage_aware_keeps_the_team_that_protects_more_people():
    calls = ((0.0, 3, 2, 1000.0), (10.0, 4, 2, 100.0))
    (r,) = simulate(_input(calls=calls), ["coverage"], slack_s=1000.0)
    # B is nearest to c0 (400 s vs 600 s) but alone keeps the 1000 people at place 4 within
    # 300 s: A goes; then B is 100 s from c1.
    assert _responses(r) == [600.0, 100.0]
    assert list(r.team) == [0, 1]
    (closest,) = simulate(_input(calls=calls), ["closest"])
    assert _responses(closest) == [400.0, 900.0]
    (no_slack,) = simulate(_input(calls=calls), ["coverage"], slack_s=0.0)
    assert _responses(no_slack) == [400.0, 900.0]  # no slack: the nearest, as closest idle


def test_batch_assigns_waiting_calls_every_interval_priority_first():
    (r,) = simulate(_input(), ["batch"], batch_every_s=60.0)
    # Tick at 60 s: B -> c2 (priority 1), A -> c0. Tick at 300 s: B, 40 % back from place 4
    # to its base, is 0.6 * 300 + 0.4 * 400 = 340 s from c1.
    assert _responses(r) == [160.0, 630.0, 140.0]
    assert list(r.team) == [0, 1, 1]
    assert r.calls_waited == 3


def test_unserved_calls_are_counted_never_timed():
    T = np.abs(X[:, None] - X[None, :])
    T[:, 4] = np.inf
    T[4, 4] = 0.0
    for policy in ("closest", "coverage", "preempt", "batch"):
        (r,) = simulate(_input(T=T), [policy], batch_every_s=60.0)
        assert r.overall["unserved"] == 1 and r.overall["served"] == 2, policy
        assert np.isnan(r.response_s[2]) and r.team[2] == -1
        row = next(b for b in r.by_priority if b["priority"] == 1)
        assert row == {**row, "calls": 1, "served": 0, "unserved": 1, "p50_s": None,
                       "p90_s": None, "share_within_target": 0.0}
        assert r.cdf_share[-1] <= 2 / 3


def test_shifts_take_teams_off_duty_and_utilisation_counts_duty_only():
    shifts = ShiftTable((Shift("day", 0.0, 12.0, 2), Shift("night", 12.0, 24.0, 1)))
    calls = ((0.0, 2, 2, 600.0), (13 * 3600.0, 4, 2, 600.0))
    (r,) = simulate(_input(calls=calls, shifts=shifts, horizon_s=14 * 3600.0), ["closest"])
    # At 13:00 only A is on duty: it drives 900 s to place 4 although B's base is 100 s away.
    assert _responses(r) == [100.0, 900.0]
    assert r.team_utilisation[1] == 0.0
    busy_a = (100 + 600 + 100) + (900 + 600 + 900)
    assert r.team_utilisation[0] == pytest.approx(busy_a / (14 * 3600.0))
    assert r.team_utilisation[1] == 0.0  # on duty 12 h, never sent
    assert r.utilisation_by_hour[13] == pytest.approx((900 + 600 + 900) / 3600.0)


def test_bad_inputs_name_the_problem():
    with pytest.raises(ValidationError, match="unknown policy 'fastest'"):
        simulate(_input(), ["fastest"])
    with pytest.raises(ValidationError, match="03:00-07:00"):
        simulate(replace_shifts(ShiftTable((Shift("day", 7, 19, 2), Shift("eve", 19, 3, 1))))
                 , ["closest"])
    with pytest.raises(ValidationError, match="zero teams"):
        Fleet((), np.zeros(0, np.int64), np.zeros(0, np.int64))
    with pytest.raises(ValidationError, match="zero teams"):
        default_shifts(0)
    with pytest.raises(ValidationError, match="roster has 2"):
        simulate(replace_shifts(ShiftTable((Shift("all", 0, 24, 3),))), ["closest"])
    with pytest.raises(ValidationError, match="shift 1 \\(x\\): teams"):
        simulate(replace_shifts(ShiftTable((Shift("x", 0, 24, 0),))), ["closest"])


def replace_shifts(shifts):
    import dataclasses

    return dataclasses.replace(_input(), shifts=shifts)


def test_synthetic_stream_is_seeded_and_follows_people():
    un = np.array([0, 1, 2, -1])
    people = np.array([100.0, 0.0, 900.0, 5000.0])
    lon, lat = np.array([0.0, 1, 2]), np.array([0.0, 1, 2])
    a = synthetic_stream(un, people, lon, lat, days=30, calls_per_day=50, seed=3)
    b = synthetic_stream(un, people, lon, lat, days=30, calls_per_day=50, seed=3)
    c = synthetic_stream(un, people, lon, lat, days=30, calls_per_day=50, seed=4)
    assert np.array_equal(a.time_s, b.time_s) and a.crisis_type == b.crisis_type
    assert not np.array_equal(a.time_s, c.time_s)
    assert 1300 < len(a) < 1700 and a.horizon_s < 30 * 86400
    assert set(a.node.tolist()) <= {0, 2}  # never an empty or off-network unit
    assert 0.85 < np.mean(a.node == 2) < 0.95
    hours = (a.time_s // 3600) % 24
    assert np.sum(hours == 17) > 2 * np.sum(hours == 4)  # evenings busier than before dawn


def test_simulation_is_deterministic_and_sweep_equals_sequential():
    un = np.array([2, 3, 4])
    s = synthetic_stream(un, np.array([1.0, 2.0, 3.0]), np.zeros(5), np.zeros(5), days=2,
                         calls_per_day=40, seed=11)
    base = _input()
    inp = SimulationInput(stream=s, fleet=base.fleet, shifts=ALL_DAY, nodes=base.nodes,
                          time_s=base.time_s, call_target_s=np.full(len(s), 300.0),
                          call_area=("x",) * len(s), unit_node=un,
                          unit_people=np.array([1.0, 2.0, 3.0]),
                          unit_target_s=np.full(3, 300.0), horizon_s=2 * 86400.0)
    first = simulate(inp, ["closest", "coverage", "preempt", "batch"])
    again = simulate(inp, ["closest", "coverage", "preempt", "batch"])
    for a, b in zip(first, again, strict=True):
        assert a.summary() == b.summary()
        assert np.array_equal(a.response_s, b.response_s, equal_nan=True)
    one = ShiftTable((Shift("all", 0, 24, 1),))
    cases = [SweepCase(p, fl, sh, f"{p} {len(fl.names)}")
             for p in ("closest", "batch") for fl, sh in ((base.fleet, ALL_DAY),
                                                          (base.fleet.first(1), one))]
    seq = sweep(inp, cases, scheduler="sync")
    assert seq[0]["summary"] == first[0].summary() | {"label": "closest 2"}
    assert seq[1]["summary"]["p90_s"] > seq[0]["summary"]["p90_s"]  # one team: slower
