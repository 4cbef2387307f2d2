"""The transaction interface SQL backends provide, and the helpers written on it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from navigator.errors import NotFoundError, ValidationError
from navigator.store import rows

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from enum import StrEnum

__all__ = ["Tx", "append_audit", "audit_entry", "enum_values", "fetch_one", "in_clause"]


class Tx(Protocol):
    """One open transaction of a backend."""

    #: Audit entries queued by :func:`append_audit`; the backend chains and inserts them
    #: (:func:`navigator.store.audit.flush_audit`) just before it commits.
    audit_rows: list[dict[str, Any]]

    def insert_audit(self, entries: Sequence[Mapping[str, Any]]) -> None:
        """Chain ``entries`` to the audit log's newest entry and insert them, in order.

        Takes the log's append lock (held until this transaction ends) as its last lock.
        """
        ...

    def fetch(self, query: str, params: Mapping[str, Any] | None = None
              ) -> list[dict[str, Any]]:
        """Run ``query`` (``%(name)s`` placeholders) and return its rows as dicts."""
        ...

    def upsert(self, table: str, row: Mapping[str, Any], *, key: Sequence[str],
               keep: Sequence[str] = ()) -> None:
        """Insert ``row`` or update the row with the same ``key`` columns (but ``keep``)."""
        ...

    def insert(self, table: str, row: Mapping[str, Any]) -> None:
        """Insert ``row``."""
        ...

    def upsert_many(self, table: str, rows: Sequence[Mapping[str, Any]], *,
                    key: Sequence[str], keep: Sequence[str] = ()) -> None:
        """Upsert ``rows`` (all with the columns of the first) with one prepared statement."""
        ...

    def insert_many(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert ``rows`` (all with the columns of the first) with one prepared statement."""
        ...

    def execute_many(self, query: str, params: Sequence[Mapping[str, Any]]) -> None:
        """Run ``query`` (``%(name)s`` placeholders) once per parameter set; no rows back."""
        ...

    def count(self, table: str) -> int:
        """Return the number of rows of ``table``."""
        ...

    def delete_all(self, table: str) -> None:
        """Delete every row of ``table``."""
        ...

    def notify(self, topic: str) -> None:
        """Tell listening processes, when this transaction commits, that ``topic`` changed.

        PostgreSQL sends a NOTIFY (delivered at commit, dropped on rollback); a backend
        without notifications does nothing (its readers poll).
        """
        ...


def in_clause(column: str, name: str, values: Sequence[Any], params: dict[str, Any]) -> str:
    """Return ``column IN (%(name_0)s, ...)`` and add the values to ``params``.

    Only placeholders are generated; values always travel as bound parameters.
    """
    if not values:
        return "1 = 0"
    names = [f"{name}_{i}" for i in range(len(values))]
    params.update(zip(names, values, strict=True))
    return f"{column} IN ({', '.join(f'%({n})s' for n in names)})"


def enum_values(label: str, enum: type[StrEnum], values: Iterable[Any]) -> list[str]:
    """Return ``values`` as enum values, raising :class:`ValidationError` for unknown ones."""
    out = []
    for value in values:
        try:
            out.append(enum(value).value)
        except ValueError as e:
            allowed = ", ".join(m.value for m in enum)
            msg = f"{label}={value!r} is not one of {allowed}"
            raise ValidationError(msg) from e
    return out


def audit_entry(action: str, *, actor: str, subject: str = "",
                inputs: Mapping[str, Any] | None = None,
                result: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Return one audit entry (not yet chained), stamped now; refuse an empty actor."""
    if not isinstance(actor, str) or not actor.strip():
        msg = f"{action}: actor must be a non-empty string, got {actor!r}"
        raise ValidationError(msg)
    return {"at": rows.utc_now(), "actor": actor, "action": action, "subject": subject,
            "inputs": rows.jsonable(dict(inputs or {})),
            "result": rows.jsonable(dict(result or {}))}


def append_audit(tx: Tx, action: str, *, actor: str, subject: str = "",
                 inputs: Mapping[str, Any] | None = None,
                 result: Mapping[str, Any] | None = None) -> None:
    """Append one entry to the audit log as part of ``tx`` (written when ``tx`` commits)."""
    tx.audit_rows.append(audit_entry(action, actor=actor, subject=subject, inputs=inputs,
                                     result=result))


def fetch_one(tx: Tx, query: str, params: Mapping[str, Any], what: str) -> dict[str, Any]:
    """Return the first row ``query`` finds; raise ``NotFoundError("no <what>")`` if none."""
    found = tx.fetch(query, params)
    if not found:
        msg = f"no {what}"
        raise NotFoundError(msg)
    return found[0]
