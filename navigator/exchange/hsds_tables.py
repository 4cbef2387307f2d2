"""HSDS tabular packages of any version (1.x, 2.x, 3.x) read as HSDS 3.0-shaped table rows.

Each row is a dict holding the 3.0 column names Navigator uses, plus ``_file`` (the CSV file
name) and ``_row`` (its spreadsheet row: the header is row 1), so every error can name the
file, row, record id and field. Files are streamed (zip members too) and only the columns
Navigator reads are kept, so memory grows with the records, not with the file size.

Version differences handled here (HSDS 1.x / 2.x -> 3.0):

- ``services_at_location.csv`` -> ``service_at_location``; ``physical_addresses.csv`` ->
  ``address`` (physical; ``postal_addresses.csv`` is not where a service is, and is left out);
- ``regular_schedules.csv`` (1.x ``weekday`` 1 = Monday ... 7 = Sunday, or day names) ->
  weekly ``schedule`` rows; 2.x ``schedules.csv`` is already iCal-style like 3.0;
  ``holiday_schedules.csv`` is counted and left out (Navigator's hours have no date rules);
- ``accessibility_for_disabilities.csv`` (``accessibility``, ``details``) -> ``accessibility``;
- ``languages.csv`` 1.x/2.x ``language`` column (a name or a code) -> ``name``/``code``;
- ``service_areas.csv`` ``service_area`` -> ``name``;
- 1.x ``services_taxonomy.csv`` + ``taxonomy.csv`` and 2.x ``service_attributes.csv`` /
  ``other_attributes.csv`` + ``taxonomy_terms.csv`` (``term``) -> ``attribute`` +
  ``taxonomy_term`` (``name``, ``code``, ``taxonomy``).
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import zipfile
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from navigator.errors import ValidationError

#: Versions Navigator reads (major version -> label used in reports).
SUPPORTED_VERSIONS = {1: "1.x", 2: "2.x", 3: "3.x"}
#: 3.0 table name -> the file names it may have, newest first.
FILES: dict[str, tuple[str, ...]] = {
    "organization": ("organizations.csv", "organization.csv"),
    "service": ("services.csv", "service.csv"),
    "location": ("locations.csv", "location.csv"),
    "service_at_location": ("service_at_location.csv", "services_at_location.csv",
                            "services_at_locations.csv"),
    "address": ("addresses.csv", "address.csv", "physical_addresses.csv",
                "physical_address.csv"),
    "phone": ("phones.csv", "phone.csv"),
    "schedule": ("schedules.csv", "schedule.csv", "regular_schedules.csv",
                 "regular_schedule.csv"),
    "language": ("languages.csv", "language.csv"),
    "accessibility": ("accessibility.csv", "accessibility_for_disabilities.csv"),
    "service_area": ("service_areas.csv", "service_area.csv"),
    "attribute": ("attributes.csv", "service_attributes.csv", "other_attributes.csv",
                  "services_taxonomy.csv", "service_taxonomy.csv"),
    "taxonomy_term": ("taxonomy_terms.csv", "taxonomy_term.csv", "taxonomy.csv"),
    "taxonomy": ("taxonomies.csv",),
}
#: Columns kept per table (3.0 names; older names are mapped onto them while reading).
COLUMNS: dict[str, tuple[str, ...]] = {
    "organization": ("id", "name"),
    "service": ("id", "organization_id", "name", "description", "url", "status",
                "minimum_age", "maximum_age", "taxonomy_ids"),
    "location": ("id", "organization_id", "name", "latitude", "longitude",
                 "external_identifier", "external_identifier_type", "location_type"),
    "service_at_location": ("id", "service_id", "location_id"),
    "address": ("id", "location_id", "address_1", "address_2", "city", "state_province",
                "postal_code", "country", "address_type"),
    "phone": ("id", "service_id", "location_id", "service_at_location_id", "organization_id",
              "contact_id", "number", "type"),
    "schedule": ("id", "service_id", "location_id", "service_at_location_id", "freq",
                 "byday", "opens_at", "closes_at", "valid_from", "valid_to", "weekday"),
    "language": ("id", "service_id", "location_id", "phone_id", "name", "code"),
    "accessibility": ("id", "location_id", "description", "details"),
    "service_area": ("id", "service_id", "name", "description", "extent", "extent_type"),
    "attribute": ("id", "link_id", "link_type", "link_entity", "taxonomy_term_id", "value"),
    "taxonomy_term": ("id", "code", "name", "taxonomy", "taxonomy_id", "parent_id"),
    "taxonomy": ("id", "name"),
}
# Older column names -> 3.0 names, per table.
_RENAMES: dict[str, dict[str, str]] = {
    "service_area": {"service_area": "name"},
    "accessibility": {"accessibility": "description"},
    "taxonomy_term": {"term": "name", "vocabulary": "taxonomy"},
}
_MARKERS_1 = ("regular_schedules.csv", "holiday_schedules.csv", "services_taxonomy.csv",
              "taxonomy.csv")
_MARKERS_2 = ("service_attributes.csv", "other_attributes.csv")
_MARKERS_OLD = ("services_at_location.csv", "physical_addresses.csv",
                "accessibility_for_disabilities.csv", "postal_addresses.csv")
_MARKERS_3 = ("service_at_location.csv", "addresses.csv", "attributes.csv",
              "accessibility.csv", "taxonomies.csv")
_WEEKDAYS = {"1": "MO", "2": "TU", "3": "WE", "4": "TH", "5": "FR", "6": "SA", "7": "SU"}
_DAY_NAMES = {name: code for code, names in (
    ("MO", ("monday", "mon", "mo")), ("TU", ("tuesday", "tue", "tues", "tu")),
    ("WE", ("wednesday", "wed", "we")), ("TH", ("thursday", "thu", "thur", "thurs", "th")),
    ("FR", ("friday", "fri", "fr")), ("SA", ("saturday", "sat", "sa")),
    ("SU", ("sunday", "sun", "su"))) for name in names}


@dataclass
class PackageTables:
    """The rows of one HSDS package, as 3.0 tables, with what was learned reading it.

    Attributes
    ----------
    name
        The package's file or folder name (used in messages).
    version
        ``"1.x"``, ``"2.x"`` or ``"3.x"``.
    tables
        3.0 table name -> rows (dicts with ``_file`` and ``_row``).
    files
        3.0 table name -> the file(s) read for it.
    notes
        How the version was decided, and files read or left out.
    """

    name: str
    version: str
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    files: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _major(text: object) -> int | None:
    m = re.match(r"\s*v?(\d+)", str(text or ""))
    return int(m.group(1)) if m else None


def detect_version(descriptor: dict[str, Any] | None, files: dict[str, list[str]], *,
                   where: str) -> tuple[str, str]:
    """Return the HSDS version of a package (``"1.x"``/``"2.x"``/``"3.x"``) and the evidence.

    ``datapackage.json``'s ``version`` (or a ``profile`` URL naming one) is read first; the
    table and column names decide when it is absent, and win when they contradict it (the
    1.1 sample package's descriptor says ``"1.0"``; some 1.x exports ship the 3.0 template).

    Parameters
    ----------
    descriptor
        The parsed ``datapackage.json`` (None if the package has none).
    files
        CSV file name -> its header columns.
    where
        The package name, for messages.

    Raises
    ------
    ValidationError
        If the descriptor names a version Navigator does not read (the message names it).
    """
    declared = None
    said = ""
    if descriptor:
        said = str(descriptor.get("version") or "")
        if not said:
            m = re.search(r"(\d+\.\d+(?:\.\d+)?)", str(descriptor.get("profile") or ""))
            said = m.group(1) if m and "hsds" in str(descriptor.get("profile")).lower() else ""
        declared = _major(said)
        if declared is not None and declared not in SUPPORTED_VERSIONS:
            msg = (f"{where}: datapackage.json says HSDS version {said!r}; Navigator reads "
                   f"HSDS {', '.join(SUPPORTED_VERSIONS.values())}")
            raise ValidationError(msg)
    names = set(files)
    lang_cols = set(files.get("languages.csv", ()))
    term_cols = set(files.get("taxonomy_terms.csv", ()))
    evidence: list[str] = []
    structural = None
    if hits := sorted(names & set(_MARKERS_1)):
        structural, evidence = 1, hits
    elif hits := sorted(names & set(_MARKERS_2)):
        structural, evidence = 2, hits
    elif "term" in term_cols and "code" not in term_cols:
        structural, evidence = 2, ["taxonomy_terms.csv column 'term'"]
    elif hits := sorted(names & set(_MARKERS_OLD)):
        structural = 2 if "schedules.csv" in names else 1
        evidence = hits + (["schedules.csv"] if structural == 2 else [])
    elif "language" in lang_cols and "code" not in lang_cols:
        structural, evidence = 1, ["languages.csv column 'language'"]
    elif hits := sorted(names & set(_MARKERS_3)):
        structural, evidence = 3, hits
    if structural is None and declared is None:
        return "3.x", "no datapackage.json version and no version-specific tables: read as 3.x"
    if structural is None:
        return SUPPORTED_VERSIONS[declared], f"datapackage.json version {said!r}"  # type: ignore[index]
    why = ", ".join(evidence)
    if declared is not None and declared != structural:
        return SUPPORTED_VERSIONS[structural], (
            f"datapackage.json says version {said!r} but the tables are HSDS "
            f"{SUPPORTED_VERSIONS[structural]} ({why}): read as {SUPPORTED_VERSIONS[structural]}")
    return SUPPORTED_VERSIONS[structural], (
        f"HSDS {SUPPORTED_VERSIONS[structural]} from "
        + (f"datapackage.json version {said!r} and " if said else "") + why)


def _lines(raw: IO[bytes], name: str, encoding: str | None, where: str) -> Iterator[str]:
    """Yield the decoded lines of a CSV file; a byte the encoding cannot read names its line."""
    head = raw.peek(4)[:4] if hasattr(raw, "peek") else b""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        with io.TextIOWrapper(raw, encoding="utf-16", newline="") as text:  # type: ignore[arg-type]
            yield from text
        return
    enc = "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else (encoding or "utf-8")
    try:
        decode = codecs.getdecoder(enc)
    except LookupError as e:
        msg = f"{where}: {name}: unknown text encoding {enc!r}"
        raise ValidationError(msg) from e
    for number, line in enumerate(raw, start=1):
        if number == 1 and enc == "utf-8-sig":
            line = line.removeprefix(codecs.BOM_UTF8)
        try:
            yield decode(line)[0]
        except UnicodeDecodeError as e:
            msg = (f"{where}: {name} line {number} is not {enc.removesuffix('-sig')} text "
                   f"({e.reason}, byte 0x{line[e.start]:02x} at column {e.start + 1}); save "
                   "it as UTF-8, or pass the encoding (e.g. encoding='cp1252' for a Windows "
                   "export)")
            raise ValidationError(msg) from e


def _rows(stream: Iterator[str], name: str, table: str, where: str
          ) -> Iterator[dict[str, Any]]:
    keep = COLUMNS[table] + _extra_columns(table, name)
    renames = _RENAMES.get(table, {})
    reader = csv.reader(stream)
    try:
        header = next(reader, None)
        if header is None:
            return
        header = [h.strip().lstrip("\ufeff").lower() for h in header]
        cols = [(i, renames.get(h, h)) for i, h in enumerate(header)
                if renames.get(h, h) in keep]
        if table in ("language", "accessibility") and "language" in header:
            cols.append((header.index("language"), "name"))
        seen = set()
        for _i, c in cols:
            if c in seen and c != "name":
                msg = f"{where}: {name} has the column {c!r} twice"
                raise ValidationError(msg)
            seen.add(c)
        row_no = 1
        start = reader.line_num
        width = len(header)
        for values in reader:
            row_no = start + 1
            start = reader.line_num
            n = len(values)
            if n > width:
                if not "".join(values).strip():
                    continue
                msg = (f"{where}: {name} row {row_no}: {n} values for "
                       f"{width} columns (an unquoted comma or line break?)")
                raise ValidationError(msg)
            row: dict[str, Any] = {"_file": name, "_row": row_no}
            for i, c in cols:
                if i < n and (v := values[i].strip()):
                    row[c] = v
            if len(row) == 2 and not "".join(values).strip():
                continue  # a blank line (or only commas)
            yield row
    except UnicodeDecodeError as e:  # UTF-16 files are decoded by the stream
        msg = f"{where}: {name} near row {reader.line_num + 1} is not UTF-16 text: {e}"
        raise ValidationError(msg) from e
    except csv.Error as e:
        msg = f"{where}: {name} row {reader.line_num}: not valid CSV: {e}"
        raise ValidationError(msg) from e


def _normalise(table: str, row: dict[str, Any], name: str) -> None:
    if table == "schedule" and "weekday" in row and not row.get("byday"):
        day = str(row.pop("weekday")).strip().lower()
        code = _WEEKDAYS.get(day) or _DAY_NAMES.get(day)
        if code is None:
            msg = (f"{name} row {row['_row']}: schedule {row.get('id', '?')!r}: weekday "
                   f"{day!r} is not 1 (Monday) to 7 (Sunday) or a day name")
            raise ValidationError(msg)
        row["byday"], row["freq"] = code, "WEEKLY"
    elif table == "address" and name.startswith("physical_address"):
        row.setdefault("address_type", "physical")
    elif table == "attribute" and _extra_columns(table, name):
        row["link_id"] = row.pop("service_id", row.get("link_id", ""))
        row["link_entity"] = "service"
        if "taxonomy_id" in row:
            row["taxonomy_term_id"] = row.pop("taxonomy_id")
        if "taxonomy_detail" in row:
            row["value"] = row.pop("taxonomy_detail")
    elif table == "taxonomy_term" and not row.get("code") and name == "taxonomy.csv":
        row["code"] = row.get("id", "")


def _extra_columns(table: str, name: str) -> tuple[str, ...]:
    if table == "attribute" and name.startswith(("service_attribute", "services_taxonomy",
                                                  "service_taxonomy")):
        return ("service_id", "taxonomy_id", "taxonomy_detail")
    return ()


def read_package_tables(path: str | Path, *, encoding: str | None = None,
                        progress: bool = False) -> PackageTables:
    """Return the rows of an HSDS tabular package (folder or .zip of CSVs), as 3.0 tables.

    Parameters
    ----------
    path
        A folder or a ``.zip`` file (CSV files may sit in one sub-folder).
    encoding
        Text encoding of files without a byte-order mark (default UTF-8); files with a
        UTF-8 or UTF-16 BOM are read by it.
    progress
        Show a progress bar per CSV file (rows read, on stderr).

    Raises
    ------
    ValidationError
        If the package cannot be read, names an unsupported HSDS version, or has no
        ``services.csv`` rows; messages name the package, file and row.
    """
    path = Path(path)
    where = path.name
    with ExitStack() as stack:
        opened: dict[str, Any] = {}
        if path.suffix.lower() == ".zip":
            try:
                zf = stack.enter_context(zipfile.ZipFile(path))
            except (OSError, zipfile.BadZipFile) as e:
                msg = f"cannot read HSDS package {str(path)!r}: {e}"
                raise ValidationError(msg) from e
            for info in zf.infolist():
                base = Path(info.filename).name.lower()
                if base.endswith((".csv", "datapackage.json")) and not info.is_dir() \
                        and "__macosx" not in info.filename.lower():
                    opened.setdefault(base, lambda i=info: zf.open(i))
        elif path.is_dir():
            for p in sorted(path.rglob("*")):
                base = p.name.lower()
                if p.is_file() and base.endswith((".csv", "datapackage.json")):
                    opened.setdefault(base, lambda p=p: p.open("rb"))
        else:
            msg = f"HSDS package {str(path)!r} is neither a folder nor a .zip file"
            raise ValidationError(msg)
        descriptor = None
        notes: list[str] = []
        if "datapackage.json" in opened:
            try:
                with opened["datapackage.json"]() as raw:
                    descriptor = json.loads(raw.read().decode("utf-8-sig"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
                # The descriptor is optional in practice (exports ship a stale template, or a
                # symlink saved as text): say so, and let the tables decide the version.
                notes.append(f"{where}: datapackage.json is not valid JSON ({e}); ignored")
                descriptor = None
            if descriptor is not None and not isinstance(descriptor, dict):
                notes.append(f"{where}: datapackage.json is not a JSON object; ignored")
                descriptor = None
        headers: dict[str, list[str]] = {}
        for base, opener in opened.items():
            if base.endswith(".csv"):
                try:
                    with opener() as raw:
                        first = next(csv.reader(_lines(raw, base, encoding, where)), [])
                except (OSError, UnicodeDecodeError, csv.Error, ValidationError):
                    first = []
                headers[base] = [h.strip().lstrip("\ufeff").lower() for h in first]
        version, why = detect_version(descriptor, headers, where=where)
        out = PackageTables(where, version, notes=[*notes, f"{where}: {why}"])
        used: set[str] = set()
        for table, names in FILES.items():
            rows: list[dict[str, Any]] = []
            for name in names:
                if name not in opened or (table == "taxonomy_term" and name == "taxonomy.csv"
                                          and version == "3.x"):
                    continue
                if table == "schedule" and name.startswith("regular") and \
                        "schedules.csv" in opened:
                    continue
                if table == "attribute" and name == "other_attributes.csv":
                    continue  # links to organizations, locations... never decide a kind
                used.add(name)
                out.files.setdefault(table, []).append(name)
                try:
                    with opened[name]() as raw:
                        stream = _rows(_lines(raw, name, encoding, where), name, table, where)
                        if progress:
                            from tqdm import tqdm

                            stream = tqdm(stream, desc=f"reading {name}", unit=" rows",
                                          leave=False)
                        for row in stream:
                            _normalise(table, row, name)
                            rows.append(row)
                except OSError as e:
                    msg = f"{where}: cannot read {name}: {e}"
                    raise ValidationError(msg) from e
            if rows or table in out.files:
                out.tables[table] = rows
        left = sorted(n for n in opened if n.endswith(".csv") and n not in used)
        if "holiday_schedules.csv" in left:
            out.notes.append(f"{where}: holiday_schedules.csv left out (Navigator's hours "
                             "hold weekly rules only; holiday closures are not applied)")
        if left:
            out.notes.append(f"{where}: tables not used: {', '.join(left)}")
    if not out.tables.get("service"):
        msg = f"HSDS package {where}: no services.csv rows"
        raise ValidationError(msg)
    return out
