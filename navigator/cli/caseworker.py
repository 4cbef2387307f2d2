"""``navigator`` commands for caseworkers: find beds and services, hotlines, hold beds.

Each command parses its options, calls one function of :mod:`navigator.services.caseworker`
and prints what it returns. Services are imported when a command runs, so ``--help`` and the
store commands start without the decision stack.
"""

from __future__ import annotations

import math
import uuid
from typing import TYPE_CHECKING, Any

from navigator.cli.common import (
    Context,
    add_command,
    minutes_text,
    parse_at,
    print_json,
    print_table,
)
from navigator.model import CARE_KINDS, GENDERS, BedType, Channel

if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterable

    from navigator.cli.common import Subcommands
    from navigator.decide.matching import SearchResult
    from navigator.model import Hold

__all__ = ["register", "run_confirm_hold", "run_find_bed", "run_find_service", "run_hold",
           "run_hotlines", "run_release_hold"]


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


def _print_search(result: SearchResult, args: argparse.Namespace) -> int:
    if args.json:
        print_json(result.to_dict())
        return 0
    print(result.message)
    print_table((f"{i}.", m.name, f"[{m.resource_id}]", minutes_text(m.eta_s),
                 f"{m.distance_m / 1000:.1f} km" if math.isfinite(m.distance_m) else "",
                 f"{m.free_beds} free {m.bed_type}" if m.bed_type else m.kind,
                 m.intake_phone or m.phone, "(meeting point)" if m.at_meeting_point else "")
                for i, m in enumerate(result.matches, 1))
    if result.alternatives:
        print("Nearest alternatives:")
        print_table(("-", m.name, f"[{m.resource_id}]", minutes_text(m.eta_s), m.reason,
                     f"opens {m.opens_at:%a %H:%M}" if m.opens_at else "")
                    for m in result.alternatives)
    if result.stale:
        print("Counts not confirmed recently (not free beds; call ahead):")
        print_table(("-", m.name, f"[{m.resource_id}]", minutes_text(m.eta_s), m.stale_text)
                    for m in result.stale)
    return 0


def run_find_bed(args: argparse.Namespace, ctx: Context) -> int:
    """Find the nearest open shelters with a free bed that fits the client."""
    from navigator import services

    result = services.find_beds(ctx.store, ctx.graph, ctx.settings, lon=args.lon, lat=args.lat,
                                needs=_needs(args), at=parse_at(args.at), k=args.k,
                                actor=args.actor, max_time_s=args.max_minutes * 60,
                                fresh_only=args.fresh_only)
    return _print_search(result, args)


def run_find_service(args: argparse.Namespace, ctx: Context) -> int:
    """Find the nearest open clinics, hospitals or crisis units offering a service."""
    from navigator import services

    result = services.find_services(ctx.store, ctx.graph, ctx.settings, lon=args.lon,
                                    lat=args.lat, needs=_needs(args), at=parse_at(args.at),
                                    k=args.k, actor=args.actor,
                                    max_time_s=args.max_minutes * 60)
    return _print_search(result, args)


def run_hotlines(args: argparse.Namespace, ctx: Context) -> int:
    """List the hotlines that serve a place now (988 is always the fallback)."""
    from navigator import services

    lines = services.hotlines_for(ctx.store, ctx.settings, lon=args.lon, lat=args.lat,
                                  at=parse_at(args.at), language=args.language,
                                  channel=args.channel, actor=args.actor,
                                  crisis=args.crisis)
    if args.json:
        print_json([h.to_dict() for h in lines])
        return 0
    print_table((h.name, h.phone, "/".join(h.channels), ",".join(h.languages), h.opening_hours,
                 "(fallback)" if h.fallback else "") for h in lines)
    return 0


def _print_hold(hold: Hold, args: argparse.Namespace) -> int:
    if args.json:
        print_json({k: getattr(hold, k) for k in hold.__dataclass_fields__})
    else:
        print(f"hold {hold.id}: {hold.status} {hold.bed_type} bed at {hold.resource_id}, "
              f"expires {hold.expires_at:%Y-%m-%d %H:%M %Z}")
    return 0


def run_hold(args: argparse.Namespace, ctx: Context) -> int:
    """Hold one free bed (retry with the same --key takes no second bed).

    With ``--client-ref`` (or ``--episode``) the hold opens or links the client's referral
    episode, as the bed finder's does.
    """
    from navigator import services

    held = services.hold_for_client(ctx.store, ctx.settings, resource_id=args.resource_id,
                                    bed_type=args.bed_type, actor=args.actor,
                                    idempotency_key=args.key or str(uuid.uuid4()),
                                    client_ref=args.client_ref, episode_id=args.episode)
    episode = held.episode.id if held.episode else None
    if args.json:
        print_json({**{k: getattr(held.hold, k) for k in held.hold.__dataclass_fields__},
                    "episode_id": episode})
        return 0
    _print_hold(held.hold, args)
    if episode:
        print(f"episode {episode}: case {held.hold.client_ref} is on hold (see /board)")
    return 0


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


def _one_of(values: Iterable[str]) -> str:
    return "one of " + ", ".join(values)


def register(sub: Subcommands) -> None:
    """Add the caseworker commands to the ``navigator`` parser's subcommands ``sub``."""
    p = add_command(sub, "find-bed", run_find_bed,
                    "nearest open shelters with a free bed that fits")
    _place(p)
    _search_opts(p)
    p.add_argument("--bed-type", help=_one_of(BedType))
    p.add_argument("--gender", help=_one_of(GENDERS))
    p.add_argument("--age", type=int, help="client's age, years")
    p.add_argument("--family", action="store_true", help="household with children")
    p.add_argument("--pets", action="store_true", help="client has a pet")
    p.add_argument("--fresh-only", action="store_true",
                   help="leave out shelters whose count is older than the freshness window")

    p = add_command(sub, "find-service", run_find_service, "nearest open clinics or crisis units")
    _place(p)
    _search_opts(p)
    p.add_argument("--service", help="service wanted, e.g. psychiatric, detox, primary_care")
    p.add_argument("--walk-in", action="store_true", help="only walk-in sites")
    p.add_argument("--kind", action="append", choices=[k.value for k in CARE_KINDS],
                   help="resource kinds to search (repeatable)")

    p = add_command(sub, "hotlines", run_hotlines, "hotlines serving a place now")
    _place(p)
    p.add_argument("--language", help="ISO 639-1 language")
    p.add_argument("--channel", choices=[c.value for c in Channel], help="channel wanted")
    p.add_argument("--crisis", action="store_true",
                   help="a person in crisis: list the 988 Lifeline first")

    p = add_command(sub, "hold", run_hold, "hold one free bed")
    p.add_argument("resource_id")
    p.add_argument("bed_type", help=_one_of(BedType))
    p.add_argument("--key", help="idempotency key (a retry with the same key is harmless)")
    p.add_argument("--client-ref", default="",
                   help="case reference (no names): opens the client's referral episode")
    p.add_argument("--episode", help="link this referral episode (in search) instead")
    for name, run, help_ in (("confirm-hold", run_confirm_hold, "the client arrived"),
                             ("release-hold", run_release_hold, "give a held bed back")):
        add_command(sub, name, run, help_).add_argument("hold_id")
