"""Caseworker decisions on tiny arrays: eligibility, reasons, ranking, hotlines."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from navigator.decide.matching import (
    Needs,
    Reason,
    ResourceMatch,
    alternatives,
    classify,
    eligible,
    rank,
    serving_hotlines,
)
from navigator.errors import ValidationError
from navigator.model import BedType, ResourceKind

INF = np.inf


def _table() -> pd.DataFrame:
    return pd.DataFrame({
        "kind": ["shelter", "shelter", "clinic"],
        "eligibility": [{"genders": ["female"], "min_age": 18, "max_age": None,
                         "families": False},
                        {"genders": [], "min_age": None, "max_age": None, "families": True},
                        {}],
        "languages": [("en", "es"), ("en",), ("en", "so")],
        "services": [("meals",), ("meals",), ("psychiatric", "detox")],
        "wheelchair": [True, False, True],
        "pets": [False, True, False],
        "walk_in": [True, True, False],
    })


@pytest.mark.parametrize(("needs", "expected"), [
    (Needs(), [True, True, True]),
    (Needs(gender="male"), [False, True, True]),
    (Needs(gender="female", age=17), [False, True, True]),
    (Needs(family=True), [False, True, True]),
    (Needs(language="es"), [True, False, False]),
    (Needs(wheelchair=True), [True, False, True]),
    (Needs(pets=True), [False, True, False]),
    (Needs(service="detox"), [False, False, True]),
    (Needs(walk_in=True), [True, True, False]),
    (Needs(kinds=(ResourceKind.CLINIC,)), [False, False, True]),
])
def test_eligible(needs: Needs, expected: list[bool]) -> None:
    np.testing.assert_array_equal(eligible(_table().to_dict("records"), needs), expected)


def test_needs_validation_and_round_trip() -> None:
    assert Needs(family=True).bed_type is BedType.FAMILIES
    n = Needs(bed_type="youth", age=17, kinds=("shelter",))  # type: ignore[arg-type]
    assert Needs.from_dict(json.loads(json.dumps(n.to_dict()))) == n
    for bad in ({"bed_type": "suite"}, {"gender": "x"}, {"age": 200}, {"kinds": ("zoo",)}):
        with pytest.raises(ValidationError, match="needs"):
            Needs(**bad)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="unknown field"):
        Needs.from_dict({"colour": "red"})


def test_classify_gives_the_first_failing_check() -> None:
    t = np.array([100.0, 200.0, INF, 300.0, 400.0, 500.0, 5000.0])
    reason = classify(t, eligible=[1, 0, 1, 1, 1, 1, 1], open_now=[1, 1, 1, 1, 1, 0, 1],
                      free=[2, 2, 2, 0, 0, 3, 1], free_other=[0, 0, 0, 0, 4, 0, 0],
                      max_time_s=1800.0)
    assert [Reason(r) for r in reason] == [
        Reason.MATCH, Reason.NOT_ELIGIBLE, Reason.UNREACHABLE, Reason.FULL,
        Reason.OTHER_BED_TYPE, Reason.CLOSED, Reason.BEYOND_LIMIT]
    # No bed needed (clinics): free=None.
    assert classify([1.0], eligible=[True], open_now=[True]).tolist() == [Reason.MATCH]
    with pytest.raises(ValidationError, match="one length"):
        classify([1.0, 2.0], eligible=[True], open_now=[True, True])


def test_rank_and_alternatives_3x3() -> None:
    t = np.array([300.0, 100.0, 200.0])
    reason = np.array([Reason.MATCH, Reason.MATCH, Reason.CLOSED])
    assert rank(t, reason, k=5).tolist() == [1, 0]
    assert rank(t, reason, k=1).tolist() == [1]
    assert alternatives(t, reason, k=3).tolist() == [2]
    tied = np.array([100.0, 100.0, 100.0])
    assert rank(tied, np.zeros(3), k=3).tolist() == [0, 1, 2]
    with pytest.raises(ValidationError):
        rank(t, reason, k=0)


def test_serving_hotlines_local_first_national_last() -> None:
    order = serving_hotlines(covers=[False, True, True, False], national=[True, False, True, False],
                             open_now=[True, True, True, True], speaks=[True, True, True, True],
                             has_channel=[True, True, True, True])
    assert order.tolist() == [1, 0, 2]  # hotline 3 serves another area
    order = serving_hotlines(covers=[False, True], national=[True, False], open_now=[True, False],
                             speaks=[True, True], has_channel=[True, True])
    assert order.tolist() == [0]


def test_resource_match_to_dict_is_json_safe() -> None:
    m = ResourceMatch("r1", "Shelter", "shelter", INF, INF, -83.0, 40.0)
    text = json.dumps(m.to_dict(), allow_nan=False)
    assert '"eta_s": null' in text
