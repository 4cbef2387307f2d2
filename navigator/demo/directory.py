"""A large synthetic HSDS 3.0 package (seeded, labelled synthetic) for import timings and tests.

No real directory is this big; the package has the shape of one: one location,
service_at_location, phone, two schedule rows and one language row per service, and every
tenth service has an AIRS shelter code. Names and descriptions say "Synthetic".
"""

from __future__ import annotations

import csv
import random
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path


def write_synthetic_hsds(folder: Path, n: int, *, seed: int = 2026) -> Path:
    """Write an HSDS 3.0 tabular package of ``n`` synthetic services into ``folder``.

    Parameters
    ----------
    folder
        Created if missing; its CSV files are overwritten.
    n
        Number of services (each at its own location, around Columbus, EPSG:4326).
    seed
        Seed of the location coordinates.

    Returns
    -------
    Path
        ``folder``.
    """
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)

    def table(name: str, header: list[str], rows: Iterable[list[str]]) -> None:
        with (folder / name).open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(header)
            w.writerows(rows)

    table("organizations.csv", ["id", "name"], [["org", "Synthetic Org"]])
    table("services.csv", ["id", "organization_id", "name", "description", "status"],
          ([f"s{i}", "org", f"Synthetic service {i}", "synthetic benchmark row", "active"]
           for i in range(n)))
    table("locations.csv", ["id", "organization_id", "name", "latitude", "longitude"],
          ([f"l{i}", "org", f"Place {i}", f"{39.9 + rng.random() / 10:.6f}",
            f"{-83.0 + rng.random() / 10:.6f}"] for i in range(n)))
    table("service_at_location.csv", ["id", "service_id", "location_id"],
          ([f"sal{i}", f"s{i}", f"l{i}"] for i in range(n)))
    table("phones.csv", ["id", "service_id", "number", "type"],
          ([f"p{i}", f"s{i}", f"555-{i % 10000:04d}", "voice"] for i in range(n)))
    table("schedules.csv", ["id", "service_id", "freq", "byday", "opens_at", "closes_at"],
          ([f"h{i}-{k}", f"s{i}", "WEEKLY", days, "09:00", "17:00"]
           for i in range(n) for k, days in enumerate(("MO,TU,WE", "TH,FR"))))
    table("languages.csv", ["id", "service_id", "name", "code"],
          ([f"g{i}", f"s{i}", "Spanish", "es"] for i in range(n)))
    table("taxonomy_terms.csv", ["id", "code", "name", "taxonomy"],
          [["t1", "BH-1800.8500", "Homeless Shelter", "AIRS"]])
    table("attributes.csv", ["id", "link_id", "link_entity", "taxonomy_term_id"],
          ([f"a{i}", f"s{i}", "service", "t1"] for i in range(0, n, 10)))
    return folder
