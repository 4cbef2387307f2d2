"""The demo city: Columbus, OH, its shipped road extract, and loading its data into a store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from navigator.config import Settings

if TYPE_CHECKING:

    from navigator.roads import TravelGraph
    from navigator.store import Store

#: Synthetic-data note shown on every demo map.
SYNTHETIC_NOTE = ("Demo: places, names and addresses are real (City of Columbus, OSM); bed "
                  "counts, hours, teams, incidents, local hotlines and the DV site are synthetic.")


@dataclass(frozen=True)
class City:
    """A deployment area: its road extract, population layer, time zone and name."""

    name: str
    osm_file: Path
    population_file: Path
    timezone: str


def demo_city(settings: Settings) -> City:
    """Return the demo city (Columbus, OH) with its shipped road extract and block groups."""
    return City(name="Columbus, OH", osm_file=settings.data_dir / "osm" / "columbus.osm.pbf",
                population_file=(settings.data_dir / "population"
                                 / "franklin_bg2010_population.gpkg"),
                timezone="America/New_York")


DEMO_ACTOR = "navigator demo"


def load_demo(store: Store, graph: TravelGraph, *, seed: int, now: datetime | None = None,
              actor: str = DEMO_ACTOR, replace_other: bool = False, history: bool = False
              ) -> tuple[dict[str, int], tuple[str, ...]]:
    """Load the seeded demo city into ``store``, replacing what it held (audit log kept).

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
        stale) and a few referral episodes (:func:`navigator.demo.registry.seed_history`).

    Returns
    -------
    counts, notes
        Records loaded per kind, and notes on what was clipped or generated.

    Raises
    ------
    ConflictError
        If the store holds data the demo did not load and ``replace_other`` is False.
    """
    from navigator.demo.bundle import demo_bundle
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
    bundle = demo_bundle(seed=seed, now=now, area=network_area(graph))
    counts = store.load(bundle, actor=actor, replace=True)
    notes = bundle.notes
    if history:
        from navigator.demo.registry import demo_shelter_site, seed_history

        seeded = seed_history(store, seed=seed, now=now, keep=demo_shelter_site(store))
        notes = (*notes, f"synthetic bed-registry history: {seeded['fresh']} fresh and "
                         f"{seeded['stale']} stale shelter reports, {seeded['episodes']} "
                         "referral episodes")
    return counts, notes
