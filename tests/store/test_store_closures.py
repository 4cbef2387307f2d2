"""Store contract, both backends: road closures are stored, listed by time, lifted, audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from shapely.geometry import LineString, MultiPolygon, Polygon

from navigator.errors import ConflictError, NotFoundError, ValidationError

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
AREA = Polygon([(-83.0, 39.96), (-82.99, 39.96), (-82.99, 39.97), (-83.0, 39.97)])
ROAD = LineString([(-83.0, 39.95), (-82.99, 39.951)])


def test_add_list_and_lift(store: Any) -> None:
    before = store.closures_version()
    made = store.add_closure(AREA, reason="Flooding on High St", actor="disp", now=T0,
                             expires_at=T0 + timedelta(hours=6))
    assert made.id.startswith("closure-") and made.reason == "Flooding on High St"
    assert made.geometry.equals(AREA) and made.starts_at == T0 and made.created_by == "disp"
    assert made.expires_at == T0 + timedelta(hours=6) and made.lifted_at is None
    after_add = store.closures_version()
    assert after_add != before
    line = store.add_closure(ROAD, reason="Bridge out", actor="disp", now=T0,
                             starts_at=T0 + timedelta(hours=1))
    assert line.geometry.geom_type == "LineString"
    assert [c.id for c in store.closures(active_at=T0)] == [made.id]
    assert [c.id for c in store.closures(active_at=T0 + timedelta(hours=2))] == [made.id,
                                                                                 line.id]
    assert [c.id for c in store.closures(active_at=T0 + timedelta(hours=7))] == [line.id]
    assert len(store.closures()) == 2
    lifted = store.lift_closure(line.id, actor="admin", now=T0 + timedelta(hours=3))
    assert lifted.lifted_at == T0 + timedelta(hours=3) and lifted.lifted_by == "admin"
    assert store.closures_version() not in (before, after_add)
    assert [c.id for c in store.closures(active_at=T0 + timedelta(hours=4))] == [made.id]
    assert [c.id for c in store.closures(active_at=T0 + timedelta(hours=2))] == [made.id,
                                                                                 line.id]
    with pytest.raises(ConflictError):
        store.lift_closure(line.id, actor="admin")
    with pytest.raises(NotFoundError):
        store.lift_closure("closure-nope", actor="admin")
    actions = [e.action for e in store.audit_log(limit=10)]
    assert actions[:3] == ["reopen_road", "close_road", "close_road"]
    assert store.verify_audit().ok


def test_multipolygon_round_trips(store: Any) -> None:
    other = Polygon([(-82.9, 39.9), (-82.89, 39.9), (-82.89, 39.91)])
    made = store.add_closure(MultiPolygon([AREA, other]), reason="Fire", actor="d", now=T0)
    assert store.closure(made.id).geometry.equals(MultiPolygon([AREA, other]))


@pytest.mark.parametrize(("geometry", "kwargs", "says"), [
    (Polygon([(0, 0), (1, 1), (1, 0), (0, 1)]), {}, "invalid"),
    (Polygon([(200, 0), (201, 0), (201, 1)]), {}, "longitude"),
    (Polygon(), {}, "empty"),
    (LineString([(0, 0), (1, 1)]).centroid, {}, "not one of"),
    (AREA, {"reason": "  "}, "reason"),
    (AREA, {"reason": "x" * 501}, "at most"),
    (AREA, {"expires_at": T0}, "after the start"),
    (AREA, {"expires_at": T0 - timedelta(hours=1)}, "after the start"),
])
def test_bad_closures_are_refused_and_nothing_written(store: Any, geometry: Any,
                                                      kwargs: dict[str, Any],
                                                      says: str) -> None:
    args = {"reason": "Flood", **kwargs}
    version = store.closures_version()
    with pytest.raises(ValidationError, match=says):
        store.add_closure(geometry, actor="d", now=T0, **args)
    assert store.closures() == [] and store.closures_version() == version
    assert not [e for e in store.audit_log() if e.action == "close_road"]
