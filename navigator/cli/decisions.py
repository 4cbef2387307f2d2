"""``navigator`` commands for caseworkers and dispatchers: find, hold, rank, assign."""

from __future__ import annotations

import argparse
import json
import math
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from navigator.errors import ValidationError

if TYPE_CHECKING:
    from navigator.config import Settings
    from navigator.roads import TravelGraph
    from navigator.store import Store

Runner = Callable[[argparse.Namespace, "Context"], int]


class Context:
    """What a decision command needs: settings, an open store and (lazily) the road graph."""

    def __init__(self, settings: Settings, store: Store, osm_file: Path | None) -> None:
        self.settings = settings
        self.store = store
        self._osm_file = osm_file
        self._graph: TravelGraph | None = None

    @property
    def graph(self) -> TravelGraph:
        """Return the road network, built or loaded from the cache on first use."""
        if self._graph is None:
            from navigator.services.context import load_network

            self._graph = load_network(self.settings, self._osm_file)
        return self._graph


def _minutes(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "unreachable"
    return f"{seconds / 60:.1f} min"


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=1, default=str, ensure_ascii=False))


def _when(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError as e:
        msg = f"--at {text!r} is not an ISO date-time such as 2026-11-23T21:30-05:00"
        raise ValidationError(msg) from e
    if value.tzinfo is None:
        msg = f"--at {text!r} needs a UTC offset, e.g. 2026-11-23T21:30-05:00"
        raise ValidationError(msg)
    return value


def _table(rows: Iterable[Iterable[object]]) -> None:
    for row in rows:
        print("  " + "  ".join(str(c) for c in row))


# -- caseworkers ---------------------------------------------------------------------------
def _needs(args: argparse.Namespace) -> dict[str, Any]:
    needs: dict[str, Any] = {}
    for name in ("bed_type", "gender", "age", "language", "service"):
        value = getattr(args, name, None)
        if value is not None:
            needs[name] = value
    for flag in ("family", "wheelchair", "pets", "walk_in"):
        if getattr(args, flag, False):
            needs[flag] = True
    if getattr(args, "kind", None):
        needs["kinds"] = tuple(args.kind)
    return needs


def _print_search(result: Any, args: argparse.Namespace) -> int:
    if args.json:
        _print_json(result.to_dict())
        return 0
    print(result.message)
    _table((f"{i}.", m.name, f"[{m.resource_id}]", _minutes(m.eta_s),
            f"{m.distance_m / 1000:.1f} km" if math.isfinite(m.distance_m) else "",
            f"{m.free_beds} free {m.bed_type}" if m.bed_type else m.kind,
            m.intake_phone or m.phone, "(meeting point)" if m.at_meeting_point else "")
           for i, m in enumerate(result.matches, 1))
    if result.alternatives:
        print("Nearest alternatives:")
        _table(("-", m.name, f"[{m.resource_id}]", _minutes(m.eta_s), m.reason,
                f"opens {m.opens_at:%a %H:%M}" if m.opens_at else "")
               for m in result.alternatives)
    return 0


def run_find_bed(args: argparse.Namespace, ctx: Context) -> int:
    """Find the nearest open shelters with a free bed that fits the client."""
    from navigator import services

    result = services.find_beds(ctx.store, ctx.graph, ctx.settings, lon=args.lon, lat=args.lat,
                                needs=_needs(args), at=_when(args.at), k=args.k,
                                actor=args.actor, max_time_s=args.max_minutes * 60)
    return _print_search(result, args)


def run_find_service(args: argparse.Namespace, ctx: Context) -> int:
    """Find the nearest open clinics, hospitals or crisis units offering a service."""
    from navigator import services

    result = services.find_services(ctx.store, ctx.graph, ctx.settings, lon=args.lon,
                                    lat=args.lat, needs=_needs(args), at=_when(args.at),
                                    k=args.k, actor=args.actor,
                                    max_time_s=args.max_minutes * 60)
    return _print_search(result, args)


def run_hotlines(args: argparse.Namespace, ctx: Context) -> int:
    """List the hotlines that serve a place now (988 is always the fallback)."""
    from navigator import services

    lines = services.hotlines_for(ctx.store, ctx.settings, lon=args.lon, lat=args.lat,
                                  at=_when(args.at), language=args.language,
                                  channel=args.channel, actor=args.actor)
    if args.json:
        _print_json([h.to_dict() for h in lines])
        return 0
    _table((h.name, h.phone, "/".join(h.channels), ",".join(h.languages), h.opening_hours,
            "(fallback)" if h.fallback else "") for h in lines)
    return 0


def _print_hold(hold: Any, args: argparse.Namespace) -> int:
    if args.json:
        _print_json({k: getattr(hold, k) for k in hold.__dataclass_fields__})
    else:
        print(f"hold {hold.id}: {hold.status} {hold.bed_type} bed at {hold.resource_id}, "
              f"expires {hold.expires_at:%Y-%m-%d %H:%M %Z}")
    return 0


def run_hold(args: argparse.Namespace, ctx: Context) -> int:
    """Hold one free bed (retry with the same --key takes no second bed)."""
    from navigator import services

    hold = services.hold_bed(ctx.store, ctx.settings, resource_id=args.resource_id,
                             bed_type=args.bed_type, actor=args.actor,
                             idempotency_key=args.key or str(uuid.uuid4()),
                             client_ref=args.client_ref)
    return _print_hold(hold, args)


def run_confirm_hold(args: argparse.Namespace, ctx: Context) -> int:
    """Confirm a held bed: the client arrived."""
    from navigator import services

    return _print_hold(services.confirm_hold(ctx.store, hold_id=args.hold_id,
                                             actor=args.actor), args)


def run_release_hold(args: argparse.Namespace, ctx: Context) -> int:
    """Release a held bed back to the pool."""
    from navigator import services

    return _print_hold(services.release_hold(ctx.store, hold_id=args.hold_id,
                                             actor=args.actor), args)


# -- dispatchers ---------------------------------------------------------------------------
def run_new_incident(args: argparse.Namespace, ctx: Context) -> int:
    """Record a new incident at a place on the road network."""
    from navigator import services
    from navigator.model import Incident

    now = datetime.now(UTC)
    incident = Incident(id=args.id or f"inc-{uuid.uuid4().hex[:8]}", lon=args.lon,
                        lat=args.lat, crisis_type=args.type, priority=args.priority,
                        needed_skills=tuple(args.skill or ()),
                        needed_languages=tuple(args.language or ()), created_at=now,
                        updated_at=now, notes=args.notes)
    stored = services.add_incident(ctx.store, ctx.graph, ctx.settings, incident,
                                   actor=args.actor)
    print(stored.id)
    return 0


def run_rank_teams(args: argparse.Namespace, ctx: Context) -> int:
    """Rank teams for an incident by road ETA, with skills, shift and coverage."""
    from navigator import services

    ranking = services.rank_teams(ctx.store, ctx.graph, ctx.settings,
                                  incident_id=args.incident_id, actor=args.actor,
                                  include_returning=args.include_returning,
                                  prefer_coverage=args.prefer_coverage, k=args.k)
    if args.json:
        _print_json(ranking.to_dict())
        return 0
    print(ranking.message)
    _table((f"{i}.", o.name, f"[{o.team_id}]", o.status, _minutes(o.eta_s),
            "meets target" if o.meets_target else "MISSES target",
            "" if o.fits_skills else "missing " + ",".join(o.missing_skills),
            "" if o.fits_language else "no language match",
            "" if o.shift_ok else "shift ends first",
            f"leaves {o.uncovered_share:.0%} uncovered")
           for i, o in enumerate(ranking.options, 1))
    return 0


def run_assign(args: argparse.Namespace, ctx: Context) -> int:
    """Send a team to an incident (a team already sent elsewhere is a conflict)."""
    from navigator import services

    a = services.assign_team(ctx.store, ctx.graph, ctx.settings, incident_id=args.incident_id,
                             team_id=args.team_id, actor=args.actor,
                             idempotency_key=args.key or str(uuid.uuid4()),
                             allow_returning=args.allow_returning, backup=args.backup)
    print(f"assignment {a.id}: team {a.team_id} -> incident {a.incident_id}, "
          f"ETA {_minutes(a.eta_s)}")
    return 0


def run_team_status(args: argparse.Namespace, ctx: Context) -> int:
    """Set a team's status (en_route, on_scene, returning, available, off_duty)."""
    from navigator import services

    team = services.update_team(ctx.store, team_id=args.team_id, actor=args.actor,
                                status=args.status)
    print(f"team {team.id} is {team.status}")
    return 0


def run_finish(args: argparse.Namespace, ctx: Context) -> int:
    """Complete (or --cancel) an assignment."""
    from navigator import services

    a = services.finish_assignment(ctx.store, assignment_id=args.assignment_id,
                                   actor=args.actor,
                                   status="cancelled" if args.cancel else "completed")
    print(f"assignment {a.id} is {a.status}")
    return 0


def run_batch(args: argparse.Namespace, ctx: Context) -> int:
    """Pair all open incidents with teams: optimal and greedy plans side by side."""
    from navigator import services

    plan = services.plan_batch(ctx.store, ctx.graph, ctx.settings, actor=args.actor,
                               objective=args.objective,
                               include_returning=args.include_returning)
    if args.json:
        _print_json(plan.to_dict())
        return 0
    for p in (plan.optimal, plan.greedy):
        print(f"{p.method}: total {_minutes(p.total_s)}, worst {_minutes(p.worst_s)}, "
              f"priority-weighted {_minutes(p.weighted_total_s)}")
        _table((team, "->", inc, _minutes(eta)) for team, inc, eta in p.pairs)
        if p.unassigned:
            print("  unassigned: " + ", ".join(p.unassigned))
    return 0


# -- parser --------------------------------------------------------------------------------
def _place(p: argparse.ArgumentParser) -> None:
    p.add_argument("--lon", type=float, required=True, help="longitude, EPSG:4326 degrees")
    p.add_argument("--lat", type=float, required=True, help="latitude, EPSG:4326 degrees")
    p.add_argument("--at", help="moment asked about, ISO 8601 with offset (default: now)")


def _search_opts(p: argparse.ArgumentParser) -> None:
    p.add_argument("--k", type=int, default=3, help="how many to return")
    p.add_argument("--max-minutes", type=float, default=30.0, help="road time limit, minutes")
    p.add_argument("--language", help="ISO 639-1 language the place must speak")
    p.add_argument("--wheelchair", action="store_true", help="needs wheelchair access")


def add_command(sub: argparse._SubParsersAction, name: str, run: Runner, help_: str,
                common: Callable[[argparse.ArgumentParser], None]) -> argparse.ArgumentParser:
    """Add a subcommand run with a :class:`Context`; its docstring is the description."""
    p = sub.add_parser(name, help=help_, description=(run.__doc__ or help_).strip())
    p.set_defaults(decision=run)
    common(p)
    return p


def register(sub: argparse._SubParsersAction, common: Callable[[argparse.ArgumentParser], None]
             ) -> None:
    """Add the decision commands to the ``navigator`` parser.

    Parameters
    ----------
    sub
        The parser's subcommands.
    common
        Adds the options every store command takes (``--store``, ``--json``, ``--actor``...).
    """
    def add(name: str, run: Runner, help_: str) -> argparse.ArgumentParser:
        return add_command(sub, name, run, help_, common)

    p = add("find-bed", run_find_bed, "nearest open shelters with a free bed that fits")
    _place(p)
    _search_opts(p)
    p.add_argument("--bed-type", help="single_men, single_women, families, youth or dv")
    p.add_argument("--gender", help="female, male or nonbinary")
    p.add_argument("--age", type=int, help="client's age, years")
    p.add_argument("--family", action="store_true", help="household with children")
    p.add_argument("--pets", action="store_true", help="client has a pet")

    p = add("find-service", run_find_service, "nearest open clinics or crisis units")
    _place(p)
    _search_opts(p)
    p.add_argument("--service", help="service wanted, e.g. psychiatric, detox, primary_care")
    p.add_argument("--walk-in", action="store_true", help="only walk-in sites")
    p.add_argument("--kind", action="append", choices=["clinic", "hospital", "crisis_unit"],
                   help="resource kinds to search (repeatable)")

    p = add("hotlines", run_hotlines, "hotlines serving a place now")
    _place(p)
    p.add_argument("--language", help="ISO 639-1 language")
    p.add_argument("--channel", choices=["call", "text", "chat"], help="channel wanted")

    p = add("hold", run_hold, "hold one free bed")
    p.add_argument("resource_id")
    p.add_argument("bed_type")
    p.add_argument("--key", help="idempotency key (a retry with the same key is harmless)")
    p.add_argument("--client-ref", default="", help="caseworker's reference for the client")
    for name, run, help_ in (("confirm-hold", run_confirm_hold, "the client arrived"),
                             ("release-hold", run_release_hold, "give a held bed back")):
        add(name, run, help_).add_argument("hold_id")

    p = add("new-incident", run_new_incident, "record an incident")
    p.add_argument("--lon", type=float, required=True, help="longitude, EPSG:4326 degrees")
    p.add_argument("--lat", type=float, required=True, help="latitude, EPSG:4326 degrees")
    p.add_argument("--type", required=True, help="crisis type, e.g. mental_health")
    p.add_argument("--priority", type=int, default=2, help="1 (highest) to 4")
    p.add_argument("--skill", action="append", help="skill the team needs (repeatable)")
    p.add_argument("--language", action="append", help="language needed (repeatable)")
    p.add_argument("--notes", default="", help="free text")
    p.add_argument("--id", help="incident id (default: generated)")

    p = add("rank-teams", run_rank_teams, "rank teams for an incident by road ETA")
    p.add_argument("incident_id")
    p.add_argument("--k", type=int, default=5, help="how many teams to show")
    p.add_argument("--include-returning", action="store_true", help="consider returning teams")
    p.add_argument("--prefer-coverage", action="store_true",
                   help="among close ETAs prefer the team whose departure hurts coverage least")

    p = add("assign", run_assign, "send a team to an incident")
    p.add_argument("incident_id")
    p.add_argument("team_id")
    p.add_argument("--key", help="idempotency key")
    p.add_argument("--allow-returning", action="store_true", help="a returning team may go")
    p.add_argument("--backup", action="store_true",
                   help="send this team although the incident already has one on the way")

    p = add("team-status", run_team_status, "set a team's status")
    p.add_argument("team_id")
    p.add_argument("status", choices=["available", "en_route", "on_scene", "returning",
                                      "off_duty"])

    p = add("finish", run_finish, "complete or cancel an assignment")
    p.add_argument("assignment_id")
    p.add_argument("--cancel", action="store_true", help="cancel instead of completing")

    p = add("batch", run_batch, "optimal vs greedy assignment of all open incidents")
    p.add_argument("--objective", choices=["total", "bottleneck"], default="total",
                   help="minimise priority-weighted total ETA, or the worst ETA")
    p.add_argument("--include-returning", action="store_true", help="consider returning teams")
