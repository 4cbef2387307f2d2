"""Dispatcher services: incidents, rank teams for an incident, assign, positions.

Each function routes first (no store lock held), then makes one guarded store call, and
records its decision with ``store.record``. Area incidents (a caller's area, not a point) are
checked and ranked over their road nodes by :mod:`navigator.services.incident_area`; batch
plans live in :mod:`navigator.services.batch`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from navigator.decide.dispatch import (
    SkillPolicy,
    TeamOption,
    TeamRanking,
    coverage_without,
    covers,
    team_order,
)
from navigator.errors import (
    ConflictError,
    NoAvailableResourceError,
    UnreachableError,
    ValidationError,
)
from navigator.model import AssignmentStatus, Incident, TeamStatus
from navigator.services._on_road import snap_sites, sweeps_from
from navigator.services._teams import missing_fit, position_age, speaks, team_statuses
from navigator.services.batch import plan_batch
from navigator.services.incident_area import WEIGHTING, area_incident, area_spread

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from navigator.config import Settings
    from navigator.decide.triage import Assessment, Triage
    from navigator.model import Assignment, PositionPing, PositionUpdate, Team
    from navigator.roads import TravelGraph
    from navigator.services.context import AreaContext
    from navigator.store import Store

__all__ = ["add_incident", "assign_team", "finish_assignment", "missing_fit", "plan_batch",
           "rank_teams", "report_positions", "update_team"]


def _minutes(seconds: float | None) -> str:
    return (f"{seconds / 60:.0f} min" if seconds is not None and np.isfinite(seconds)
            else "unknown (part of the area unreachable)")


def rank_teams(store: Store, graph: TravelGraph, settings: Settings, *, incident_id: str,
               actor: str, at: datetime | None = None, include_returning: bool = False,
               prefer_coverage: bool = False, skill_policy: SkillPolicy = "require",
               penalty_s: float = 900.0, on_scene_s: float = 3600.0,
               exclude_short_shift: bool = False, tolerance_s: float = 120.0, k: int = 5,
               population: npt.ArrayLike | None = None, area: AreaContext | None = None
               ) -> TeamRanking:
    """Return teams for an incident, best first, by road ETA from their current position.

    Parameters
    ----------
    store, graph, settings
        Records, roads, defaults.
    incident_id
        The incident.
    actor
        Who asks (audit log).
    at
        Now (timezone-aware; default the current time) for shift checks.
    include_returning
        Also consider teams returning from a call.
    prefer_coverage
        Among teams within ``tolerance_s`` seconds of the best, offer first the one whose
        departure leaves least of the area beyond its response target.
    skill_policy, penalty_s
        ``"require"`` leaves out teams lacking a needed skill or language; ``"penalty"``
        adds ``penalty_s`` seconds per missing fit instead.
    on_scene_s
        Expected time on scene, seconds: a shift ending before ETA + this is flagged
        (``shift_ok=False``, offered last) or, with ``exclude_short_shift``, left out.
    k
        Options returned (with routes).
    population
        Weight per graph node for coverage (default: every node counts 1).
    area
        Time zone, holidays and response targets (default ``area_context``).

    Returns
    -------
    TeamRanking
        For an area incident each ``eta_s`` is the expected ETA over the area's road nodes,
        uniform-weighted (each node counts once), with ``eta_best_s`` / ``eta_worst_s`` the
        spread; the ranking, targets and shift checks use the expected ETA, and the routes
        go to the area's centre node (``area`` says so). When no team fits the policy, the
        nearest teams anyway (``nothing_fits=True``), each with what it lacks; sending one
        then needs an override reason. Each option carries the age of the position its ETA
        starts from, flagged when older than ``settings.stale_position_min``.

    Raises
    ------
    NoAvailableResourceError
        No team can be routed to the incident at all.
    """
    from navigator.roads import (
        point_travel_time_matrix,
        route_between_points,
        snap_to_edges,
    )
    from navigator.services.context import area_context, checked_moment

    now = checked_moment(at)
    ctx = area or area_context(graph, settings)
    inc = store.incident(incident_id)
    target_s = float(ctx.targets.at(inc.lon, inc.lat)[0])
    teams = store.teams(statuses=team_statuses(include_returning)).reset_index(drop=True)
    where = snap_sites(graph, teams.geometry.x.to_numpy(), teams.geometry.y.to_numpy(),
                       max_snap_m=settings.max_snap_m)
    ok = where.edge >= 0
    spread = area_spread(graph, inc, where) if inc.is_area else None
    if spread is not None:
        # an area incident: the expected ETA over the area's road nodes (uniform-weighted)
        # ranks; routes go to the area's centre node
        spot, eta = spread.centre, spread.expected_s.copy()
    else:
        # On-road points (issue 14): teams and the incident snap to edges, ETAs include the
        # partial edge times.
        spot = snap_to_edges(graph, [inc.lon], [inc.lat], max_snap_m=settings.max_snap_m)
        eta = np.full(len(teams), np.inf)
        if ok.any():
            eta[ok] = point_travel_time_matrix(graph, where.take(np.flatnonzero(ok)),
                                               spot)[:, 0]
    fits = covers(teams["skills"], inc.needed_skills)
    lang = np.array([speaks(x, inc.needed_languages) for x in teams["languages"]], dtype=bool)
    ends = [None if e is None or e != e else e.to_pydatetime() for e in teams["shift_end"]]
    shift_ok = np.array([e is None or (np.isfinite(t) and e >= now + timedelta(
        seconds=float(t) + on_scene_s)) for e, t in zip(ends, eta, strict=True)], dtype=bool)
    # Coverage: travel times from every available team to every node, within the target
    # (the engine picks a whole-graph sweep or a bounded search by what the cutoff settles).
    avail = np.flatnonzero((teams["status"] == TeamStatus.AVAILABLE).to_numpy() & ok)
    node_target = ctx.targets.at(graph.lon, graph.lat)
    cutoff = float(node_target.max())
    matrix = sweeps_from(graph, where.take(avail), cutoff_s=cutoff)
    baseline, without = coverage_without(matrix, node_target, weight=population)
    uncovered = np.full(len(teams), baseline)
    uncovered[avail] = without
    order, score = team_order(eta, fits_skills=fits, fits_language=lang, shift_ok=shift_ok,
                              skill_policy=skill_policy, penalty_s=penalty_s,
                              exclude_short_shift=exclude_short_shift,
                              coverage_loss=uncovered - baseline,
                              prefer_coverage=prefer_coverage, tolerance_s=tolerance_s)

    stale_s = settings.stale_position_min * 60.0

    def option(i: int, with_route: bool) -> TeamOption:
        t = teams.iloc[i]
        path = None
        if with_route and np.isfinite(eta[i]):
            path = route_between_points(graph, where.take(i), spot)
        lacks_skills, lacks_languages = missing_fit(
            t["skills"], t["languages"], needed_skills=inc.needed_skills,
            needed_languages=inc.needed_languages)
        age = position_age(t["position_at"], now)
        fixed = t["position_at"]
        return TeamOption(
            team_id=t["id"], name=t["name"], status=str(t["status"]), eta_s=float(eta[i]),
            score_s=float(score[i]), fits_skills=bool(fits[i]), fits_language=bool(lang[i]),
            missing_skills=lacks_skills, missing_languages=lacks_languages,
            shift_ok=bool(shift_ok[i]), shift_end=ends[i],
            uncovered_share=float(uncovered[i]), coverage_loss=float(uncovered[i] - baseline),
            meets_target=bool(eta[i] <= target_s), target_s=target_s, route=path,
            position_at=None if age is None else fixed.to_pydatetime(),
            position_age_s=age, position_stale=age is not None and age > stale_s,
            eta_best_s=None if spread is None else float(spread.best_s[i]),
            eta_worst_s=None if spread is None else float(spread.worst_s[i]))

    options = tuple(option(int(i), True) for i in order[:k])
    nothing_fits = not options
    if options:
        best = options[0]
        when = (f"in {best.eta_s / 60:.0f} min" if spread is None else
                f"(expected {best.eta_s / 60:.0f} min, worst {_minutes(best.eta_worst_s)})")
        message = (f"{len(order)} team(s) can go; best {best.name} {when}"
                   f" ({'meets' if best.meets_target else 'misses'} the "
                   f"{target_s / 60:g}-minute target)")
    else:
        message = (f"no {'available or returning' if include_returning else 'available'} team "
                   f"fits incident {incident_id} (skills {list(inc.needed_skills)}, languages "
                   f"{list(inc.needed_languages)})")
        # the nearest teams anyway, each with what it lacks: the dispatcher decides
        nearest = [int(i) for i in np.argsort(eta, kind="stable") if np.isfinite(eta[i])][:k]
        options = tuple(option(i, True) for i in nearest)
        if options:
            message += (f"; the nearest {len(options)} shown with what each lacks "
                        "(sending one needs an override reason)")
    area_info = None
    if spread is not None:
        area_info = {"nodes": int(spread.nodes.size), "weighting": WEIGHTING,
                     "route_to": "the area's centre node", "radius_m": inc.area_radius_m}
        message += (f"; area of {spread.nodes.size} road nodes: ETAs expected ({WEIGHTING}"
                    "-weighted mean) and worst over them, routes to the area's centre node")
    stale = [o.name for o in options if o.position_stale]
    if stale:
        message += (f"; stale position (over {settings.stale_position_min:g} min old): "
                    + ", ".join(stale))
    ranking = TeamRanking(incident_id=incident_id, options=options,
                          baseline_uncovered_share=baseline, target_s=target_s,
                          skill_policy=skill_policy, prefer_coverage=prefer_coverage,
                          message=message, nothing_fits=nothing_fits, area=area_info)
    store.record("rank_teams", actor=actor, subject=incident_id,
                 inputs={"incident_id": incident_id, "at": now.isoformat(),
                         "include_returning": include_returning, "skill_policy": skill_policy,
                         "prefer_coverage": prefer_coverage, "on_scene_s": on_scene_s},
                 result={"message": message, "nothing_fits": nothing_fits,
                         "area": area_info,
                         "options": [{"team_id": o.team_id, "eta_s": round(o.eta_s, 1),
                                      "eta_worst_s": o.eta_worst_s,
                                      "shift_ok": o.shift_ok, "meets_target": o.meets_target,
                                      "missing_skills": list(o.missing_skills),
                                      "missing_languages": list(o.missing_languages),
                                      "position_stale": o.position_stale}
                                     for o in options]})
    if not options:
        raise NoAvailableResourceError(message + "; no team can be routed to it")
    return ranking


def assign_team(store: Store, graph: TravelGraph, settings: Settings, *, incident_id: str,
                team_id: str, actor: str, idempotency_key: str | None = None,
                allow_returning: bool = False, backup: bool = False,
                override_reason: str | None = None) -> Assignment:
    """Send a team to an incident: route first, then one guarded store write.

    The ETA from the team's current position is stored with the assignment (None when it
    cannot be routed; for an area incident the expected ETA over the area's road nodes). A
    second dispatcher sending the same team gets ``ConflictError``, and so does sending a
    second team to an incident that has one, unless ``backup``.

    A team lacking a needed skill, or speaking none of the needed languages, is sent only
    with an ``override_reason`` (kept with the assignment and in the audit log); without
    one, ``ConflictError`` names what it lacks and nothing is written.
    """
    from navigator.roads import point_travel_time_matrix, snap_to_edges

    team = store.team(team_id)
    inc = store.incident(incident_id)
    reason = (override_reason or "").strip()
    lacks_skills, lacks_languages = missing_fit(
        team.skills, team.languages, needed_skills=inc.needed_skills,
        needed_languages=inc.needed_languages)
    lacks = [*(f"skill {s}" for s in lacks_skills),
             *([f"language ({' or '.join(lacks_languages)})"] if lacks_languages else [])]
    if lacks and not reason:
        msg = (f"team {team_id!r} lacks {', '.join(lacks)} needed by incident {incident_id!r};"
               " send it only with an override reason")
        raise ConflictError(msg)
    if not lacks:
        reason = ""
    eta: float | None = None
    try:
        ends = snap_to_edges(graph, [team.lon, inc.lon], [team.lat, inc.lat],
                             max_snap_m=settings.max_snap_m, strict=not inc.is_area)
        t = (float(area_spread(graph, inc, ends.take(0)).expected_s[0]) if inc.is_area else
             float(point_travel_time_matrix(graph, ends.take(0), ends.take(1))[0, 0]))
        eta = t if np.isfinite(t) else None
    except UnreachableError:
        eta = None
    return store.assign_team(team_id, incident_id, actor=actor, eta_s=eta,
                             idempotency_key=idempotency_key,
                             allowed_statuses=team_statuses(allow_returning), backup=backup,
                             override_reason=reason)


def add_incident(store: Store, graph: TravelGraph, settings: Settings,
                 incident: Incident | Mapping[str, Any], *, actor: str,
                 assessment: Assessment | None = None, radius_m: float | None = None,
                 area: Any = None) -> tuple[Incident, Triage | None]:
    """Record a new incident once its place is known to be on the road network.

    A point in the ocean, outside the loaded area or with lon/lat swapped is refused with
    ``UnreachableError`` (nothing is stored), so every recorded incident can be routed to.
    ``incident`` is a record or its fields (a mapping; lon/lat not needed with ``area``).
    With ``radius_m`` (a circle around lon/lat) or ``area`` (GeoJSON Polygon/MultiPolygon),
    only the caller's area is known: it is checked and kept by
    :func:`navigator.services.incident_area.area_incident` (bad or off-network areas raise
    ``ValidationError`` / ``UnreachableError``, nothing stored).
    With an intake ``assessment``, the triage rules (:mod:`navigator.decide.triage`) set the
    priority and add the skills and language the response needs; the incident's notes and
    the audit log carry the required response and the reasons.

    Returns
    -------
    incident, triage
        The stored incident, and the triage result (None without an assessment).
    """
    import dataclasses

    from navigator.decide.triage import triage
    from navigator.roads import snap_to_edges

    if radius_m is not None or area is not None:
        fields = (dataclasses.asdict(incident) if isinstance(incident, Incident)
                  else dict(incident))
        incident = area_incident(graph, settings, fields, radius_m=radius_m, area=area)
    elif not isinstance(incident, Incident):
        incident = Incident(**incident)
    if not incident.is_area:
        snap_to_edges(graph, [incident.lon], [incident.lat], max_snap_m=settings.max_snap_m)
    result = None
    if assessment is not None:
        result = triage(assessment)
        why = f"triage: {result.response.label} ({'; '.join(result.reasons)})"
        incident = dataclasses.replace(
            incident, priority=result.priority,
            needed_skills=tuple(dict.fromkeys((*incident.needed_skills,
                                               *result.needed_skills))),
            needed_languages=tuple(dict.fromkeys((*incident.needed_languages,
                                                  *result.needed_languages))),
            notes=(f"{incident.notes}\n{why}" if incident.notes else why)[:500])
    stored = store.add_incident(incident, actor=actor)
    if assessment is not None and result is not None:
        store.record("triage", actor=actor, subject=stored.id,
                     inputs=dataclasses.asdict(assessment), result=result.to_dict())
    return stored, result


def update_team(store: Store, *, team_id: str, actor: str, status: TeamStatus | str | None = None,
                lon: float | None = None, lat: float | None = None) -> Team:
    """Change a team's status and/or position (the store stamps ``updated_at``)."""
    return store.update_team(team_id, actor=actor,
                             status=TeamStatus(status) if status is not None else None,
                             lon=lon, lat=lat)


