"""One definition per vocabulary: SQL CHECKs, CLI choices and API literals equal the model's."""

from __future__ import annotations

import argparse
import re
import types
import typing
from enum import Enum
from pathlib import Path
from typing import Any, get_args

import pytest

from navigator.cli.main import build_parser
from navigator.decide.allocation import Model
from navigator.decide.dispatch import Objective, SkillPolicy
from navigator.decide.evacuation import METHODS as PLACEMENT_METHODS
from navigator.exchange.formats import EXPORT_FORMATS, IMPORT_FORMATS
from navigator.model import (
    CANDIDATE_GROUPS,
    CARE_KINDS,
    FACILITY_KINDS,
    GENDERS,
    AssignmentStatus,
    BedType,
    Channel,
    CrisisType,
    DispatchPolicy,
    FacilityKind,
    HoldStatus,
    IncidentStatus,
    ResourceKind,
    Role,
    TeamStatus,
)

#: Every ``column IN ('...')`` CHECK of the store's tables, and the enum it must equal.
CHECKED: dict[tuple[str, str], type[Enum]] = {
    ("resources", "kind"): ResourceKind,
    ("beds", "bed_type"): BedType,
    ("teams", "status"): TeamStatus,
    ("incidents", "crisis_type"): CrisisType,
    ("incidents", "status"): IncidentStatus,
    ("holds", "bed_type"): BedType,
    ("holds", "status"): HoldStatus,
    ("assignments", "status"): AssignmentStatus,
    ("users", "role"): Role,
}
_TABLE = re.compile(r"CREATE TABLE(?: IF NOT EXISTS)?\s+(\w+)\s*\((.*?)\n\);", re.S)
_IN_LIST = re.compile(r"\b(\w+)\s+IN\s*\(([^)]*)\)", re.S)
_QUOTED = re.compile(r"'([^']*)'")


def values(enum: type[Enum]) -> list[str]:
    """Return an enum's values in definition order."""
    return [m.value for m in enum]


def check_lists(sql: str) -> dict[tuple[str, str], list[str]]:
    """Return ``{(table, column): [values]}`` of every CHECK (column IN ('a', ...)) in ``sql``."""
    found: dict[tuple[str, str], list[str]] = {}
    for table, body in _TABLE.findall(sql):
        for column, items in _IN_LIST.findall(body):
            quoted = _QUOTED.findall(items)
            if quoted:  # numeric lists (priority, booleans) are not vocabularies
                found[(table, column)] = quoted
    return found


def _live_gpkg_checks(path: Path) -> dict[tuple[str, str], list[str]]:
    """Return the CHECK lists of a freshly migrated GeoPackage store, as SQLite holds them."""
    import sqlite3

    from navigator.store import open_store

    open_store(str(path)).close()
    con = sqlite3.connect(path)
    try:
        found: dict[tuple[str, str], list[str]] = {}
        for table, sql in con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'"):
            for column, items in _IN_LIST.findall(sql or ""):
                if _QUOTED.findall(items):
                    found[(table, column)] = _QUOTED.findall(items)
        return found
    finally:
        con.close()


def _live_postgis_checks(url: str) -> dict[tuple[str, str], list[str]]:
    """Return the CHECK lists of a freshly migrated PostGIS store, from pg_constraint."""
    import psycopg

    from navigator.store import open_store

    open_store(url).close()
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT c.conrelid::regclass::text, a.attname, pg_get_constraintdef(c.oid) "
            "FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid "
            "AND a.attnum = c.conkey[1] WHERE c.contype = 'c' "
            "AND cardinality(c.conkey) = 1").fetchall()
    found: dict[tuple[str, str], list[str]] = {}
    for table, column, definition in rows:
        quoted = re.findall(r"'([^']*)'::text", definition)
        if quoted and "= ANY" in definition:
            found[(str(table), str(column))] = quoted
    return found


def test_gpkg_checks_equal_the_model(tmp_path: Path) -> None:
    # the live schema after every migration, so a later migration that widens a list counts
    found = _live_gpkg_checks(tmp_path / "vocabulary.gpkg")
    assert {k: v for k, v in found.items() if k in CHECKED} == {
        key: values(enum) for key, enum in CHECKED.items()}


@pytest.mark.postgis
def test_postgis_checks_equal_the_model(test_database_url: str | None) -> None:
    from postgis_db import throwaway_database

    with throwaway_database(test_database_url, prefix="navigator_vocab") as url:
        found = _live_postgis_checks(url)
    assert {k: v for k, v in found.items() if k in CHECKED} == {
        key: values(enum) for key, enum in CHECKED.items()}


def test_check_lists_reads_multi_line_lists() -> None:
    sql = ("CREATE TABLE t (\n  a text CHECK (a IN ('x',\n    'y')),\n"
           "  n integer CHECK (n IN (1, 2))\n);")
    assert check_lists(sql) == {("t", "a"): ["x", "y"]}


def test_store_roles_equal_the_model() -> None:
    from navigator.store.users import ROLES

    assert list(ROLES) == values(Role)


def test_surge_needs_are_bed_types_and_surge_shelters_have_beds() -> None:
    from navigator.model import BED_KINDS, SURGE_NEEDS
    from navigator.services.evacuees import DEFAULT_SHARES

    assert set(SURGE_NEEDS) <= set(BedType)
    assert list(DEFAULT_SHARES) == values_of(SURGE_NEEDS)
    assert ResourceKind.EVACUATION_SHELTER in BED_KINDS


