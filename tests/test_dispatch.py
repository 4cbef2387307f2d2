"""Dispatcher decisions on tiny matrices: team order, coverage, batch assignment."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from navigator.decide.dispatch import (
    AssignmentPlan,
    BatchPlan,
    assign_greedy,
    assign_optimal,
    coverage_without,
    covers,
    plan_totals,
    priority_weight,
    team_order,
)
from navigator.errors import ValidationError

INF = np.inf


def test_covers_skills_and_languages() -> None:
    have = [("clinician", "peer_support"), (), ("youth",)]
    np.testing.assert_array_equal(covers(have, ["clinician"]), [True, False, False])
    np.testing.assert_array_equal(covers(have, []), [True, True, True])


def test_team_order_require_and_penalty() -> None:
    eta = [300.0, 100.0, 200.0]
    fits = [True, False, True]
    lang = [True, True, True]
    ok = [True, True, True]
    order, score = team_order(eta, fits_skills=fits, fits_language=lang, shift_ok=ok)
    assert order.tolist() == [2, 0]
    assert score[1] == INF
    order, score = team_order(eta, fits_skills=fits, fits_language=lang, shift_ok=ok,
                              skill_policy="penalty", penalty_s=150.0)
    assert order.tolist() == [2, 1, 0]  # 200, 250, 300
    assert score[1] == 250.0
    with pytest.raises(ValidationError, match="skill_policy"):
        team_order(eta, fits_skills=fits, fits_language=lang, shift_ok=ok, skill_policy="x")


def test_team_order_short_shift_flagged_or_excluded_and_unreachable_left_out() -> None:
    eta = [100.0, 200.0, INF]
    yes = [True, True, True]
    order, _ = team_order(eta, fits_skills=yes, fits_language=yes, shift_ok=[False, True, True])
    assert order.tolist() == [1, 0]
    order, _ = team_order(eta, fits_skills=yes, fits_language=yes, shift_ok=[False, True, True],
                          exclude_short_shift=True)
    assert order.tolist() == [1]


def test_team_order_prefers_coverage_within_tolerance() -> None:
    eta = [100.0, 150.0, 400.0]
    yes = [True, True, True]
    loss = [0.3, 0.0, 0.0]
    order, _ = team_order(eta, fits_skills=yes, fits_language=yes, shift_ok=yes,
                          coverage_loss=loss)
    assert order.tolist() == [0, 1, 2]
    order, _ = team_order(eta, fits_skills=yes, fits_language=yes, shift_ok=yes,
                          coverage_loss=loss, prefer_coverage=True, tolerance_s=60.0)
    assert order.tolist() == [1, 0, 2]  # team 2 is beyond the tolerance


def test_coverage_without_each_team() -> None:
    # Three places; team 0 alone covers place 0, both cover place 1, nobody covers place 2.
    t = np.array([[10.0, 10.0, 99.0], [50.0, 20.0, 99.0]])
    baseline, without = coverage_without(t, 30.0)
    assert baseline == pytest.approx(1 / 3)
    np.testing.assert_allclose(without, [2 / 3, 1 / 3])
    baseline, without = coverage_without(t, 30.0, weight=[5.0, 1.0, 4.0])
    assert baseline == pytest.approx(0.4)
    np.testing.assert_allclose(without, [0.9, 0.4])
    # Per-place targets; one team only.
    baseline, without = coverage_without(t[:1], np.array([5.0, 30.0, 100.0]))
    assert baseline == pytest.approx(1 / 3)
    np.testing.assert_allclose(without, [1.0])


def test_priority_weight() -> None:
    np.testing.assert_array_equal(priority_weight([1, 2, 3, 4]), [4, 3, 2, 1])
    with pytest.raises(ValidationError):
        priority_weight([0])


def test_optimal_beats_greedy_on_the_classic_trap() -> None:
    # Greedy gives team 0 to incident 0 (priority first) and sends team 1 far to incident 1.
    eta = np.array([[10.0, 11.0], [12.0, 100.0]])
    greedy = assign_greedy(eta, priority=[1, 1])
    optimal = assign_optimal(eta)
    assert greedy == [(0, 0), (1, 1)]
    assert sorted(optimal) == [(0, 1), (1, 0)]
    assert plan_totals(eta, optimal)[1] == 23.0
    assert plan_totals(eta, greedy)[1] == 110.0


def test_bottleneck_minimises_the_worst_eta() -> None:
    eta = np.array([[1.0, 50.0], [40.0, 60.0]])
    total = assign_optimal(eta, objective="total")  # 1 + 60 = 61 vs 50 + 40 = 90
    worst = assign_optimal(eta, objective="bottleneck")
    assert plan_totals(eta, total)[1:] == (61.0, 60.0)
    assert plan_totals(eta, worst)[1:] == (90.0, 50.0)
    with pytest.raises(ValidationError, match="objective"):
        assign_optimal(eta, objective="median")  # type: ignore[arg-type]


def test_infeasible_pairs_and_rectangular_matrices() -> None:
    eta = np.array([[INF, 5.0, 7.0], [INF, INF, 3.0]])  # incident 0 unreachable
    pairs = assign_optimal(eta)
    assert sorted(pairs) == [(0, 1), (1, 2)]
    assert assign_optimal(np.full((2, 2), INF)) == []
    assert assign_optimal(np.zeros((0, 3))) == []
    assert assign_greedy(np.zeros((0, 3)), priority=[1, 2, 3]) == []


def test_a_priority_one_call_is_never_left_for_a_priority_three_one() -> None:
    # One team can reach both calls; the welfare check (priority 3) is nearer. Serving the
    # DV call (priority 1) first is the only right answer, whatever the ETAs say.
    eta = np.array([[900.0, 60.0], [INF, INF]])
    priority = np.array([1, 3])
    pairs = assign_optimal(eta, weight=priority_weight(priority), priority=priority)
    assert pairs == [(0, 0)]
    # and among plans serving the same calls, the least weighted ETA wins
    eta = np.array([[100.0, 5.0, INF], [10.0, INF, 50.0]])
    priority = np.array([2, 1, 1])
    assert sorted(assign_optimal(eta, priority=priority)) == [(0, 1), (1, 2)]


def _key(eta: np.ndarray, w: np.ndarray, level: np.ndarray, pairs: list[tuple[int, int]],
         objective: str) -> tuple[float, ...]:
    """Return the lexicographic plan key (smaller is better): -served per level, then ETA."""
    served = np.bincount([level[j] for _, j in pairs], minlength=int(level.max()) + 1)
    times = np.array([eta[i, j] for i, j in pairs])
    ws = np.array([w[j] for _, j in pairs])
    total = float((times * ws).sum()) if pairs else 0.0
    worst = float(times.max()) if pairs else 0.0
    return (*(-served).tolist(), *((worst, total) if objective == "bottleneck" else (total,)))


def _brute(eta: np.ndarray, w: np.ndarray, level: np.ndarray, objective: str
           ) -> tuple[float, ...]:
    n, m = eta.shape
    best = _key(eta, w, level, [], objective)
    for k in range(1, min(n, m) + 1):
        for rows in itertools.permutations(range(n), k):
            for cols in itertools.combinations(range(m), k):
                pairs = list(zip(rows, cols, strict=True))
                if all(np.isfinite(eta[i, j]) for i, j in pairs):
                    best = min(best, _key(eta, w, level, pairs, objective))
    return best


matrices = st.tuples(st.integers(1, 4), st.integers(1, 5), st.integers(0, 2**32 - 1)).map(
    lambda a: _random_instance(*a))


def _random_instance(n: int, m: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    eta = rng.integers(1, 60, size=(n, m)).astype(float) * 60 + rng.random((n, m))
    eta[rng.random((n, m)) < 0.3] = INF
    return eta, rng.integers(1, 5, size=m)


@settings(max_examples=300, deadline=None)
@given(matrices)
def test_optimal_equals_brute_force_lexicographic(inst: tuple) -> None:
    eta, priority = inst
    w = priority_weight(priority)
    level = np.unique(priority, return_inverse=True)[1].reshape(-1)
    for objective in ("total", "bottleneck"):
        pairs = assign_optimal(eta, weight=w, priority=priority, objective=objective)
        assert len({i for i, _ in pairs}) == len({j for _, j in pairs}) == len(pairs)
        assert all(np.isfinite(eta[i, j]) for i, j in pairs)
        got = _key(eta, w, level, pairs, objective)
        want = _brute(eta, w, level, objective)
        assert got[:-1] == pytest.approx(want[:-1]) and got[-1] == pytest.approx(want[-1])
    # never worse than greedy: as many calls served at every priority, then no more ETA
    opt = _key(eta, w, level, assign_optimal(eta, weight=w, priority=priority), "total")
    greedy = _key(eta, w, level, assign_greedy(eta, priority=priority), "total")
    assert opt[:-1] <= greedy[:-1]
    if opt[:-1] == greedy[:-1]:
        assert opt[-1] <= greedy[-1] + 1e-9


def test_plans_are_json_safe() -> None:
    plan = AssignmentPlan("greedy", (("T1", "I1", INF),), INF, 1.0, 2.0, ("I2",))
    text = json.dumps(BatchPlan("total", plan, plan).to_dict(), allow_nan=False)
    assert '"eta_s": null' in text
