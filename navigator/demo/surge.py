"""The demo's surge (evacuation) shelters: synthetic sites, inactive but for one.

Real evacuation shelters are usually schools, recreation centres and churches chosen by the
county's emergency management agency; the demo ships none of those lists, so its surge
shelters are made up (location, name and capacities), labelled synthetic, at seeded points
inside the network's area.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from shapely.geometry import Point

from navigator.model import Beds, BedType, Resource, ResourceKind

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

__all__ = ["ACTIVE_SURGE_SHELTER", "demo_surge_shelters"]

#: The surge shelter the demo activates (the others stay inactive until an admin opens them).
ACTIVE_SURGE_SHELTER = "demo-surge-1"
#: (name, general, fnss, medical, pets) of each demo surge shelter.
_SITES = (("North recreation centre", 250, 30, 0, 40),
          ("East high school gym", 400, 40, 20, 60),
          ("West community centre", 150, 20, 0, 30),
          ("South fairground hall", 300, 30, 30, 80))


def demo_surge_shelters(area: BaseGeometry, *, seed: int) -> tuple[Resource, ...]:
    """Return the demo's surge shelters at seeded points inside ``area`` (EPSG:4326)."""
    rng = random.Random(seed + 17)  # its own stream: the other synthetic values stay put
    minx, miny, maxx, maxy = area.bounds
    out = []
    for i, (name, general, fnss, medical, pets) in enumerate(_SITES, start=1):
        for _ in range(1000):
            lon = round(rng.uniform(minx, maxx), 4)
            lat = round(rng.uniform(miny, maxy), 4)
            if area.covers(Point(lon, lat)):
                break
        beds = tuple(Beds(b, n, n) for b, n in ((BedType.GENERAL, general),
                                               (BedType.FNSS, fnss),
                                               (BedType.MEDICAL, medical),
                                               (BedType.PETS, pets)) if n)
        out.append(Resource(
            id=f"demo-surge-{i}", kind=ResourceKind.EVACUATION_SHELTER,
            name=f"{name} (synthetic surge shelter)", lon=lon, lat=lat, opening_hours="24/7",
            beds=beds, services=("mass_care", "feeding"), walk_in=True, wheelchair=True,
            pets=pets > 0, synthetic=True,
            source=(f"synthetic (seed {seed}): made-up evacuation shelter, location, name and "
                    "capacities by need generated for the demo")))
    return tuple(out)
