"""Rapid triage at intake: a short structured assessment mapped by rules to priority and response.

The rules are data, not code: each names the answers it matches, the priority it sets, the
response it requires and the team skills it needs, and a reason shown to the dispatcher. Every
matching rule applies: the priority is the most urgent one matched, the response the most
intensive one, the skills the union; the reasons list every rule that fired, so the result is
never a bare number. :data:`DEFAULT_RULES` follow the usual shape of mobile-crisis triage
protocols (medical emergencies to EMS; weapons or violence to a co-responder with law
enforcement; suicide risk with a plan or means to a clinician first); a program replaces them
with its own protocol through :func:`rules_from_json`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from navigator.errors import ValidationError
from navigator.model import TEAM_SKILLS, RequiredResponse


@dataclass(frozen=True)
class Assessment:
    """The intake questions, each answered yes (True) or no; ``language`` of the caller."""

    risk_to_self: bool = False
    plan_or_means: bool = False
    weapons: bool = False
    violence: bool = False
    medical_emergency: bool = False
    intoxicated: bool = False
    minors_present: bool = False
    language: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Assessment:
        """Return an assessment from a mapping; unknown keys and non-boolean answers refused."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            msg = f"unknown assessment questions: {', '.join(unknown)}"
            raise ValidationError(msg)
        for name, value in data.items():
            if name != "language" and not isinstance(value, bool):
                msg = f"assessment answer {name!r} must be true or false, got {value!r}"
                raise ValidationError(msg)
        lang = data.get("language")
        if lang is not None and (not isinstance(lang, str) or not lang.isalpha()
                                 or not 2 <= len(lang) <= 3):
            msg = f"language must be an ISO 639 code such as 'es', got {lang!r}"
            raise ValidationError(msg)
        return cls(**{k: (v.lower() if k == "language" and v else v) for k, v in data.items()})


QUESTIONS = tuple(f.name for f in fields(Assessment) if f.name != "language")


@dataclass(frozen=True)
class Rule:
    """When every answer in ``when`` matches, set ``priority``, ``response`` and ``skills``."""

    name: str
    when: tuple[tuple[str, bool], ...]
    priority: int
    response: RequiredResponse
    skills: tuple[str, ...]
    reason: str

    def matches(self, a: Assessment) -> bool:
        """Return whether the assessment gives every answer the rule names."""
        return all(getattr(a, q) == v for q, v in self.when)


def rule(name: str, when: Mapping[str, bool], priority: int, response: RequiredResponse | str,
         reason: str, skills: Sequence[str] = ()) -> Rule:
    """Return a checked :class:`Rule` (questions, priority 1-4, response and skills known)."""
    bad = sorted(set(when) - set(QUESTIONS))
    if bad or not when:
        msg = f"rule {name!r}: unknown or no questions {bad}; questions are {', '.join(QUESTIONS)}"
        raise ValidationError(msg)
    if isinstance(priority, bool) or not isinstance(priority, int) or not 1 <= priority <= 4:
        msg = f"rule {name!r}: priority must be 1 (most urgent) to 4, got {priority!r}"
        raise ValidationError(msg)
    try:
        resp = (response if isinstance(response, RequiredResponse)
                else RequiredResponse[str(response).upper()])
    except KeyError as e:
        msg = (f"rule {name!r}: response must be one of "
               f"{', '.join(r.name.lower() for r in RequiredResponse)}, got {response!r}")
        raise ValidationError(msg) from e
    unknown = sorted(set(skills) - set(TEAM_SKILLS))
    if unknown:
        msg = f"rule {name!r}: unknown skills {unknown}; skills are {', '.join(TEAM_SKILLS)}"
        raise ValidationError(msg)
    if not isinstance(reason, str) or not reason.strip():
        msg = f"rule {name!r}: a reason shown to the dispatcher is required"
        raise ValidationError(msg)
    return Rule(name, tuple(sorted(when.items())), priority, resp, tuple(skills), reason)


