"""Shelter staff services and referral episodes on the Columbus demo, both stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from servicehelpers import *  # noqa: F403  (fixtures)
from servicehelpers import CLIENT

from navigator import services as sv
from navigator.errors import ConflictError, ForbiddenError, ValidationError
from navigator.model import BedCount

LON, LAT = CLIENT
MEN = {"bed_type": "single_men"}


def _counts(store: Any, rid: str, **over: int) -> dict[str, BedCount]:
    return {b.bed_type.value: BedCount(b.capacity, over.get(b.bed_type.value, b.occupied))
            for b in store.site_beds(rid).beds}


def test_staff_report_only_their_own_sites(store, settings, staff) -> None:
    mine, other = staff
    site = sv.report_beds(store, settings, resource_id=mine, counts=_counts(store, mine),
                          status="open", note="2 beds being cleaned", actor="staff1")
    assert site.note == "2 beds being cleaned" and site.beds[0].reported_by == "staff1"
    for actor, rid in (("staff1", other), ("cw1", mine), ("nobody", mine)):
        with pytest.raises(ForbiddenError):
            sv.report_beds(store, settings, resource_id=rid, counts=_counts(store, rid),
                           status=None, note=None, actor=actor)
    sv.report_beds(store, settings, resource_id=other, counts=_counts(store, other),
                   status="full", note=None, actor="boss")
    assert store.site_beds(other).status == "full"


def test_stale_counts_are_never_free_and_come_after(store, columbus_graph, settings, area,
                                                    staff) -> None:
    now = datetime.now(UTC)
    first = sv.find_beds(store, columbus_graph, settings, lon=LON, lat=LAT, needs=MEN, at=now,
                         actor="cw1", area=area, max_time_s=3600.0)
    best = first.matches[0]
    assert best.fresh is True and best.reported_by == "loader" and not best.stale_text
    sv.report_beds(store, settings, resource_id=best.resource_id,
                   counts=_counts(store, best.resource_id), status=None, note=None,
                   actor="boss", at=now - timedelta(days=3))
    again = sv.find_beds(store, columbus_graph, settings, lon=LON, lat=LAT, needs=MEN, at=now,
                         actor="cw1", area=area, max_time_s=3600.0)
    assert best.resource_id not in {m.resource_id for m in again.matches}
    stale = next(m for m in again.stale if m.resource_id == best.resource_id)
    assert stale.free_beds is None and stale.fresh is False and stale.reason == "stale"
    assert stale.stale_text.startswith("last confirmed 3 days ago, call ahead")
    assert not stale.phone or stale.stale_text.endswith(stale.phone)
    assert "not counted as free" in again.message
    only = sv.find_beds(store, columbus_graph, settings, lon=LON, lat=LAT, needs=MEN, at=now,
                        actor="cw1", area=area, max_time_s=3600.0, fresh_only=True)
    assert only.stale == () and best.resource_id not in {m.resource_id for m in only.matches}
    # A window of its own: 4 days makes the 3-day-old count fresh again.
    store.set_fresh_hours(best.resource_id, 96.0, actor="boss")
    back = sv.find_beds(store, columbus_graph, settings, lon=LON, lat=LAT, needs=MEN, at=now,
                        actor="cw1", area=area, max_time_s=3600.0)
    assert back.matches[0].resource_id == best.resource_id


def test_diverting_site_is_not_offered(store, columbus_graph, settings, area, staff) -> None:
    now = datetime.now(UTC)
    best = sv.find_beds(store, columbus_graph, settings, lon=LON, lat=LAT, needs=MEN, at=now,
                        actor="cw1", area=area, max_time_s=3600.0).matches[0]
    sv.report_beds(store, settings, resource_id=best.resource_id,
                   counts=_counts(store, best.resource_id), status="diverting",
                   note="water leak", actor="boss")
    again = sv.find_beds(store, columbus_graph, settings, lon=LON, lat=LAT, needs=MEN, at=now,
                         actor="cw1", area=area, max_time_s=3600.0)
    assert best.resource_id not in {m.resource_id for m in again.matches}


def test_census_all_or_nothing_names_row_and_field(store, settings, staff) -> None:
    mine, other = staff
    cap = store.site_beds(mine).beds[0]
    good = f"{mine},{cap.bed_type.value},{cap.capacity},{cap.capacity - 1},0,open,,"
    header = "resource_id,bed_type,capacity,occupied,out_of_service,status,note,reported_at"
    before = store.site_beds(mine)
    bad = f"{mine},{cap.bed_type.value},{cap.capacity},{cap.capacity + 5},0,,,"
    with pytest.raises(ValidationError, match=r"census row 3.*occupied"):
        sv.import_census(store, settings, text="\n".join([header, good, bad]), actor="staff1")
    with pytest.raises(ValidationError, match=r"census row 2.*capacity"):
        sv.import_census(store, settings, text=f"{header}\n{mine},single_men,lots,1,,,,",
                         actor="staff1")
    with pytest.raises(ForbiddenError, match="census row 2"):
        sv.import_census(store, settings, text=f"{header}\n{other},single_men,4,1,,,,",
                         actor="staff1")
    assert store.site_beds(mine) == before
    out = sv.import_census(store, settings, text=f"{header}\n{good}", actor="staff1")
    assert out[0].beds[0].reported_via == "census"
    assert out[0].beds[0].occupied == cap.capacity - 1


def test_holds_listing_and_answers(store, settings, staff) -> None:
    mine, other = staff
    h1 = sv.hold_bed(store, settings, resource_id=mine, bed_type="single_men", actor="cw1",
                     client_ref="C-1")
    sv.hold_bed(store, settings, resource_id=other, bed_type="single_men", actor="cw1")
    assert len(sv.list_holds(store, actor="cw1", scope="mine")) == 2
    assert [h.id for h in sv.list_holds(store, actor="staff1", scope="site")] == [h1.id]
    assert len(sv.list_holds(store, actor="boss", scope="all")) == 2
    with pytest.raises(ForbiddenError):
        sv.list_holds(store, actor="cw1", scope="all")
    mine_other = sv.list_holds(store, actor="boss", scope="site")
    with pytest.raises(ForbiddenError):
        sv.answer_hold(store, hold_id=next(h.id for h in mine_other if h.id != h1.id),
                       accept=True, actor="staff1")
    assert sv.answer_hold(store, hold_id=h1.id, accept=True, actor="staff1").response == \
        "accepted"
    with pytest.raises(ConflictError, match="already accepted"):
        sv.answer_hold(store, hold_id=h1.id, accept=True, actor="staff1")


def test_episode_loop_and_board(store, settings, staff) -> None:
    mine, _ = staff
    now = datetime.now(UTC)
    e = sv.open_episode(store, settings, client_ref="CASE-1", actor="cw1")
    hold = sv.hold_bed(store, settings, resource_id=mine, bed_type="single_men", actor="cw1",
                       client_ref="CASE-1")
    e = sv.move_episode(store, settings, episode_id=e.id, state="hold", hold_id=hold.id,
                        actor="cw1")
    assert e.resource_id == mine
    sv.answer_hold(store, hold_id=hold.id, accept=True, actor="staff1")
    assert store.episode(e.id).state == "accepted"
    with pytest.raises(ValidationError, match="transport"):
        sv.move_episode(store, settings, episode_id=e.id, state="transport", actor="cw1")
    sv.move_episode(store, settings, episode_id=e.id, state="transport", transport="team",
                    eta=now - timedelta(hours=1), actor="cw1")
    board = sv.board(store, settings, actor="cw1", now=now)
    assert board[0]["timers"]["arrival_overdue"] and board[0]["red"]
    assert [b["id"] for b in sv.board(store, settings, actor="staff1", now=now)] == [e.id]
    e = sv.move_episode(store, settings, episode_id=e.id, state="arrived", actor="staff1",
                        now=now)
    assert e.follow_up_due == now.replace(microsecond=now.microsecond // 1000 * 1000) + \
        timedelta(hours=24)
    later = sv.board(store, settings, actor="cw1", now=now + timedelta(hours=25))
    assert later[0]["timers"] == {"hold_expiring": False, "arrival_overdue": False,
                                  "follow_up_due": True}
    with pytest.raises(ConflictError, match="is arrived"):
        sv.move_episode(store, settings, episode_id=e.id, state="transport",
                        transport="self", actor="cw1")
    e = sv.move_episode(store, settings, episode_id=e.id, state="follow_up", actor="cw1")
    assert e.follow_ups_done == 1 and e.follow_up_due == e.arrived_at + timedelta(hours=72)
    sv.move_episode(store, settings, episode_id=e.id, state="closed", actor="cw1")
    assert sv.board(store, settings, actor="cw1") == []
