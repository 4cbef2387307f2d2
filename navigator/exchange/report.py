"""The import report: what a directory import stored, skipped and filled in, per kind, and why."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: Actions a report entry can record.
ACTIONS = ("skipped", "defaulted", "located", "classified")
_EXAMPLES = 5


@dataclass(frozen=True)
class ReportEntry:
    """Records of one kind that were skipped, defaulted, located or classified for one reason.

    Attributes
    ----------
    kind
        Resource kind (``"shelter"``, ..., ``"other"``), ``"hotline"`` or ``"service"``
        (a service skipped before its kind was known).
    action
        ``"skipped"`` (not imported), ``"defaulted"`` (imported with a value unknown, e.g.
        hours unknown), ``"located"`` (coordinates from the geocoder) or ``"classified"``
        (how the kind was decided).
    reason
        Why, in words a directory editor understands.
    count
        How many records.
    examples
        The first few record labels (file, row and id where known).
    """

    kind: str
    action: str
    reason: str
    count: int
    examples: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict."""
        return {"kind": self.kind, "action": self.action, "reason": self.reason,
                "count": self.count, "examples": list(self.examples)}


@dataclass(frozen=True)
class ImportReport:
    """What one import read, stored, skipped and defaulted, per kind and reason.

    Attributes
    ----------
    source
        The file or folder imported.
    format
        ``"hsds"``, ``"geojson"`` or ``"csv"``.
    version
        The HSDS version read (``"1.x"``, ``"2.x"``, ``"3.x"``), empty for other formats.
    imported
        Records in the bundle per kind (resource kinds, and ``"hotline"``).
    entries
        Skipped / defaulted / located / classified records, grouped by kind and reason.
    notes
        Anything else the reader said (tables not used, version evidence, clipping).
    stored
        Counts the store reported after loading (empty when nothing was stored).
    """

    source: str
    format: str
    version: str = ""
    imported: Mapping[str, int] = field(default_factory=dict)
    entries: tuple[ReportEntry, ...] = ()
    notes: tuple[str, ...] = ()
    stored: Mapping[str, int] = field(default_factory=dict)

    def count(self, kind: str, action: str | None = None) -> int:
        """Return records of ``kind`` imported (``action=None``) or with ``action``."""
        if action is None:
            return int(self.imported.get(kind, 0))
        return sum(e.count for e in self.entries if e.kind == kind and e.action == action)

    def with_stored(self, stored: Mapping[str, int]) -> ImportReport:
        """Return a copy recording the counts the store returned."""
        return ImportReport(self.source, self.format, self.version, dict(self.imported),
                            self.entries, self.notes, dict(stored))

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict (what ``navigator import --json`` prints)."""
        kinds = sorted(set(self.imported) | {e.kind for e in self.entries})
        return {
            "source": self.source, "format": self.format, "version": self.version,
            "imported": {k: int(self.imported.get(k, 0)) for k in kinds
                         if k in self.imported},
            "skipped": sum(e.count for e in self.entries if e.action == "skipped"),
            "by_kind": {k: {"imported": int(self.imported.get(k, 0)),
                            **{a: self.count(k, a) for a in ACTIONS}} for k in kinds},
            "entries": [e.to_dict() for e in self.entries],
            "notes": list(self.notes), "stored": dict(self.stored),
        }

    def to_text(self) -> str:
        """Return the report as lines for a terminal."""
        head = f"Import of {self.source} ({self.format}"
        head += f" {self.version})" if self.version else ")"
        lines = [head]
        kinds = sorted(set(self.imported) | {e.kind for e in self.entries})
        for kind in kinds:
            lines.append(f"  {kind}: {int(self.imported.get(kind, 0))} imported"
                         + "".join(f", {n} {a}" for a in ("skipped", "defaulted", "located")
                                   if (n := self.count(kind, a))))
            for e in self.entries:
                if e.kind == kind:
                    more = f" (e.g. {'; '.join(e.examples)})" if e.examples else ""
                    lines.append(f"    {e.action} {e.count}: {e.reason}{more}")
        if self.stored:
            lines.append("  stored: " + ", ".join(f"{n} {k}" for k, n in self.stored.items()))
        lines.extend(f"  note: {n}" for n in self.notes)
        return "\n".join(lines)


class ReportBuilder:
    """Collects counts while a reader runs; :meth:`build` returns the frozen report."""

    def __init__(self) -> None:
        self.imported: Counter[str] = Counter()
        self._counts: Counter[tuple[str, str, str]] = Counter()
        self._examples: dict[tuple[str, str, str], list[str]] = {}
        self.notes: list[str] = []

    def add(self, kind: str, action: str, reason: str, example: str = "") -> None:
        """Count one record of ``kind`` with ``action`` for ``reason``."""
        key = (str(kind), action, reason)
        self._counts[key] += 1
        examples = self._examples.setdefault(key, [])
        if example and len(examples) < _EXAMPLES:
            examples.append(example)

    def build(self, source: str, fmt: str, version: str = "") -> ImportReport:
        """Return the report collected so far."""
        entries = tuple(ReportEntry(k, a, r, n, tuple(self._examples.get((k, a, r), ())))
                        for (k, a, r), n in sorted(
                            self._counts.items(),
                            key=lambda kv: (kv[0][0], ACTIONS.index(kv[0][1]), -kv[1])))
        return ImportReport(source, fmt, version, dict(sorted(self.imported.items())),
                            entries, tuple(self.notes))
