"""``navigator`` commands for dispatchers: incidents, rank and send teams, batch plans.

Each command parses its options, calls one function of :mod:`navigator.services.dispatcher`
and prints what it returns (services are imported when a command runs).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, get_args

from navigator.cli.common import Context, add_command, minutes_text, print_json, print_table
from navigator.decide.triage import QUESTIONS, Assessment
from navigator.model import AssignmentStatus, CrisisType, Objective, TeamStatus

if TYPE_CHECKING:
    import argparse

    from navigator.cli.common import Subcommands

__all__ = ["register", "run_assign", "run_batch", "run_check_in", "run_checkins",
           "run_finish", "run_locate_incident", "run_new_incident", "run_rank_teams",
           "run_team_status"]


def run_new_incident(args: argparse.Namespace, ctx: Context) -> int:
    """Record a new incident at a place on the road network."""
    from navigator import services

    now = datetime.now(UTC)
    fields = {"id": args.id or f"inc-{uuid.uuid4().hex[:8]}", "lon": args.lon,
              "lat": args.lat, "crisis_type": args.type, "priority": args.priority,
              "needed_skills": tuple(args.skill or ()),
              "needed_languages": tuple(args.language or ()), "created_at": now,
              "updated_at": now, "notes": args.notes}
    answers = {q: True for q in QUESTIONS if getattr(args, q)}
    if args.caller_language:
        answers["language"] = args.caller_language
    assessment = Assessment.from_dict(answers) if answers else None
    area = None
    if args.area:  # size-limited, and a file that is not UTF-8 JSON is a message
        from navigator.services.closures import read_closure_file

        area = read_closure_file(Path(args.area))
    stored, triaged = services.add_incident(ctx.store, ctx.graph, ctx.settings, fields,
                                            actor=args.actor, assessment=assessment,
                                            radius_m=args.radius_m, area=area)
    if args.json:
        print_json({"id": stored.id, "priority": stored.priority, "lon": stored.lon,
                    "lat": stored.lat, "area": stored.is_area,
                    "area_radius_m": stored.area_radius_m,
                    "triage": triaged.to_dict() if triaged else None})
        return 0
    print(stored.id)
    if stored.is_area:
        print(f"area incident (centre {stored.lon:.6f}, {stored.lat:.6f}"
              + (f", radius {stored.area_radius_m:g} m" if stored.area_radius_m else "")
              + "); refine it with: navigator locate-incident " + stored.id)
    if triaged is not None:
        print(f"triage: priority {triaged.priority}, send {triaged.response.label}")
        for reason in triaged.reasons:
            print(f"  - {reason}")
    return 0


def run_rank_teams(args: argparse.Namespace, ctx: Context) -> int:
    """Rank teams for an incident by road ETA, with skills, shift and coverage."""
    from navigator import services

    ranking = services.rank_teams(ctx.store, ctx.graph, ctx.settings,
                                  incident_id=args.incident_id, actor=args.actor,
                                  include_returning=args.include_returning,
                                  prefer_coverage=args.prefer_coverage, k=args.k)
    if args.json:
        print_json(ranking.to_dict())
        return 0
    print(ranking.message)
    print_table((f"{i}.", o.name, f"[{o.team_id}]", o.status, minutes_text(o.eta_s)
                 if o.eta_worst_s is None else f"expected {minutes_text(o.eta_s)}, "
                 f"worst {minutes_text(o.eta_worst_s)}",
                 "meets target" if o.meets_target else "MISSES target",
                 "" if o.fits_skills else "lacks " + ",".join(o.missing_skills),
                 "" if o.fits_language else "speaks none of " + ",".join(o.missing_languages),
                 "" if o.shift_ok else "shift ends first",
                 "STALE position" if o.position_stale else "",
                 f"leaves {o.uncovered_share:.0%} uncovered")
                for i, o in enumerate(ranking.options, 1))
    return 0


def run_locate_incident(args: argparse.Namespace, ctx: Context) -> int:
    """Set an incident's exact point (clears its area; audited)."""
    from navigator import services

    done = services.locate_incident(ctx.store, ctx.graph, ctx.settings,
                                    incident_id=args.incident_id, lon=args.lon, lat=args.lat,
                                    actor=args.actor)
    print(f"incident {done.id} is at {done.lon:.6f}, {done.lat:.6f} (area cleared)")
    return 0


