"""The Columbus demo: real resources enriched with seeded, labelled synthetic values."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from navigator.config import DATA_DIR
from navigator.demo.columbus import columbus_resources
from navigator.demo.operations import (
    DEMO_TEAM_BASES,
    demo_hotlines,
    demo_incidents,
    demo_teams,
)
from navigator.demo.surge import demo_surge_shelters
from navigator.errors import ValidationError
from navigator.exchange.area import COLUMBUS_CORE_BBOX, checked_area
from navigator.exchange.osm_pois import deduplicated_resources, distance_m, osm_resources
from navigator.model import Beds, BedType, Bundle, Eligibility, Resource, ResourceKind
from navigator.roads import area_timezone

if TYPE_CHECKING:
    from collections.abc import Sequence

    from shapely.geometry.base import BaseGeometry

#: Seed of the shipped demo.
DEMO_SEED = 2026
#: Languages spoken in Columbus besides English (large Somali and Nepali/Bhutanese
#: communities), ISO 639-1.
LOCAL_LANGUAGES = ("es", "so", "ne", "ar")

# Bed mix, intake hours and eligibility per real city shelter (OBJECTID), all synthetic but
# chosen to fit what each shelter is known for: (bed types with capacity ranges, hours,
# genders, min_age, max_age, families).
_SHELTER_PROFILES: dict[int, tuple[tuple[tuple[BedType, int, int], ...], str,
                                   tuple[str, ...], int | None, int | None, bool]] = {
    5790296: (((BedType.SINGLE_MEN, 150, 220), (BedType.SINGLE_WOMEN, 60, 100)), "24/7",
              (), 18, None, False),                                      # Van Buren Shelter
    5790343: (((BedType.SINGLE_WOMEN, 50, 90),), "24/7", ("female",), 18, None, False),  # YWCA
    5797639: (((BedType.FAMILIES, 80, 130),), "24/7", (), None, None, True),  # YWCA Family Ctr
    5795586: (((BedType.SINGLE_MEN, 80, 130),), "Mo-Su 17:00-08:00", ("male",), 18, None,
              False),                                                    # Friends of Homeless
    5797659: (((BedType.SINGLE_MEN, 90, 120),), "24/7", ("male",), 18, None, False),  # FM Men's
    5789168: (((BedType.SINGLE_MEN, 60, 90), (BedType.SINGLE_WOMEN, 30, 50)), "24/7", (), 18,
              None, False),                                              # Faith Mission Grant
    5798813: (((BedType.SINGLE_MEN, 25, 45),), "Mo-Su 19:00-07:00", ("male",), 18, None,
              False),                                                    # The Open Shelter
    5795189: (((BedType.YOUTH, 12, 24),), "24/7", (), 14, 24, False),    # youth (demo only)
}
_DEFAULT_SHELTER = (((BedType.SINGLE_MEN, 30, 80), (BedType.SINGLE_WOMEN, 20, 40)), "24/7",
                    (), 18, None, False)
#: Real hospital sites (city OBJECTID) that host the two synthetic crisis stabilization units.
_CRISIS_UNIT_SITES = (5794945, 5792836)  # OSU Harding Hospital, Grant Hospital


def _uniform(rng: random.Random, low: float, high: float) -> float:
    # Only rng.random() is guaranteed to give the same stream on every Python version.
    return low + (high - low) * rng.random()


def _randint(rng: random.Random, low: int, high: int) -> int:
    return low + int(rng.random() * (high - low + 1))


def _languages(rng: random.Random, *, extra_p: float = 0.45) -> tuple[str, ...]:
    return ("en", *(lang for lang in LOCAL_LANGUAGES if rng.random() < extra_p))


def _objectid(resource: Resource) -> int | None:
    prefix = "City of Columbus POI "
    if resource.source.startswith(prefix):
        return int(resource.source[len(prefix):].split()[0].rstrip(";"))
    return None


def _flag(resource: Resource, fields: str, seed: int, **changes: Any) -> Resource:
    return replace(resource, synthetic=True,
                   source=f"{resource.source}; {fields} synthetic (seed {seed})", **changes)


def _shelter(resource: Resource, rng: random.Random, seed: int) -> Resource:
    profile = _SHELTER_PROFILES.get(_objectid(resource) or -1, _DEFAULT_SHELTER)
    bed_ranges, hours, genders, min_age, max_age, families = profile
    beds = []
    for bed_type, low, high in bed_ranges:
        capacity = _randint(rng, low, high)
        # A quarter of bed types are full, the rest have a seeded few free.
        free = 0 if rng.random() < 0.25 else round(capacity * _uniform(rng, 0.02, 0.2))
        beds.append(Beds(bed_type, capacity, free))
    return _flag(resource, "beds, hours, eligibility, languages, access", seed,
                 beds=tuple(beds), opening_hours=hours, walk_in=True,
                 eligibility=Eligibility(genders, min_age, max_age, families),
                 services=("meals", "case_management"), languages=_languages(rng),
                 wheelchair=rng.random() < 0.75, pets=rng.random() < 0.2)


def _care_site(resource: Resource, rng: random.Random, seed: int) -> Resource:
    name = resource.name.lower()
    services = list(resource.services)  # the city's OB_GYN/PEDIATRICS/PRIMARY_CARE flags

    def add(*values: str) -> None:
        services.extend(v for v in values if v not in services)

    if resource.kind is ResourceKind.HOSPITAL:
        if "surg" in name:
            hours, walk_in = "Mo-Fr 06:00-18:00; PH off", False
            add("surgery")
        elif any(w in name for w in ("select specialty", "rehab", "cancer", "heart")):
            hours, walk_in = "24/7", False
            add("inpatient")
        else:
            hours, walk_in = "24/7", True
            add("emergency")
        if any(w in name for w in ("psychiatr", "behavioral", "harding")):
            add("psychiatric")
        if "children" in name:
            add("pediatrics")
        if walk_in and rng.random() < 0.4:
            add("detox")
    else:
        urgent = any(w in name for w in ("urgent", "minute", "little clinic", "walk",
                                         "after hours", "express"))
        if urgent:
            hours, walk_in = "Mo-Fr 08:00-20:00; Sa,Su 09:00-17:00; PH 09:00-17:00", True
            add("primary_care")
        else:
            hours = ("Mo-Fr 08:00-17:00; PH off" if rng.random() < 0.6
                     else "Mo-Fr 09:00-17:00; Sa 09:00-12:00; PH off")
            walk_in = "free clinic" in name
            if any(w in name for w in ("free clinic", "family", "primary care", "neighborhood")):
                add("primary_care")
        roll = rng.random()
        if roll < 0.15:
            add("psychiatric")
        elif roll < 0.25:
            add("detox")
    return _flag(resource, "hours, walk-in, services beyond the city's flags, languages", seed,
                 opening_hours=resource.opening_hours or hours, walk_in=walk_in,
                 services=tuple(services), languages=_languages(rng, extra_p=0.25),
                 wheelchair=True)


def _crisis_units(real: tuple[Resource, ...], seed: int) -> tuple[Resource, ...]:
    hospitals = [r for r in real if r.kind is ResourceKind.HOSPITAL and "emergency" in r.services]
    by_oid = {_objectid(r): r for r in hospitals}
    sites = [by_oid[o] for o in _CRISIS_UNIT_SITES if o in by_oid] or hospitals
    units = []
    for i, site in enumerate(sites[:2], start=1):
        units.append(Resource(
            id=f"demo-crisis-unit-{i}", kind=ResourceKind.CRISIS_UNIT,
            name=f"Crisis Stabilization Unit {i} at {site.name} site (demo)",
            lon=site.lon, lat=site.lat, address=site.address, phone=f"614-555-012{i}",
            opening_hours="24/7", services=("psychiatric", "detox", "crisis_stabilization"),
            walk_in=True, eligibility=Eligibility(min_age=18), languages=("en", "es", "so"),
            wheelchair=True, synthetic=True,
            source=f"synthetic (seed {seed}); sited at {site.source.split(';')[0]}"))
    return tuple(units)


def _dv_shelter(real: tuple[Resource, ...], area: BaseGeometry, rng: random.Random,
                seed: int) -> Resource:
    from shapely.geometry import Point, box

    region = area.intersection(box(*COLUMBUS_CORE_BBOX))
    region = region if not region.is_empty else area
    minx, miny, maxx, maxy = region.bounds
    public = [r for r in real if r.kind in (ResourceKind.TEAM_BASE, ResourceKind.HOSPITAL)]
    for _ in range(1000):
        lon = round(_uniform(rng, minx, maxx), 4)
        lat = round(_uniform(rng, miny, maxy), 4)
        if not region.covers(Point(lon, lat)):
            continue
        far = sorted((distance_m(lon, lat, r.lon, r.lat), r.id, r) for r in public)
        meeting = next((r for d, _, r in far if d >= 500.0), None)
        if meeting is not None and far[0][0] >= 150.0:
            break
    else:
        msg = "area leaves no room for the demo's confidential site and its meeting point"
        raise ValidationError(msg)
    capacity = _randint(rng, 30, 50)
    return Resource(
        id="demo-dv-shelter", kind=ResourceKind.SHELTER,
        name="Confidential DV shelter (synthetic demo site)", lon=lon, lat=lat,
        opening_hours="24/7", beds=(Beds(BedType.DV, capacity, _randint(rng, 1, 6)),),
        services=("dv_advocacy", "safety_planning", "case_management"),
        eligibility=Eligibility(), languages=("en", "es", "so"), wheelchair=True, pets=True,
        confidential=True, intake_phone="614-555-0150", meeting_point_lon=meeting.lon,
        meeting_point_lat=meeting.lat, synthetic=True,
        source=(f"synthetic (seed {seed}): location made up, not a real shelter; meeting "
                f"point at {meeting.name} ({meeting.source})"))


def real_columbus_resources(*, area: BaseGeometry | None = None, data_dir: Path = DATA_DIR
                            ) -> Bundle:
    """Return Columbus's real resources: city POIs plus OSM POIs that duplicate none of them.

    Parameters
    ----------
    area
        Polygon (EPSG:4326) to keep; default the Columbus drive network's bbox.
    data_dir
        Folder of the shipped data.
    """
    city = columbus_resources(data_dir / "poi" / "columbus_points_of_interest.csv", area=area)
    osm = osm_resources(data_dir / "osm" / "columbus_osm_pois.geojson", area=area)
    merged, notes = deduplicated_resources(city.resources, osm.resources)
    return Bundle(resources=merged, notes=(*city.notes, *osm.notes, *notes))


def demo_bundle(*, seed: int = DEMO_SEED, now: datetime | None = None,
                area: BaseGeometry | None = None, data_dir: Path = DATA_DIR,
                team_bases: Sequence[str] | None = DEMO_TEAM_BASES) -> Bundle:
    """Return the Columbus demo: real places with labelled synthetic beds, hours and people.

    Real: every shelter, hospital, clinic and team base (name, address, phone, location,
    the city's OB_GYN/PEDIATRICS/PRIMARY_CARE flags, OSM opening hours) and the 988 Lifeline.
    Synthetic (``synthetic=True``, ``source`` says which fields): bed counts and types,
    hours, services beyond the flags, eligibility, languages, accessibility, two crisis
    stabilization units, one confidential DV shelter, local hotlines, mobile teams and
    incidents.

    Parameters
    ----------
    seed
        Random seed; the same seed and ``now`` give identical output.
    now
        Reference time for shifts and incidents (timezone-aware); default the current time
        in the area's zone, truncated to the minute.
    area
        Polygon (EPSG:4326) every record lies in; default the Columbus drive network's bbox.
    data_dir
        Folder of the shipped data.
    team_bases
        Ids of the stations the teams are based at (default :data:`DEMO_TEAM_BASES`, four
        fire stations); every other station stays a candidate site. None: seeded stations.

    Returns
    -------
    Bundle
        Resources, hotlines, teams, open incidents and notes on what is real and generated.
    """
    area = checked_area(area)
    zone = ZoneInfo(area_timezone(area.centroid.x, area.centroid.y))
    if now is None:
        now = datetime.now(zone).replace(second=0, microsecond=0)
    elif now.tzinfo is None:
        msg = f"demo_bundle: now must be timezone-aware, got {now!r}"
        raise ValidationError(msg)
    now = now.astimezone(zone)
    rng = random.Random(seed)
    real = real_columbus_resources(area=area, data_dir=data_dir)
    resources = []
    for r in real.resources:
        if r.kind is ResourceKind.SHELTER:
            r = _shelter(r, rng, seed)
        elif r.kind in (ResourceKind.HOSPITAL, ResourceKind.CLINIC):
            r = _care_site(r, rng, seed)
        resources.append(r)
    resources.extend(_crisis_units(tuple(resources), seed))
    resources.append(_dv_shelter(tuple(resources), area, rng, seed))
    resources.extend(demo_surge_shelters(area, seed=seed))
    hotlines = demo_hotlines(data_dir / "population" / "franklin_bg2010_population.gpkg",
                             seed=seed)
    teams = demo_teams(resources, area, rng, now=now, seed=seed, base_ids=team_bases)
    incidents = demo_incidents(data_dir / "population" / "franklin_bg2010_population.gpkg",
                               area, rng, now=now, seed=seed)
    synthetic = sum(r.synthetic for r in resources)
    names = {r.id: r.name for r in resources}
    based = list(dict.fromkeys(names[t.base_id] for t in teams))
    stations = [r for r in resources if r.kind is ResourceKind.TEAM_BASE]
    notes = (*real.notes,
             f"demo (seed {seed}, now {now.isoformat()}, zone {zone.key}): "
             f"{len(resources) - synthetic} resources entirely real, {synthetic} with "
             "synthetic values (flagged, source names the fields); hotlines other than 988, "
             "teams and incidents are synthetic",
             "demo surge shelters: 4 synthetic evacuation shelters, one active "
             "(navigator activate-shelter opens the others)",
             f"demo teams: {len(teams)} based at {len(based)} of {len(stations)} stations "
             f"({', '.join(based)}); the other stations are candidate sites for new bases")
    return Bundle(resources=tuple(resources), hotlines=hotlines, teams=teams,
                  incidents=incidents, notes=notes)
