"""Evacuee placement for a planner: a zone's people (or households) into open shelters; audited.

Shelters offered: active surge shelters (``evacuation_shelter``, activated and already open,
site status ``open``) with their free spaces by need, whatever the age of the count (they
have just opened), plus ordinary shelters whose status is ``open`` and whose bed counts are
fresh (staff confirmed them within the freshness window), with their free beds of the need
types only; their ``single_men``, ``families``, ... beds serve their own clients and are not
offered. Confidential (DV) sites are never offered.
"""

from __future__ import annotations

import csv
import io
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from navigator.decide.evacuation import Method, Placement, place_evacuees
from navigator.decide.matching import fresh_counts
from navigator.errors import ValidationError
from navigator.jsonsafe import json_safe
from navigator.model import BED_KINDS, SURGE_NEEDS, ResourceKind, SiteStatus
from navigator.services._on_road import on_road_columns, place_keys, points_of, snap_places
from navigator.services.evacuees import parse_zone, read_households, zone_groups

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import geopandas as gpd

    from navigator.config import Settings
    from navigator.roads import TravelGraph
    from navigator.services.reports import Demand
    from navigator.store import Store

__all__ = ["CSV_COLUMNS", "EvacuationPlan", "evacuation_shelters", "plan_evacuation"]

NEEDS = tuple(n.value for n in SURGE_NEEDS)
CSV_COLUMNS = ("method", "group_id", "need", "people", "shelter_id", "shelter_name",
               "travel_time_s", "unplaced_reason")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    """Return a CSV cell a spreadsheet will not run as a formula (``=+-@`` get a quote)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA) else text


@dataclass(frozen=True, eq=False)
class EvacuationPlan:
    """Groups, shelters offered and one placement per method, with notes.

    ``groups`` has ``group_id``, ``need``, ``people``, ``whole``, ``node`` (-1: too far
    from a road) and point geometry; ``shelters`` has ``id``, ``name``, ``kind``, ``node``,
    ``free_<need>`` and point geometry (EPSG:4326). ``route_s`` is the travel-time stage.
    """

    source: str
    groups: gpd.GeoDataFrame
    shelters: gpd.GeoDataFrame
    placements: dict[str, Placement]
    notes: tuple[str, ...]
    route_s: float

    def summary(self) -> dict[str, Any]:
        """Return the figures per method (people, placed, unplaced by need and reason, times)."""
        out: dict[str, Any] = {"source": self.source, "people": int(self.groups["people"].sum()),
                               "groups": len(self.groups), "shelters": len(self.shelters),
                               "route_s": self.route_s, "notes": list(self.notes)}
        for method, p in self.placements.items():
            out[method] = {"placed": p.placed, "unplaced": int(p.unplaced.sum()),
                           "unplaced_by_need": p.unplaced_by_need(),
                           "unplaced_by_reason": p.unplaced_by_reason(),
                           "total_time_s": p.total_time_s, "mean_time_s": p.mean_time_s,
                           "worst_time_s": p.worst_time_s, "proven_optimal": p.proven_optimal,
                           "solve_s": p.solve_s}
        return json_safe(out)  # type: ignore[no-any-return]

    def shelter_loads(self, method: str) -> list[dict[str, Any]]:
        """Return per shelter its free spaces and the people placed there by need."""
        p = self.placements[method]
        out = []
        for j, s in enumerate(self.shelters.itertuples(index=False)):
            out.append({"id": s.id, "name": s.name, "kind": s.kind,
                        "lon": float(s.geometry.x), "lat": float(s.geometry.y),
                        "free": {n: int(getattr(s, f"free_{n}")) for n in NEEDS},
                        "load": {n: int(p.load[j, k]) for k, n in enumerate(NEEDS)},
                        "placed": int(p.load[j].sum())})
        return out

    def assignments(self, method: str) -> list[dict[str, Any]]:
        """Return one row per group and shelter used, and one per group left unplaced."""
        p = self.placements[method]
        names = self.shelters["name"].tolist()
        ids = self.shelters["id"].tolist()
        out = []
        for i, g in enumerate(self.groups.itertuples(index=False)):
            base = {"method": method, "group_id": g.group_id, "need": g.need,
                    "lon": float(g.geometry.x), "lat": float(g.geometry.y)}
            for j in np.flatnonzero(p.flow[i]):
                out.append({**base, "people": int(p.flow[i, j]), "shelter_id": ids[j],
                            "shelter_name": names[j],
                            "travel_time_s": float(p.travel_s[i, j]), "unplaced_reason": ""})
            if p.unplaced[i]:
                out.append({**base, "people": int(p.unplaced[i]), "shelter_id": "",
                            "shelter_name": "", "travel_time_s": None,
                            "unplaced_reason": p.reason[i]})
        return out

    def to_csv(self) -> str:
        """Return every method's assignments as CSV text (formula-like cells neutralised)."""
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for method in self.placements:
            for row in self.assignments(method):
                t = row["travel_time_s"]
                row["travel_time_s"] = "" if t is None else f"{t:.1f}"
                writer.writerow([csv_cell(row[c]) for c in CSV_COLUMNS])
        return buf.getvalue()


