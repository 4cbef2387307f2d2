"""The compliance report: how fast teams reached calls, by area and priority, over a period."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from navigator.decide.compliance import (
    DEFAULT_TARGETS_MIN,
    MIN_ARRIVALS,
    ComplianceRow,
    compliance_by_group,
)
from navigator.errors import NotFoundError, ValidationError
from navigator.model import TeamStatus
from navigator.services.evacuation import csv_cell

if TYPE_CHECKING:
    from navigator.model import ComplianceArea
    from navigator.store import Store

__all__ = ["ATTRIBUTION_RULE", "OUTSIDE", "AreaLabel", "ComplianceReport", "compliance_report",
           "parse_targets", "report_period"]

#: Audit entries read per action (a week of a busy county's dispatches fits easily).
_AUDIT_LIMIT = 100_000


#: Label of the row of incidents inside no compliance area.
OUTSIDE = "outside every area"
#: How an incident is attributed to an area (also shown with every report).
ATTRIBUTION_RULE = ("an incident counts in the smallest compliance area containing its point "
                    "(ties: the lowest area id); one inside none counts as "
                    f"'{OUTSIDE}' against the default targets")


@dataclass(frozen=True)
class AreaLabel:
    """Which area a report group is: ``id`` None for :data:`OUTSIDE`."""

    id: str | None
    name: str
    area_class: str


@dataclass(frozen=True)
class ComplianceReport:
    """Response times against targets by area and priority for ``start`` <= dispatch < ``end``.

    ``start`` and ``end`` are aware, in ``timezone`` (the store's area); ``areas[g]`` is
    the area of rows with ``group == g`` (the last is :data:`OUTSIDE`). ``synthetic``
    counts the dispatches to synthetic (demo) incidents among them.
    """

    start: datetime
    end: datetime
    timezone: str
    areas: tuple[AreaLabel, ...]
    rows: tuple[ComplianceRow, ...]
    synthetic: int = 0

    def records(self) -> list[dict[str, Any]]:
        """Return one plain dict per row with its area's id, name and class."""
        return [{"area_id": self.areas[r.group].id, "area_name": self.areas[r.group].name,
                 "area_class": self.areas[r.group].area_class, **r.to_dict()}
                for r in self.rows]

    def to_dict(self) -> dict[str, Any]:
        """Return the report as plain JSON-ready values."""
        return {"start": self.start.isoformat(), "end": self.end.isoformat(),
                "timezone": self.timezone, "measure": "dispatch to on scene",
                "rule": ATTRIBUTION_RULE, "min_arrivals": MIN_ARRIVALS,
                "synthetic_dispatches": self.synthetic, "rows": self.records()}

    def to_csv(self) -> str:
        """Return the rows as CSV (minutes, shares as percentages; empty where no arrival).

        Area names are imported text: a cell a spreadsheet would run as a formula gets a
        leading quote.
        """
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        w.writerow(["priority", "dispatched", "arrived", "p50_min", "p90_min", "target_min",
                    "within_target_pct", "period_start", "period_end", "area_id",
                    "area_name", "area_class", "few_arrivals"])

        def minutes(s: float | None) -> str:
            return "" if s is None else f"{s / 60:.1f}"

        for r in self.rows:
            area = self.areas[r.group]
            w.writerow([r.priority, r.dispatched, r.arrived, minutes(r.p50_s),
                        minutes(r.p90_s), minutes(r.target_s),
                        "" if r.within_target is None else f"{100 * r.within_target:.1f}",
                        self.start.isoformat(), self.end.isoformat(), csv_cell(area.id or ""),
                        csv_cell(area.name), csv_cell(area.area_class),
                        "yes" if r.few else "no"])
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


def report_period(start: datetime | None, end: datetime | None, *, timezone: str,
                  now: datetime | None = None, default_h: float = 12.0
                  ) -> tuple[datetime, datetime]:
    """Return the period as aware datetimes in ``timezone`` (naive input is local time there).

    ``end`` defaults to now and ``start`` to ``default_h`` hours before ``end``.

    Raises
    ------
    ValidationError
        An unknown time zone, a time outside 1970-2200, or a period that does not end
        after it starts.
    """
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as e:
        msg = f"unknown time zone {timezone!r}"
        raise ValidationError(msg) from e

    def local(value: datetime) -> datetime:
        if not isinstance(value, datetime) or not 1970 <= value.year <= 2200:
            msg = f"the period needs times between the years 1970 and 2200, got {value!r}"
            raise ValidationError(msg)
        return value.replace(tzinfo=zone) if value.tzinfo is None else value.astimezone(zone)

    until = local(end) if end is not None else (now or datetime.now(UTC)).astimezone(zone)
    since = local(start) if start is not None else until - timedelta(hours=default_h)
    if since >= until:
        msg = (f"the period must end after it starts ({since.isoformat()} .. "
               f"{until.isoformat()})")
        raise ValidationError(msg)
    return since, until


def _attribute(areas: list[ComplianceArea], lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Return each point's group by :data:`ATTRIBUTION_RULE` (``len(areas)``: outside all)."""
    import shapely

    out = np.full(lon.shape, len(areas), dtype=np.int64)
    # smallest first (ties: lowest id); a point keeps the first area that contains it
    order = sorted(range(len(areas)), key=lambda i: (areas[i].geometry.area, areas[i].id))
    for i in order:
        inside = shapely.contains_xy(areas[i].geometry, lon, lat) & (out == len(areas))
        out[inside] = i
    return out


def compliance_report(store: Store, *, start: datetime | None = None,
                      end: datetime | None = None, timezone: str = "UTC",
                      targets_min: dict[int, float] | None = None) -> ComplianceReport:
    """Return dispatch-to-on-scene times by compliance area and priority for [start, end).

    A dispatch's response time runs from the assignment to the first time its team is set
    on scene after it (from the audit log), while the assignment was still active; one
    cancelled before arrival, or still on the way, counts as dispatched but not arrived.
    Each dispatch counts in its incident's area (:data:`ATTRIBUTION_RULE`), against that
    area's targets; incidents inside no area use the defaults (``targets_min`` over
    :data:`DEFAULT_TARGETS_MIN`).

    Parameters
    ----------
    store
        Where assignments, incidents, areas and the audit log are read (nothing written).
    start, end
        The period; naive datetimes are local time in ``timezone``. Default: the 12 hours
        up to now.
    timezone
        The store's area time zone (IANA name); the report's times are shown in it.
    targets_min
        Default targets per priority, minutes, for incidents outside every area.

    Raises
    ------
    ValidationError
        A reversed period, an unknown time zone, or a target that is not a positive
        number of minutes.
    NotFoundError
        No dispatch in the period (nothing to report; pick another period).
    """
    start, end = report_period(start, end, timezone=timezone)
    targets = {**DEFAULT_TARGETS_MIN, **(targets_min or {})}
    for level, minutes in targets.items():
        if isinstance(minutes, bool) or not isinstance(minutes, int | float) or not (
                minutes > 0 and math.isfinite(minutes)):
            msg = f"the target for priority {level} must be a positive number of minutes"
            raise ValidationError(msg)
    assignments = store.assignments()
    assignments = assignments[(assignments["created_at"] >= start)
                              & (assignments["created_at"] < end)]
    if assignments.empty:
        msg = (f"no dispatch between {start.isoformat(timespec='minutes')} and "
               f"{end.isoformat(timespec='minutes')} ({timezone}): nothing to report; "
               "choose another period")
        raise NotFoundError(msg)
    incidents = store.incidents()
    areas = store.compliance_areas()
    group_of = dict(zip(incidents["id"], _attribute(
        areas, incidents.geometry.x.to_numpy(dtype=float),
        incidents.geometry.y.to_numpy(dtype=float)), strict=True))
    priority_of = dict(zip(incidents["id"], incidents["priority"], strict=True))
    synthetic = set(incidents["id"][incidents["synthetic"].astype(bool)])
    arrivals: dict[str, list[datetime]] = {}
    for e in store.audit_log(limit=_AUDIT_LIMIT, action="update_team"):
        if e.result.get("status") == TeamStatus.ON_SCENE and \
                e.result.get("previous_status") != TeamStatus.ON_SCENE:
            arrivals.setdefault(e.subject, []).append(e.at)
    group, priority, response = [], [], []
    for a in assignments.itertuples(index=False):
        sent = a.created_at.to_pydatetime()
        closed = None if a.status == "active" else a.updated_at.to_pydatetime()
        came = [t for t in arrivals.get(a.team_id, ())
                if t >= sent and (closed is None or t <= closed)]
        group.append(int(group_of.get(a.incident_id, len(areas))))
        priority.append(int(priority_of.get(a.incident_id, 4)))
        response.append((min(came) - sent).total_seconds() if came else np.nan)
    labels = (*(AreaLabel(a.id, a.name, a.area_class) for a in areas),
              AreaLabel(None, OUTSIDE, ""))
    rows = compliance_by_group(group, priority, response, targets_s=[
        *(a.targets_s for a in areas), {k: 60.0 * v for k, v in targets.items()}])
    return ComplianceReport(start=start, end=end, timezone=timezone, areas=labels, rows=rows,
                            synthetic=int(assignments["incident_id"].isin(synthetic).sum()))
