"""The live console's services on both backends: change counter, event streams, check-ins."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from servicehelpers import *  # noqa: F403  (fixtures)
from servicehelpers import CLIENT

from navigator import services as sv
from navigator.decide.safety import checkin_due
from navigator.errors import ConflictError, NotFoundError, ValidationError
from navigator.model import CrisisType, Incident, PositionPing, TeamStatus


def _incident(i: str, lon: float = CLIENT[0], lat: float = CLIENT[1]) -> Incident:
    return Incident(id=i, lon=lon, lat=lat, crisis_type=CrisisType.WELFARE_CHECK, priority=2)


def test_checkin_due_restarts_at_the_latest_of_arrival_check_in_and_acknowledgement() -> None:
    nan = np.nan
    due, overdue = checkin_due([0.0, 0.0, 0.0, 100.0], [nan, 500.0, 200.0, nan],
                               [nan, nan, 900.0, nan], now_s=1300.0, interval_s=600.0)
    assert due.tolist() == [600.0, 1100.0, 1500.0, 700.0]
    assert overdue.tolist() == [700.0, 200.0, 0.0, 600.0]
    assert checkin_due([], [], [], now_s=0.0, interval_s=60.0)[0].size == 0
    with pytest.raises(ValueError, match="interval_s"):
        checkin_due([0.0], [nan], [nan], now_s=1.0, interval_s=0.0)
    with pytest.raises(ValueError, match="on_scene_s"):
        checkin_due([nan], [nan], [nan], now_s=1.0, interval_s=60.0)


def test_every_dispatch_write_bumps_the_change_counter_and_reads_do_not(
        store, columbus_graph, settings) -> None:
    from navigator.store import open_store

    other = open_store(store.url)  # a second process's view of the same store
    try:
        team = store.teams(statuses=[TeamStatus.AVAILABLE])["id"].iloc[0]
        seen = [other.change_version()]

        def bumped() -> bool:
            seen.append(other.change_version())
            return seen[-1] == seen[-2] + 1

        sv.add_incident(store, columbus_graph, settings, _incident("inc-live-1"), actor="d")
        assert bumped()
        sv.rank_teams(store, columbus_graph, settings, incident_id="inc-live-1", actor="d")
        store.record("plan_batch", actor="d")
        assert not bumped() and seen[-1] == seen[-2]
        a = sv.assign_team(store, columbus_graph, settings, incident_id="inc-live-1",
                           team_id=team, actor="d")
        assert bumped()
        t = store.team(team)
        sv.report_positions(store, columbus_graph, settings, team_id=team, actor="gps",
                            pings=[PositionPing(t.lon, t.lat, datetime.now(UTC))])
        assert bumped()
        sv.update_team(store, team_id=team, actor="d", status=TeamStatus.ON_SCENE)
        assert bumped()
        sv.check_in(store, settings, team_id=team, actor="team")
        assert bumped()
        sv.finish_assignment(store, assignment_id=a.id, actor="d")
        assert bumped()
        # a refused write changes nothing and bumps nothing
        with pytest.raises(ConflictError):
            sv.finish_assignment(store, assignment_id=a.id, actor="d")
        assert not bumped()
        with pytest.raises(ValidationError, match="no change counter"):
            store.change_version("beds")
    finally:
        other.close()


def test_console_events_say_what_changed_and_end_on_time(store, columbus_graph,
                                                         settings) -> None:
    clock = [0.0]
    writes: dict[float, Any] = {}

    def wait(version: int, timeout_s: float) -> int:  # the store's wait on a fake clock
        until = clock[0] + timeout_s
        while True:
            for at in [a for a in writes if a <= clock[0]]:
                writes.pop(at)()
            current = store.change_version()
            if current != version or clock[0] >= until:
                return current
            clock[0] = min(until, clock[0] + 0.5)

    quick = dataclasses.replace(settings, events_stream_s=30.0)
    v0 = store.change_version()
    writes[3.0] = lambda: sv.add_incident(store, columbus_graph, settings,
                                          _incident("inc-live-2"), actor="d")
    events = list(sv.console_events(store, quick, since=None, clock=lambda: clock[0],
                                    wait=wait))
    kinds = [(e.kind, e.version) for e in events]
    assert kinds[0] == ("hello", v0)
    assert kinds[1] == ("change", v0 + 1)
    # quiet afterwards: keep-alive pings every 10 s, and the stream ends at 30 s
    assert [k for k, _ in kinds[2:]] == ["ping", "ping"]
    assert clock[0] == pytest.approx(30.0)
    # a client that reconnects with an older version hears at once that it missed a change
    again = sv.console_events(store, quick, since=v0, clock=lambda: clock[0], wait=wait)
    assert next(again).kind == "change"
    same = sv.console_events(store, quick, since=v0 + 1, clock=lambda: clock[0], wait=wait)
    assert next(same).kind == "hello"


def test_the_store_wakes_a_waiting_stream_as_a_write_commits(store, columbus_graph,
                                                              settings) -> None:
    import threading
    import time

    v0 = store.change_version()
    assert store.wait_for_change(v0, timeout_s=0.2) == v0  # quiet: waits out the timeout
    woke: list[float] = []

    def write() -> None:
        time.sleep(0.3)
        woke.append(time.monotonic())
        sv.add_incident(store, columbus_graph, settings, _incident("inc-wake"), actor="d")

    writer = threading.Thread(target=write)
    writer.start()
    got = store.wait_for_change(v0, timeout_s=10.0)
    seen = time.monotonic()
    writer.join()
    assert got == v0 + 1
    # woken well within the poll interval of the old console (0.25 s) after the commit
    # (the add itself routes and writes; the bound leaves room for a loaded machine)
    assert seen - woke[0] < 0.5, seen - woke[0]
    print(f"\nwoken {seen - woke[0]:.3f} s after the write started ({type(store).__name__})")


def test_a_stream_ends_with_bye_when_the_store_stops_answering(tmp_path, settings) -> None:
    from navigator.store import open_store

    s = open_store(str(tmp_path / "gone.gpkg"))

    def wait(version: int, timeout_s: float) -> int:
        (tmp_path / "gone.gpkg").unlink(missing_ok=True)
        s.close()
        return s.change_version()

    events = list(sv.console_events(s, settings, since=None, wait=wait))
    assert [e.kind for e in events] == ["hello", "bye"]


def test_an_on_scene_team_must_check_in_and_an_overdue_alert_can_be_acknowledged(
        store, settings) -> None:
    team = store.teams(statuses=[TeamStatus.AVAILABLE])["id"].iloc[0]
    assert all(c.team_id != team for c in sv.safety_board(store, settings))
    with pytest.raises(ConflictError, match="not on scene"):
        sv.check_in(store, settings, team_id=team, actor="team")
    with pytest.raises(NotFoundError):
        sv.check_in(store, settings, team_id="no-such-team", actor="team")
    before = (store.change_version(), len(store.audit_log(limit=1000)))
    sv.update_team(store, team_id=team, actor="d", status=TeamStatus.ON_SCENE)
    arrived = datetime.now(UTC)
    (check,) = [c for c in sv.safety_board(store, settings) if c.team_id == team]
    assert not check.overdue and check.checked_in_at is None
    assert abs((check.on_scene_at - arrived).total_seconds()) < 5
    assert check.due_at == check.on_scene_at + timedelta(minutes=20)
    # 25 minutes later the team is 5 minutes overdue, first on the board
    later = arrived + timedelta(minutes=25)
    board = sv.safety_board(store, settings, at=later)
    assert board[0].team_id == team and board[0].overdue
    assert board[0].overdue_s == pytest.approx(300, abs=5)
    # a dispatcher acknowledges: quiet for one more interval, then overdue again
    acked = sv.check_in(store, settings, team_id=team, actor="dispatcher", acknowledge=True)
    assert acked.acknowledged_by == "dispatcher" and acked.checked_in_at is None
    assert acked.due_at == acked.acknowledged_at + timedelta(minutes=20)
    quiet = acked.acknowledged_at + timedelta(minutes=19)
    assert not sv.safety_board(store, settings, at=quiet)[0].overdue
    assert sv.safety_board(store, settings, at=quiet + timedelta(minutes=2))[0].overdue
    # the team checks in: its clock restarts
    done = sv.check_in(store, settings, team_id=team, actor="team 1", note="all calm")
    assert done.note == "all calm" and done.checked_in_by == "team 1" and not done.overdue
    assert done.due_at == done.checked_in_at + timedelta(minutes=20)
    with pytest.raises(ValidationError, match="500"):
        sv.check_in(store, settings, team_id=team, actor="team", note="x" * 501)
    actions = [e.action for e in store.audit_log(limit=3)]
    assert actions == ["check_in", "acknowledge_checkin", "update_team"]
    assert store.change_version() == before[0] + 3
    # going on scene again starts a fresh clock
    sv.update_team(store, team_id=team, actor="d", status=TeamStatus.RETURNING)
    assert all(c.team_id != team for c in sv.safety_board(store, settings))
    sv.update_team(store, team_id=team, actor="d", status=TeamStatus.ON_SCENE)
    (fresh,) = [c for c in sv.safety_board(store, settings) if c.team_id == team]
    assert fresh.checked_in_at is None and fresh.acknowledged_at is None


def test_incident_board_gives_the_nearest_street_address(store, columbus_graph,
                                                         settings) -> None:
    geocoder = sv.street_geocoder(settings)
    assert geocoder is not None
    missing = dataclasses.replace(settings, data_dir=settings.data_dir / "nowhere")
    assert sv.street_geocoder(missing) is None
    i = int(np.argmin(np.hypot(geocoder.addr_lon - CLIENT[0], geocoder.addr_lat - CLIENT[1])))
    at = (float(geocoder.addr_lon[i]), float(geocoder.addr_lat[i]))
    sv.add_incident(store, columbus_graph, settings, _incident("inc-addr", *at), actor="d")
    board = sv.incident_board(store, geocoder=geocoder)
    row = board[board["id"] == "inc-addr"].iloc[0]
    assert row["address"] == f"{geocoder.addr_number[i]} {geocoder.addr_street[i]}"
    assert row["address"][0].isdigit()
    without = sv.incident_board(store, geocoder=None)
    assert set(without["address"]) == {""}