def report_positions(store: Store, graph: TravelGraph, settings: Settings, *, team_id: str,
                     pings: Sequence[PositionPing], actor: str, at: datetime | None = None
                     ) -> PositionUpdate:
    """Record GPS pings of a team: the newest moves it, late or out-of-order ones are ignored.

    Every ping is checked before anything is written: the team must exist, each time may be
    at most ``settings.position_skew_s`` seconds ahead of ``at`` (now), and each place must
    lie within ``settings.max_snap_m`` of the road network. One bad ping refuses the batch.

    Raises
    ------
    NotFoundError
        Unknown team.
    ValidationError
        No pings, or a ping from the future.
    UnreachableError
        A ping too far from the road network (swapped lon/lat, a GPS glitch, out of area).
    """
    from navigator.roads import snap_to_edges
    from navigator.services.context import checked_moment

    now = checked_moment(at)
    store.team(team_id)
    pings = tuple(pings)
    if not pings:
        msg = f"team {team_id!r}: no position pings"
        raise ValidationError(msg)
    ahead = now + timedelta(seconds=settings.position_skew_s)
    future = [p.at.isoformat() for p in pings if p.at > ahead]
    if future:
        msg = (f"team {team_id!r}: ping time(s) {', '.join(future[:3])} lie in the future "
               f"(server time {now.isoformat(timespec='seconds')}); nothing recorded")
        raise ValidationError(msg)
    snap_to_edges(graph, [p.lon for p in pings], [p.lat for p in pings],
                  max_snap_m=settings.max_snap_m)
    return store.report_positions(team_id, pings, actor=actor)


def finish_assignment(store: Store, *, assignment_id: str, actor: str,
                      status: AssignmentStatus | str = AssignmentStatus.COMPLETED) -> Assignment:
    """Complete (team returning) or cancel (team available, incident open) an assignment."""
    return store.finish_assignment(assignment_id, actor=actor, status=AssignmentStatus(status))
