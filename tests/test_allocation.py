"""Location-allocation: exact models against brute force, greedy baselines, bad inputs."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from navigator.decide.allocation import Allocation, cost_matrix, max_coverage, min_sites, p_median
from navigator.errors import ValidationError

INF = np.inf


# 3 sites x 3 demand units, seconds
C3 = np.array([[100.0, 700.0, 900.0],
               [800.0, 200.0, 300.0],
               [650.0, 550.0, INF]])
W3 = np.array([10.0, 40.0, 25.0])


def brute_mclp(c, w, k, target, forced=()):
    best = -1.0
    free = [j for j in range(c.shape[0]) if j not in forced]
    for combo in itertools.combinations(free, k):
        rows = list(combo) + list(forced)
        best = max(best, float(w[(c[rows] <= target).any(axis=0)].sum()))
    return best


def brute_lscp(c, target, forced=()):
    coverable = (c <= target).any(axis=0)
    free = [j for j in range(c.shape[0]) if j not in forced]
    for k in range(len(free) + 1):
        for combo in itertools.combinations(free, k):
            rows = list(combo) + list(forced)
            got = (c[rows] <= target).any(axis=0) if rows else np.zeros(c.shape[1], bool)
            if (got | ~coverable).all():
                return k
    raise AssertionError


def brute_pmedian(c, w, p, forced=()):
    free = [j for j in range(c.shape[0]) if j not in forced]
    reach = np.isfinite(c).any(axis=0)
    best = INF
    for combo in itertools.combinations(free, p):
        rows = list(combo) + list(forced)
        best = min(best, float((w[reach] * c[rows][:, reach].min(axis=0)).sum()))
    return best


def test_mclp_3x3_known_answer():
    a = max_coverage(C3, W3, k=1, target_s=600)
    assert isinstance(a, Allocation)
    # site 1 covers units 1 and 2 (65 people); site 0 covers 10
    assert a.sites.tolist() == [1]
    assert a.objective == pytest.approx(65.0)
    assert a.status == "Optimal"
    assert a.assigned.tolist() == [-1, 1, 1]
    a2 = max_coverage(C3, W3, k=2, target_s=600)
    assert a2.sites.tolist() == [0, 1] and a2.objective == pytest.approx(75.0)
    assert a2.gap == 0.0 and a2.greedy_objective == pytest.approx(75.0)


def test_mclp_forced_sites_count_outside_budget():
    a = max_coverage(C3, W3, k=1, target_s=600, forced=[1])
    assert a.forced.tolist() == [1]
    assert a.sites.tolist() == [0]
    assert a.objective == pytest.approx(75.0)


def test_lscp_3x3_known_answer():
    a = min_sites(C3, W3, target_s=600)
    assert a.objective == 2.0 and a.sites.tolist() == [0, 1]
    a = min_sites(C3, W3, target_s=150)  # only unit 0 coverable
    assert a.objective == 1.0 and a.sites.tolist() == [0]
    assert a.uncoverable.tolist() == [1, 2]


def test_pmedian_3x3_known_answer():
    a = p_median(C3, W3, p=1)
    # site 1: 10*800 + 40*200 + 25*300 = 23500 (site 0: 1000+28000+22500)
    assert a.sites.tolist() == [1]
    assert a.objective == pytest.approx(23500.0)
    a2 = p_median(C3, W3, p=2)
    assert a2.sites.tolist() == [0, 1]
    assert a2.objective == pytest.approx(10 * 100 + 40 * 200 + 25 * 300)


def test_pmedian_cutoff_charges_unserved_units():
    a = p_median(C3, W3, p=1, cutoff_s=500)
    # with times capped at 500 s: site 1 -> 10*500 + 8000 + 7500 = 20500
    assert a.sites.tolist() == [1]
    assert a.objective == pytest.approx(20500.0)
    assert a.assigned.tolist() == [-1, 1, 1]


def test_greedy_is_worse_on_a_classic_trap():
    # greedy takes the middle site first (covers 2 of 3 heavy units), exact takes the pair
    c = np.array([[0, 0, 0, INF, INF, INF], [INF, INF, INF, 0, 0, 0],
                  [INF, 0, 0, 0, 0, INF]], dtype=float)
    w = np.ones(6)
    a = max_coverage(c, w, k=2, target_s=1)
    assert a.objective == 6.0
    assert a.greedy_objective == 5.0
    assert a.gap == pytest.approx(1 / 6)
    lscp = min_sites(c, w, target_s=1)
    assert lscp.objective == 2.0 and lscp.greedy_objective == 3.0


matrices = st.integers(min_value=3, max_value=6).flatmap(
    lambda n: st.tuples(
        st.lists(st.lists(st.one_of(st.integers(1, 20).map(float), st.just(INF)),
                          min_size=n, max_size=n), min_size=4, max_size=5),
        st.lists(st.integers(0, 9).map(float), min_size=n, max_size=n)))


@settings(max_examples=30, deadline=None)
@given(matrices, st.integers(1, 2), st.booleans())
def test_models_match_brute_force(mw, k, with_forced):
    c = np.array(mw[0])
    w = np.array(mw[1])
    forced = [0] if with_forced else []
    target = 10.0
    if not ((c <= target).any(axis=0) & (w > 0)).any():  # nothing to cover: refused
        with pytest.raises(ValidationError, match="no candidate site reaches"):
            max_coverage(c, w, k=k, target_s=target, forced=forced)
    else:
        a = max_coverage(c, w, k=k, target_s=target, forced=forced)
        assert a.objective == pytest.approx(brute_mclp(c, w, k, target, forced))
        assert a.optimal and a.objective >= a.greedy_objective and a.gap >= 0
    if (c <= target).any():
        assert min_sites(c, w, target_s=target, forced=forced).objective == brute_lscp(
            c, target, forced)
    # the uncapped p-median needs every open-site subset to reach every unit: fill the gaps
    full = np.where(np.isfinite(c), c, 50.0)
    if not w.sum() > 0:  # nobody to serve: refused (issue #18), never a trivial "optimum"
        with pytest.raises(ValidationError, match="total population is 0"):
            p_median(full, w, p=k, forced=forced)
        return
    assert p_median(full, w, p=k, forced=forced).objective == pytest.approx(
        brute_pmedian(full, w, k, forced))


@pytest.mark.parametrize("kwargs", [
    {"target_s": 0}, {"target_s": -5}, {"target_s": float("nan")}, {"target_s": float("inf")},
])
def test_bad_targets(kwargs):
    with pytest.raises(ValidationError):
        max_coverage(C3, W3, k=1, **kwargs)
    with pytest.raises(ValidationError):
        min_sites(C3, W3, **kwargs)


def test_bad_inputs():
    with pytest.raises(ValidationError, match="non-empty"):
        max_coverage(np.zeros((0, 3)), None, k=1, target_s=5)
    with pytest.raises(ValidationError, match="exceeds"):
        max_coverage(C3, W3, k=4, target_s=600)
    with pytest.raises(ValidationError, match="non-negative integer"):
        p_median(C3, W3, p=-1)
    with pytest.raises(ValidationError, match="people"):
        max_coverage(C3, W3[:2], k=1, target_s=600)
    with pytest.raises(ValidationError, match="forced"):
        max_coverage(C3, W3, k=1, target_s=600, forced=[7])
    with pytest.raises(ValidationError, match="NaN"):
        min_sites(np.full((2, 2), np.nan), None, target_s=5)
    with pytest.raises(ValidationError, match="cutoff_s"):
        p_median(C3, W3, p=1, cutoff_s=0)


def test_cost_matrix_directions(columbus_graph):
    nodes = np.array([0, 50, 500])
    dem = np.array([10, 20, -1, 30])
    ab = cost_matrix(columbus_graph, nodes, dem, direction="from")
    ba = cost_matrix(columbus_graph, nodes, dem, direction="to")
    assert ab.shape == (3, 4) and np.isinf(ab[:, 2]).all() and np.isinf(ba[:, 2]).all()
    from navigator.roads import travel_time_matrix

    np.testing.assert_allclose(ab[:, [0, 1, 3]], travel_time_matrix(columbus_graph, nodes,
                                                                     dem[[0, 1, 3]]))
    np.testing.assert_allclose(ba[:, [0, 1, 3]], travel_time_matrix(columbus_graph, dem[[0, 1, 3]],
                                                                    nodes).T)
    with pytest.raises(ValidationError, match="direction"):
        cost_matrix(columbus_graph, nodes, dem, direction="sideways")  # type: ignore[arg-type]


# spopt 0.7 builds PuLP variables the way PuLP 3.3 deprecates (third-party code we cannot
# change; TRAPS.md): ignore exactly that warning, here only.
@pytest.mark.slow  # importing spopt takes ~5 s
@pytest.mark.filterwarnings("ignore:Constructing LpVariable:DeprecationWarning")
def test_mclp_and_lscp_agree_with_spopt():
    import pulp
    from spopt.locate import LSCP, MCLP

    rng = np.random.default_rng(11)
    c = rng.uniform(60, 1200, (25, 60))
    w = rng.integers(1, 1000, 60).astype(float)
    ours = max_coverage(c, w, k=4, target_s=400)
    m = MCLP.from_cost_matrix(c.T, w, service_radius=400, p_facilities=4)
    m.solve(pulp.HiGHS(msg=False))
    sites = [j for j, v in enumerate(m.fac_vars) if v.value() > 0.5]
    assert ours.objective == pytest.approx(float(w[(c[sites] <= 400).any(axis=0)].sum()))
    cov = (c <= 400).any(axis=0)
    lscp = LSCP.from_cost_matrix(c.T[cov], 400)
    lscp.solve(pulp.HiGHS(msg=False))
    assert min_sites(c, w, target_s=400).objective == sum(v.value() > 0.5
                                                          for v in lscp.fac_vars)


def test_lscp_returns_the_optimum_it_reports(columbus_graph):
    # HiGHS 1.16 reported the optimum but handed back the greedy start when presolve solved
    # the set cover (real Columbus times): the sites must be the ones the bound proves
    from scipy.optimize import Bounds, LinearConstraint, milp

    rng = np.random.default_rng(1)
    c = cost_matrix(columbus_graph, rng.choice(columbus_graph.n_nodes, 150, replace=False),
                    rng.choice(columbus_graph.n_nodes, 400, replace=False))
    c = c[:, (c <= 600).any(axis=0)]
    a = min_sites(c, None, target_s=600)
    ref = milp(np.ones(c.shape[0]), integrality=np.ones(c.shape[0]), bounds=Bounds(0, 1),
               constraints=[LinearConstraint((c <= 600).T.astype(float), 1, np.inf)])
    assert a.objective == round(ref.fun) == a.sites.size and a.optimal and a.mip_gap == 0
    assert a.objective < a.greedy_objective  # the start was not the answer
    assert (c[a.sites] <= 600).any(axis=0).all()
