"""Time and peak memory of reading a generated 100k-service HSDS 3.0 package (synthetic).

    python benchmarks/bench_directory.py [--services 100000] [--load]

The package is generated (seeded, labelled synthetic): one location, service_at_location,
phone, two schedule rows and one language row per service, every tenth service with an
AIRS shelter code. ``--load`` also loads the bundle into a fresh GeoPackage store.
"""

from __future__ import annotations

import argparse
import csv
import random
import resource
import tempfile
import time
from pathlib import Path


def write_package(folder: Path, n: int, *, seed: int = 2026) -> Path:
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)

    def table(name: str, header: list[str], rows) -> None:
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--services", type=int, default=100_000)
    parser.add_argument("--load", action="store_true")
    args = parser.parse_args()
    from navigator.exchange.hsds_import import read_hsds

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        folder = write_package(Path(tmp) / "bench_pkg", args.services)
        t1 = time.perf_counter()
        bundle, report = read_hsds(folder)
        t2 = time.perf_counter()
        print(f"generated {args.services} services in {t1 - t0:.1f} s; read in {t2 - t1:.1f} s:"
              f" {dict(report.imported)}")
        if args.load:
            from navigator.store import open_store

            store = open_store(str(Path(tmp) / "bench.gpkg"))
            try:
                store.load(bundle, actor="bench")
            finally:
                store.close()
            print(f"loaded into a GeoPackage in {time.perf_counter() - t2:.1f} s")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
