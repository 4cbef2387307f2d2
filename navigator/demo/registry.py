"""The demo's bed-registry history: staff reports (some fresh, some stale) and episodes.

Everything written here is synthetic: reports and episodes carry the actor
:data:`HISTORY_ACTOR` and a note saying so.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from navigator.model import BedCount, BedType, ResourceKind
from navigator.store.registry import SiteReport

if TYPE_CHECKING:
    from navigator.store import Store

HISTORY_ACTOR = "navigator demo (synthetic)"
SYNTHETIC = "synthetic demo data"


def demo_shelter_site(store: Store) -> str | None:
    """Return the shelter the ``shelter`` demo login reports for (None without shelters).

    The first public 24/7 shelter, by id, with more than one free men's bed; else the first
    public shelter with beds.
    """
    shelters = store.resources(kinds=[ResourceKind.SHELTER])
    beds = store.beds(shelters["id"].tolist())
    public = shelters[~shelters["confidential"].astype(bool)]
    listed = set(beds["resource_id"])
    men = set(beds[(beds["bed_type"] == BedType.SINGLE_MEN.value)
                   & (beds["free"] > 1)]["resource_id"])
    for rid, hours in zip(public["id"], public["opening_hours"], strict=True):
        if hours == "24/7" and rid in men:
            return str(rid)
    return next((str(r) for r in public["id"] if r in listed), None)


def seed_history(store: Store, *, seed: int, now: datetime | None = None,
                 keep: str | None = None) -> dict[str, int]:
    """Write synthetic staff reports (a third stale, days old) and a few episodes in flight.

    ``keep`` (the demo login's site) always gets a fresh report. Returns how many reports
    were fresh and stale and how many episodes were opened.
    """
    rng = random.Random(seed)
    at = min(now or datetime.now(UTC), datetime.now(UTC))  # a report is never in the future
    shelters = store.resources(kinds=[ResourceKind.SHELTER])
    fresh = stale = 0
    for rid in sorted(shelters["id"]):
        site = store.site_beds(rid)
        if not site.beds:
            continue
        old = rid != keep and rng.random() < 1 / 3
        when = at - (timedelta(days=rng.randint(2, 5)) if old
                     else timedelta(minutes=rng.randint(5, 300)))
        counts = {b.bed_type.value: BedCount(b.capacity, max(0, b.capacity - b.free - b.held))
                  for b in site.beds}
        store.report_beds(SiteReport(rid, counts, note=f"{SYNTHETIC}: nightly count",
                                     at=when), actor=HISTORY_ACTOR)
        stale += old
        fresh += not old
    episodes = 0
    for i, state in enumerate(("search", "hold", "arrived")):
        e = store.add_episode(f"DEMO-{seed}-{i + 1}", actor=HISTORY_ACTOR,
                              note=f"{SYNTHETIC}: no real client", now=at)
        if state != "search" and keep is not None:
            bed = store.site_beds(keep).beds[0].bed_type
            changes = {"resource_id": keep, "bed_type": bed.value}
            store.move_episode(e.id, "hold", actor=HISTORY_ACTOR, changes=changes, now=at)
            if state == "arrived":
                store.move_episode(e.id, "accepted", actor=HISTORY_ACTOR, now=at)
                store.move_episode(e.id, "arrived", actor=HISTORY_ACTOR, now=at, changes={
                    "arrived_at": at - timedelta(hours=25),
                    "follow_up_due": at - timedelta(hours=1)})
        episodes += 1
    return {"fresh": fresh, "stale": stale, "episodes": episodes}
