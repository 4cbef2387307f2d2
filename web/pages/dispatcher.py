"""The dispatcher's console: incidents, teams by status, ranking, assignment, batch plans."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, render_template, request

from navigator import services
from navigator.decide.triage import QUESTIONS
from navigator.jsonsafe import feature_collection, json_safe
from navigator.model import IncidentStatus, PositionPing, Role, TeamStatus
from web import schemas
from web.access import actor, require
from web.context import app_context
from web.openapi import endpoint
from web.render import (
    FEATURE_COLLECTION,
    area_tz,
    base_map,
    closures_info,
    embed_map,
    legend_context,
    record_dict,
)
from web.streams import event_stream, last_event_id

if TYPE_CHECKING:
    from flask.blueprints import BlueprintSetupState

    from navigator.exchange.geocode import Geocoder
    from web.context import AppContext

bp = Blueprint("dispatcher", __name__)
ROLES = (Role.DISPATCHER,)


def _geocoder(ctx: AppContext) -> Geocoder | None:
    """Return the process's street geocoder (built on first use, about a second)."""
    return ctx.cached("geocoder", lambda: (services.street_geocoder(ctx.settings),))[0]


@bp.record_once
def _warm(state: BlueprintSetupState) -> None:
    """Build the geocoder as the worker starts, not on a dispatcher's first list.

    In the app factory, before any request (and before gunicorn's ``--preload`` forks), so
    no request waits for it and no lock is held across a fork. Tests build it on first use.
    """
    if not state.app.testing:
        _geocoder(state.app.extensions["navigator"])


@bp.get("/dispatch")
@require(*ROLES)
def page() -> str:
    """Show the dispatch console (the map's live layers come from the JSON API)."""
    m = base_map(include_confidential=False, closures=False)  # dispatch.js draws them live
    settings = app_context().settings
    return render_template("dispatch.html", map=embed_map(m), tz=area_tz(),
                           stale_s=settings.stale_position_min * 60.0,
                           checkin_min=settings.checkin_interval_min,
                           crisis_types=[c.value for c in schemas.CrisisType],
                           intake_questions=QUESTIONS,
                           team_statuses=[s.value for s in TeamStatus], **legend_context())

@endpoint(bp, "/api/incidents", summary="Incidents as GeoJSON (default: open and assigned)",
          roles=ROLES, query=schemas.IncidentQuery, response=FEATURE_COLLECTION)
def incidents(query: schemas.IncidentQuery) -> dict[str, Any]:
    """Return incidents of a status (default open and assigned) with their street address."""
    ctx = app_context()
    statuses = [query.status] if query.status else [IncidentStatus.OPEN,
                                                    IncidentStatus.ASSIGNED]
    return feature_collection(services.incident_board(ctx.store, geocoder=_geocoder(ctx),
                                                      statuses=statuses))

@endpoint(bp, "/api/dispatch/events", summary="Live console: server-sent change events",
          roles=ROLES, query=schemas.EventsQuery, files=("text/event-stream",), errors=(503,))
def events(query: schemas.EventsQuery) -> Response:
    """Stream ``change`` events (the store's change version) for a bounded time.

    The browser reconnects with ``Last-Event-ID`` and misses nothing; 503 when this process
    serves its maximum of streams (the console polls then).
    """
    ctx = app_context()
    since = last_event_id(request.headers.get("Last-Event-ID"), query.since)
    return event_stream(services.console_events(ctx.store, ctx.settings, since=since))

@endpoint(bp, "/api/dispatch/checkins", summary="Teams on scene and their safety check-ins",
          roles=ROLES)
def checkins() -> dict[str, Any]:
    """Return every team on scene with when its check-in is due; overdue ones first."""
    ctx = app_context()
    checks = services.safety_board(ctx.store, ctx.settings)
    return {"interval_min": ctx.settings.checkin_interval_min,
            "overdue": sum(c.overdue for c in checks),
            "checks": [c.to_dict() for c in checks]}

@endpoint(bp, "/api/teams/<team_id>/check-in", "POST", summary="A team's safety check-in",
          roles=ROLES, body=schemas.CheckIn, errors=(404, 409))
