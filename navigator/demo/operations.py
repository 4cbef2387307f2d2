"""Synthetic operations data for the demo: local hotlines, mobile crisis teams, open incidents."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from navigator.errors import ValidationError
from navigator.exchange.area import COLUMBUS_CORE_BBOX
from navigator.model import (
    LIFELINE_988,
    TEAM_SKILLS,
    Channel,
    CrisisType,
    Hotline,
    Incident,
    Resource,
    ResourceKind,
    Team,
    TeamStatus,
)

if TYPE_CHECKING:
    import geopandas as gpd
    from shapely.geometry.base import BaseGeometry

_T = TypeVar("_T")

#: Crisis type -> (priority, needed skills) of demo incidents (and simulated calls).
INCIDENT_NEEDS: dict[CrisisType, tuple[int, tuple[str, ...]]] = {
    CrisisType.SUICIDE_RISK: (1, ("clinician",)),
    CrisisType.MENTAL_HEALTH: (2, ("clinician",)),
    CrisisType.SUBSTANCE_USE: (2, ("substance_use",)),
    CrisisType.DOMESTIC_VIOLENCE: (1, ("dv_advocate",)),
    CrisisType.WELFARE_CHECK: (3, ()),
    CrisisType.YOUTH: (2, ("youth",)),
    CrisisType.HOUSING: (4, ("peer_support",)),
}


def _uniform(rng: random.Random, low: float, high: float) -> float:
    return low + (high - low) * rng.random()


def _pick(rng: random.Random, items: Sequence[_T]) -> _T:
    return items[int(rng.random() * len(items))]


def _minutes(rng: random.Random, low: float, high: float) -> timedelta:
    return timedelta(minutes=round(_uniform(rng, low, high)))


@lru_cache(maxsize=4)
def _block_groups(path: Path) -> gpd.GeoDataFrame:
    import geopandas as gpd

    try:
        return gpd.read_file(path, layer="block_groups")
    except Exception as e:  # pyogrio raises its own DataSourceError and friends
        msg = f"cannot read block groups from {str(path)!r}: {e}"
        raise ValidationError(msg) from e


def county_polygon(path: Path) -> BaseGeometry:
    """Return Franklin County's outline: the union of its 2010 block groups (EPSG:4326).

    Simplified to about 20 m, which is plenty for "does this hotline serve this place".
    """
    import shapely

    union = shapely.union_all(_block_groups(path).geometry.values).simplify(0.0002)
    if not union.is_valid:
        union = shapely.make_valid(union)
    return union


def demo_hotlines(block_groups: Path, *, seed: int) -> tuple[Hotline, ...]:
    """Return 988 (real) and synthetic Franklin County lines serving the county polygon."""
    county = county_polygon(block_groups)
    src = f"synthetic (seed {seed}); area = Franklin County 2010 block groups (U.S. Census Bureau)"
    return (
        LIFELINE_988,
        Hotline(id="demo-franklin-crisis", name="Franklin County Crisis Line (demo)",
                phone="614-555-0101", channels=(Channel.CALL, Channel.TEXT),
                languages=("en", "es", "so", "ne", "ar"), opening_hours="24/7", area=county,
                text_number="614-555-0101", synthetic=True, source=src),
        Hotline(id="demo-youth-text", name="Central Ohio Youth Text Line (demo)",
                phone="614-555-0102", channels=(Channel.TEXT, Channel.CHAT), languages=("en",),
                opening_hours="Mo-Su 14:00-23:00", area=county, text_number="614-555-0102",
                chat_url="https://youth-line.example.org/chat", synthetic=True, source=src),
        Hotline(id="demo-somali-line", name="Somali Community Support Line (demo)",
                phone="614-555-0103", channels=(Channel.CALL,), languages=("so", "en"),
                opening_hours="Mo-Fr 17:00-22:00; Sa,Su 12:00-20:00", area=county,
                synthetic=True, source=src),
        Hotline(id="demo-nepali-line", name="Nepali & Bhutanese Community Line (demo)",
                phone="614-555-0104", channels=(Channel.CALL, Channel.TEXT),
                languages=("ne", "en"), opening_hours="Mo-Sa 18:00-22:00", area=county,
                text_number="614-555-0104", synthetic=True, source=src),
    )


def _point_in(area: BaseGeometry, rng: random.Random, lon: float, lat: float, spread: float
              ) -> tuple[float, float]:
    from shapely.geometry import Point

    for _ in range(100):
        p = (round(lon + _uniform(rng, -spread, spread), 6),
             round(lat + _uniform(rng, -spread, spread), 6))
        if area.covers(Point(p)):
            return p
    return round(lon, 6), round(lat, 6)


#: The demo's team bases: four real Columbus fire stations (City of Columbus POI ids), one
#: downtown and one each to the north, south and east, so that the west and the edges of the
#: network lie beyond 10 minutes (the gaps a planner acts on). Every other public station
#: stays a candidate site for a new base. Teams are spread over the bases in turn.
DEMO_TEAM_BASES: tuple[str, ...] = (
    "columbus-poi-5789452",  # Columbus Fire Station 1 & 9, downtown
    "columbus-poi-5794038",  # Columbus Fire Station 16, north
    "columbus-poi-5801126",  # Columbus Fire Station 22, south
    "columbus-poi-5797332",  # Columbus Fire Station 20, east
)


def _team_bases(resources: Sequence[Resource], rng: random.Random, *, n: int,
                base_ids: Sequence[str] | None) -> list[Resource]:
    """Return the bases teams are spread over, in the order they are filled."""
    from shapely.geometry import Point, box

    stations = [r for r in resources if r.kind is ResourceKind.TEAM_BASE]
    bases = [r for r in stations if not r.synthetic
             and any(w in r.name for w in ("Fire Station", "Substation"))]
    core = box(*COLUMBUS_CORE_BBOX)
    central = [r for r in bases if core.covers(Point(r.lon, r.lat))]
    if len(central) >= n // 2:
        bases = central  # teams start where the road network is dense
    bases = bases or stations
    if not bases:
        msg = "the area holds no fire or police station to base demo teams at"
        raise ValidationError(msg)
    # Drawn even when base_ids decide, so the seeded stream after it stays the same.
    order = sorted(bases, key=lambda r: (rng.random(), r.id))
    by_id = {r.id: r for r in stations}
    chosen = [by_id[i] for i in base_ids or () if i in by_id]
    return chosen or order


def demo_teams(resources: Sequence[Resource], area: BaseGeometry, rng: random.Random, *,
               now: datetime, seed: int, n: int = 12,
               base_ids: Sequence[str] | None = DEMO_TEAM_BASES) -> tuple[Team, ...]:
    """Return ``n`` synthetic mobile crisis teams based at real fire and police stations.

    Teams are spread in turn over the ``base_ids`` found among ``resources`` (default
    :data:`DEMO_TEAM_BASES`); with none found (another area) or ``base_ids`` None, over the
    area's stations in a seeded order. Most are available near their base; two are
    returning from a call; one is off duty. Shifts are 12 h around ``now``; two end within
    the hour.
    """
    order = _team_bases(resources, rng, n=n, base_ids=base_ids)
    teams = []
    for i in range(n):
        base = order[i % len(order)]
        status = (TeamStatus.OFF_DUTY if i == n - 1
                  else TeamStatus.RETURNING if i in (3, 7) else TeamStatus.AVAILABLE)
        # 12-hour shifts that started 1-8 h ago; two end within the hour, one ended.
        start = (now - _minutes(rng, 60, 480)).replace(minute=0)
        end = start + timedelta(hours=12)
        if i in (1, 5):
            end = now + _minutes(rng, 10, 50)
        if status is TeamStatus.OFF_DUTY:
            end = now - _minutes(rng, 30, 120)
        start = min(start, end - timedelta(hours=12))
        if status is TeamStatus.RETURNING:
            # Part-way back from a call somewhere within ~3 km of base.
            lon, lat = _point_in(area, rng, base.lon, base.lat, 0.03)
            f = _uniform(rng, 0.3, 0.7)
            lon, lat = round(base.lon + f * (lon - base.lon), 6), round(
                base.lat + f * (lat - base.lat), 6)
        else:
            lon, lat = _point_in(area, rng, base.lon, base.lat, 0.0015)
        skills = sorted({"clinician" if rng.random() < 0.7 else "peer_support",
                         *(s for s in TEAM_SKILLS if rng.random() < 0.3)})
        languages = ("en", *(lang for lang in ("es", "so", "ne", "ar") if rng.random() < 0.2))
        teams.append(Team(
            id=f"demo-team-{i + 1:02d}", name=f"Mobile Crisis Team {i + 1} (demo)",
            base_id=base.id, lon=lon, lat=lat, status=status, skills=tuple(skills),
            languages=languages, shift_start=start, shift_end=end, synthetic=True,
            source=f"synthetic (seed {seed}); based at {base.name} ({base.source})"))
    return tuple(teams)


def demo_incidents(block_groups: Path, area: BaseGeometry, rng: random.Random, *,
                   now: datetime, seed: int, n: int = 6) -> tuple[Incident, ...]:
    """Return ``n`` synthetic open incidents near populated block groups in the area.

    Places are drawn in proportion to 2010 population among block groups whose interior
    point lies in the area and in the dense part of the road network, then moved up to
    ~150 m.
    """
    from shapely.geometry import box

    region = area.intersection(box(*COLUMBUS_CORE_BBOX))
    region = region if not region.is_empty else area
    bg = _block_groups(block_groups)
    lons = bg["INTPTLON10"].astype(float).to_numpy()
    lats = bg["INTPTLAT10"].astype(float).to_numpy()
    pops = bg["pop2010"].astype(float).to_numpy()
    places = [(float(x), float(y), float(p)) for x, y, p in zip(lons, lats, pops, strict=True)]
    return incidents_at_places(places, region, rng, now=now, seed=seed, n=n)


def incidents_at_places(places: Sequence[tuple[float, float, float]], region: BaseGeometry,
                        rng: random.Random, *, now: datetime, seed: int, n: int = 6
                        ) -> tuple[Incident, ...]:
    """Return ``n`` synthetic open incidents drawn in proportion to people at places.

    ``places`` are ``(lon, lat, people)`` (EPSG:4326); those outside ``region`` or without
    people are skipped; each incident is moved up to ~150 m within ``region``.

    Raises
    ------
    ValidationError
        If no populated place lies in ``region``.
    """
    from shapely.geometry import Point

    places = [(x, y, p) for x, y, p in places if p > 0 and region.covers(Point(x, y))]
    if not places:
        msg = "the area holds no populated place to put demo incidents in"
        raise ValidationError(msg)
    total = sum(p for _, _, p in places)
    types = list(INCIDENT_NEEDS)
    incidents = []
    for i in range(n):
        target, acc = rng.random() * total, 0.0
        lon, lat = places[-1][:2]
        for x, y, p in places:
            acc += p
            if acc >= target:
                lon, lat = x, y
                break
        lon, lat = _point_in(region, rng, lon, lat, 0.0015)
        crisis = types[i % len(types)] if i < len(types) else _pick(rng, types)
        priority, skills = INCIDENT_NEEDS[crisis]
        language = _pick(rng, ((), (), (), ("es",), ("so",), ("ne",)))
        created = now - _minutes(rng, 2, 45)
        incidents.append(Incident(
            id=f"demo-incident-{i + 1}", lon=lon, lat=lat, crisis_type=crisis,
            priority=priority, needed_skills=skills, needed_languages=language,
            created_at=created, updated_at=created,
            notes=f"synthetic demo call (seed {seed}); not a real person or event",
            synthetic=True))
    return tuple(incidents)
