"""``navigator`` commands for planners: coverage reports, scenarios, new-site recommendations.

Each command parses its options, calls one function of :mod:`navigator.services.planning`
(which records the decision in the audit log) and prints, writes or maps what it returns.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from navigator.cli.common import Context, add_command, minutes_text, parse_at, print_json
from navigator.demo.city import demo_city
from navigator.errors import ValidationError
from navigator.model import CANDIDATE_GROUPS, MODELS, BedType, DispatchPolicy, FacilityKind

if TYPE_CHECKING:
    from navigator.cli.common import Subcommands
    from navigator.decide.coverage import PopulationCoverage
    from navigator.services.planning import PopulationLayer

__all__ = ["register", "run_compare", "run_coverage", "run_recommend"]


def _targets(text: str) -> tuple[float, ...]:
    try:
        minutes = tuple(float(t) for t in text.split(",") if t.strip())
    except ValueError as e:
        msg = f"--targets {text!r} must be minutes separated by commas, e.g. 15,30,60"
        raise ValidationError(msg) from e
    if not minutes or any(not math.isfinite(m) or m <= 0 for m in minutes):
        msg = f"--targets {text!r}: each target must be a positive, finite number of minutes"
        raise ValidationError(msg)
    return tuple(m * 60 for m in minutes)


def _lonlat(text: str) -> tuple[float, float]:
    try:
        lon, lat = (float(v) for v in text.split(","))
    except ValueError as e:
        msg = f"{text!r} must be LON,LAT in degrees, e.g. -82.99,39.96"
        raise ValidationError(msg) from e
    return lon, lat


def _writable(*paths: Path | None) -> None:
    for path in paths:
        if path is not None and not Path(path).resolve().parent.is_dir():
            msg = f"{path}: its folder does not exist"
            raise ValidationError(msg)


def _population(args: argparse.Namespace) -> PopulationLayer:
    from navigator.services.planning import PopulationLayer

    return PopulationLayer(Path(args.population) if args.population else None,
                           layer=args.population_layer, column=args.population_column)


def _added(points: Sequence[str] | None) -> list[tuple[float, float]]:
    return [_lonlat(p) for p in points or ()]


def _print_coverage(cov: PopulationCoverage) -> None:
    print(f"  {'target':>8}  {'people covered':>15}  {'share':>6}  {'uncovered':>10}")
    for t, c, s, u in zip(cov.targets_s, cov.people_covered, cov.share_covered,
                          cov.people_uncovered, strict=True):
        print(f"  {t / 60:>6.0f} m  {c:>15,.0f}  {s:>6.1%}  {u:>10,.0f}")


def _records(frame: Any) -> list[dict[str, Any]]:
    return json.loads(frame.to_json(orient="records"))


def _unit_names(args: argparse.Namespace, ctx: Context) -> tuple[str, str]:
    """Return (plural, singular) of the population units: the region's, or "units"."""
    if args.population:
        return "units", "unit"
    plural = demo_city(ctx.settings).unit_name
    return plural, plural.removesuffix("s")


def run_coverage(args: argparse.Namespace, ctx: Context) -> int:
    """Report road travel time from the nearest facility and the people beyond each target."""
    from navigator.maps.coverage import coverage_map, export_layers
    from navigator.services import planning

    _writable(args.output, args.map)
    found = planning.assess_coverage(
        ctx.store, ctx.graph, ctx.settings, actor=args.actor, kind=args.kind,
        at=parse_at(args.at), bed_type=args.bed_type, free_beds=args.bed_type is not None,
        closed=args.close or (), added=_added(args.add_site), targets_s=_targets(args.targets),
        hex_resolution=args.hex_resolution, population=_population(args))
    report = found.report
    if args.output:
        export_layers({"hexes": report.hexes, "units": report.units, "gaps": report.gaps},
                      args.output)
    if args.map:
        coverage_map(ctx.graph, report).save(str(args.map))
    if args.json:
        print_json({"label": report.label, "facilities": len(found.facilities),
                    "coverage": _records(report.coverage.to_frame()),
                    "gaps": _records(report.gaps.drop(columns="geometry").head(10)),
                    "notes": list(report.notes)})
        return 0
    print(f"Coverage from {len(found.facilities)} {args.kind} ({report.label}), "
          f"{report.coverage.total_people:,.0f} people in the network area:")
    _print_coverage(report.coverage)
    print(f"Largest gaps beyond {found.gap_target_s / 60:.0f} min:"
          + ("" if len(report.gaps) else " none"))
    units = _unit_names(args, ctx)
    for row in report.gaps.head(args.top).itertuples():
        centre = row.geometry.representative_point()
        worst = (f"up to {minutes_text(row.max_time_s, digits=1)}"
                 if math.isfinite(row.max_time_s) else "some not reachable by road")
        print(f"  {row.rank:>3}. {row.people_uncovered:>9,.0f} people in {row.n_areas} "
              f"{units[row.n_areas == 1]} around {centre.y:.4f}, {centre.x:.4f} ({worst})")
    for note in report.notes:
        print(f"  - {note}")
    for label, path in (("layers", args.output), ("map", args.map)):
        if path:
            print(f"Wrote the {label} to {path}")
    return 0


