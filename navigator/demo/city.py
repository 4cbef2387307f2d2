"""The demo city: Columbus, OH, its shipped road extract, and loading its data into a store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from navigator.config import RegionDefinition, Settings
from navigator.errors import ValidationError
from navigator.model import Region

if TYPE_CHECKING:

    from navigator.roads import TravelGraph
    from navigator.store import Store

#: Synthetic-data note shown on every demo map.
SYNTHETIC_NOTE = ("Demo: places, names and addresses are real (City of Columbus, OSM); bed "
                  "counts, hours, teams, incidents, local hotlines and the DV site are synthetic.")


@dataclass(frozen=True)
class City:
    """A deployment area: its road extract, population layer, time zone and name.

    ``population_column`` holds the people of each unit. ``rural`` regions clip their
    population to the outline (convex hull) of the road network rather than to the cells
    holding a road: a rural tract's interior point may lie kilometres from a road, and those
    people are the gaps, not outside the area. ``population_snap_m``: units farther from a
    road than this (metres) count as uncovered (tract points are statistical, not homes, so
    the rural region allows 5 km).
    """

    name: str
    osm_file: Path
    population_file: Path
    timezone: str
    region: str = Region.COLUMBUS.value
    population_column: str = "pop2010"
    rural: bool = False
    population_snap_m: float = 1000.0
    unit_name: str = "block groups"
    #: Public-holiday calendar (``holidays`` package country and subdivision).
    holidays: str = "US-OH"
    #: Layer of ``population_file`` (None: its first layer).
    population_layer: str | None = None


#: ``City.region`` of a region recorded in the store (``navigator region init``).
STORE_REGION = "store"


def recorded_city(definition: RegionDefinition) -> City:
    """Return the city of a region recorded in the store by ``navigator region init``."""
    return City(name=definition.name, osm_file=Path(definition.osm_file),
                population_file=Path(definition.population_file),
                timezone=definition.timezone, region=STORE_REGION,
                population_column=definition.population_column, rural=definition.rural,
                population_snap_m=definition.population_snap_m,
                unit_name=definition.unit_name, holidays=definition.holidays,
                population_layer=definition.population_layer or None)


def demo_city(settings: Settings, region: str | None = None) -> City:
    """Return the region's city: the store's (``settings.store_region``) or a shipped one.

    With ``region`` None, a region recorded in the store wins; otherwise the shipped
    ``region`` (default ``settings.region``: Columbus, OH).

    Raises
    ------
    ValidationError
        If the region is not a :class:`~navigator.model.Region`.
    """
    if region is None and settings.store_region is not None:
        return recorded_city(settings.store_region)
    name = region or settings.region
    if name not in set(Region):
        msg = f"region must be one of {', '.join(Region)}, got {name!r}"
        raise ValidationError(msg)
    data = settings.data_dir
    if name == Region.IMPERIAL:
        return City(name="Imperial County, CA (US side)",
                    osm_file=data / "osm" / "imperial_county_drive.osm.bz2",
                    population_file=data / "population" / "imperial_tracts2017_population.gpkg",
                    timezone="America/Los_Angeles", region=Region.IMPERIAL.value,
                    population_column="pop2017", rural=True, population_snap_m=5000.0,
                    unit_name="census tracts", holidays="US-CA")
    return City(name="Columbus, OH", osm_file=data / "osm" / "columbus.osm.pbf",
                population_file=data / "population" / "franklin_bg2010_population.gpkg",
                timezone="America/New_York")


DEMO_ACTOR = "navigator demo"


def load_demo(store: Store, graph: TravelGraph, *, seed: int, now: datetime | None = None,
              actor: str = DEMO_ACTOR, replace_other: bool = False, history: bool = False,
              region: str = Region.COLUMBUS.value
              ) -> tuple[dict[str, int], tuple[str, ...]]:
    """Load a seeded demo region into ``store``, replacing what it held (audit log kept).

    Parameters
    ----------
    store, graph
        Where to load, and the road network the demo is clipped to.
    seed, now
        Seed and reference time of the synthetic values.
    actor
        Name recorded in the audit log.
    replace_other
        Also replace a store whose data did not come from the demo (otherwise refused).
    history
        Also seed a synthetic bed-registry history (some counts fresh, a third days old and
        stale) and a few referral episodes (:func:`navigator.demo.registry.seed_history`),
        and (Columbus) a few synthetic dispatches in its two compliance areas
        (:func:`navigator.demo.compliance.seed_dispatches`). Columbus always gets the areas.
    region
        ``columbus`` (:func:`navigator.demo.bundle.demo_bundle`) or ``imperial``
        (:func:`navigator.demo.imperial.imperial_bundle`); ``graph`` must be its network.

    Returns
    -------
    counts, notes
        Records loaded per kind, and notes on what was clipped or generated.

    Raises
    ------
    ConflictError
        If the store holds data the demo did not load and ``replace_other`` is False.
    """
    from navigator.errors import ConflictError
    from navigator.roads import network_area

    counts = store.counts()
    held = {k: counts.get(k, 0) for k in ("resources", "hotlines", "teams", "incidents")}
    if any(held.values()) and not replace_other:
        loads = store.audit_log(limit=1, action="load")
        if not loads or loads[0].actor != actor:
            what = ", ".join(f"{n} {k}" for k, n in held.items() if n)
            msg = (f"the store already holds data the demo did not load ({what}); loading the "
                   "demo would replace it. Use another store, or pass --replace to overwrite")
            raise ConflictError(msg)
    if region == Region.IMPERIAL:
        from navigator.demo.imperial import imperial_bundle

        bundle = imperial_bundle(seed=seed, now=now, area=network_area(graph))
    else:
        from navigator.demo.bundle import demo_bundle

        bundle = demo_bundle(seed=seed, now=now, area=network_area(graph))
    counts = store.load(bundle, actor=actor, replace=True)
    notes = bundle.notes
    if region != Region.IMPERIAL:
        from navigator.demo.surge import ACTIVE_SURGE_SHELTER

        store.set_surge_active(ACTIVE_SURGE_SHELTER, True, actor=actor,
                               note="synthetic demo activation")
        from navigator.demo.compliance import demo_compliance_areas

        store.add_compliance_areas(demo_compliance_areas(graph), actor=actor, replace=True)
    if history:
        from navigator.demo.registry import demo_shelter_site, seed_history

        seeded = seed_history(store, seed=seed, now=now, keep=demo_shelter_site(store))
        notes = (*notes, f"synthetic bed-registry history: {seeded['fresh']} fresh and "
                         f"{seeded['stale']} stale shelter reports, {seeded['episodes']} "
                         "referral episodes")
        if region != Region.IMPERIAL:
            from navigator.demo.compliance import seed_dispatches

            sent = seed_dispatches(store, graph, seed=seed, actor=actor)
            notes = (*notes, f"synthetic dispatch history: {sent} dispatches in the two demo "
                             "compliance areas, recorded now (their response times are "
                             "seconds, not real)")
    return counts, notes
