"""Evacuee placement: the optimal solve against networkx min_cost_flow and brute force."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest

from navigator.decide.evacuation import REASONS, place_evacuees
from navigator.errors import ValidationError

NEEDS = ("general", "fnss", "medical", "pets")


def reference_total(need, people, t, cap) -> tuple[int, int]:
    """Return (people placed, total person-seconds) by networkx min_cost_flow, per need."""
    placed = total = 0
    for n in range(cap.shape[1]):
        g = nx.DiGraph()
        rows = [i for i in range(len(people)) if need[i] == n and people[i] > 0]
        demand = sum(int(people[i]) for i in rows)
        if not demand:
            continue
        big = int(np.nanmax(np.where(np.isfinite(t), t, np.nan)) if np.isfinite(t).any()
                  else 0) * (int(people.sum()) + 1) + 1
        g.add_node("T", demand=demand)
        for i in rows:
            g.add_node(("g", i), demand=-int(people[i]))
            g.add_edge(("g", i), "U", weight=big, capacity=int(people[i]))
            for j in range(t.shape[1]):
                if np.isfinite(t[i, j]) and cap[j, n] > 0:
                    g.add_edge(("g", i), ("s", j), weight=int(t[i, j]))
        g.add_edge("U", "T", weight=0)
        for j in range(t.shape[1]):
            g.add_edge(("s", j), "T", weight=0, capacity=int(cap[j, n]))
        flow = nx.min_cost_flow(g)
        for i in rows:
            for j in range(t.shape[1]):
                f = flow[("g", i)].get(("s", j), 0)
                if f:
                    placed += f
                    total += f * int(t[i, j])
    return placed, total


def random_case(rng: np.random.Generator, g: int, s: int, *, inf_share: float = 0.1):
    need = rng.integers(0, len(NEEDS), g)
    people = rng.integers(0, 40, g)
    t = rng.integers(60, 3600, (g, s)).astype(float)
    t[rng.random((g, s)) < inf_share] = np.inf
    cap = rng.integers(0, 60, (s, len(NEEDS)))
    return need, people, t, cap


def check_feasible(p, need, people, cap) -> None:
    assert (p.flow >= 0).all()
    assert (p.flow.sum(axis=1) + p.unplaced == people).all()  # nobody dropped
    for n in range(len(NEEDS)):
        assert (p.load[:, n] <= cap[:, n]).all()  # capacity by need never exceeded
    # a group's people only take spaces of its own need
    for i in range(len(people)):
        assert (p.flow[i][cap[:, need[i]] == 0] == 0).all()
        assert np.isfinite(p.travel_s[i][p.flow[i] > 0]).all()  # never an unreachable arc


@pytest.mark.parametrize("seed", range(12))
def test_optimal_equals_networkx_min_cost_flow(seed: int) -> None:
    rng = np.random.default_rng(seed)
    need, people, t, cap = random_case(rng, int(rng.integers(3, 25)), int(rng.integers(2, 9)))
    p = place_evacuees(NEEDS, need, people, t, cap)
    placed, total = reference_total(need, people, t, cap)
    assert p.proven_optimal
    assert p.placed == placed
    assert p.total_time_s == total  # exact: integer seconds
    check_feasible(p, need, people, cap)
    greedy = place_evacuees(NEEDS, need, people, t, cap, method="greedy")
    check_feasible(greedy, need, people, cap)
    assert greedy.placed <= p.placed
    if greedy.placed == p.placed:
        assert p.total_time_s <= greedy.total_time_s


def brute_force_households(size, t, cap) -> tuple[int, float]:
    """Return (people placed, least total seconds) over every assignment of households."""
    best = (-1, 0.0)
    s = t.shape[1]
    for choice in itertools.product(range(-1, s), repeat=len(size)):
        load = np.zeros(s, dtype=int)
        placed, total, ok = 0, 0.0, True
        for h, j in enumerate(choice):
            if j < 0:
                continue
            if not np.isfinite(t[h, j]):
                ok = False
                break
            load[j] += size[h]
            placed += size[h]
            total += size[h] * t[h, j]
        if not ok or (load > cap).any():
            continue
        if placed > best[0] or (placed == best[0] and total < best[1]):
            best = (placed, total)
    return best


@pytest.mark.parametrize("seed", range(8))
def test_households_are_never_split_and_match_brute_force(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    h, s = 6, 3
    size = rng.integers(1, 6, h)
    t = rng.integers(60, 900, (h, s)).astype(float)
    t[rng.random((h, s)) < 0.15] = np.inf
    cap = rng.integers(0, 10, (s, 1))
    p = place_evacuees(("general",), np.zeros(h, dtype=int), size, t, cap,
                       whole=np.ones(h, dtype=bool))
    placed, total = brute_force_households(size, t, cap[:, 0])
    assert (p.placed, p.total_time_s) == (placed, total)
    assert p.proven_optimal
    for i in range(h):  # all of a household in one shelter, or none of it
        assert (p.flow[i] > 0).sum() <= 1
        assert p.flow[i].sum() in (0, size[i])
    assert (p.load[:, 0] <= cap[:, 0]).all()
    g = place_evacuees(("general",), np.zeros(h, dtype=int), size, t, cap,
                       whole=np.ones(h, dtype=bool), method="greedy")
    assert all((g.flow[i] > 0).sum() <= 1 and g.flow[i].sum() in (0, size[i])
               for i in range(h))
    assert g.placed <= p.placed


def test_greedy_is_worse_where_nearest_first_blocks_a_better_split() -> None:
    # group 0 is nearest shelter A and fills it; group 1 (only A reachable cheaply) then pays
    t = np.array([[100.0, 200.0], [110.0, 2000.0]])
    cap = np.array([[10], [10]])
    people = np.array([10, 10])
    opt = place_evacuees(("general",), [0, 0], people, t, cap)
    gr = place_evacuees(("general",), [0, 0], people, t, cap, method="greedy")
    assert opt.total_time_s == 10 * 200 + 10 * 110
    assert gr.total_time_s == 10 * 100 + 10 * 2000
    assert opt.worst_time_s == 200 and gr.worst_time_s == 2000
    assert opt.mean_time_s == pytest.approx(155.0)


def test_more_people_than_capacity_are_counted_unplaced_with_reasons() -> None:
    t = np.array([[60.0, np.inf], [np.inf, np.inf], [60.0, 120.0], [30.0, 30.0]])
    cap = np.array([[5, 0, 0, 0], [3, 0, 0, 0]])
    need = np.array([0, 0, 0, 1])
    people = np.array([6, 4, 4, 2])
    for method in ("optimal", "greedy"):
        p = place_evacuees(NEEDS, need, people, t, cap, method=method)
        assert p.placed == 8
        assert p.unplaced_by_need() == {"general": 6, "fnss": 2, "medical": 0, "pets": 0}
        assert p.reason[1] == REASONS[1]  # unreachable
        assert p.reason[3] == REASONS[0]  # nobody offers fnss
        assert sum(p.unplaced_by_reason().values()) == int(p.unplaced.sum()) == 8
        assert p.load.tolist() == [[5, 0, 0, 0], [3, 0, 0, 0]]


def test_nobody_placed_has_no_times() -> None:
    p = place_evacuees(NEEDS, [0], [3], np.array([[np.inf]]), np.array([[4, 0, 0, 0]]))
    assert p.placed == 0 and p.mean_time_s is None and p.worst_time_s is None
    assert p.unplaced.tolist() == [3]


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"capacity": np.array([[-1, 0, 0, 0]])}, r"capacity\[0, 0\]=-1"),
    ({"group_people": [-2]}, r"group_people\[0\]=-2"),
    ({"group_people": [1.5]}, "whole numbers"),
    ({"group_need": [7]}, "4 needs"),
    ({"travel_s": np.array([[np.nan]])}, "NaN"),
    ({"whole": [True], "group_people": [0]}, "size=0"),
    ({"method": "fastest"}, "method"),
])
def test_bad_input_names_the_field(kwargs, match) -> None:
    args = {"group_need": [0], "group_people": [2], "travel_s": np.array([[10.0]]),
            "capacity": np.array([[3, 0, 0, 0]])}
    method = kwargs.pop("method", "optimal")
    whole = kwargs.pop("whole", None)
    args.update(kwargs)
    with pytest.raises(ValidationError, match=match):
        place_evacuees(NEEDS, args["group_need"], args["group_people"], args["travel_s"],
                       args["capacity"], whole=whole, method=method)
