"""MEXCLP with a busy fraction per candidate site (outer approximation) and its bad input."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from navigator.decide.allocation import expected_coverage, p_median
from navigator.errors import ValidationError

INF = np.inf


def best_expected(c, w, k, forced, q, target):
    """Brute force: the largest expected coverage over every choice of k free sites."""
    free = [j for j in range(c.shape[0]) if j not in forced]
    best = -1.0
    for combo in itertools.combinations(free, k):
        r = np.array([*combo, *forced], dtype=int)
        all_busy = np.where(c[r] <= target, q[r][:, None], 1.0).prod(axis=0)
        best = max(best, float((w * (1 - all_busy)).sum()))
    return best


@settings(max_examples=40, deadline=None)
@given(st.integers(4, 9), st.integers(3, 12), st.integers(0, 2**32 - 1), st.integers(1, 3),
       st.booleans())
def test_site_busy_matches_brute_force(n_s, n_d, seed, k, with_forced):
    rng = np.random.default_rng(seed)
    c = rng.integers(1, 60, (n_s, n_d)).astype(float)
    w = rng.integers(0, 9, n_d).astype(float)
    w[0], c[0, 0] = 1.0, 5.0
    q = rng.choice([0.0, 0.1, 0.35, 0.6, 0.95], n_s)
    forced = [1] if with_forced else []
    k = min(k, n_s - len(forced))
    a = expected_coverage(c, w, k=k, target_s=20, busy=0.3, forced=forced, site_busy=q)
    assert a.objective == pytest.approx(best_expected(c, w, k, forced, q, 20), rel=1e-7)
    assert a.optimal and a.mip_gap <= 1e-6 and a.status == "Optimal"
    assert a.objective >= a.greedy_objective - 1e-9 and a.sites.size == k


def test_equal_site_busy_is_the_one_fraction_model():
    rng = np.random.default_rng(3)
    c = rng.integers(1, 60, (12, 30)).astype(float)
    w = rng.integers(1, 9, 30).astype(float)
    one = expected_coverage(c, w, k=3, target_s=20, busy=0.4, forced=[5])
    same = expected_coverage(c, w, k=3, target_s=20, busy=0.1, forced=[5],
                             site_busy=np.full(12, 0.4))
    assert same.objective == pytest.approx(one.objective) and same.iterations == 1


def test_a_busier_candidate_loses_to_an_idle_one():
    # units 0 and 1 (100 people each) are both reachable from candidates 0 and 1 only:
    # with candidate 0 busy 80 % and 1 busy 10 %, the one new base is candidate 1
    c = np.array([[1, 1], [1, 1], [INF, 1]], dtype=float)
    w = np.array([100.0, 100.0])
    a = expected_coverage(c, w, k=1, target_s=5, busy=0.3, site_busy=[0.8, 0.1, 0.0])
    assert a.sites.tolist() == [1] and a.objective == pytest.approx(180)
    b = expected_coverage(c, w, k=1, target_s=5, busy=0.3, site_busy=[0.1, 0.8, 0.0])
    assert b.sites.tolist() == [0]
    # forced_busy still wins for forced rows
    f = expected_coverage(c, w, k=1, target_s=5, busy=0.3, forced=[2], forced_busy=[0.5],
                          site_busy=[0.8, 0.1, 0.0])
    assert f.objective == pytest.approx(100 * 0.9 + 100 * (1 - 0.1 * 0.5))


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"site_busy": [0.1, 1.0]}, r"site row 1 must be in \[0, 1\)"),
    ({"site_busy": [-0.1, 0.2]}, r"site row 0 must be in \[0, 1\)"),
    ({"site_busy": [np.nan, 0.2]}, r"\[0, 1\)"),
    ({"site_busy": [0.1, 0.2, 0.3]}, "one fraction per site"),
    ({"site_busy": [0.1, 0.2], "busy": [0.1, 0.2]}, "busy as one fraction"),
])
def test_bad_site_busy_is_refused(kwargs, match):
    args = {"k": 1, "target_s": 5, "busy": 0.3} | kwargs
    with pytest.raises(ValidationError, match=match):
        expected_coverage(np.ones((2, 2)), None, **args)


def test_no_candidate_meets_the_target_and_no_people():
    with pytest.raises(ValidationError, match="no candidate"):
        expected_coverage(np.full((2, 2), 100.0), None, k=1, target_s=5, busy=0.2,
                          site_busy=[0.1, 0.2])
    with pytest.raises(ValidationError, match="total population is 0"):
        p_median(np.ones((2, 2)), [0.0, 0.0], p=1)


@settings(max_examples=40, deadline=None)
@given(st.integers(4, 9), st.integers(3, 12), st.integers(0, 2**32 - 1), st.integers(1, 3),
       st.booleans(), st.sampled_from([0.0, 0.5]))
def test_backup_matches_brute_force(n_s, n_d, seed, k, with_forced, single):
    from navigator.decide.allocation import backup_coverage

    rng = np.random.default_rng(seed)
    c = rng.integers(1, 60, (n_s, n_d)).astype(float)
    w = rng.integers(0, 9, n_d).astype(float)
    w[0], c[0, 0] = 1.0, 5.0
    forced = [1] if with_forced else []
    k = min(k, n_s - len(forced))
    free = [j for j in range(n_s) if j not in forced]
    best = 0.0
    for combo in itertools.combinations(free, k):
        n = (c[[*combo, *forced]] <= 20).sum(axis=0)
        best = max(best, float(w[n >= 2].sum() + single * w[n >= 1].sum()))
    a = backup_coverage(c, w, k=k, target_s=20, single_weight=single, forced=forced)
    assert a.objective == pytest.approx(best) and a.optimal
