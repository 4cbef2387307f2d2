"""Intake triage: rules map answers to priority, response, skills and reasons."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from navigator.decide.triage import DEFAULT_RULES, Assessment, rule, rules_from_json, triage
from navigator.errors import ValidationError
from navigator.model import RequiredResponse


def test_routine_call_is_priority_three_peer_team_with_a_reason() -> None:
    t = triage(Assessment())
    assert (t.priority, t.response) == (3, RequiredResponse.PEER_TEAM)
    assert t.reasons and t.needed_skills == ()


def test_suicide_risk_with_plan_is_most_urgent_clinician() -> None:
    t = triage(Assessment(risk_to_self=True, plan_or_means=True))
    assert (t.priority, t.response, t.needed_skills) == (1, RequiredResponse.CLINICIAN_TEAM,
                                                         ("clinician",))
    assert t.reasons == ("risk to self with a plan or means: clinician, most urgent",)
    assert triage(Assessment(risk_to_self=True)).priority == 2


def test_most_urgent_priority_and_most_intensive_response_win() -> None:
    t = triage(Assessment(risk_to_self=True, weapons=True, minors_present=True,
                          language="so"))
    assert t.priority == 1 and t.response == RequiredResponse.CO_RESPONDER
    assert set(t.needed_skills) == {"clinician", "youth"} and t.needed_languages == ("so",)
    assert len(t.reasons) == 3
    medical = triage(Assessment(medical_emergency=True, violence=True))
    assert medical.response == RequiredResponse.EMS_REFERRAL
    assert "EMS" in medical.to_dict()["response_text"]


def test_english_callers_need_no_language_match() -> None:
    assert triage(Assessment(language="en")).needed_languages == ()


@pytest.mark.parametrize("data, fragment", [
    ({"weapon": True}, "unknown assessment questions: weapon"),
    ({"weapons": "yes"}, "true or false"),
    ({"language": "<script>"}, "ISO 639"),
])
def test_bad_assessments_are_refused(data: dict, fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment):
        Assessment.from_dict(data)


def test_rules_from_json_replace_the_protocol(tmp_path: Path) -> None:
    path = tmp_path / "rules.json"
    path.write_text(json.dumps([{"name": "any-minor", "when": {"minors_present": True},
                                 "priority": 1, "response": "clinician_team",
                                 "reason": "county policy: minors first", "skills": ["youth"]}]))
    rules = rules_from_json(path)
    t = triage(Assessment(minors_present=True), rules)
    assert (t.priority, t.reasons) == (1, ("county policy: minors first",))
    assert triage(Assessment(weapons=True), rules).priority == 3  # not in this protocol


@pytest.mark.parametrize("entry, fragment", [
    ({"name": "x", "when": {"nope": True}, "priority": 1, "response": "peer_team",
      "reason": "r"}, "unknown or no questions"),
    ({"name": "x", "when": {"weapons": True}, "priority": 7, "response": "peer_team",
      "reason": "r"}, "priority must be 1"),
    ({"name": "x", "when": {"weapons": True}, "priority": 1, "response": "swat",
      "reason": "r"}, "response must be one of"),
    ({"name": "x", "when": {"weapons": True}, "priority": 1, "response": "peer_team",
      "reason": " "}, "reason"),
    ({"name": "x", "when": {"weapons": True}, "priority": 1, "response": "peer_team",
      "reason": "r", "skills": ["karate"]}, "unknown skills"),
    ({"name": "x", "priority": 1}, "lacks 'when'"),
])
def test_bad_rules_name_the_problem(tmp_path: Path, entry: dict, fragment: str) -> None:
    path = tmp_path / "rules.json"
    path.write_text(json.dumps([entry]))
    with pytest.raises(ValidationError, match=fragment):
        rules_from_json(path)


def test_default_rules_are_valid_and_named_once() -> None:
    names = [r.name for r in DEFAULT_RULES]
    assert len(names) == len(set(names))
    assert rule("x", {"weapons": True}, 1, "co_responder", "r").response == \
        RequiredResponse.CO_RESPONDER
