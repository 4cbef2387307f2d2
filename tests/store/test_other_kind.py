"""Migration 0005: resource kind ``other`` on stores created before it, on both backends."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from navigator.errors import ValidationError
from navigator.model import Beds, BedType, Bundle, Resource, ResourceKind
from navigator.store import gpkg, open_store

OLD = Bundle(resources=(Resource("s1", ResourceKind.SHELTER, "Shelter", -83.0, 40.0,
                                 beds=(Beds(BedType.YOUTH, 4, 2),)),))
OTHER = Bundle(resources=(Resource("o1", ResourceKind.OTHER, "Food bank", -83.0, 40.0),))


def test_kind_other_loads_and_reads_back(store: Any) -> None:
    store.load(OTHER, actor="test")
    assert store.resource("o1").kind is ResourceKind.OTHER
    assert list(store.resources(kinds=[ResourceKind.OTHER])["id"]) == ["o1"]


def test_a_version_2_geopackage_upgrades_in_place(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "old.gpkg"
    every = gpkg.migrations()
    monkeypatch.setattr(gpkg, "migrations", lambda: [m for m in every if m[0] <= 2])
    old = open_store(str(path))
    assert old.migrate() == 2
    old.close()
    _old_rows(path)  # as the version-2 code wrote them (today's load writes newer columns)
    with pytest.raises(ValidationError, match="CHECK"):
        _set_kind(path, "s1", "other")
    monkeypatch.setattr(gpkg, "migrations", lambda: every)
    new = open_store(str(path))
    try:
        assert new.migrate() == every[-1][0]
        new.load(OTHER, actor="test")
        assert new.resource("o1").kind is ResourceKind.OTHER
        assert new.resource("s1").beds == (Beds(BedType.YOUTH, 4, 2),)  # nothing cascaded
        with pytest.raises(ValidationError, match="CHECK"):
            _set_kind(path, "o1", "bogus")  # the widened CHECK still refuses unknown kinds
    finally:
        new.close()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        conn.close()


def _old_rows(path: Path) -> None:
    """Write OLD's shelter and its beds with the version-2 columns only."""
    import shapely

    conn = gpkg.connect(str(path))
    try:
        with conn:
            conn.execute("INSERT INTO resources (geom, id, kind, name, lon, lat) "
                         "VALUES (?, 's1', 'shelter', 'Shelter', -83.0, 40.0)",
                         (gpkg.to_gpkg(shapely.Point(-83.0, 40.0)),))
            conn.execute("INSERT INTO beds (resource_id, bed_type, capacity, free) "
                         "VALUES ('s1', 'youth', 4, 2)")
    finally:
        conn.close()


def _set_kind(path: Path, resource_id: str, kind: str) -> None:
    conn = gpkg.connect(str(path))
    try:
        conn.execute("UPDATE resources SET kind = ? WHERE id = ?", (kind, resource_id))
    except sqlite3.IntegrityError as e:
        msg = f"CHECK refused: {e}"
        raise ValidationError(msg) from e
    finally:
        conn.close()
