"""Busy fractions per base from a saved simulator run, for the planner's expected coverage.

:func:`simulated_busy` checks a saved ``navigator simulate --json`` result (its region, its
policy, its fractions, its bases) and :func:`merged_busy` joins its fractions with the ones a
planner gives, saying for every base where its fraction came from. Both are called by
:func:`navigator.services.new_sites.recommend_new_sites`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from navigator.errors import ValidationError
from navigator.services.context import region_name

if TYPE_CHECKING:
    from collections.abc import Collection

    from navigator.config import Settings

__all__ = ["SimulatedBusy", "merged_busy", "simulated_busy"]


@dataclass(frozen=True)
class SimulatedBusy:
    """Per base its teams' mean utilisation in one simulated policy, and what was simulated.

    Attributes
    ----------
    fractions
        Base (resource) id to busy fraction, each in [0, 1).
    policy, seed, days, calls, source
        The simulated policy, the synthetic stream's seed (None: imported calls), the period
        in days, the number of calls and where they came from.
    """

    fractions: dict[str, float]
    policy: str
    seed: int | None
    days: float
    calls: int
    source: str

    def label(self) -> str:
        """Return the run in words: policy, seed, period, calls."""
        seed = "imported calls" if self.seed is None else f"seed {self.seed}"
        return (f"simulator run: policy {self.policy}, {seed}, {self.days:g} days, "
                f"{self.calls} calls from {self.source}")

    def inputs(self) -> dict[str, Any]:
        """Return the run's identity for the audit log."""
        return {"policy": self.policy, "seed": self.seed, "days": self.days,
                "calls": self.calls, "fractions": dict(self.fractions)}


def _fraction(base: str, value: object) -> float:
    q = float(value) if isinstance(value, int | float) and not isinstance(value, bool) \
        else math.nan
    if not (math.isfinite(q) and 0.0 <= q < 1.0):
        msg = (f"saved simulation: busy fraction of base {base!r} must be in [0, 1), "
               f"got {value!r}")
        raise ValidationError(msg)
    return q


def simulated_busy(saved: Mapping[str, Any], settings: Settings, *, known_bases: Collection[str],
                   policy: str | None = None) -> SimulatedBusy:
    """Return the busy fractions of ``policy`` (default: the run's first) in a saved run.

    Parameters
    ----------
    saved
        What ``navigator simulate --json`` printed (or ``SimulationRun.summary()``).
    settings
        The store's settings: the run must be of the same region.
    known_bases
        Resource ids of the store: every base of the run must be one of them.
    policy
        Which simulated policy's utilisation to take.

    Raises
    ------
    ValidationError
        Not a saved simulate result, another region, a policy not simulated, a fraction
        outside [0, 1), a base the store does not hold, or no base ever on duty.
    """
    by_policy = saved.get("busy_by_base") if isinstance(saved, Mapping) else None
    if not isinstance(by_policy, Mapping) or not isinstance(saved.get("region"), str):
        msg = ("not a saved `navigator simulate --json` result (no busy_by_base and region): "
               "save one with `navigator simulate --json > run.json`")
        raise ValidationError(msg)
    here = region_name(settings)
    if saved["region"] != here:
        msg = (f"the saved simulation is of region {saved['region']!r}, this store's is "
               f"{here!r}: simulate on this store")
        raise ValidationError(msg)
    # the policies list keeps the run's order (the first is its reference); a JSON object's
    # keys may come back sorted
    listed = [p.get("policy") for p in saved.get("policies") or () if isinstance(p, Mapping)]
    ran = [str(p) for p in listed if p in by_policy] or [str(p) for p in by_policy]
    name = policy or (ran[0] if ran else "")
    fractions = by_policy.get(name)
    if not isinstance(fractions, Mapping):
        msg = f"policy {name!r} was not simulated in the saved run (simulated: {', '.join(ran)})"
        raise ValidationError(msg)
    out = {str(b): _fraction(str(b), q) for b, q in fractions.items()}
    unknown = sorted(b for b in out if b not in known_bases)
    if unknown:
        msg = (f"saved simulation: base(s) {', '.join(unknown[:8])} are not in this store "
               "(a run saved from another store?)")
        raise ValidationError(msg)
    if not out:
        msg = f"saved simulation: no base was on duty under policy {name!r}, no fraction to use"
        raise ValidationError(msg)
    seed = saved.get("seed")
    return SimulatedBusy(out, name, seed if isinstance(seed, int) else None,
                         float(saved.get("days") or 0.0), int(saved.get("calls") or 0),
                         str(saved.get("source") or "?"))


def merged_busy(simulated: SimulatedBusy, given: Mapping[str, float] | None, *,
                in_service: Collection[str], default: float
                ) -> tuple[dict[str, float], tuple[str, ...]]:
    """Return the simulated fractions of the bases in service, overridden by ``given``, and notes.

    The notes say which bases took the simulator's fraction (with the run), which a given
    one, which simulated bases are not in this scenario, and that the others take
    ``default`` (the setting).
    """
    given = dict(given or {})
    used = {b: q for b, q in simulated.fractions.items() if b in in_service and b not in given}
    if not used and not given:
        msg = ("none of the saved simulation's bases "
               f"({', '.join(sorted(simulated.fractions)[:8])}) is in service in this scenario")
        raise ValidationError(msg)
    notes = [f"busy fractions from the {simulated.label()}: "
             + (", ".join(f"{b} {q:.1%}" for b, q in sorted(used.items())) or "none used")]
    if given:
        notes.append("busy fractions given: "
                     + ", ".join(f"{b} {q:.1%}" for b, q in sorted(given.items()))
                     + (" (over the simulator's)" if set(given) & set(simulated.fractions)
                        else ""))
    out = sorted(set(simulated.fractions) - set(in_service) - set(given))
    if out:
        notes.append(f"simulated base(s) not in service here, left out: {', '.join(out)}")
    notes.append(f"every other base and candidate site: the setting, busy {default:.1%} "
                 "(NAVIGATOR_TEAM_BUSY_FRACTION, a guess, not measured)")
    return used | given, tuple(notes)
