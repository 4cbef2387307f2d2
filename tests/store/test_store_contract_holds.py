"""Store contract, both backends: a hold's result is complete when its transaction commits.

``Hold.free_beds`` is read inside the transaction that made (or confirmed, released, read)
the hold, so the caller acknowledging it needs no second read that could fail after the
commit.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from navigator.errors import ConflictError, StoreError
from navigator.model import Beds, BedType, Bundle, HoldStatus

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _free(store: Any, resource_id: str, bed_type: BedType) -> int:
    return next(b.free for b in store.resource(resource_id).beds if b.bed_type is bed_type)


def test_hold_confirm_release_report_free_beds(loaded: Any) -> None:
    a = loaded.hold_bed("dv-safe", BedType.DV, actor="n", ttl_s=60, now=T0)
    assert a.free_beds == 1 == _free(loaded, "dv-safe", BedType.DV)
    b = loaded.hold_bed("dv-safe", BedType.DV, actor="n", ttl_s=60, now=T0)
    assert b.free_beds == 0
    assert loaded.confirm_hold(a.id, actor="n", now=T0).free_beds == 0
    released = loaded.release_hold(b.id, actor="n", now=T0)
    assert released.status is HoldStatus.RELEASED and released.free_beds == 1
    assert loaded.hold(a.id).free_beds == 1 == _free(loaded, "dv-safe", BedType.DV)


def test_free_beds_is_a_snapshot_not_part_of_the_hold(loaded: Any) -> None:
    hold = loaded.hold_bed("faith", BedType.SINGLE_WOMEN, actor="n", ttl_s=600,
                           idempotency_key="k", now=T0)
    loaded.set_beds("faith", BedType.SINGLE_WOMEN, capacity=20, free=9, actor="shelter")
    again = loaded.hold_bed("faith", BedType.SINGLE_WOMEN, actor="n", ttl_s=600,
                            idempotency_key="k", now=T0)
    assert again == hold and (hold.free_beds, again.free_beds) == (4, 9)
    assert loaded.hold(hold.id).free_beds == 9


def test_free_beds_is_none_once_the_bed_type_is_gone(loaded: Any, sample: Any) -> None:
    hold = loaded.hold_bed("faith", BedType.SINGLE_WOMEN, actor="n", ttl_s=600)
    loaded.load(Bundle(resources=(dataclasses.replace(
        sample.resources[0], beds=(Beds(BedType.FAMILIES, 4, 4),)),)), actor="t")
    assert loaded.hold(hold.id).free_beds is None


@contextmanager
def _store_fails_after_first_commit(store: Any) -> Iterator[list[bool]]:
    """Make every transaction after the first committed one raise, as in an outage."""
    real = store._transaction
    committed: list[bool] = []

    @contextmanager
    def transaction(*, write: bool) -> Iterator[Any]:
        if committed:
            msg = "injected: the store stopped answering after the commit"
            raise StoreError(msg)
        with real(write=write) as tx:
            yield tx
        committed.append(write)

    store._transaction = transaction
    try:
        yield committed
    finally:
        del store._transaction


@pytest.mark.parametrize("step", ["hold", "confirm", "release"])
def test_result_needs_no_read_after_commit(loaded: Any, step: str) -> None:
    before = _free(loaded, "dv-safe", BedType.DV)
    held = None
    if step != "hold":
        held = loaded.hold_bed("dv-safe", BedType.DV, actor="n", ttl_s=60)
    with _store_fails_after_first_commit(loaded) as committed:
        if held is None:
            result = loaded.hold_bed("dv-safe", BedType.DV, actor="n", ttl_s=60)
        elif step == "confirm":
            result = loaded.confirm_hold(held.id, actor="n")
        else:
            result = loaded.release_hold(held.id, actor="n")
        with pytest.raises(StoreError, match="injected"):
            loaded.beds(["dv-safe"])  # what a second read would have met
    assert committed == [True]
    expected = before if step == "release" else before - 1
    assert result.free_beds == expected == _free(loaded, "dv-safe", BedType.DV)
    assert loaded.hold(result.id) == result


def test_conflict_still_reports_nothing_held(loaded: Any) -> None:
    with pytest.raises(ConflictError):
        loaded.hold_bed("faith", BedType.SINGLE_MEN, actor="n", ttl_s=60, now=T0)
    assert loaded.counts()["holds"] == 0
    later = T0 + timedelta(seconds=1)
    assert loaded.hold_bed("faith", BedType.SINGLE_WOMEN, actor="n", ttl_s=60,
                           now=later).free_beds == 4
