"""Surge shelter activation on both backends: state, audit, refusals, beds by need."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from navigator.errors import ConflictError, NotFoundError, ValidationError
from navigator.model import Beds, BedType, Bundle, Resource, ResourceKind
from navigator.store.registry import SiteReport

SURGE = Resource(id="surge-a", kind=ResourceKind.EVACUATION_SHELTER, name="Gym <b>A</b>",
                 lon=-83.0, lat=39.96, beds=(Beds(BedType.GENERAL, 100, 100),
                                             Beds(BedType.FNSS, 10, 10),
                                             Beds(BedType.PETS, 20, 20)), synthetic=True)
SHELTER = Resource(id="plain", kind=ResourceKind.SHELTER, name="Plain shelter", lon=-83.01,
                   lat=39.96, beds=(Beds(BedType.SINGLE_MEN, 5, 5),))


@pytest.fixture
def surge_store(store: Any) -> Any:
    store.load(Bundle(resources=(SURGE, SHELTER)), actor="test", replace=True)
    return store


def test_activation_round_trips_and_is_audited(surge_store: Any) -> None:
    store = surge_store
    assert store.surge_sites() == {"surge-a": store.surge_sites()["surge-a"]}
    assert not store.surge_sites()["surge-a"].active
    opens = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    site = store.set_surge_active("surge-a", True, actor="admin", opens_at=opens, note="flood")
    assert site.active and site.opens_at == opens and site.note == "flood"
    assert store.surge_sites()["surge-a"] == site
    assert store.audit_log(limit=1)[0].action == "activate_surge"
    with pytest.raises(ConflictError, match="already active"):
        store.set_surge_active("surge-a", True, actor="admin")
    off = store.set_surge_active("surge-a", False, actor="admin")
    assert not off.active and off.opens_at is None
    assert store.surge_sites(["surge-a"])["surge-a"] == off
    assert store.audit_log(limit=1)[0].action == "deactivate_surge"
    assert store.verify_audit().ok


@pytest.mark.parametrize(("rid", "kwargs", "error", "match"), [
    ("plain", {}, ValidationError, "not an evacuation_shelter"),
    ("nope", {}, NotFoundError, "nope"),
    ("surge-a", {"opens_at": datetime(2026, 5, 1)}, ValidationError, "timezone-aware"),
    ("surge-a", {"note": "x" * 501}, ValidationError, "500"),
])
def test_bad_activation_writes_nothing(surge_store: Any, rid: str, kwargs: dict[str, Any],
                                       error: type[Exception], match: str) -> None:
    before = len(surge_store.audit_log(limit=500))
    with pytest.raises(error, match=match):
        surge_store.set_surge_active(rid, True, actor="admin", **kwargs)
    assert len(surge_store.audit_log(limit=500)) == before
    assert not surge_store.surge_sites()["surge-a"].active


def test_staff_report_surge_counts_like_any_shelter(surge_store: Any) -> None:
    site = surge_store.report_beds(SiteReport("surge-a", {
        "general": {"capacity": 120, "occupied": 30}, "pets": {"capacity": 20, "occupied": 5}},
        at=datetime.now(UTC) - timedelta(minutes=1)), actor="staff")
    free = {b.bed_type.value: b.free for b in site.beds}
    assert free == {"general": 90, "fnss": 10, "pets": 15}
    with pytest.raises(ValidationError, match="occupied=30 exceeds capacity=20"):
        surge_store.report_beds(SiteReport("surge-a", {"pets": {"capacity": 20,
                                                                "occupied": 30}}),
                                actor="staff")


def test_replacing_the_data_clears_activations(surge_store: Any) -> None:
    surge_store.set_surge_active("surge-a", True, actor="admin")
    surge_store.load(Bundle(resources=(SURGE,)), actor="test", replace=True)
    assert not surge_store.surge_sites()["surge-a"].active
