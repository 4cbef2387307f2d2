"""The region a store records (``navigator region init``): both backends, one row, checked."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from navigator.config import RegionDefinition
from navigator.errors import NavigatorError, ValidationError

REGION = RegionDefinition(
    name="Test County", osm_file="/data/test.osm.pbf", osm_sha256="a" * 64,
    population_file="/data/people.gpkg", population_sha256="b" * 64,
    population_column="pop", timezone="America/Chicago", holidays="US-IL",
    population_layer="tracts", rural=True, population_snap_m=5000.0,
    unit_name="population points")


def test_a_new_store_has_no_region(store: Any) -> None:
    assert store.region() is None


def test_region_round_trips_and_is_replaced_whole(store: Any) -> None:
    store.set_region(REGION, actor="test")
    assert store.region() == REGION
    other = dataclasses.replace(REGION, name="Other County", rural=False,
                                population_layer="", population_snap_m=1000.0)
    store.set_region(other, actor="test")
    assert store.region() == other
    entries = [e for e in store.audit_log(limit=5) if e.action == "set_region"]
    assert [e.subject for e in entries] == ["Other County", "Test County"]
    assert entries[0].result["replaced"] == "Test County"


def test_loading_data_with_replace_keeps_the_region(store: Any) -> None:
    from navigator.model import Bundle

    store.set_region(REGION, actor="test")
    store.load(Bundle(), actor="test", replace=True)
    assert store.region() == REGION


@pytest.mark.parametrize(("field", "value"), [
    ("name", ""), ("name", "x" * 201), ("name", "bad\nname"), ("osm_sha256", "A" * 64),
    ("population_sha256", "short"), ("population_snap_m", 0.0),
    ("population_snap_m", float("inf")), ("timezone", " ")])
def test_bad_definitions_are_refused(field: str, value: object) -> None:
    with pytest.raises(ValidationError):
        dataclasses.replace(REGION, **{field: value})


@pytest.mark.parametrize(("column", "value"), [
    ("osm_sha256", "'zz'"), ("name", "''"), ("population_snap_m", "-1")])
def test_the_table_checks_what_python_checks(store: Any, raw_db: Any, column: str,
                                             value: str) -> None:
    store.set_region(REGION, actor="test")
    with pytest.raises(Exception) as caught:
        raw_db.execute(f"UPDATE region SET {column} = {value}")
    assert "check" in str(caught.value).lower() or isinstance(caught.value, NavigatorError)
    assert store.region() == REGION
