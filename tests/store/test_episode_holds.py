"""A bed hold's referral episode, both backends: linked once however many requests race, an
episode past ``search`` refused with nothing written (the race: test_bed_registry.py)."""

from __future__ import annotations

from typing import Any

import pytest

from navigator.errors import ConflictError, NotFoundError, ValidationError
from navigator.model import BedType, EpisodeState

SW = BedType.SINGLE_WOMEN


def _hold(store: Any, ref: str = "CASE-1") -> Any:
    return store.hold_bed("faith", SW, actor="cw", ttl_s=600, client_ref=ref)


def test_a_hold_opens_one_episode_and_a_repeat_finds_it(loaded: Any) -> None:
    hold = _hold(loaded)
    episode = loaded.link_hold_episode(hold.id, actor="cw", client_ref=" CASE-1 ")
    assert (episode.state, episode.client_ref, episode.hold_id, episode.resource_id,
            episode.bed_type, episode.actor) == (EpisodeState.HOLD, "CASE-1", hold.id, "faith",
                                                 SW.value, "cw")
    again = loaded.link_hold_episode(hold.id, actor="cw", client_ref="CASE-1")
    assert again == episode and len(loaded.episodes()) == 1
    steps = [(a.action, a.inputs.get("state")) for a in loaded.audit_log(limit=5)]
    assert steps[:2] == [("move_episode", "hold"), ("add_episode", None)]


def test_an_episode_in_search_is_linked_and_one_past_it_refused(loaded: Any) -> None:
    searching = loaded.add_episode("CASE-2", actor="cw")
    hold = _hold(loaded, "CASE-2")
    linked = loaded.link_hold_episode(hold.id, actor="cw", episode_id=searching.id)
    assert (linked.id, linked.state, linked.hold_id) == (searching.id, EpisodeState.HOLD,
                                                         hold.id)
    other = _hold(loaded, "CASE-2")
    audit = len(loaded.audit_log(limit=100))
    with pytest.raises(ConflictError, match="is hold; it cannot move to hold"):
        loaded.link_hold_episode(other.id, actor="cw", episode_id=searching.id)
    assert loaded.episode(searching.id).hold_id == hold.id  # nothing written
    assert len(loaded.audit_log(limit=100)) == audit
    with pytest.raises(ValidationError, match="client_ref"):
        loaded.link_hold_episode(other.id, actor="cw", client_ref="  ")
    with pytest.raises(NotFoundError):
        loaded.link_hold_episode("no-such-hold", actor="cw", client_ref="CASE-3")
    with pytest.raises(NotFoundError):
        loaded.link_hold_episode(other.id, actor="cw", episode_id="no-such-episode")
    assert len(loaded.episodes()) == 1 and len(loaded.audit_log(limit=100)) == audit


def test_episodes_of_one_case_reference(loaded: Any) -> None:
    first = loaded.add_episode("CASE-7", actor="cw")
    loaded.add_episode("CASE-8", actor="cw")
    loaded.add_episode("CASE-7", actor="other")
    assert [e.id for e in loaded.episodes(actor="cw", client_ref="CASE-7")] == [first.id]
    assert len(loaded.episodes(client_ref="CASE-7")) == 2
    assert loaded.episodes(actor="cw", client_ref="CASE-9") == []
