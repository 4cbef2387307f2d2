"""Records of guarded writes read back in a transaction, and their idempotency keys.

Holds come back with the resource's free beds of their type read in the same transaction,
so a caller never needs a second read (which could fail after the write committed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from navigator.errors import ConflictError
from navigator.store import rows

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from contextlib import AbstractContextManager

    from navigator.model import Hold
    from navigator.store.tx import Tx

HOLD_SELECT = ", ".join(rows.HOLD_COLUMNS)


def derived_free(held: str = "held", confirmed: str = "confirmed") -> str:
    """Return the SQL of free beds from the counts: max(0, capacity - occupied - ... ).

    ``held`` and ``confirmed`` are the SQL of the new counts (the SET clause sees old values).
    """
    x = f"(capacity - occupied - out_of_service - ({held}) - ({confirmed}))"
    return f"CASE WHEN {x} > 0 THEN {x} ELSE 0 END"


_ONE_LESS_HELD = "CASE WHEN held > 0 THEN held - 1 ELSE 0 END"
_WHERE_BED = "WHERE resource_id = %(resource_id)s AND bed_type = %(bed_type)s"
#: Give a held bed back (released or expired): one hold fewer, free derived again.
RETURN_BED = (f"UPDATE beds SET held = {_ONE_LESS_HELD}, "
              f"free = {derived_free(_ONE_LESS_HELD)} {_WHERE_BED}")
#: A confirmed hold: the client has the bed; it counts as occupied until the next report.
CONFIRM_BED = (f"UPDATE beds SET held = {_ONE_LESS_HELD}, confirmed = confirmed + 1, "
               f"free = {derived_free(_ONE_LESS_HELD, 'confirmed + 1')} {_WHERE_BED}")
ASSIGNMENT_SELECT = ", ".join(rows.ASSIGNMENT_COLUMNS)


def free_beds(tx: Tx, resource_id: str, bed_type: str) -> int | None:
    """Return the free beds of one type at a resource (None if it lists no such beds)."""
    found = tx.fetch("SELECT free FROM beds WHERE resource_id = %(resource_id)s "
                     "AND bed_type = %(bed_type)s",
                     {"resource_id": resource_id, "bed_type": bed_type})
    return int(found[0]["free"]) if found else None


def hold_record(tx: Tx, row: Mapping[str, Any], *, free: int | None = None) -> Hold:
    """Build a hold from its row, with ``free`` or the free beds read now in ``tx``."""
    if free is None:
        free = free_beds(tx, row["resource_id"], row["bed_type"])
    return rows.hold_from_row(row, free_beds=free)


#: Table -> (columns, record builder) for the records an idempotency key can name.
_KEYED: dict[str, tuple[str, Callable[[Tx, Mapping[str, Any]], Any]]] = {
    "holds": (HOLD_SELECT, hold_record),
    "assignments": (ASSIGNMENT_SELECT, lambda _tx, row: rows.assignment_from_row(row)),
}


def by_key(tx: Tx, table: str, key: str | None) -> Any:
    """Return the hold or assignment an idempotency key made, or None."""
    if key is None:
        return None
    columns, build = _KEYED[table]
    found = tx.fetch(f"SELECT {columns} FROM {table} WHERE idempotency_key = %(key)s",
                     {"key": key})
    return build(tx, found[0]) if found else None


def replay(transaction: Callable[..., AbstractContextManager[Tx]], table: str,
           key: str | None) -> Any:
    """Return the record a key made, read after losing a race to it (None if none)."""
    if key is None:
        return None
    with transaction(write=False) as tx:
        return by_key(tx, table, key)


def same_request(key: str | None, made: tuple[Any, ...], asked: tuple[Any, ...]) -> None:
    """Refuse an idempotency key reused for a different request (or by another user)."""
    if key is not None and tuple(str(v) for v in made) != tuple(str(v) for v in asked):
        msg = (f"idempotency key {key!r} was already used for a different request; "
               "use a new key for a new request")
        raise ConflictError(msg)
