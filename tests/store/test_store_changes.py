"""The store contract's change counter and check-ins, on both backends."""

from __future__ import annotations

from typing import Any

import pytest

from navigator.errors import ConflictError, NotFoundError, ValidationError
from navigator.model import TeamStatus


def test_change_counter_starts_at_zero_and_counts_dispatch_writes(store: Any, sample: Any
                                                                  ) -> None:
    assert store.change_version() == 0
    store.load(sample, actor="loader")
    assert store.change_version() == 1
    store.record("rank_teams", actor="d", subject="I1")  # a decision, not a change
    store.update_team("T1", actor="d", status=TeamStatus.ON_SCENE)
    store.assign_team("T2", "I2", actor="d")
    assert store.change_version() == 3
    with pytest.raises(ConflictError):
        store.assign_team("T2", "I3", actor="d")  # refused: rolled back, no bump
    assert store.change_version() == 3
    with pytest.raises(ValidationError):
        store.change_version("no-such-topic")


def test_check_ins_need_a_team_on_scene_and_load_replace_clears_them(loaded: Any,
                                                                    sample: Any) -> None:
    assert loaded.team_checkins().empty
    with pytest.raises(ConflictError):
        loaded.check_in("T2", actor="t")
    with pytest.raises(NotFoundError):
        loaded.check_in("T9", actor="t")
    loaded.update_team("T1", actor="d", status=TeamStatus.ON_SCENE)
    loaded.check_in("T1", actor="team", note="ok")
    loaded.check_in("T1", actor="dispatcher", acknowledge=True)
    (row,) = loaded.team_checkins().to_dict(orient="records")
    assert (row["team_id"], row["checked_in_by"], row["note"], row["acknowledged_by"]) == (
        "T1", "team", "ok", "dispatcher")
    assert row["on_scene_at"] <= row["checked_in_at"] <= row["acknowledged_at"]
    assert str(loaded.team_checkins()["checked_in_at"].dtype) == "datetime64[us, UTC]"
    loaded.load(sample, actor="loader", replace=True)  # the team rows go, and their check-ins
    assert loaded.team_checkins().empty
    loaded.update_team("T1", actor="d", status=TeamStatus.ON_SCENE)
    (row,) = loaded.team_checkins().to_dict(orient="records")
    assert row["checked_in_at"] is None or row["checked_in_at"] != row["checked_in_at"]


def test_check_ins_of_two_teams_one_never_checked_in(loaded: Any) -> None:
    """A column with gaps (one team checked in, one not) reads as times and None/NaT.

    PostgreSQL gave NULL next to a time; pandas made it NaT, and reading NaT as a time
    failed: the console's check-in list answered 500 with two teams on scene.
    """
    loaded.update_team("T1", actor="d", status=TeamStatus.ON_SCENE)
    loaded.update_team("T2", actor="d", status=TeamStatus.ON_SCENE)
    loaded.check_in("T1", actor="team", note="ok")
    loaded.check_in("T1", actor="dispatcher", acknowledge=True)
    board = loaded.team_checkins().set_index("team_id")
    assert set(board.index) == {"T1", "T2"}
    assert board.loc["T1", "checked_in_at"] == board.loc["T1", "checked_in_at"]
    gap = board.loc["T2", "checked_in_at"]
    assert gap is None or gap != gap
    loaded.check_in("T2", actor="team")  # reading T2's gaps back again works too
    assert loaded.team_checkins().set_index("team_id").loc["T2", "checked_in_by"] == "team"