def values_of(members: tuple[Enum, ...]) -> list[str]:
    """Return the values of some enum members, in order."""
    return [m.value for m in members]


def test_facility_kinds_cover_the_model() -> None:
    assert list(FACILITY_KINDS) == values(FacilityKind)
    assert set(FACILITY_KINDS[FacilityKind.ALL][0]) == set(ResourceKind)
    assert FACILITY_KINDS[FacilityKind.CLINICS][0] == CARE_KINDS
    assert all(ResourceKind.SHELTER not in kinds for kinds in CANDIDATE_GROUPS.values())


# -- CLI -----------------------------------------------------------------------------------
def _command(name: str) -> argparse.ArgumentParser:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices[name]


def _option(command: str, dest: str) -> argparse.Action:
    return next(a for a in _command(command)._actions if a.dest == dest)


@pytest.mark.parametrize(("command", "dest", "expected"), [
    ("team-status", "status", values(TeamStatus)),
    ("add-user", "role", values(Role)),
    ("find-service", "kind", [k.value for k in CARE_KINDS]),
    ("hotlines", "channel", values(Channel)),
    ("coverage", "kind", values(FacilityKind)),
    ("compare-scenarios", "kind", values(FacilityKind)),
    ("recommend-sites", "kind", values(FacilityKind)),
    ("recommend-sites", "candidates", list(CANDIDATE_GROUPS)),
    ("recommend-sites", "model", list(get_args(Model))),
    ("batch", "objective", list(get_args(Objective))),
    ("import", "format", ["auto", *IMPORT_FORMATS]),
    ("export", "format", ["auto", *EXPORT_FORMATS]),
    ("place-evacuees", "method", [*PLACEMENT_METHODS, "both"]),
    ("simulate", "policies", values(DispatchPolicy)),
    ("simulate-sweep", "policies", values(DispatchPolicy)),
])
def test_cli_choices_equal_the_model(command: str, dest: str, expected: list[str]) -> None:
    assert list(_option(command, dest).choices or ()) == expected


@pytest.mark.parametrize(("command", "dest", "vocabulary"), [
    ("find-bed", "bed_type", values(BedType)),
    ("hold", "bed_type", values(BedType)),
    ("coverage", "bed_type", values(BedType)),
    ("find-bed", "gender", list(GENDERS)),
    ("new-incident", "type", values(CrisisType)),
])
def test_cli_help_names_the_model_values(command: str, dest: str,
                                         vocabulary: list[str]) -> None:
    """Free-text options checked by the services: their help lists every allowed value."""
    assert (_option(command, dest).help or "").endswith("one of " + ", ".join(vocabulary))


# -- web API (read-only: the request models must accept exactly the model's values) --------
def literal_values(annotation: Any) -> list[str]:
    """Return the strings a (possibly nested, optional, listed) Literal or StrEnum allows."""
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return values(annotation)
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return [a for a in get_args(annotation) if isinstance(a, str)]
    if origin in (typing.Union, types.UnionType, list, typing.Annotated):
        return [v for a in get_args(annotation) for v in literal_values(a)]
    return []


@pytest.mark.parametrize(("model", "field", "expected"), [
    ("Needs", "bed_type", values(BedType)),
    ("Needs", "gender", list(GENDERS)),
    ("ServiceSearch", "kinds", [k.value for k in CARE_KINDS]),
    ("ResourceQuery", "kind", values(ResourceKind)),
    ("HotlineQuery", "channel", values(Channel)),
    ("IncidentQuery", "status", values(IncidentStatus)),
    ("IncidentCreate", "crisis_type", values(CrisisType)),
    ("TeamStatusUpdate", "status", values(TeamStatus)),
    ("PlanRequest", "objective", list(get_args(Objective))),
    ("RankRequest", "skill_policy", list(get_args(SkillPolicy))),
    ("Scenario", "kind", values(FacilityKind)),
    ("RecommendRequest", "candidates", values(ResourceKind)),
    ("UserCreate", "role", values(Role)),
    ("EvacuationRequest", "method", [*PLACEMENT_METHODS, "both"]),
    ("SimulateRequest", "policies", values(DispatchPolicy)),
])
def test_web_literals_equal_the_model(model: str, field: str, expected: list[str]) -> None:
    schemas = pytest.importorskip("web.schemas")
    annotation = getattr(schemas, model).model_fields[field].annotation
    assert sorted(literal_values(annotation)) == sorted(expected)


@pytest.mark.parametrize(("model", "field", "vocabulary"), [
    ("IncidentStatusUpdate", "status", values(IncidentStatus)),
    ("AssignmentFinish", "status", values(AssignmentStatus)),
    ("RecommendRequest", "model", list(get_args(Model))),
])
def test_web_literals_are_model_values(model: str, field: str, vocabulary: list[str]) -> None:
    """Requests that allow only some values of a vocabulary allow no value outside it."""
    schemas = pytest.importorskip("web.schemas")
    allowed = literal_values(getattr(schemas, model).model_fields[field].annotation)
    assert allowed and set(allowed) <= set(vocabulary)
