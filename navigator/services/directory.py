"""Directory imports: read a resource directory, load it all or nothing, audit and report."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from navigator.errors import ValidationError

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

    from navigator.exchange.geocode import Geocoder
    from navigator.exchange.report import ImportReport
    from navigator.model import Bundle
    from navigator.store import Store


def import_directory(store: Store, path: str | Path, *, actor: str, fmt: str = "auto",
                     replace: bool = False, skip_unlocated: bool = False,
                     geocoder: Geocoder | None = None, encoding: str | None = None,
                     progress: bool = False, area: BaseGeometry | None = None) -> ImportReport:
    """Import a resource directory (HSDS 1.x-3.x, GeoJSON, CSV) into ``store``; all or nothing.

    The file is read and checked completely before the store is touched; the records then
    go in with one :meth:`Store.load` transaction, and one ``import_directory`` audit entry
    records the report (what was imported, skipped and defaulted per kind, and why).

    Parameters
    ----------
    store
        Where the records go.
    path
        A file or folder (HSDS package folder or .zip, HSDS JSON, GeoJSON, CSV).
    actor
        Who imports, for the audit log.
    fmt
        ``"auto"`` (from the name), ``"hsds"``, ``"geojson"`` or ``"csv"``.
    replace
        Replace every record in the store (the audit log is kept).
    skip_unlocated
        Leave out (and report) HSDS services at locations without coordinates instead of
        refusing the whole import.
    geocoder
        Places HSDS locations that have an address but no coordinates
        (:class:`navigator.exchange.geocode.Geocoder`).
    encoding
        Text encoding of HSDS CSV files without a byte-order mark (default UTF-8).
    progress
        Show progress bars on stderr.
    area
        Polygon (EPSG:4326) the resources must lie in (e.g. the road network's area); those
        outside are left out and named in the report's notes.

    Returns
    -------
    ImportReport
        With ``stored`` set to the counts the store loaded.

    Raises
    ------
    ValidationError
        If the input is malformed (file, row, record id and field named), or ``replace``
        would empty the store; the store is unchanged.
    """
    from navigator.exchange.formats import read_bundle_report

    path = Path(path)
    if not path.exists():
        msg = f"{path}: no such file or folder"
        raise ValidationError(msg)
    bundle, report = read_bundle_report(path, fmt=fmt, skip_unlocated=skip_unlocated,
                                        geocoder=geocoder, encoding=encoding,
                                        progress=progress)
    if area is not None:
        bundle, report = _clipped(bundle, report, area, label=path.name)
    if replace and not any(bundle.counts().values()):
        msg = f"{path} holds no records: refusing to replace the store's data with nothing"
        raise ValidationError(msg)
    if progress:
        from tqdm import tqdm

        total = sum(bundle.counts().values())
        with tqdm(total=total, desc="storing (one transaction)", unit=" records",
                  leave=False) as bar:
            stored = store.load(bundle, actor=actor, replace=replace)
            bar.update(total)
    else:
        stored = store.load(bundle, actor=actor, replace=replace)
    report = report.with_stored(stored)
    summary = report.to_dict()
    store.record("import_directory", actor=actor, subject=str(path),
                 inputs={"path": str(path), "format": report.format, "version": report.version,
                         "replace": replace, "skip_unlocated": skip_unlocated,
                         "geocoder": geocoder is not None},
                 result={"imported": summary["imported"], "skipped": summary["skipped"],
                         "by_kind": summary["by_kind"], "stored": dict(stored)})
    return report


def _clipped(bundle: Bundle, report: ImportReport, area: BaseGeometry, *, label: str
             ) -> tuple[Bundle, ImportReport]:
    """Return the bundle without resources outside ``area``, the report counting them."""
    import dataclasses
    from collections import Counter

    from navigator.exchange.area import checked_area, clipped_resources
    from navigator.exchange.report import ReportEntry

    kept, notes = clipped_resources(bundle.resources, checked_area(area), label=label)
    ids = {r.id for r in kept}
    dropped = [r for r in bundle.resources if r.id not in ids]
    if not dropped:
        return bundle, report
    by_kind = Counter(r.kind.value for r in dropped)
    imported = {k: n - by_kind.get(k, 0) for k, n in report.imported.items()}
    entries = tuple(ReportEntry(kind, "skipped", "outside the road network's area", n,
                                tuple(r.id for r in dropped if r.kind.value == kind)[:5])
                    for kind, n in sorted(by_kind.items()))
    return (dataclasses.replace(bundle, resources=kept, notes=(*bundle.notes, *notes)),
            dataclasses.replace(report, imported=imported,
                                entries=(*report.entries, *entries),
                                notes=(*report.notes, *notes)))
