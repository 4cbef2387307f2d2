"""The rural demo: Imperial County, CA (US side), real OSM places and seeded teams and calls."""

from __future__ import annotations

import random
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from navigator.config import DATA_DIR
from navigator.demo.operations import demo_teams, incidents_at_places
from navigator.errors import ValidationError
from navigator.exchange.area import checked_area
from navigator.exchange.osm_pois import osm_resources
from navigator.model import LIFELINE_988, Bundle, ResourceKind
from navigator.roads import area_timezone

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

#: Seed of the shipped Imperial demo.
IMPERIAL_SEED = 2026
#: The US-Mexico boundary west of the Colorado River is one straight (geodesic) line between
#: these monuments (lon, lat; EPSG:4326): the Pacific end and the Colorado River end.
_BORDER_WEST = (-117.12361, 32.53472)
_BORDER_EAST = (-114.71933, 32.71834)
#: The demo's team bases: two real fire stations (OSM ids), in El Centro, the county seat
#: (Fire Station No. 1), and in Westmorland, next to Brawley (OSM maps no station in Brawley),
#: so that the outlying communities (the Salton Sea shore, Winterhaven, Ocotillo) lie far
#: beyond 30 minutes. Every other station stays a candidate site.
IMPERIAL_TEAM_BASES: tuple[str, ...] = ("osm-way-604760612", "osm-node-368167746")
#: The Imperial drive extract's bbox (lon_min, lat_min, lon_max, lat_max; EPSG:4326).
IMPERIAL_DRIVE_BBOX = (-116.298, 32.596, -114.463, 33.570)
#: Teams in the Imperial demo.
IMPERIAL_TEAMS = 6


@lru_cache(maxsize=1)
def us_side() -> BaseGeometry:
    """Return the part of the Imperial extract's box north of the Mexican border (EPSG:4326).

    The boundary is densified along the geodesic (it bows north of a straight lon/lat line
    by up to ~0.7 km at Calexico-Mexicali).
    """
    from pyproj import Geod
    from shapely.geometry import Polygon

    (w_lon, w_lat), (e_lon, e_lat) = _BORDER_WEST, _BORDER_EAST
    line = Geod(ellps="WGS84").npts(w_lon, w_lat, e_lon, e_lat, 200)
    border = [(w_lon, w_lat), *line, (e_lon, e_lat)]
    # East of the Colorado River end the box follows that latitude (Arizona is not in the
    # demo: its extract holds only a few roads near Yuma).
    return Polygon([(w_lon, 34.5), *border, (-114.0, e_lat), (-114.0, 34.5)])


def imperial_bundle(*, seed: int = IMPERIAL_SEED, now: datetime | None = None,
                    area: BaseGeometry | None = None, data_dir: Path = DATA_DIR,
                    team_bases: tuple[str, ...] | None = IMPERIAL_TEAM_BASES) -> Bundle:
    """Return the Imperial County demo: real OSM places, synthetic labelled teams and calls.

    Real: every hospital, clinic and fire/police station OSM maps on the US side of the
    county (``synthetic=False``, ``source`` the OSM object), and the 988 Lifeline. Left out:
    everything south of the border (Mexicali, Los Algodones), which the road extract
    reaches into; the notes say how many. Synthetic (``synthetic=True``): mobile crisis
    teams and open incidents placed by 2017 tract population.

    Parameters
    ----------
    seed, now
        Random seed and reference time (timezone-aware; default now in America/Los_Angeles).
    area
        Polygon (EPSG:4326) every record lies in; default the extract's US side.
    data_dir
        Folder of the shipped data.
    team_bases
        Ids of the stations teams are based at (default :data:`IMPERIAL_TEAM_BASES`).
    """
    from shapely.geometry import Point, box

    given = box(*IMPERIAL_DRIVE_BBOX) if area is None else checked_area(area)
    area = given.intersection(us_side())
    if area.is_empty:
        msg = "the area lies entirely south of the US-Mexico border"
        raise ValidationError(msg)
    zone = ZoneInfo(area_timezone(area.centroid.x, area.centroid.y))
    if now is None:
        now = datetime.now(zone).replace(second=0, microsecond=0)
    elif now.tzinfo is None:
        msg = f"imperial_bundle: now must be timezone-aware, got {now!r}"
        raise ValidationError(msg)
    now = now.astimezone(zone)
    osm = osm_resources(data_dir / "osm" / "imperial_osm_pois.geojson", area=given)
    border = us_side()
    resources = tuple(r for r in osm.resources if border.covers(Point(r.lon, r.lat)))
    mexico = len(osm.resources) - len(resources)
    rng = random.Random(seed)
    teams = demo_teams(resources, area, rng, now=now, seed=seed, n=IMPERIAL_TEAMS,
                       base_ids=team_bases)
    tracts = _tract_places(data_dir / "population" / "imperial_tracts2017_population.gpkg")
    incidents = incidents_at_places(tracts, area, rng, now=now, seed=seed, n=5)
    kinds = sorted({r.kind.value for r in resources})
    counts = {k: sum(r.kind.value == k for r in resources) for k in kinds}
    names = {r.id: r.name for r in resources}
    based = list(dict.fromkeys(names[t.base_id] for t in teams))
    notes = (
        f"Imperial County (US side): {mexico} OSM places south of the US-Mexico border "
        "(Mexicali, Los Algodones) left out; the border is the geodesic between boundary "
        "monuments; population is U.S. tracts only",
        "kept OSM places: " + ", ".join(f"{n} {k}" for k, n in counts.items()),
        f"demo (seed {seed}, now {now.isoformat()}, zone {zone.key}): places are real "
        "(OpenStreetMap, ODbL); teams and incidents are synthetic; no shelter is mapped on "
        "the US side, so there are no beds",
        f"demo teams: {len(teams)} based at {len(based)} of "
        f"{counts.get(ResourceKind.TEAM_BASE.value, 0)} stations ({', '.join(based)}); the "
        "other stations are candidate sites for new bases",
    )
    return Bundle(resources=resources, hotlines=(LIFELINE_988,), teams=teams,
                  incidents=incidents, notes=(*osm.notes, *notes))


def _tract_places(path: Path) -> list[tuple[float, float, float]]:
    """Return ``(lon, lat, people)`` of the shipped tract points."""
    import geopandas as gpd

    try:
        tracts = gpd.read_file(path)
    except Exception as e:  # pyogrio raises its own DataSourceError and friends
        msg = f"cannot read census tracts from {str(path)!r}: {e}"
        raise ValidationError(msg) from e
    return [(float(p.x), float(p.y), float(n))
            for p, n in zip(tracts.geometry, tracts["pop2017"], strict=True)]
