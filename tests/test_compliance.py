"""The shift compliance report on both backends, and its pure core on small arrays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from servicehelpers import *  # noqa: F403  (fixtures)
from servicehelpers import CLIENT

from navigator import services as sv
from navigator.decide.compliance import compliance_by_priority
from navigator.errors import ValidationError
from navigator.model import CrisisType, Incident, TeamStatus
from navigator.services.compliance import compliance_report


def test_compliance_by_priority_on_small_arrays() -> None:
    rows = compliance_by_priority([1, 1, 1, 2, 3], [600.0, 1200.0, np.nan, 3000.0, np.nan],
                                  targets_s={1: 900.0, 2: 1800.0, 3: 3600.0, 4: 7200.0})
    one, two, three, four = rows
    assert (one.dispatched, one.arrived, one.p50_s, one.within_target) == (3, 2, 900.0, 0.5)
    assert one.p90_s == pytest.approx(1140.0)
    assert (two.within_target, three.arrived, three.p50_s) == (0.0, 0, None)
    assert (four.dispatched, four.within_target) == (0, None)
    with pytest.raises(ValueError, match="priority"):
        compliance_by_priority([5], [1.0], targets_s={1: 1.0})


def test_report_measures_dispatch_to_on_scene_per_priority(store, columbus_graph,
                                                          settings) -> None:
    start = datetime.now(UTC) - timedelta(minutes=1)
    teams = store.teams(statuses=[TeamStatus.AVAILABLE])["id"].tolist()
    sent = []
    for i, priority in enumerate((1, 1, 3)):
        inc = Incident(id=f"inc-c{i}", lon=CLIENT[0], lat=CLIENT[1], priority=priority,
                       crisis_type=CrisisType.WELFARE_CHECK)
        sv.add_incident(store, columbus_graph, settings, inc, actor="d")
        sent.append(sv.assign_team(store, columbus_graph, settings, incident_id=inc.id,
                                   team_id=teams[i], actor="d"))
    # two teams arrive; the third call is cancelled before its team gets there
    sv.update_team(store, team_id=teams[0], actor="d", status=TeamStatus.ON_SCENE)
    sv.update_team(store, team_id=teams[2], actor="d", status=TeamStatus.ON_SCENE)
    sv.finish_assignment(store, assignment_id=sent[1].id, actor="d", status="cancelled")
    sv.update_team(store, team_id=teams[1], actor="d", status=TeamStatus.ON_SCENE)  # later
    end = datetime.now(UTC) + timedelta(minutes=1)
    report = compliance_report(store, start=start, end=end)
    by = {r.priority: r for r in report.rows}
    assert (by[1].dispatched, by[1].arrived, by[1].within_target) == (2, 1, 1.0)
    assert 0 <= by[1].p50_s < 60 and by[1].target_s == 20 * 60
    assert (by[3].dispatched, by[3].arrived) == (1, 1)
    assert by[2].dispatched == 0 and by[2].p50_s is None
    strict = compliance_report(store, start=start, end=end, targets_min={1: 1e-9})
    assert strict.rows[0].within_target == 0.0
    lines = report.to_csv().splitlines()
    assert lines[0].startswith("priority,dispatched,arrived,p50_min")
    assert lines[1].startswith("1,2,1,0.0,0.0,20.0,100.0,")
    # a period before any dispatch has none
    empty = compliance_report(store, start=start - timedelta(days=2),
                              end=start - timedelta(days=1))
    assert sum(r.dispatched for r in empty.rows) == 0
    for bad in ({"start": end, "end": start},
                {"start": start.replace(tzinfo=None), "end": end},
                {"start": start, "end": end, "targets_min": {1: 0}},
                {"start": start, "end": end, "targets_min": {1: float("nan")}}):
        with pytest.raises(ValidationError):
            compliance_report(store, **bad)  # type: ignore[arg-type]