def run_assign(args: argparse.Namespace, ctx: Context) -> int:
    """Send a team to an incident (a team already sent elsewhere is a conflict)."""
    from navigator import services

    a = services.assign_team(ctx.store, ctx.graph, ctx.settings, incident_id=args.incident_id,
                             team_id=args.team_id, actor=args.actor,
                             idempotency_key=args.key or str(uuid.uuid4()),
                             allow_returning=args.allow_returning, backup=args.backup,
                             override_reason=args.override)
    print(f"assignment {a.id}: team {a.team_id} -> incident {a.incident_id}, "
          f"ETA {minutes_text(a.eta_s)}"
          + (f" (override: {a.override_reason})" if a.override_reason else ""))
    return 0


def run_team_status(args: argparse.Namespace, ctx: Context) -> int:
    """Set a team's status (available, en_route, on_scene, returning, off_duty)."""
    from navigator import services

    team = services.update_team(ctx.store, team_id=args.team_id, actor=args.actor,
                                status=args.status)
    print(f"team {team.id} is {team.status}")
    return 0


def run_finish(args: argparse.Namespace, ctx: Context) -> int:
    """Complete (or --cancel) an assignment."""
    from navigator import services

    status = AssignmentStatus.CANCELLED if args.cancel else AssignmentStatus.COMPLETED
    a = services.finish_assignment(ctx.store, assignment_id=args.assignment_id,
                                   actor=args.actor, status=status)
    print(f"assignment {a.id} is {a.status}")
    return 0


def run_check_in(args: argparse.Namespace, ctx: Context) -> int:
    """Record a team's safety check-in (or --acknowledge its overdue alert)."""
    from navigator import services

    c = services.check_in(ctx.store, ctx.settings, team_id=args.team_id, actor=args.actor,
                          note=args.note, acknowledge=args.acknowledge)
    print(f"team {c.team_id} {'alert acknowledged' if args.acknowledge else 'checked in'}; "
          f"next check-in due {c.due_at.isoformat(timespec='seconds')}")
    return 0


def run_checkins(args: argparse.Namespace, ctx: Context) -> int:
    """List the teams on scene and their safety check-ins; overdue ones first."""
    from navigator import services

    checks = services.safety_board(ctx.store, ctx.settings)
    if args.json:
        print_json({"interval_min": ctx.settings.checkin_interval_min,
                    "checks": [c.to_dict() for c in checks]})
        return 0
    if not checks:
        print("no team on scene")
    print_table((c.team_id, c.name, "OVERDUE " + minutes_text(c.overdue_s) if c.overdue
                 else "ok", "due " + c.due_at.isoformat(timespec="seconds"),
                 f"acknowledged by {c.acknowledged_by}" if c.acknowledged_by else "")
                for c in checks)
    return 0


def run_batch(args: argparse.Namespace, ctx: Context) -> int:
    """Pair all open incidents with teams: optimal and greedy plans side by side."""
    from navigator import services

    plan = services.plan_batch(ctx.store, ctx.graph, ctx.settings, actor=args.actor,
                               objective=args.objective,
                               include_returning=args.include_returning)
    if args.json:
        print_json(plan.to_dict())
        return 0
    for p in (plan.optimal, plan.greedy):
        print(f"{p.method}: total {minutes_text(p.total_s)}, worst {minutes_text(p.worst_s)}, "
              f"priority-weighted {minutes_text(p.weighted_total_s)}")
        print_table((team, "->", inc, minutes_text(eta)) for team, inc, eta in p.pairs)
        if p.unassigned:
            print("  unassigned: " + ", ".join(p.unassigned))
    return 0