def run_compare(args: argparse.Namespace, ctx: Context) -> int:
    """Compare today's coverage with a scenario: facilities closed and/or sites added."""
    from navigator.maps.coverage import delta_map
    from navigator.services import planning

    if not args.close and not args.add_site:
        msg = "compare-scenarios needs --close ID and/or --add-site LON,LAT"
        raise ValidationError(msg)
    _writable(args.map)
    change = planning.compare_coverage(
        ctx.store, ctx.graph, ctx.settings, actor=args.actor, kind=args.kind,
        at=parse_at(args.at), close=args.close or (), added=_added(args.add_site),
        targets_s=_targets(args.targets), population=_population(args))
    if args.map:
        delta_map(ctx.graph, change.units, label="scenario - today").save(str(args.map))
    frame = change.comparison.to_frame()
    if args.json:
        print_json(_records(frame))
        return 0
    print(frame.to_string(index=False, float_format=lambda v: f"{v:,.3f}"))
    if args.map:
        print(f"Wrote the difference map to {args.map}")
    return 0


def run_recommend(args: argparse.Namespace, ctx: Context) -> int:
    """Recommend k new sites that cover the most people within the target (exact MILP)."""
    from navigator.services import new_sites

    if args.k < 1 or args.k > 50:
        msg = f"--k {args.k}: recommend between 1 and 50 new sites"
        raise ValidationError(msg)
    if not (math.isfinite(args.target) and args.target > 0):
        msg = f"--target {args.target}: the target must be a positive number of minutes"
        raise ValidationError(msg)
    plan = new_sites.recommend_new_sites(
        ctx.store, ctx.graph, ctx.settings, actor=args.actor, kind=args.kind,
        at=parse_at(args.at), candidate_kinds=CANDIDATE_GROUPS[args.candidates], k=args.k,
        target_s=args.target * 60, model=args.model, busy=_busy(args.busy),
        busy_from=_saved_run(args.busy_from), busy_policy=args.busy_policy,
        population=_population(args))
    rec = plan.recommendation
    if rec is None:
        print(f"Everyone in the network area ({plan.total_people:,.0f} people) is already "
              f"within {args.target:g} min of the {len(plan.existing)} {args.kind}: "
              "no new site is needed. Try a shorter --target or another --kind.")
        return 0
    a = rec.allocation
    if args.json:
        summary = plan.summary()
        print_json({**{k: summary[k] for k in ("model", "objective", "greedy_objective", "gap",
                                               "status", "solve_time_s")},
                    "sites": rec.sites[["id", "name"]].to_dict(orient="records"),
                    "greedy_sites": rec.greedy_sites[["id", "name"]].to_dict(orient="records"),
                    "notes": list(plan.notes)})
        return 0
    print(f"Today: {plan.people_covered_before:,.0f} of {plan.total_people:,.0f} people "
          f"within {args.target:g} min of the {len(plan.existing)} {args.kind}.")
    print(f"{a.model} ({a.status}, {a.solve_time_s:.1f} s): {a.objective_name} {a.objective:,.0f}; "
          f"greedy {a.greedy_objective:,.0f} (gap {a.gap:.1%})")
    for row in rec.sites.itertuples():
        print(f"  + {row.name} [{row.id}] at {row.geometry.x:.5f},{row.geometry.y:.5f} (lon,lat)")
    for note in plan.notes:
        print(f"  - {note}")
    return 0


