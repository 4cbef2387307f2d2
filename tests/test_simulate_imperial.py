"""The simulator on the rural region (Imperial County, CA): long drives, the four policies."""

from __future__ import annotations

from imperialhelpers import *  # noqa: F403  (fixtures)

from navigator.config import Settings
from navigator.roads import TravelGraph
from navigator.services.simulation import simulate_policies
from navigator.store import Store


def test_imperial_compares_four_policies_with_rural_misses(
        store: Store, imperial_graph: TravelGraph, settings: Settings) -> None:
    run = simulate_policies(store, imperial_graph, settings, actor="test", days=14,
                            calls_per_day=20, target_s=1800.0)
    assert [r.policy for r in run.reports] == ["closest", "coverage", "preempt", "batch"]
    for r in run.reports:
        o = r.overall
        assert o["calls"] == o["served"] + o["unserved"] == len(run.input.stream)
        assert 0.5 < o["share_within_target"] < 1  # towns within 30 min, the rural edge not
        assert len(r.by_area) > 3
        worst = max(a["p90_s"] or 0 for a in r.by_area)
        assert worst > 2 * 1800.0  # some areas wait over an hour
    assert run.area_cell_deg > 0.05  # the county is large: coarse cells
    assert "America/Los_Angeles" not in run.notes  # notes are about calls and teams
    entry = store.audit_log(limit=1, action="simulate_policies")[0]
    assert entry.result["calls"] == len(run.input.stream)