# -- parser --------------------------------------------------------------------------------
def register(sub: Subcommands) -> None:
    """Add the dispatcher commands to the ``navigator`` parser's subcommands ``sub``."""
    p = add_command(sub, "new-incident", run_new_incident, "record an incident")
    p.add_argument("--lon", type=float, help="longitude, EPSG:4326 degrees (the point, or "
                                             "the centre with --radius-m)")
    p.add_argument("--lat", type=float, help="latitude, EPSG:4326 degrees")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--radius-m", type=float, metavar="METRES",
                       help="only an area is known: a circle of this radius around --lon/--lat")
    where.add_argument("--area", metavar="FILE.geojson",
                       help="only an area is known: a GeoJSON Polygon/MultiPolygon (or a "
                            "Feature) file, at most 50 km across; no --lon/--lat needed")
    p.add_argument("--type", required=True, help=f"crisis type, one of {', '.join(CrisisType)}")
    p.add_argument("--priority", type=int, default=2, help="1 (highest) to 4")
    p.add_argument("--skill", action="append", help="skill the team needs (repeatable)")
    p.add_argument("--language", action="append", help="language needed (repeatable)")
    p.add_argument("--notes", default="", help="free text")
    p.add_argument("--id", help="incident id (default: generated)")
    intake = p.add_argument_group("intake assessment (the triage rules then set the priority "
                                  "and the needs)")
    for q in QUESTIONS:
        intake.add_argument("--" + q.replace("_", "-"), dest=q, action="store_true",
                            help=f"yes: {q.replace('_', ' ')}")
    intake.add_argument("--caller-language", help="caller's language (ISO 639 code)")

    p = add_command(sub, "rank-teams", run_rank_teams, "rank teams for an incident by road ETA")
    p.add_argument("incident_id")
    p.add_argument("--k", type=int, default=5, help="how many teams to show")
    p.add_argument("--include-returning", action="store_true", help="consider returning teams")
    p.add_argument("--prefer-coverage", action="store_true",
                   help="among close ETAs prefer the team whose departure hurts coverage least")

    p = add_command(sub, "locate-incident", run_locate_incident,
                    "set an area incident's exact point (clears the area; audited)")
    p.add_argument("incident_id")
    p.add_argument("--lon", type=float, required=True, help="longitude, EPSG:4326 degrees")
    p.add_argument("--lat", type=float, required=True, help="latitude, EPSG:4326 degrees")

    p = add_command(sub, "assign", run_assign, "send a team to an incident")
    p.add_argument("incident_id")
    p.add_argument("team_id")
    p.add_argument("--key", help="idempotency key")
    p.add_argument("--allow-returning", action="store_true", help="a returning team may go")
    p.add_argument("--backup", action="store_true",
                   help="send this team although the incident already has one on the way")
    p.add_argument("--override", metavar="REASON",
                   help="send a team lacking a needed skill or language, for this reason "
                        "(kept with the assignment and audited)")

    p = add_command(sub, "team-status", run_team_status, "set a team's status")
    p.add_argument("team_id")
    p.add_argument("status", choices=[s.value for s in TeamStatus])

    p = add_command(sub, "finish", run_finish, "complete or cancel an assignment")
    p.add_argument("assignment_id")
    p.add_argument("--cancel", action="store_true", help="cancel instead of completing")

    p = add_command(sub, "check-in", run_check_in,
                    "record an on-scene team's safety check-in (or acknowledge its alert)")
    p.add_argument("team_id")
    p.add_argument("--note", default="", help="what the team said (at most 500 characters)")
    p.add_argument("--acknowledge", action="store_true",
                   help="a dispatcher acknowledges the overdue alert (one more interval)")

    add_command(sub, "checkins", run_checkins,
                "teams on scene and their safety check-ins, overdue first")

    p = add_command(sub, "batch", run_batch, "optimal vs greedy assignment of all open incidents")
    p.add_argument("--objective", choices=get_args(Objective), default="total",
                   help="minimise priority-weighted total ETA, or the worst ETA")
    p.add_argument("--include-returning", action="store_true", help="consider returning teams")