def _busy(values: Sequence[str] | None) -> dict[str, float] | None:
    """Return ``--busy BASE=FRACTION,...`` (repeatable) as a mapping; the service checks it."""
    if not values:
        return None
    out: dict[str, float] = {}
    for item in (part for value in values for part in value.split(",") if part.strip()):
        base, eq, fraction = item.rpartition("=")
        try:
            q = float(fraction)
        except ValueError:
            q = None
        if not eq or not base.strip() or q is None:
            msg = f"--busy {item.strip()!r}: expected BASE=FRACTION, e.g. --busy station-3=0.4"
            raise ValidationError(msg)
        out[base.strip()] = q
    return out


def _saved_run(path: str | None) -> dict[str, Any] | None:
    """Return the saved ``navigator simulate --json`` result at ``path``; the service checks it."""
    if path is None:
        return None
    try:
        saved = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as e:
        msg = f"--busy-from {path}: cannot read it ({e.strerror or e})"
        raise ValidationError(msg) from e
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        msg = f"--busy-from {path}: not JSON ({e}); save a run with `navigator simulate --json`"
        raise ValidationError(msg) from e
    if not isinstance(saved, dict):
        msg = f"--busy-from {path}: not a saved `navigator simulate --json` result"
        raise ValidationError(msg)
    return saved


def _scenario_opts(p: argparse.ArgumentParser, *, targets: bool = True) -> None:
    p.add_argument("--kind", choices=[k.value for k in FacilityKind], default="team_bases",
                   help="facilities to measure from (default: team_bases)")
    p.add_argument("--at", help="moment (ISO 8601 with offset): who is open and on shift")
    if targets:
        p.add_argument("--targets", default="15,30,60", help="target minutes, comma separated")
    p.add_argument("--population", help="population layer (default: the region's shipped "
                                        "census units: Columbus block groups, Imperial "
                                        "tracts)")
    p.add_argument("--population-layer", help="layer of a multi-layer file")
    p.add_argument("--population-column", default="pop2010",
                   help="people column of --population (default: pop2010)")


def register(sub: Subcommands) -> None:
    """Add the planner commands to the ``navigator`` parser's subcommands ``sub``."""
    p = add_command(sub, "coverage", run_coverage,
                    "travel time from the nearest facility; people beyond")
    _scenario_opts(p)
    p.add_argument("--bed-type", help="shelters: only those with a free bed of this type, "
                                      f"one of {', '.join(BedType)}")
    p.add_argument("--close", action="append", help="facility id closed (repeatable)")
    p.add_argument("--add-site", action="append", help="new site --add-site=LON,LAT (repeatable)")
    p.add_argument("--hex-resolution", type=int, default=8, help="H3 resolution (default 8)")
    p.add_argument("--top", type=int, default=5, help="gaps to list")
    p.add_argument("--output", type=Path, help="write hexes, units and gaps (.gpkg/.geojson)")
    p.add_argument("--map", type=Path, help="write an offline HTML map")

    p = add_command(sub, "compare-scenarios", run_compare,
                    "today vs facilities closed or sites added")
    _scenario_opts(p)
    p.add_argument("--close", action="append", help="facility id closed (repeatable)")
    p.add_argument("--add-site", action="append", help="new site --add-site=LON,LAT (repeatable)")
    p.add_argument("--map", type=Path, help="write an offline HTML map of the difference")

    p = add_command(sub, "recommend-sites", run_recommend, "where k new sites close the most gap")
    _scenario_opts(p, targets=False)
    p.add_argument("--candidates", choices=list(CANDIDATE_GROUPS), default="public",
                   help="candidate sites: existing public facilities of these kinds")
    p.add_argument("--k", type=int, default=3, help="how many new sites")
    p.add_argument("--target", type=float, default=15.0, help="target time, minutes")
    p.add_argument("--model", choices=MODELS, default="mclp",
                   help="mclp maximal covering (default), lscp fewest sites, p_median least total "
                        "time, p_center least worst time, mexclp expected coverage with busy "
                        "teams (NAVIGATOR_TEAM_BUSY_FRACTION), backup covered twice")
    p.add_argument("--busy", action="append", metavar="BASE=FRACTION,...",
                   help="mexclp: an existing base's or a candidate site's busy fraction in "
                        "[0, 1), by id or name (comma separated, repeatable; e.g. from a "
                        "simulator run); others take NAVIGATOR_TEAM_BUSY_FRACTION")
    p.add_argument("--busy-from", metavar="RUN.json",
                   help="mexclp: each base's busy fraction from a saved `navigator simulate "
                        "--json` run of this store (--busy wins for the bases it names)")
    p.add_argument("--busy-policy", choices=[d.value for d in DispatchPolicy],
                   help="--busy-from: the simulated policy to take (default: the run's first)")
