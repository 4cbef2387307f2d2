"""Compliance areas in the store: import (all or nothing), list and delete, each audited."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from navigator.errors import ConflictError, ValidationError
from navigator.model import AREA_GEOMETRY_TYPES, PRIORITIES, ComplianceArea
from navigator.store import rows
from navigator.store.closures import check_geometry
from navigator.store.tx import append_audit, fetch_one

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from contextlib import AbstractContextManager

    from shapely.geometry.base import BaseGeometry

    from navigator.store.tx import Tx

#: Most areas one import may hold (a county has a handful; thousands is a wrong file).
MAX_AREAS = 500
_TARGETS = tuple(f"target_p{p}_s" for p in PRIORITIES)
_SELECT = ", ".join(("id", "geom", "name", "area_class", *_TARGETS, "created_by",
                     "created_at"))


def _summary(area: ComplianceArea) -> dict[str, Any]:
    """Return what the audit keeps of an area (its outline as bounds, not every vertex)."""
    return {"id": area.id, "name": area.name, "class": area.area_class,
            "targets_s": {str(k): v for k, v in area.targets_s.items()},
            "geometry_type": area.geometry.geom_type, "bounds": list(area.geometry.bounds)}


class AreaMethods:
    """The compliance-areas part of the store contract, on a backend's transactions."""

    _transaction: Callable[..., AbstractContextManager[Tx]]
    _area: Callable[[Any], BaseGeometry | None]

    def _compliance_area(self, row: dict[str, Any]) -> ComplianceArea:
        return ComplianceArea(id=row["id"], name=row["name"], area_class=row["area_class"],
                              geometry=self._area(row["geom"]),
                              targets_s={p: float(row[c]) for p, c in zip(PRIORITIES, _TARGETS,
                                                                          strict=True)},
                              created_by=row["created_by"],
                              created_at=rows.read_ts(row["created_at"]))

    def add_compliance_areas(self, areas: Sequence[ComplianceArea], *, actor: str,
                             replace: bool = False) -> list[ComplianceArea]:
        """Store ``areas`` in one transaction (all or nothing), audited once.

        ``replace`` deletes every area held first (same transaction).

        Raises
        ------
        ValidationError
            No area, too many, a record that is not a ComplianceArea, an invalid or
            non-polygon geometry, or the same id twice (nothing written).
        ConflictError
            An id the store already holds (without ``replace``; nothing written).
        """
        if not areas or len(areas) > MAX_AREAS:
            msg = f"compliance areas: give 1 to {MAX_AREAS} areas, got {len(areas)}"
            raise ValidationError(msg)
        for area in areas:
            if not isinstance(area, ComplianceArea):
                msg = f"compliance areas: expected ComplianceArea records, got {area!r}"
                raise ValidationError(msg)
            check_geometry(area.geometry, what=f"compliance area {area.name!r}",
                           types=AREA_GEOMETRY_TYPES)
        ids = [a.id for a in areas]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            msg = f"compliance areas: the id {', '.join(map(repr, twice))} is given twice"
            raise ValidationError(msg)
        at = rows.utc_now()
        with self._transaction(write=True) as tx:
            held = [r["id"] for r in tx.fetch("SELECT id FROM compliance_areas ORDER BY id")]
            if replace:
                tx.delete_all("compliance_areas")
            else:
                taken = sorted(set(held) & set(ids))
                if taken:
                    msg = (f"compliance areas: the store already holds "
                           f"{', '.join(map(repr, taken))}; delete them first or replace all")
                    raise ConflictError(msg)
            for area in areas:
                tx.insert("compliance_areas", {
                    "id": area.id, "geom": area.geometry, "name": area.name,
                    "area_class": area.area_class,
                    **{c: area.targets_s[p] for p, c in zip(PRIORITIES, _TARGETS, strict=True)},
                    "created_by": actor, "created_at": at})
            append_audit(tx, "import_compliance_areas", actor=actor,
                         inputs={"replace": replace, "areas": [_summary(a) for a in areas]},
                         result={"added": ids, "replaced": held if replace else []})
        return self.compliance_areas()

    def compliance_areas(self) -> list[ComplianceArea]:
        """Return every compliance area, by id."""
        with self._transaction(write=False) as tx:
            found = tx.fetch(f"SELECT {_SELECT} FROM compliance_areas ORDER BY id")
        return [self._compliance_area(r) for r in found]

    def delete_compliance_area(self, area_id: str, *, actor: str) -> ComplianceArea:
        """Delete one area (audited with its name, class and targets); ``NotFoundError``."""
        with self._transaction(write=True) as tx:
            area = self._compliance_area(fetch_one(
                tx, f"SELECT {_SELECT} FROM compliance_areas WHERE id = %(id)s",
                {"id": area_id}, f"compliance area {area_id!r}"))
            tx.fetch("DELETE FROM compliance_areas WHERE id = %(id)s RETURNING id",
                     {"id": area_id})
            append_audit(tx, "delete_compliance_area", actor=actor, subject=area_id,
                         inputs=_summary(area))
        return area
