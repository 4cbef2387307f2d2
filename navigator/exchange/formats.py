"""Import and export by file: pick the format from the name, then call the ingest readers."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from navigator.errors import ConflictError, ValidationError

if TYPE_CHECKING:
    from navigator.exchange.geocode import Geocoder
    from navigator.exchange.report import ImportReport
    from navigator.model import Bundle
    from navigator.store import Store

IMPORT_FORMATS = ("hsds", "geojson", "csv")
EXPORT_FORMATS = ("hsds-csv", "hsds-json", "geojson", "gpkg")


def import_format(path: Path) -> str:
    """Return the import format a path's name implies.

    A folder or ``.zip`` is an HSDS CSV package; ``.geojson`` is GeoJSON; ``.json`` is HSDS
    JSON unless it holds a FeatureCollection; ``.csv`` is a resource table with lon/lat.
    """
    name = path.name.lower()
    if path.is_dir() or name.endswith(".zip"):
        return "hsds"
    if name.endswith(".geojson"):
        return "geojson"
    if name.endswith(".json"):
        head = path.read_text(encoding="utf-8-sig", errors="replace")[:4096]
        return "geojson" if '"FeatureCollection"' in head else "hsds"
    if name.endswith(".csv"):
        return "csv"
    msg = (f"{path}: cannot tell the format from the name; pass --format "
           f"({', '.join(IMPORT_FORMATS)})")
    raise ValidationError(msg)


def read_bundle(path: Path, *, fmt: str = "auto") -> Bundle:
    """Read every record of an import file into a Bundle; nothing is stored yet.

    Raises
    ------
    ValidationError
        If the file is malformed; the message names the record and field.
    """
    return read_bundle_report(path, fmt=fmt)[0]


def read_bundle_report(path: Path, *, fmt: str = "auto", skip_unlocated: bool = False,
                       geocoder: Geocoder | None = None, encoding: str | None = None,
                       progress: bool = False) -> tuple[Bundle, ImportReport]:
    """Read an import file into a Bundle and say what was read, skipped and defaulted.

    ``skip_unlocated``, ``geocoder`` and ``encoding`` apply to HSDS (see
    :func:`navigator.exchange.hsds_import.read_hsds`); GeoJSON and CSV rows carry their
    own coordinates and kinds.

    Raises
    ------
    ValidationError
        If the file is malformed; the message names the file, row, record and field.
    """
    from navigator.exchange import files
    from navigator.exchange import hsds_import as hsds_read
    from navigator.exchange.report import ReportBuilder

    fmt = import_format(path) if fmt == "auto" else fmt
    if fmt == "hsds":
        return hsds_read.read_hsds(path, skip_unlocated=skip_unlocated, geocoder=geocoder,
                                   encoding=encoding, progress=progress)
    if fmt not in ("geojson", "csv"):
        msg = f"unknown import format {fmt!r}; use one of {', '.join(IMPORT_FORMATS)}"
        raise ValidationError(msg)
    reader = files.read_resources_geojson if fmt == "geojson" else files.read_resources_csv
    bundle = reader(path)
    report = ReportBuilder()
    for r in bundle.resources:
        report.imported[r.kind.value] += 1
        if not r.opening_hours:
            report.add(r.kind.value, "defaulted", "hours unknown (none given)", r.id)
    report.notes.extend(bundle.notes)
    return bundle, report.build(str(path), fmt)


def export_format(path: Path) -> str:
    """Return the export format a path's name implies."""
    name = path.name.lower()
    for suffix, fmt in ((".geojson", "geojson"), (".gpkg", "gpkg"), (".json", "hsds-json"),
                        (".zip", "hsds-csv")):
        if name.endswith(suffix):
            return fmt
    if not path.suffix:
        return "hsds-csv"
    msg = (f"{path}: cannot tell the format from the name; pass --format "
           f"({', '.join(EXPORT_FORMATS)})")
    raise ValidationError(msg)


def write_export(store: Store, path: Path, *, fmt: str = "auto",
                 include_confidential: bool = False, overwrite: bool = False) -> str:
    """Export the store's resources to ``path``; return a one-line summary.

    HSDS exports never include confidential sites, whatever ``include_confidential`` says.

    Raises
    ------
    ConflictError
        If ``path`` exists and ``overwrite`` is False (nothing is written).
    ValidationError
        If ``path`` is the store's own file, or the format is unknown.
    """
    from navigator.exchange import files
    from navigator.exchange import hsds_export as hsds

    own = getattr(store, "path", None)
    if own is not None and Path(own).resolve() == path.resolve():
        msg = f"{path} is the store itself: export to another file"
        raise ValidationError(msg)
    if path.exists() and not overwrite:
        msg = f"{path} exists: pass --overwrite to replace it"
        raise ConflictError(msg)
    fmt = export_format(path) if fmt == "auto" else fmt
    if fmt in ("hsds-csv", "hsds-json"):
        bundle = hsds.store_public_bundle(store)
        if fmt == "hsds-json":
            path.write_text(hsds.hsds_json(bundle), encoding="utf-8")
        else:
            hsds.write_hsds_package(bundle, path)
        return (f"{len(bundle.resources)} resources and {len(bundle.hotlines)} hotlines as "
                f"{fmt} (confidential sites left out)")
    if fmt in ("geojson", "gpkg"):
        gdf = store.resources(include_confidential=include_confidential)
        beds = store.beds(gdf["id"])
        writer = files.write_resources_geojson if fmt == "geojson" else files.write_resources_gpkg
        writer(gdf, path, beds=beds, include_confidential=include_confidential)
        return f"{len(gdf)} resources as {fmt}"
    msg = f"unknown export format {fmt!r}; use one of {', '.join(EXPORT_FORMATS)}"
    raise ValidationError(msg)