#: The default protocol; replace it with :func:`rules_from_json`.
DEFAULT_RULES = (
    rule("medical", {"medical_emergency": True}, 1, RequiredResponse.EMS_REFERRAL,
         "medical emergency reported: EMS first", ["medical"]),
    rule("weapons", {"weapons": True}, 1, RequiredResponse.CO_RESPONDER,
         "weapons reported: co-responder with law enforcement"),
    rule("violence", {"violence": True}, 1, RequiredResponse.CO_RESPONDER,
         "violence or threats reported: co-responder with law enforcement"),
    rule("suicide-plan", {"risk_to_self": True, "plan_or_means": True}, 1,
         RequiredResponse.CLINICIAN_TEAM,
         "risk to self with a plan or means: clinician, most urgent", ["clinician"]),
    rule("suicide-risk", {"risk_to_self": True, "plan_or_means": False}, 2,
         RequiredResponse.CLINICIAN_TEAM,
         "risk to self: clinician", ["clinician"]),
    rule("intoxicated", {"intoxicated": True}, 2, RequiredResponse.CLINICIAN_TEAM,
         "intoxication: substance-use skills", ["substance_use"]),
    rule("minors", {"minors_present": True}, 2, RequiredResponse.PEER_TEAM,
         "minors present: youth skills", ["youth"]),
)
#: When no rule matches.
DEFAULT_PRIORITY = 3
DEFAULT_RESPONSE = RequiredResponse.PEER_TEAM


@dataclass(frozen=True)
class Triage:
    """What the rules decided, and why."""

    priority: int
    response: RequiredResponse
    needed_skills: tuple[str, ...]
    needed_languages: tuple[str, ...]
    reasons: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict (response by name and in words)."""
        return {"priority": self.priority, "response": self.response.name.lower(),
                "response_text": self.response.label, "needed_skills": list(self.needed_skills),
                "needed_languages": list(self.needed_languages), "reasons": list(self.reasons)}


def triage(assessment: Assessment, rules: Sequence[Rule] = DEFAULT_RULES) -> Triage:
    """Return the priority, required response, skills and reasons for an assessment.

    Parameters
    ----------
    assessment
        The intake answers.
    rules
        The protocol (default :data:`DEFAULT_RULES`).
    """
    fired = [r for r in rules if r.matches(assessment)]
    skills = tuple(dict.fromkeys(s for r in fired for s in r.skills))
    languages = (assessment.language,) if assessment.language and \
        assessment.language != "en" else ()
    if not fired:
        return Triage(DEFAULT_PRIORITY, DEFAULT_RESPONSE, (), languages,
                      ("no risk factor reported: routine response",))
    return Triage(priority=min(r.priority for r in fired),
                  response=max(r.response for r in fired), needed_skills=skills,
                  needed_languages=languages, reasons=tuple(r.reason for r in fired))


def rules_from_json(path: str | Path) -> tuple[Rule, ...]:
    """Read a protocol: a JSON list of ``{name, when, priority, response, reason, skills}``.

    Raises
    ------
    ValidationError
        If the file is not such a list, naming the entry and the field at fault.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        msg = f"cannot read triage rules {path}: {e}"
        raise ValidationError(msg) from e
    if not isinstance(data, list) or not data:
        msg = f"triage rules {path}: expected a non-empty JSON list of rules"
        raise ValidationError(msg)
    out = []
    for i, entry in enumerate(data):
        if not isinstance(entry, dict):
            msg = f"triage rules {path}: entry {i} is not an object"
            raise ValidationError(msg)
        try:
            out.append(rule(str(entry["name"]), entry["when"], entry["priority"],
                            entry["response"], entry["reason"], entry.get("skills", ())))
        except KeyError as e:
            msg = f"triage rules {path}: entry {i} lacks {e.args[0]!r}"
            raise ValidationError(msg) from e
        except (TypeError, AttributeError) as e:
            msg = f"triage rules {path}: entry {i} is malformed: {e}"
            raise ValidationError(msg) from e
    return tuple(out)
