"""One PostgreSQL transaction as the store's :class:`~navigator.store.tx.Tx`, on a psycopg cursor.

Audit entries are chained in the database: one statement per entry locks the log's head row
(``audit_head``, migration 17), hashes the entry's canonical text around the head's hash and
inserts the entry (:data:`CHAIN_AUDIT`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from psycopg import sql
from psycopg.types.json import Jsonb
from shapely.geometry.base import BaseGeometry

from navigator.errors import StoreError
from navigator.store import rows
from navigator.store.audit import chain_parts
from navigator.store.listen import CHANNEL_SQL

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import psycopg

__all__ = ["AUDIT_FIELDS", "CHAIN_AUDIT", "HEAD_SQL", "PgTx", "encode", "encode_column"]

#: Tables whose ``lon``/``lat`` columns are generated from ``geom``.
_GENERATED = frozenset({"lon", "lat"})
_POINT_TABLES = frozenset({"resources", "teams", "incidents"})
#: Types psycopg sends as they are.
_PLAIN = frozenset({str, int, float, bool, type(None)})


def encode(value: Any) -> Any:
    """Encode a logical value for psycopg (tuples as arrays, dicts as jsonb)."""
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, dict):
        return Jsonb(value)
    return value


def encode_column(values: Sequence[Any]) -> list[Any]:
    """Encode one column's logical values for psycopg; geometries as hex EWKB in bulk."""
    if all(type(v) in _PLAIN for v in values):
        return list(values)
    if all(v is None or isinstance(v, BaseGeometry) for v in values):
        arr = np.empty(len(values), dtype=object)
        arr[:] = list(values)
        # as psycopg's shapely dumper does, one geometry at a time
        return shapely.to_wkb(arr, hex=True, include_srid=True).tolist()  # type: ignore[no-any-return]
    return [encode(v) for v in values]


#: The fields of an audit entry before it is chained (all but the id).
AUDIT_FIELDS = rows.AUDIT_COLUMNS[1:]
#: Lock the audit log's head, hash the entry's canonical text around it, insert the entry.
#: READ COMMITTED re-reads the head row after waiting for its lock, so entries chain in the
#: order they take it, and get ids in that order.
HEAD_SQL = ("UPDATE audit_head SET prev_hash = hash, hash = encode(sha256(convert_to("
            "{text}, 'UTF8')), 'hex') WHERE id = 1 {where}RETURNING prev_hash, hash")
CHAIN_AUDIT = (
    "WITH head AS (" + HEAD_SQL.format(text="%(prefix)s || hash || %(suffix)s", where="")
    + ") INSERT INTO audit (at, actor, action, subject, inputs, result, prev_hash, hash) "
    "SELECT %(at)s, %(actor)s, %(action)s, %(subject)s, %(inputs)s, %(result)s, "
    "head.prev_hash, head.hash FROM head")


class PgTx:
    """A :class:`~navigator.store.sqlstore.Tx` on one psycopg cursor."""

    def __init__(self, cursor: psycopg.Cursor[dict[str, Any]]) -> None:
        self.cursor = cursor
        self.audit_rows: list[dict[str, Any]] = []

    def fetch(self, query: str, params: Mapping[str, Any] | None = None
              ) -> list[dict[str, Any]]:
        encoded = {k: encode(v) for k, v in (params or {}).items()}
        self.cursor.execute(query, encoded or None)  # type: ignore[call-overload]
        return self.cursor.fetchall() if self.cursor.description else []

    def insert_audit(self, entries: Sequence[Mapping[str, Any]]) -> None:
        # One statement per entry: the audit_head row lock (the schema's append lock) and
        # the chained insert, hashed in the database around the head it read.
        for entry in entries:
            prefix, suffix = chain_parts(entry)
            self.cursor.execute(CHAIN_AUDIT, {**{c: encode(entry[c]) for c in AUDIT_FIELDS},
                                              "prefix": prefix, "suffix": suffix})
            if self.cursor.rowcount != 1:  # raising rolls the whole transaction back
                msg = "the audit log has no head row (audit_head): nothing was written"
                raise StoreError(msg)

    def _columns(self, table: str, row: Mapping[str, Any]) -> list[str]:
        return [c for c in row if not (table in _POINT_TABLES and c in _GENERATED)]

    def insert(self, table: str, row: Mapping[str, Any]) -> None:
        self.insert_many(table, [row])

    def upsert(self, table: str, row: Mapping[str, Any], *, key: Sequence[str],
               keep: Sequence[str] = ()) -> None:
        self.upsert_many(table, [row], key=key, keep=keep)

    def insert_many(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        if rows:
            self._many(table, rows, sql.SQL(""))

    def upsert_many(self, table: str, rows: Sequence[Mapping[str, Any]], *,
                    key: Sequence[str], keep: Sequence[str] = ()) -> None:
        if not rows:
            return
        updates = [sql.SQL("{c} = EXCLUDED.{c}").format(c=sql.Identifier(c))
                   for c in self._columns(table, rows[0]) if c not in key and c not in keep]
        self._many(table, rows, sql.SQL(" ON CONFLICT ({key}) DO UPDATE SET {updates}").format(
            key=sql.SQL(", ").join(map(sql.Identifier, key)),
            updates=sql.SQL(", ").join(updates)))

    def _many(self, table: str, rows: Sequence[Mapping[str, Any]], tail: sql.Composable
              ) -> None:
        """Run one prepared INSERT (with ``tail``) over ``rows`` (pipelined by psycopg)."""
        columns = self._columns(table, rows[0])
        query = sql.SQL("INSERT INTO {table} ({columns}) VALUES ({values}){tail}").format(
            table=sql.Identifier(table),
            columns=sql.SQL(", ").join(map(sql.Identifier, columns)),
            values=sql.SQL(", ").join(sql.Placeholder() for _ in columns), tail=tail)
        values = zip(*(encode_column([r[c] for r in rows]) for c in columns), strict=True)
        if len(rows) == 1:
            self.cursor.execute(query, next(values))
        else:
            self.cursor.executemany(query, values)

    def execute_many(self, query: str, params: Sequence[Mapping[str, Any]]) -> None:
        self.cursor.executemany(query, ({k: encode(v) for k, v in p.items()}  # type: ignore[call-overload]
                                        for p in params))

    def count(self, table: str) -> int:
        self.cursor.execute(sql.SQL("SELECT count(*) AS n FROM {}").format(sql.Identifier(table)))
        found = self.cursor.fetchone()
        return int(found["n"]) if found else 0

    def delete_all(self, table: str) -> None:
        self.cursor.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(table)))

    def notify(self, topic: str) -> None:
        # one channel per schema, so stores in other schemas of the database stay quiet
        self.cursor.execute(f"SELECT pg_notify({CHANNEL_SQL}, %(topic)s)", {"topic": topic})