def check_in(team_id: str, body: schemas.CheckIn) -> dict[str, Any]:
    """Restart an on-scene team's check-in clock (409 unless the team is on scene)."""
    ctx = app_context()
    return services.check_in(ctx.store, ctx.settings, team_id=team_id, actor=actor(),
                             note=body.note).to_dict()

@endpoint(bp, "/api/teams/<team_id>/check-in/acknowledge", "POST",
          summary="Acknowledge a team's overdue check-in alert (audited)", roles=ROLES,
          body=schemas.CheckIn, errors=(404, 409))
def acknowledge(team_id: str, body: schemas.CheckIn) -> dict[str, Any]:
    """Silence an overdue alert for one more interval; the team still has to check in."""
    ctx = app_context()
    return services.check_in(ctx.store, ctx.settings, team_id=team_id, actor=actor(),
                             note=body.note, acknowledge=True).to_dict()

@endpoint(bp, "/api/incidents", "POST", summary="Create an incident", roles=ROLES,
          body=schemas.IncidentCreate, status=201, errors=(409, 422))
def create_incident(body: schemas.IncidentCreate) -> dict[str, Any]:
    """Create an open incident at a place on the road network (id generated by the server).

    The place must lie within ``max_snap_m`` of a road node (else 422, nothing stored):
    swapped coordinates or a point at sea are refused before anything is written. With
    ``radius_m`` or ``area`` only the caller's area is known: a bad area is a 400, one
    holding no road node a 422, nothing stored. With an
    intake ``assessment`` the triage rules set the priority and the needs (``triage`` in the
    answer says what to send and why).
    """
    from navigator.decide.triage import Assessment

    ctx = app_context()
    fields = {"id": f"inc-{secrets.token_hex(5)}", "lon": body.lon, "lat": body.lat,
              "crisis_type": body.crisis_type, "priority": body.priority,
              "needed_skills": tuple(body.needed_skills),
              "needed_languages": tuple(body.needed_languages), "notes": body.notes}
    assessment = (Assessment.from_dict(body.assessment.model_dump(exclude_none=True))
                  if body.assessment is not None else None)
    graph = ctx.roads()
    stored, triaged = services.add_incident(ctx.store, graph, ctx.settings, fields,
                                            actor=actor(), assessment=assessment,
                                            radius_m=body.radius_m, area=body.area)
    return closures_info({**record_dict(stored), "triage": triaged.to_dict() if triaged else None},
                         graph, ((stored.lon, stored.lat),))

@endpoint(bp, "/api/incidents/<incident_id>", summary="One incident", roles=ROLES)
def incident(incident_id: str) -> dict[str, Any]:
    """Return one incident."""
    return record_dict(app_context().store.incident(incident_id))

@endpoint(bp, "/api/incidents/<incident_id>/location", "POST",
          summary="Refine an incident to its exact point (clears its area; audited)",
          roles=ROLES, body=schemas.IncidentLocation, errors=(404, 409, 422))
def incident_location(incident_id: str, body: schemas.IncidentLocation) -> dict[str, Any]:
    """Set the exact point: off-network 422, resolved/cancelled 409, nothing written."""
    ctx = app_context()
    return record_dict(services.locate_incident(ctx.store, ctx.roads(), ctx.settings,
                                                incident_id=incident_id, lon=body.lon,
                                                lat=body.lat, actor=actor()))

@endpoint(bp, "/api/incidents/<incident_id>/status", "POST",
          summary="Resolve, cancel or reopen an incident", roles=ROLES,
          body=schemas.IncidentStatusUpdate, errors=(409,))
def incident_status(incident_id: str, body: schemas.IncidentStatusUpdate) -> dict[str, Any]:
    """Move an incident to a new status."""
    store = app_context().store
    return record_dict(store.set_incident_status(incident_id, IncidentStatus(body.status),
                                                 actor=actor()))

@endpoint(bp, "/api/incidents/<incident_id>/rank", "POST",
          summary="Rank teams for an incident by road ETA, with routes", roles=ROLES,
          body=schemas.RankRequest, errors=(422,))
