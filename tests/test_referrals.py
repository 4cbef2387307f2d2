"""Referral episodes on the Columbus demo, both stores: a hold opens the client's episode, the
shelter's answer moves it, arrival confirms the bed, the board offers the moves the state
machine allows and turns its timers red."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from servicehelpers import *  # noqa: F403  (fixtures)

from navigator import services as sv
from navigator.errors import ConflictError, ForbiddenError
from navigator.model import EPISODE_TRANSITIONS, EpisodeState, HoldStatus

MEN = "single_men"


def _free(store: Any, rid: str) -> int:
    return next(b.free for b in store.site_beds(rid).beds if b.bed_type.value == MEN)


def _hold(store: Any, settings: Any, rid: str, **kw: Any) -> Any:
    return sv.hold_for_client(store, settings, resource_id=rid, bed_type=MEN, actor="cw1", **kw)


def test_a_hold_opens_the_clients_episode_once(store, settings, staff) -> None:
    mine, _ = staff
    free = _free(store, mine)
    held = _hold(store, settings, mine, client_ref="CASE-1", idempotency_key="key-00001")
    assert held.episode is not None
    assert (held.episode.state, held.episode.hold_id, held.episode.resource_id,
            held.hold.client_ref) == (EpisodeState.HOLD, held.hold.id, mine, "CASE-1")
    again = _hold(store, settings, mine, client_ref="CASE-1", idempotency_key="key-00001")
    assert (again.hold.id, again.episode) == (held.hold.id, held.episode)
    assert _free(store, mine) == free - 1 and len(store.episodes()) == 1
    plain = _hold(store, settings, mine)  # no case reference: a hold only
    assert plain.episode is None and len(store.episodes()) == 1
    listed = {h.hold.id: h.episode for h in sv.holds_with_episodes(store, actor="cw1")}
    assert listed == {held.hold.id: held.episode, plain.hold.id: None}
    staff_view = sv.holds_with_episodes(store, actor="staff1", scope="site")
    assert {h.hold.id for h in staff_view} == set(listed)


def test_a_searching_episode_is_linked_and_one_past_search_takes_no_bed(store, settings,
                                                                         staff) -> None:
    mine, _ = staff
    opened = sv.open_episode(store, settings, client_ref="CASE-2", actor="cw1")
    held = _hold(store, settings, mine, client_ref="CASE-2")  # the same case: linked
    assert held.episode.id == opened.id and held.episode.state is EpisodeState.HOLD
    free = _free(store, mine)
    with pytest.raises(ConflictError, match="is hold; a bed is held for an episode in search"):
        _hold(store, settings, mine, episode_id=opened.id)
    assert _free(store, mine) == free
    # A retry of the request that linked it (same key) is answered, not refused.
    other = sv.open_episode(store, settings, client_ref="CASE-3", actor="cw1")
    first = _hold(store, settings, mine, episode_id=other.id, idempotency_key="key-00002")
    retry = _hold(store, settings, mine, episode_id=other.id, idempotency_key="key-00002")
    assert retry == first and first.hold.client_ref == "CASE-3"


def test_answer_moves_the_episode_and_arrival_confirms_the_bed(store, settings, staff) -> None:
    mine, _ = staff
    held = _hold(store, settings, mine, client_ref="CASE-4")
    with pytest.raises(ConflictError, match="the shelter accepts or declines the hold"):
        sv.move_episode(store, settings, episode_id=held.episode.id, state="accepted",
                        actor="staff1")
    at = datetime.now(UTC)
    sv.answer_hold(store, hold_id=held.hold.id, accept=True, actor="staff1", now=at)
    moved = store.episode(held.episode.id)
    assert moved.state is EpisodeState.ACCEPTED
    entry = store.audit_log(action="move_episode", limit=1)[0]
    assert (entry.actor, entry.inputs["state"], entry.result["previous"]) == (
        "staff1", "accepted", "hold")
    with pytest.raises(ForbiddenError, match="shelter staff may move an episode to"):
        sv.move_episode(store, settings, episode_id=moved.id, state="transport",
                        transport="team", actor="staff1")
    sv.move_episode(store, settings, episode_id=moved.id, state="transport", transport="self",
                    actor="cw1")
    sv.move_episode(store, settings, episode_id=moved.id, state="arrived", actor="staff1")
    assert store.hold(held.hold.id).status is HoldStatus.CONFIRMED  # the bed stays taken


def test_a_decline_a_no_show_and_a_close_give_the_bed_back(store, settings, staff) -> None:
    mine, _ = staff
    free = _free(store, mine)
    declined = _hold(store, settings, mine, client_ref="CASE-5")
    sv.answer_hold(store, hold_id=declined.hold.id, accept=False, actor="staff1")
    assert store.episode(declined.episode.id).state is EpisodeState.DECLINED
    assert _free(store, mine) == free
    for ref, steps in (("CASE-6", ["no_show"]), ("CASE-7", ["closed"])):
        held = _hold(store, settings, mine, client_ref=ref)
        if steps == ["no_show"]:
            sv.answer_hold(store, hold_id=held.hold.id, accept=True, actor="staff1")
        assert _free(store, mine) == free - 1
        sv.move_episode(store, settings, episode_id=held.episode.id, state=steps[0],
                        actor="staff1" if ref == "CASE-6" else "cw1")
        assert store.hold(held.hold.id).status is HoldStatus.RELEASED
        assert _free(store, mine) == free


def _entry(board: list[dict[str, Any]], episode_id: str) -> dict[str, Any]:
    return next(e for e in board if e["id"] == episode_id)


def test_board_moves_follow_the_state_machine_per_role(store, settings, staff) -> None:
    mine, _ = staff
    searching = sv.open_episode(store, settings, client_ref="CASE-8", actor="cw1")
    held = _hold(store, settings, mine, client_ref="CASE-9")
    cw = sv.board(store, settings, actor="cw1")
    assert _entry(cw, searching.id)["moves"] == ["closed"]
    assert _entry(cw, searching.id)["find_bed"] is True
    assert (_entry(cw, held.episode.id)["moves"], _entry(cw, held.episode.id)["answer_hold"]) \
        == (["closed"], None)
    desk = sv.board(store, settings, actor="staff1")
    assert [e["id"] for e in desk] == [held.episode.id]  # only their site's episodes
    assert (desk[0]["moves"], desk[0]["answer_hold"], desk[0]["find_bed"]) == (
        [], held.hold.id, False)
    assert desk[0]["site_name"] == store.resource(mine).name
    sv.answer_hold(store, hold_id=held.hold.id, accept=True, actor="staff1")
    cw = _entry(sv.board(store, settings, actor="cw1"), held.episode.id)
    assert cw["moves"] == ["transport", "arrived", "no_show", "closed"]
    assert set(cw["moves"]) == {s.value for s in EPISODE_TRANSITIONS[EpisodeState.ACCEPTED]}
    assert sv.board(store, settings, actor="staff1")[0]["moves"] == ["arrived", "no_show"]


def test_board_timers_turn_red(store, settings, staff) -> None:
    mine, _ = staff
    now = datetime.now(UTC)
    short = replace(settings, hold_ttl_s=600.0)  # under the 15-minute warning
    expiring = sv.hold_for_client(store, short, resource_id=mine, bed_type=MEN, actor="cw1",
                                  client_ref="CASE-10")
    late = _hold(store, settings, mine, client_ref="CASE-11")
    sv.answer_hold(store, hold_id=late.hold.id, accept=True, actor="staff1")
    sv.move_episode(store, settings, episode_id=late.episode.id, state="transport",
                    transport="team", eta=now - timedelta(minutes=20), actor="cw1")
    board = sv.board(store, settings, actor="cw1", now=now)
    assert _entry(board, expiring.episode.id)["timers"]["hold_expiring"]
    entry = _entry(board, late.episode.id)
    assert not entry["red"]  # 20 minutes late is within the 30-minute grace
    eta = store.episode(late.episode.id).eta
    assert entry["overdue_at"] == eta + timedelta(seconds=settings.arrival_grace_s)
    later = now + timedelta(minutes=11)
    board = sv.board(store, settings, actor="cw1", now=later)
    assert _entry(board, late.episode.id)["timers"] == {
        "hold_expiring": False, "arrival_overdue": True, "follow_up_due": False}
    arrived = sv.move_episode(store, replace(settings, follow_up_first_h=0.5),
                              episode_id=late.episode.id, state="arrived", actor="staff1",
                              now=now)
    assert arrived.follow_up_due == arrived.arrived_at + timedelta(minutes=30)
    assert not _entry(sv.board(store, settings, actor="cw1", now=now), arrived.id)["red"]
    due = _entry(sv.board(store, settings, actor="cw1", now=now + timedelta(minutes=31)),
                 arrived.id)
    assert due["timers"]["follow_up_due"] and due["red"]
    assert due["moves"] == ["follow_up", "closed"]
