"""The audit log's hash chain: canonical entry hashes, chained appends and verification.

Every entry carries ``prev_hash`` (the ``hash`` of the entry before it, or :data:`GENESIS`
for the first) and ``hash``: SHA-256 over the canonical JSON of its fields and ``prev_hash``
(:func:`entry_hash`). Changing an entry breaks its own hash; deleting, inserting or
reordering entries breaks the next entry's link. Entries written before the chain existed
(schema migration 3 on GeoPackage, 3 on PostGIS) have no hash: the chain starts at the first
entry written after the upgrade, and :meth:`AuditMethods.verify_audit` counts the older ones
as ``unchained``.

What the chain does not show on its own: the newest entries cut off the end (compare
``head_hash`` with a copy kept elsewhere), or a whole chain rewritten by someone who can
write the table and recompute hashes (the hashes carry no secret). The database refuses
UPDATE, DELETE and overwriting INSERTs on ``audit`` for the application; the chain is the
evidence when someone bypasses that.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from navigator.store import rows
from navigator.store.changes import bump_changes

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from contextlib import AbstractContextManager

    from navigator.store.tx import Tx

__all__ = ["GENESIS", "AuditMethods", "AuditVerification", "chain_after_head", "chain_parts",
           "entry_hash", "flush_audit", "verify_chain"]

#: ``prev_hash`` of the first chained entry.
GENESIS = "0" * 64
#: Columns :func:`verify_chain` reads.
CHAIN_COLUMNS = (*rows.AUDIT_COLUMNS, "prev_hash", "hash")
#: Entries read per query while verifying.
_PAGE = 1000
#: Integers beyond this are compared as the float they round to (see :func:`_number`).
_EXACT_INT = 2**53


@dataclass(frozen=True)
class AuditVerification:
    """The outcome of checking the audit log's hash chain.

    Attributes
    ----------
    ok
        True when every chained entry is intact and linked to the one before it.
    checked
        Chained entries found intact (up to the first broken one).
    broken_id
        Id of the first entry that fails, or None.
    reason
        Why that entry fails ("" when ``ok``).
    unchained
        Entries from before the chain existed (no hash; not covered by the check).
    head_hash
        Hash of the last intact entry (None if there is none): keep a copy elsewhere to
        notice entries cut off the end later.
    """

    ok: bool
    checked: int
    broken_id: int | None = None
    reason: str = ""
    unchained: int = 0
    head_hash: str | None = None


def _number(value: float) -> int | float:
    """Return a number in the form both backends give back (PostgreSQL jsonb is numeric).

    jsonb keeps ``1e16`` as ``10000000000000000`` and ``2.0`` as ``2.0``, so integral
    numbers become ints, and ints too large for a float's exact range become that float.
    """
    if isinstance(value, float) and not value.is_integer():
        return value
    exact = int(value)
    if abs(exact) <= _EXACT_INT:
        return exact
    try:
        return float(exact)
    except OverflowError:  # only ever an int, kept exactly by both backends
        return exact


def _canonical(value: Any) -> Any:
    """Return a decoded JSON value with numbers in :func:`_number` form."""
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _number(value)
    return value


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      allow_nan=False)


def chain_parts(entry: Mapping[str, Any], *, filled: str | None = None) -> tuple[str, ...]:
    """Return the canonical JSON of an entry split where its ``prev_hash`` goes.

    ``prefix + prev_hash + suffix`` is the ASCII text :func:`entry_hash` hashes: the entry's
    fields and ``prev_hash`` as one JSON object with sorted keys and no spaces. The split
    lets the database chain an entry (hash the text around the head it reads) in the
    statement that inserts it.

    Parameters
    ----------
    entry
        Audit row: ``at``, ``actor``, ``action``, ``subject``, ``inputs``, ``result``, as
        logical values or as either backend stores them.
    filled
        A key of the result the database fills in with an integer (it must sort after the
        result's other keys): the text is then also split where that integer goes.

    Returns
    -------
    tuple of str
        ``(prefix, suffix)``; with ``filled``, ``(prefix, middle, tail)`` where
        ``prefix + prev_hash + middle + str(value) + tail`` is the text.
    """
    at = rows.read_ts(entry["at"])
    # The keys in sorted order: action, actor, at, inputs, prev_hash, result, subject.
    prefix = ('{"action":' + _json(entry["action"]) + ',"actor":' + _json(entry["actor"])
              + ',"at":' + _json(None if at is None
                                 else rows.to_ms(at).isoformat(timespec="milliseconds"))
              + ',"inputs":' + _json(_canonical(rows.read_json(entry["inputs"])))
              + ',"prev_hash":"')
    result = _canonical(rows.read_json(entry["result"]))
    tail = ',"subject":' + _json(entry["subject"]) + "}"
    if filled is None:
        return prefix, '","result":' + _json(result) + tail
    if any(key >= filled for key in result):
        msg = f"the filled result key {filled!r} must sort after the others: {sorted(result)}"
        raise ValueError(msg)
    rest = _json(result)[:-1]
    middle = '","result":' + rest + ("," if result else "") + _json(filled) + ":"
    return prefix, middle, "}" + tail


def entry_hash(entry: Mapping[str, Any], prev_hash: str) -> str:
    """Return the SHA-256 hex digest chaining ``entry`` to ``prev_hash``.

    Parameters
    ----------
    entry
        Audit row: ``at``, ``actor``, ``action``, ``subject``, ``inputs``, ``result``, as
        logical values or as either backend stores them.
    prev_hash
        Hash of the entry before (:data:`GENESIS` for the first).

    Returns
    -------
    str
        64 lowercase hex digits: of ``prefix + prev_hash + suffix`` (:func:`chain_parts`).
    """
    prefix, suffix = chain_parts(entry)
    text = prefix + _json(prev_hash)[1:-1] + suffix
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def flush_audit(tx: Tx) -> None:
    """Chain and insert the audit entries ``tx`` queued; call it just before committing.

    Appending last keeps the audit lock (PostgreSQL: the ``audit_head`` row; SQLite: the
    write lock ``BEGIN IMMEDIATE`` already holds) the final lock a transaction takes, so
    writers cannot deadlock on it, and entries get ids in the order they are chained.
    """
    if not tx.audit_rows:
        return
    bump_changes(tx, {entry["action"] for entry in tx.audit_rows})
    tx.insert_audit(tx.audit_rows)
    tx.audit_rows.clear()


def chain_after_head(tx: Tx, entries: Iterable[Mapping[str, Any]]) -> None:
    """Chain ``entries`` to the newest entry and insert them (the caller holds the lock)."""
    head = tx.fetch("SELECT hash FROM audit ORDER BY id DESC LIMIT 1")
    prev = (head[0]["hash"] if head else None) or GENESIS
    for entry in entries:
        digest = entry_hash(entry, prev)
        tx.insert("audit", {**entry, "prev_hash": prev, "hash": digest})
        prev = digest


def verify_chain(entries: Iterable[Mapping[str, Any]]) -> AuditVerification:
    """Check audit rows (ascending id, :data:`CHAIN_COLUMNS`) and report the first break.

    Rows without a hash before the first chained one are counted as ``unchained``; after
    it, a row without a hash is a break.
    """
    prev: str | None = None
    checked = unchained = 0
    for entry in entries:
        found = entry["hash"]
        if found is None and prev is None:
            unchained += 1
            continue
        expected_prev = GENESIS if prev is None else prev
        reason = ""
        if found is None:
            reason = "it has no hash although entries before it are chained"
        elif entry["prev_hash"] != expected_prev:
            reason = ("its prev_hash is not the hash of the entry before it: an entry was "
                      "deleted, inserted or rewritten before it")
        elif entry_hash(entry, expected_prev) != found:
            reason = "its contents do not match its hash: the entry was changed"
        if reason:
            return AuditVerification(ok=False, checked=checked, broken_id=int(entry["id"]),
                                     reason=f"audit entry {entry['id']}: {reason}",
                                     unchained=unchained, head_hash=prev)
        prev = found
        checked += 1
    return AuditVerification(ok=True, checked=checked, unchained=unchained, head_hash=prev)


class AuditMethods:
    """The audit-verification part of the store contract, on a backend's transactions."""

    #: Provided by the backend (annotation only, so it does not shadow the backend's).
    _transaction: Callable[..., AbstractContextManager[Tx]]

    def verify_audit(self) -> AuditVerification:
        """Check the audit log's hash chain from the first entry to the last.

        Reads the log in pages inside one transaction; memory stays small however long the
        log is.

        Returns
        -------
        AuditVerification
            ``ok``, how many entries were checked, and the first broken entry and why.
        """
        with self._transaction(write=False) as tx:
            return verify_chain(_pages(tx))


def _pages(tx: Tx) -> Iterator[dict[str, Any]]:
    """Yield every audit row by ascending id, :data:`_PAGE` rows per query."""
    after = -1
    query = (f"SELECT {', '.join(CHAIN_COLUMNS)} FROM audit WHERE id > %(after)s "
             "ORDER BY id LIMIT %(n)s")
    while True:
        page = tx.fetch(query, {"after": after, "n": _PAGE})
        yield from page
        if len(page) < _PAGE:
            return
        after = int(page[-1]["id"])
