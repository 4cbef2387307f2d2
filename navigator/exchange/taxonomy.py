"""Resource kinds from directory taxonomies (AIRS/211 codes, Open Eligibility) and keywords."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from navigator.model import ResourceKind

#: AIRS / 211 LA County taxonomy code prefixes, most specific first. BH-1800 is Emergency
#: Shelter (BH-1800.8500 homeless, BH-1800.1500 domestic violence shelters); RP-1500 Crisis
#: Intervention; LN-3000 Hospitals; L (health care) and R (mental health and substance use
#: services) are clinical care when nothing more specific matched.
AIRS_PREFIXES: tuple[tuple[str, ResourceKind], ...] = (
    ("BH-1800", ResourceKind.SHELTER),
    ("RP-1500", ResourceKind.CRISIS_UNIT),
    ("LN-3000", ResourceKind.HOSPITAL),
    ("RM", ResourceKind.CLINIC), ("RX", ResourceKind.CLINIC), ("RD", ResourceKind.CLINIC),
    ("RP", ResourceKind.CLINIC), ("RR", ResourceKind.CLINIC), ("L", ResourceKind.CLINIC),
)
_AIRS_CODE = re.compile(r"^[A-Z]{1,2}(?:-\d{4}(?:\.\d{4}(?:-\d{3})?)?)?(?:\s|$)")
#: Open Eligibility terms and directory wording (lower case, whole words), most specific
#: kind first; a term names the kind only as a whole phrase.
KIND_WORDS: tuple[tuple[ResourceKind, tuple[str, ...]], ...] = (
    (ResourceKind.CRISIS_UNIT, ("crisis stabilization", "crisis stabilisation", "crisis unit",
                                "crisis center", "crisis centre", "crisis residential",
                                "crisis receiving", "psychiatric emergency")),
    (ResourceKind.SHELTER, ("emergency shelter", "homeless shelter", "temporary shelter",
                            "domestic violence shelter", "overnight shelter", "youth shelter",
                            "family shelter", "shelter", "emergency housing", "warming center",
                            "cooling center")),
    (ResourceKind.HOSPITAL, ("hospital", "emergency department", "emergency room",
                             "medical center", "medical centre")),
    (ResourceKind.CLINIC, ("clinic", "health center", "health centre", "health care",
                           "healthcare", "medical care", "primary care", "mental health care",
                           "mental health", "counseling", "counselling", "psychiatric",
                           "psychiatry", "therapy", "detox", "detoxification",
                           "substance use treatment", "addiction treatment", "dental care",
                           "urgent care")),
)
# Words that make a match about something else ("animal shelter", "bus shelter").
_NOT_PEOPLE = re.compile(r"\b(?:animal|pet|dog|cat|bus|tax|picnic)\s+(?:shelters?|hospitals?"
                         r"|clinics?)\b", re.IGNORECASE)
# Words too loose to decide a kind from a description ("we refer people to shelter").
_LOOSE = frozenset({"shelter", "therapy", "health care", "healthcare", "mental health",
                    "counseling", "counselling", "medical care", "psychiatric", "hospital"})


def _alternation(words: Iterable[str]) -> re.Pattern[str]:
    alts = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"\b(?:{alts})s?\b", re.IGNORECASE)


# One alternation per kind (and per strictness): a handful of searches per service, not 50.
_PATTERNS = {strict: tuple((kind, _alternation(w for w in words if not (strict and w in _LOOSE)))
                           for kind, words in KIND_WORDS) for strict in (False, True)}


@dataclass(frozen=True)
class KindMatch:
    """The kind a service was given and what gave it.

    Attributes
    ----------
    kind
        The resource kind (``other`` when nothing matched).
    basis
        ``"airs"``, ``"taxonomy"`` (a term's name), ``"keywords"`` (name or description)
        or ``"none"``.
    evidence
        The code or words that matched (empty for ``"none"``).
    """

    kind: ResourceKind
    basis: str
    evidence: str = ""


def airs_kind(code: str) -> ResourceKind | None:
    """Return the kind an AIRS/211 taxonomy code names, or None."""
    text = str(code or "").strip().upper()
    if not _AIRS_CODE.match(text):
        return None
    for prefix, kind in AIRS_PREFIXES:
        if text == prefix or text.startswith((f"{prefix}-", f"{prefix}.")) or (
                len(prefix) <= 2 and text.split("-")[0] == prefix):
            return kind
    return None


def _word_kind(texts: Iterable[str], *, strict: bool = False
               ) -> tuple[ResourceKind, str] | None:
    joined = " ".join(_NOT_PEOPLE.sub(" ", str(t or "")) for t in texts)
    if not joined.strip():
        return None
    for kind, pattern in _PATTERNS[strict]:
        m = pattern.search(joined)
        if m:
            return kind, m.group(0)
    return None


def classify_service(*, codes: Sequence[str] = (), terms: Sequence[str] = (),
                     name: str = "", description: str = "") -> KindMatch:
    """Return the resource kind of a directory service, and why.

    Taxonomy codes decide first (AIRS/211; the most specific kind among all codes), then
    taxonomy term names (Open Eligibility and others), then whole-phrase keywords in the
    service name, then (only the
    specific phrases) in its description. A service nothing matches is ``other``: Navigator
    never files a youth ballet as a clinic.

    Parameters
    ----------
    codes
        Taxonomy codes attached to the service (e.g. ``"BH-1800.8500"``).
    terms
        Taxonomy term names (e.g. ``"Emergency Shelter"``, ``"Mental Health Care"``).
    name, description
        The service's own text.
    """
    order = [k for k, _ in KIND_WORDS]
    found = [(k, c) for c in codes if (k := airs_kind(c)) is not None]
    if found:
        kind, code = min(found, key=lambda kc: order.index(kc[0]))
        return KindMatch(kind, "airs", code)
    for basis, texts, strict in (("taxonomy", terms, False), ("keywords", (name,), False),
                                 ("keywords", (description,), True)):
        hit = _word_kind(texts, strict=strict)
        if hit is not None:
            return KindMatch(hit[0], basis, hit[1])
    return KindMatch(ResourceKind.OTHER, "none")
