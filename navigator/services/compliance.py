"""The shift compliance report: how fast teams reached calls, per priority, over a period."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from navigator.decide.compliance import DEFAULT_TARGETS_MIN, ComplianceRow, compliance_by_priority
from navigator.errors import ValidationError
from navigator.model import TeamStatus

if TYPE_CHECKING:
    from navigator.store import Store

__all__ = ["ComplianceReport", "compliance_report", "parse_targets"]

#: Audit entries read per action (a week of a busy county's dispatches fits easily).
_AUDIT_LIMIT = 100_000


@dataclass(frozen=True)
class ComplianceReport:
    """Response times against targets for ``start`` <= dispatch time < ``end`` (aware UTC)."""

    start: datetime
    end: datetime
    rows: tuple[ComplianceRow, ...]

    def to_dict(self) -> dict[str, Any]:
        """Return the report as plain JSON-ready values."""
        return {"start": self.start.isoformat(), "end": self.end.isoformat(),
                "measure": "dispatch to on scene", "rows": [r.to_dict() for r in self.rows]}

    def to_csv(self) -> str:
        """Return the rows as CSV (minutes, shares as percentages; empty where no arrival)."""
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        w.writerow(["priority", "dispatched", "arrived", "p50_min", "p90_min", "target_min",
                    "within_target_pct", "period_start", "period_end"])

        def minutes(s: float | None) -> str:
            return "" if s is None else f"{s / 60:.1f}"

        for r in self.rows:
            w.writerow([r.priority, r.dispatched, r.arrived, minutes(r.p50_s),
                        minutes(r.p90_s), minutes(r.target_s),
                        "" if r.within_target is None else f"{100 * r.within_target:.1f}",
                        self.start.isoformat(), self.end.isoformat()])
        return out.getvalue()


def parse_targets(text: str | None) -> dict[int, float]:
    """Return ``"1=15,2=30"`` as ``{1: 15.0, 2: 30.0}`` (minutes per priority).

    Raises
    ------
    ValidationError
        Not ``priority=minutes`` pairs, a priority outside 1-4, or a non-positive target.
    """
    out: dict[int, float] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        level, _, value = part.partition("=")
        try:
            key, minutes = int(level), float(value)
        except ValueError as e:
            msg = f"targets: {part.strip()!r} is not priority=minutes (e.g. 1=15)"
            raise ValidationError(msg) from e
        if key not in DEFAULT_TARGETS_MIN or not (minutes > 0 and math.isfinite(minutes)):
            msg = (f"targets: {part.strip()!r}: the priority must be 1-4 and the target a "
                   "positive number of minutes")
            raise ValidationError(msg)
        out[key] = minutes
    return out


def compliance_report(store: Store, *, start: datetime, end: datetime,
                      targets_min: dict[int, float] | None = None) -> ComplianceReport:
    """Return dispatch-to-on-scene times per priority for dispatches in [start, end).

    A dispatch's response time runs from the assignment to the first time its team is set
    on scene after it (from the audit log), while the assignment was still active; one
    cancelled before arrival, or still on the way, counts as dispatched but not arrived.

    Raises
    ------
    ValidationError
        Naive or reversed times, or a target that is not a positive number of minutes.
    """
    for name, value in (("start", start), ("end", end)):
        if not isinstance(value, datetime) or value.tzinfo is None:
            msg = f"{name} must be a timezone-aware datetime, got {value!r}"
            raise ValidationError(msg)
    if start >= end:
        msg = f"the period must end after it starts ({start.isoformat()} .. {end.isoformat()})"
        raise ValidationError(msg)
    targets = {**DEFAULT_TARGETS_MIN, **(targets_min or {})}
    for level, minutes in targets.items():
        if isinstance(minutes, bool) or not isinstance(minutes, int | float) or not (
                minutes > 0 and math.isfinite(minutes)):
            msg = f"the target for priority {level} must be a positive number of minutes"
            raise ValidationError(msg)
    assignments = store.assignments()
    assignments = assignments[(assignments["created_at"] >= start)
                              & (assignments["created_at"] < end)]
    incidents = store.incidents()
    priority_of = dict(zip(incidents["id"], incidents["priority"], strict=True))
    arrivals: dict[str, list[datetime]] = {}
    for e in store.audit_log(limit=_AUDIT_LIMIT, action="update_team"):
        if e.result.get("status") == TeamStatus.ON_SCENE and \
                e.result.get("previous_status") != TeamStatus.ON_SCENE:
            arrivals.setdefault(e.subject, []).append(e.at)
    priority, response = [], []
    for a in assignments.itertuples(index=False):
        sent = a.created_at.to_pydatetime()
        closed = None if a.status == "active" else a.updated_at.to_pydatetime()
        came = [t for t in arrivals.get(a.team_id, ())
                if t >= sent and (closed is None or t <= closed)]
        priority.append(int(priority_of.get(a.incident_id, 4)))
        response.append((min(came) - sent).total_seconds() if came else np.nan)
    rows = compliance_by_priority(priority, response,
                                  targets_s={k: 60.0 * v for k, v in targets.items()})
    return ComplianceReport(start=start, end=end, rows=rows)
