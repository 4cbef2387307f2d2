"""The region a store was set up for: one row, read and replaced in one transaction each."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from navigator.config import RegionDefinition
from navigator.errors import ValidationError
from navigator.store import rows
from navigator.store.tx import append_audit

if TYPE_CHECKING:
    from collections.abc import Callable
    from contextlib import AbstractContextManager

    from navigator.store.tx import Tx

_FIELDS = tuple(f.name for f in dataclasses.fields(RegionDefinition))


class RegionMethods:
    """:meth:`region` and :meth:`set_region` on a backend's :class:`Tx`."""

    #: Provided by :class:`~navigator.store.sqlstore.SQLStore` (annotations only).
    _transaction: Callable[..., AbstractContextManager[Tx]]

    def region(self) -> RegionDefinition | None:
        """Return the region recorded by ``navigator region init`` (None when none is)."""
        with self._transaction(write=False) as tx:
            found = tx.fetch(f"SELECT {', '.join(_FIELDS)} FROM region WHERE id = 1")
        if not found:
            return None
        row: dict[str, Any] = dict(found[0])
        row["rural"] = bool(row["rural"])
        row["population_snap_m"] = float(row["population_snap_m"])
        return RegionDefinition(**row)

    def set_region(self, definition: RegionDefinition, *, actor: str) -> None:
        """Record (or replace) the store's region, with an audit entry."""
        if not isinstance(definition, RegionDefinition):
            msg = f"set_region needs a RegionDefinition, got {definition!r}"
            raise ValidationError(msg)
        row = {"id": 1, **dataclasses.asdict(definition), "recorded_at": rows.utc_now(),
               "recorded_by": actor}
        with self._transaction(write=True) as tx:
            before = tx.fetch("SELECT name FROM region WHERE id = 1")
            tx.upsert("region", row, key=("id",))
            append_audit(tx, "set_region", actor=actor, subject=definition.name,
                         inputs=dataclasses.asdict(definition),
                         result={"replaced": before[0]["name"] if before else None})
