"""Accessibility wording in resource directories to Navigator's wheelchair flag."""

from __future__ import annotations

import re
from collections.abc import Iterable

# What directories write for step-free access: HSDS 1.x/2.x `accessibility` enum values
# (wheelchair, ramp, elevator, wheelchair_van), the ADA, "handicap(ped) accessible",
# "disabled access", "accessible entrance", "step-free", "level entry", lifts.
_ACCESS = re.compile(
    r"\b(?:wheel\s*-?chairs?|ramps?|elevators?|lifts?|ada(?:\s+(?:compliant|accessible))?"
    r"|handicap(?:ped)?(?:\s*-?\s*(?:accessible|access|entrance))?|disabled\s+access"
    r"|accessible\s+(?:entrance|entry|building|facility|restrooms?)|step\s*-?\s*free"
    r"|level\s+(?:access|entry)|fully\s+accessible|barrier\s*-?\s*free)\b", re.IGNORECASE)
_NEGATION = re.compile(r"\b(?:no|not|non|without|lacks?|inaccessible|isn'?t|unavailable"
                       r"|stairs\s+only|only\s+stairs)\b", re.IGNORECASE)
# "Wheelchair van" / "disabled parking" help, but say nothing about getting inside.
_NOT_ENTRY = re.compile(r"\b(?:wheelchair[\s_-]*vans?|disabled[\s_]parking)\b", re.IGNORECASE)


def wheelchair_accessible(texts: Iterable[str]) -> bool:
    """Return True when any text says the place is step-free / wheelchair accessible.

    A mention preceded within a few words by a negation (``"not wheelchair accessible"``,
    ``"no ramp"``) does not count; neither do a wheelchair van or disabled parking alone.
    """
    for text in texts:
        clean = _NOT_ENTRY.sub(" ", str(text or "").replace("_", " "))
        for m in _ACCESS.finditer(clean):
            before = clean[max(0, m.start() - 25):m.start()]
            after = clean[m.end():m.end() + 20]
            if _NEGATION.search(before) or re.match(r"\W*(?:not|inaccessible|unavailable)\b",
                                                     after, re.IGNORECASE):
                continue
            return True
    return False