def rank(incident_id: str, body: schemas.RankRequest) -> dict[str, Any]:
    """Return the best teams for an incident, each with its route (GeoJSON Feature)."""
    ctx = app_context()
    graph = ctx.roads()
    ranking = services.rank_teams(ctx.store, graph, ctx.settings,
                                  incident_id=incident_id, actor=actor(),
                                  include_returning=body.include_returning,
                                  prefer_coverage=body.prefer_coverage,
                                  skill_policy=body.skill_policy, k=body.k)
    return closures_info(ranking.to_dict(), graph)

@endpoint(bp, "/api/teams", summary="Teams at their current positions as GeoJSON",
          roles=(*ROLES, "planner"), response=FEATURE_COLLECTION)
def teams() -> dict[str, Any]:
    """Return every team with its status."""
    return feature_collection(app_context().store.teams())

@endpoint(bp, "/api/teams/<team_id>/status", "POST",
          summary="Set a team's status (en route, on scene, returning, available)",
          roles=ROLES, body=schemas.TeamStatusUpdate, errors=(409,))
def team_status(team_id: str, body: schemas.TeamStatusUpdate) -> dict[str, Any]:
    """Change a team's status."""
    team = services.update_team(app_context().store, team_id=team_id, actor=actor(),
                                status=body.status)
    return record_dict(team)

@endpoint(bp, "/api/teams/<team_id>/position", "POST",
          summary="Report a team's GPS position: one ping or a batch (late pings ignored)",
          roles=ROLES, body=schemas.PositionReport, errors=(404, 422))
def team_position(team_id: str, body: schemas.PositionReport) -> dict[str, Any]:
    """Move a team to its newest ping; NaN, future, off-network pings refuse the batch."""
    ctx = app_context()
    pings = [PositionPing(lon=p.lon, lat=p.lat, at=p.at) for p in body.all_pings()]
    done = services.report_positions(ctx.store, ctx.roads(), ctx.settings, team_id=team_id,
                                     pings=pings, actor=actor())
    return {"team": record_dict(done.team), "applied": done.applied,
            "accepted": done.accepted, "ignored": done.ignored}

@endpoint(bp, "/api/assignments", summary="Active assignments", roles=ROLES)
def assignments() -> dict[str, Any]:
    """Return the active assignments."""
    df = app_context().store.assignments(active_only=True)
    return {"assignments": [{c: json_safe(v) for c, v in row.items()}
                            for row in df.to_dict(orient="records")]}

@endpoint(bp, "/api/assignments", "POST", summary="Send a team to an incident", roles=ROLES,
          body=schemas.AssignmentCreate, status=201, errors=(409,))
def assign(body: schemas.AssignmentCreate) -> dict[str, Any]:
    """Assign a team (one guarded write; a repeated idempotency key returns the first)."""
    ctx = app_context()
    done = services.assign_team(ctx.store, ctx.roads(), ctx.settings,
                                incident_id=body.incident_id, team_id=body.team_id,
                                actor=actor(), idempotency_key=body.idempotency_key,
                                allow_returning=body.allow_returning, backup=body.backup,
                                override_reason=body.override_reason)
    return record_dict(done)

@endpoint(bp, "/api/assignments/<assignment_id>/finish", "POST",
          summary="Complete or cancel an assignment", roles=ROLES,
          body=schemas.AssignmentFinish, errors=(409,))
def finish(assignment_id: str, body: schemas.AssignmentFinish) -> dict[str, Any]:
    """Complete (team returning) or cancel (team available) an assignment."""
    done = services.finish_assignment(app_context().store, assignment_id=assignment_id,
                                      actor=actor(), status=body.status)
    return record_dict(done)

@endpoint(bp, "/api/plan", "POST", summary="Batch plan: pair open incidents with teams",
          roles=ROLES, body=schemas.PlanRequest)
def plan(body: schemas.PlanRequest) -> dict[str, Any]:
    """Return optimal and greedy pairings (nothing is written)."""
    ctx = app_context()
    graph = ctx.roads()
    result = services.plan_batch(ctx.store, graph, ctx.settings, actor=actor(),
                                 objective=body.objective,
                                 include_returning=body.include_returning,
                                 skill_policy=body.skill_policy,
                                 incident_ids=body.incident_ids)
    return closures_info(result.to_dict(), graph)
