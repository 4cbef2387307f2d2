"""Store contract, both backends: compliance areas are imported all or nothing, listed,
deleted, audited; bad geometry or targets write nothing."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from shapely.geometry import MultiPolygon, Point, Polygon, box

from navigator.errors import ConflictError, NotFoundError, ValidationError
from navigator.model import ComplianceArea

TARGETS = {1: 900.0, 2: 1800.0, 3: 3600.0, 4: 7200.0}
CORE = ComplianceArea(id="core", name="Core <b>", area_class="urban",
                      geometry=box(-83.0, 39.95, -82.98, 39.97), targets_s=TARGETS)
REST = ComplianceArea(id="rest", name="Rest", area_class="rural",
                      geometry=MultiPolygon([box(-83.1, 39.9, -83.05, 40.0),
                                             box(-82.95, 39.9, -82.9, 40.0)]),
                      targets_s={1: 1800, 2: 2700, 3: 5400, 4: 10800})


def test_import_list_delete_and_audit(store: Any) -> None:
    held = store.add_compliance_areas([REST, CORE], actor="planner")
    assert [a.id for a in held] == ["core", "rest"]
    core, rest = held
    assert core.name == "Core <b>" and core.area_class == "urban" and core.created_by == "planner"
    assert core.geometry.equals(CORE.geometry) and rest.geometry.equals(REST.geometry)
    assert core.targets_s == TARGETS and rest.targets_s[4] == 10800.0
    assert core.created_at is not None and core.created_at.tzinfo is not None
    entry = store.audit_log(limit=1)[0]
    assert entry.action == "import_compliance_areas" and entry.actor == "planner"
    assert entry.result["added"] == ["rest", "core"]
    assert [a["name"] for a in entry.inputs["areas"]] == ["Rest", "Core <b>"]
    # the same id again is a conflict unless replacing
    with pytest.raises(ConflictError, match="core"):
        store.add_compliance_areas([CORE], actor="planner")
    assert len(store.compliance_areas()) == 2
    replaced = store.add_compliance_areas([dataclasses.replace(CORE, name="New core")],
                                          actor="planner", replace=True)
    assert [(a.id, a.name) for a in replaced] == [("core", "New core")]
    assert store.audit_log(limit=1)[0].result["replaced"] == ["core", "rest"]
    gone = store.delete_compliance_area("core", actor="admin")
    assert gone.name == "New core" and store.compliance_areas() == []
    entry = store.audit_log(limit=1)[0]
    assert (entry.action, entry.subject, entry.inputs["targets_s"]["1"]) == (
        "delete_compliance_area", "core", 900.0)
    with pytest.raises(NotFoundError):
        store.delete_compliance_area("core", actor="admin")
    assert store.verify_audit().ok


@pytest.mark.parametrize(("geometry", "says"), [
    (Polygon([(0, 0), (1, 1), (1, 0), (0, 1)]), "invalid"),  # a bow-tie
    (Polygon([(200, 0), (201, 0), (201, 1)]), "longitude"),
    (Polygon(), "empty"),
    (Point(-83.0, 39.96), "not one of"),
    (box(-83.0, 39.95, -82.98, 39.97).exterior, "not one of"),
])
def test_bad_geometry_writes_nothing(store: Any, geometry: Any, says: str) -> None:
    before = len(store.audit_log(limit=100))
    bad = dataclasses.replace(CORE, id="bad", geometry=geometry)
    with pytest.raises(ValidationError, match=says):
        store.add_compliance_areas([REST, bad], actor="planner")
    assert store.compliance_areas() == [] and len(store.audit_log(limit=100)) == before


@pytest.mark.parametrize(("targets", "says"), [
    ({1: 900, 2: 900, 3: 900}, "no target for priority 4"),
    ({**TARGETS, 5: 60}, "unknown priority 5"),
    ({**TARGETS, 1: -5}, "priority 1"),
    ({**TARGETS, 2: 0}, "priority 2"),
    ({**TARGETS, 3: 90_000}, "at most 86400"),
    ({**TARGETS, 4: float("nan")}, "priority 4"),
    ({**TARGETS, 1: True}, "priority 1"),
])
def test_bad_targets_are_refused_by_the_record(targets: dict[Any, Any], says: str) -> None:
    with pytest.raises(ValidationError, match=says):
        dataclasses.replace(CORE, targets_s=targets)


@pytest.mark.parametrize("field", ["name", "area_class"])
@pytest.mark.parametrize("text", ["Core\x00", "\x00", "a\x00b"])
def test_a_nul_in_a_name_is_refused_on_both_backends(store: Any, field: str, text: str) -> None:
    """Review: a NUL in a name was stored by the GeoPackage and refused by PostgreSQL."""
    with pytest.raises(ValidationError, match="without NUL"):
        store.add_compliance_areas([dataclasses.replace(CORE, **{field: text})],
                                   actor="planner")
    assert store.compliance_areas() == []


def test_an_id_twice_or_no_area_writes_nothing(store: Any) -> None:
    with pytest.raises(ValidationError, match="twice"):
        store.add_compliance_areas([CORE, dataclasses.replace(CORE, name="x")], actor="p")
    with pytest.raises(ValidationError, match="1 to"):
        store.add_compliance_areas([], actor="p")
    assert store.compliance_areas() == []


def test_targets_are_checked_by_the_schema_too(store: Any, raw_db: Any,
                                               db_errors: tuple[type[BaseException], ...]
                                               ) -> None:
    store.add_compliance_areas([CORE], actor="p")
    with pytest.raises(db_errors, match=r"(?i)check"):
        raw_db.execute("UPDATE compliance_areas SET target_p1_s = -1")
    assert store.compliance_areas()[0].targets_s[1] == 900.0
