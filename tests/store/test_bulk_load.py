"""A large directory loads all or nothing on both backends (issue 14, huge files).

The load is one transaction of one prepared statement per table: a bad value in the last CSV
row stops the import before the store is touched, and the store refusing the last record
rolls back the thousands of rows already sent in the same transaction.
"""

from __future__ import annotations

import csv
import shutil

import pytest

from navigator.demo.directory import write_synthetic_hsds
from navigator.errors import ValidationError
from navigator.exchange.hsds_import import read_hsds
from navigator.services.directory import import_directory
from navigator.store import rows

N = 3_000


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    return write_synthetic_hsds(tmp_path_factory.mktemp("bulk") / "bulk_pkg", N)


@pytest.fixture
def seeded(store, tmp_path):
    """Return the store holding a first, small import (what must survive a failed one)."""
    import_directory(store, write_synthetic_hsds(tmp_path / "small_pkg", 5, seed=1),
                     actor="test")
    return store


def test_a_bulk_load_stores_every_record_as_read(store, package):
    bundle, _ = read_hsds(package)
    assert store.load(bundle, actor="test")["resources"] == N
    assert store.counts()["resources"] == N
    for r in (bundle.resources[0], bundle.resources[N // 2], bundle.resources[-1]):
        assert store.resource(r.id) == r


def test_a_bad_value_in_the_last_row_changes_nothing(seeded, package, tmp_path):
    broken = shutil.copytree(package, tmp_path / "broken_pkg")
    path = broken / "locations.csv"
    with path.open(newline="", encoding="utf-8") as f:
        table = list(csv.reader(f))
    table[-1][3] = "north"  # latitude of the last location
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(table)
    before = seeded.counts()
    with pytest.raises(ValidationError, match=rf"locations.csv row {N + 1}: location "
                       rf"'l{N - 1}': latitude='north' is not a number"):
        import_directory(seeded, broken, actor="test")
    assert seeded.counts() == before


def test_the_store_refusing_the_last_record_rolls_back_the_whole_load(
        seeded, package, monkeypatch):
    bundle, _ = read_hsds(package)
    last = bundle.resources[-1].id
    real = rows.bed_rows

    def refused_last(resource, **kwargs):
        out = real(resource, **kwargs)
        if resource.id == last:  # a bed type the store's CHECK refuses, after N resources
            out.append({"resource_id": last, "bed_type": "no_such_type", "capacity": 1,
                        "free": 1, "position": 0, "occupied": 0, "out_of_service": 0,
                        "held": 0, "confirmed": 0, "reported_at": None, "reported_by": "",
                        "reported_via": "import"})
        return out

    monkeypatch.setattr(rows, "bed_rows", refused_last)
    before = seeded.counts()
    with pytest.raises(ValidationError, match="the store refused a value"):
        seeded.load(bundle, actor="test")
    assert seeded.counts() == before