def _fresh(counts: pd.DataFrame, window_h: Mapping[str, float], fresh_hours: float,
           now: datetime) -> set[str]:
    stale = set()
    for b in counts.itertuples(index=False):
        age = np.nan if pd.isna(b.reported_at) else (now - b.reported_at).total_seconds()
        w = window_h.get(str(b.resource_id), fresh_hours) * 3600.0
        if not fresh_counts([age], [w])[0]:
            stale.add(str(b.resource_id))
    return set(counts["resource_id"].astype(str)) - stale


def evacuation_shelters(store: Store, graph: TravelGraph, settings: Settings, *,
                        now: datetime | None = None) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Return the shelters offered to evacuees now, with free spaces by need, and notes."""
    now = now or datetime.now(UTC)
    res = store.resources(kinds=list(BED_KINDS), include_confidential=False)
    res = res[~res["confidential"].astype(bool)].reset_index(drop=True)
    surge = store.surge_sites()
    sites = store.bed_sites(res["id"].tolist())
    status = dict(zip(sites["resource_id"], sites["status"], strict=True))
    window = {str(r): float(h) for r, h in zip(sites["resource_id"], sites["fresh_hours"],
                                                strict=True) if pd.notna(h)}
    counts = store.bed_counts(res["id"].tolist())
    counts = counts[counts["bed_type"].astype(str).isin(NEEDS)]
    fresh = _fresh(counts, window, settings.bed_fresh_hours, now)
    keep, notes = [], []
    waiting = stale = 0
    for r in res.itertuples(index=False):
        if status.get(r.id, SiteStatus.OPEN.value) != SiteStatus.OPEN.value:
            continue
        if r.kind == ResourceKind.EVACUATION_SHELTER.value:
            site = surge.get(r.id)
            if site is None or not site.active:
                continue
            if site.opens_at is not None and site.opens_at > now:
                waiting += 1
                continue
        elif r.id not in fresh:
            stale += int(r.id in set(counts["resource_id"]))
            continue
        keep.append(r.id)
    if waiting:
        notes.append(f"{waiting} activated surge shelter(s) open later: not offered yet")
    if stale:
        notes.append(f"{stale} shelter(s) with need beds left out: counts not fresh")
    out = res[res["id"].isin(keep)].reset_index(drop=True)
    for n in NEEDS:
        mine = counts[counts["bed_type"].astype(str) == n]
        free = dict(zip(mine["resource_id"], mine["free"], strict=True))
        out[f"free_{n}"] = [int(free.get(r, 0)) for r in out["id"]]
    has = out[[f"free_{n}" for n in NEEDS]].sum(axis=1) > 0
    out = out[has].reset_index(drop=True)
    # On-road points (issue 14): a shelter on a long road is offered where it is.
    out = out.assign(**on_road_columns(graph, out.geometry.x.to_numpy(),
                                       out.geometry.y.to_numpy(),
                                       max_snap_m=settings.max_snap_m, strict=False))
    if (far := int((out["edge"] < 0).sum())):
        notes.append(f"{far} shelter(s) farther than {settings.max_snap_m:g} m from a road: "
                     "not offered")
    out = out[out["edge"] >= 0].reset_index(drop=True)
    notes.append(f"{len(out)} shelter(s) offered: "
                 f"{int((out['kind'] == ResourceKind.EVACUATION_SHELTER.value).sum())} active "
                 "surge shelter(s) and open shelters with fresh counts of need beds")
    return out, notes


def plan_evacuation(store: Store, graph: TravelGraph, settings: Settings, *, actor: str,
                    zone: Mapping[str, Any] | str | None = None,
                    households: str | None = None, demand: Demand | None = None,
                    shares: Mapping[str, float] | None = None,
                    methods: Sequence[Method] = ("optimal", "greedy"),
                    now: datetime | None = None) -> EvacuationPlan:
    """Place a zone's people (or uploaded households) into open shelters by road time.

    Parameters
    ----------
    store, graph, settings
        Shelters, roads, freshness window and snapping distance.
    actor
        Who asks, for the audit log.
    zone
        The evacuation zone: GeoJSON (Multi)Polygon, Feature or FeatureCollection (text or
        parsed), EPSG:4326; its people come from ``demand`` (default: the region's
        population layer) pro-rated by area (:func:`navigator.services.evacuees.zone_groups`).
    households
        CSV text of households instead of a zone (``lon, lat, size, need``), never split.
    shares
        Share of a zone's people per need (default
        :data:`navigator.services.evacuees.DEFAULT_SHARES`).
    methods
        ``optimal`` and/or ``greedy`` (the baseline), in that order in the result.

    Returns
    -------
    EvacuationPlan

    Raises
    ------
    ValidationError
        Neither or both of zone and households; an invalid zone, one outside the road
        network or with no population; a bad household row; an unknown method. Nothing is
        written, not even the audit entry. More people than capacity is no error: the result
        counts the unplaced by need and reason.
    """
    from navigator.roads import network_area, point_travel_time_matrix

    if (zone is None) == (households is None):
        msg = "give an evacuation zone or a households CSV, not both or neither"
        raise ValidationError(msg)
    if not methods or any(m not in ("optimal", "greedy") for m in methods):
        msg = f"methods must be optimal and/or greedy, got {list(methods)!r}"
        raise ValidationError(msg)
    notes: list[str] = []
    if zone is not None:
        polygon = parse_zone(zone)
        if not polygon.intersects(network_area(graph)):
            msg = "zone: the zone lies outside the road network"
            raise ValidationError(msg)
        if demand is None:
            from navigator.services.planning import load_demand

            demand = load_demand(graph, settings)
        groups, note = zone_groups(demand, polygon, shares=shares)
        notes.append(note)
    else:
        groups = read_households(households or "")
        notes.append(f"{len(groups)} households ({int(groups['people'].sum())} people) from "
                     "the uploaded list, each kept together")
    # On-road points (issue 14): people waiting on a long road are placed from where they are,
    # their times including the drive along that road to its ends.
    pts = snap_places(graph, groups, max_snap_m=settings.max_snap_m)
    groups = groups.assign(edge=pts.edge, snap_m=pts.distance_m)
    off = pts.edge < 0
    if off.any():
        notes.append(f"{int(groups['people'][off].sum())} people more than "
                     f"{settings.max_snap_m:g} m from a road: unplaced (unreachable by road)")
    shelters, shelter_notes = evacuation_shelters(store, graph, settings, now=now)
    notes.extend(shelter_notes)
    start = time.perf_counter()
    travel = np.full((len(groups), len(shelters)), np.inf)
    on_road = np.flatnonzero(~off)
    if on_road.size and len(shelters):
        # groups waiting at one point (a unit's needs) share one row of the matrix
        _, first, inv = np.unique(place_keys(pts.take(on_road)), return_index=True,
                                  return_inverse=True)
        travel[on_road] = point_travel_time_matrix(graph, pts.take(on_road[first]),
                                                   points_of(shelters))[inv.ravel()]
    route_s = time.perf_counter() - start
    need_index = {n: i for i, n in enumerate(NEEDS)}
    cap = (shelters[[f"free_{n}" for n in NEEDS]].to_numpy(dtype=np.int64) if len(shelters)
           else np.zeros((0, len(NEEDS)), dtype=np.int64))
    need = groups["need"].map(need_index).to_numpy()
    placements: dict[str, Placement] = {
        m: place_evacuees(NEEDS, need, groups["people"].to_numpy(), travel, cap,
                          whole=groups["whole"].to_numpy(dtype=bool), method=m)
        for m in methods}
    plan = EvacuationPlan(source="zone" if zone is not None else "households", groups=groups,
                          shelters=shelters, placements=placements, notes=tuple(notes),
                          route_s=route_s)
    summary = plan.summary()
    store.record("place_evacuees", actor=actor, subject=plan.source,
                 inputs={"source": plan.source, "zone": polygon.wkt[:2000] if zone is not None
                         else None, "households": len(groups) if households else None,
                         "shares": dict(shares) if shares else None, "methods": list(methods)},
                 result={k: summary[k] for k in ("people", "shelters", *methods)})
    return plan
