"""GeoPackage plumbing: geometry binary encoding, SQL functions, connections and migrations.

The embedded store writes GeoPackage 1.3 files itself with :mod:`sqlite3` (no GDAL needed),
so QGIS, GDAL and pyogrio open them directly. Geometries are GeoPackage binary: a ``GP``
header with the SRS id and an envelope, followed by ISO WKB (little-endian).
"""

from __future__ import annotations

import functools
import re
import sqlite3
import struct
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from navigator.store.schema import migration_files

if TYPE_CHECKING:
    from collections.abc import Sequence

    from shapely.geometry.base import BaseGeometry

#: SQLite ``application_id`` of a GeoPackage ('GPKG').
APPLICATION_ID = 0x47504B47
#: SQLite ``user_version`` of a GeoPackage 1.3 file.
USER_VERSION = 10300
#: SRS id of every geometry the store writes (EPSG:4326).
SRS_ID = 4326

_HEADER = struct.Struct("<2sBBi")  # magic, version, flags, srs_id
_ENVELOPE = struct.Struct("<4d")  # minx, maxx, miny, maxy
#: Envelope size in bytes per envelope contents indicator (flags bits 1-3).
_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}
_EMPTY_FLAG = 0b0001_0000
_MIGRATION_FILE = re.compile(r"^gpkg_(\d{4})_\w+\.sql$")


def to_gpkg(geom: BaseGeometry | None, *, srs_id: int = SRS_ID) -> bytes | None:
    """Encode a shapely geometry as GeoPackage binary (header, envelope, ISO WKB).

    One geometry of :func:`to_gpkg_many` (None stays None: SQL NULL).
    """
    return to_gpkg_many([geom], srs_id=srs_id)[0]


def to_gpkg_many(geoms: Sequence[BaseGeometry | None], *, srs_id: int = SRS_ID
                 ) -> list[bytes | None]:
    """Encode shapely geometries as GeoPackage binary, the WKB and envelopes in bulk.

    Parameters
    ----------
    geoms
        Geometries in EPSG:4326; None stays None (SQL NULL).
    srs_id
        SRS id written in the headers.

    Returns
    -------
    list of bytes or None
        One blob per geometry, in order.
    """
    arr = np.empty(len(geoms), dtype=object)
    arr[:] = list(geoms)
    wkb = shapely.to_wkb(arr, byte_order=1, flavor="iso", output_dimension=2)
    bounds = shapely.bounds(arr).tolist()
    empty = shapely.is_empty(arr).tolist()
    head = _HEADER.pack(b"GP", 0, 0b0000_0011, srs_id)  # little-endian, [minx, maxx, miny, maxy]
    head_empty = _HEADER.pack(b"GP", 0, 0b0000_0001 | _EMPTY_FLAG, srs_id)  # no envelope
    pack = _ENVELOPE.pack
    return [None if w is None else head_empty + w if e else
            head + pack(b[0], b[2], b[1], b[3]) + w
            for w, b, e in zip(wkb.tolist(), bounds, empty, strict=True)]


def _parse(blob: bytes) -> tuple[int, tuple[float, ...] | None, int]:
    """Return (flags, envelope or None, offset of the WKB) of a GeoPackage blob."""
    magic, _version, flags, _srs = _HEADER.unpack_from(blob)
    if magic != b"GP":
        msg = "not a GeoPackage geometry blob (no 'GP' magic)"
        raise ValueError(msg)
    indicator = (flags >> 1) & 0b111
    size = _ENVELOPE_BYTES.get(indicator)
    if size is None:
        msg = f"invalid GeoPackage envelope indicator {indicator}"
        raise ValueError(msg)
    envelope = None
    if size:
        endian = "<" if flags & 1 else ">"
        envelope = struct.unpack_from(f"{endian}4d", blob, _HEADER.size)
    return flags, envelope, _HEADER.size + size


def from_gpkg(blob: bytes | None) -> BaseGeometry | None:
    """Decode GeoPackage binary to a shapely geometry (None for SQL NULL)."""
    if blob is None:
        return None
    _, _, offset = _parse(bytes(blob))
    return shapely.from_wkb(bytes(blob)[offset:])


def _envelope(blob: bytes | None) -> tuple[float, ...] | None:
    """Return (minx, maxx, miny, maxy) of a blob, from its header or its WKB."""
    return None if blob is None else _blob_envelope(bytes(blob))


# An R-tree trigger asks for ST_IsEmpty, ST_MinX ... ST_MaxY of the same blob: parse it once.
@functools.lru_cache(maxsize=8)
def _blob_envelope(blob: bytes) -> tuple[float, ...] | None:
    flags, envelope, offset = _parse(blob)
    if flags & _EMPTY_FLAG:
        return None
    if envelope is not None:
        return envelope
    geom = shapely.from_wkb(blob[offset:])
    if geom.is_empty:
        return None
    minx, miny, maxx, maxy = geom.bounds
    return minx, maxx, miny, maxy


def _st_is_empty(blob: bytes | None) -> int | None:
    return None if blob is None else int(_envelope(blob) is None)


def _coordinate(index: int) -> Any:
    def st_coordinate(blob: bytes | None) -> float | None:
        envelope = _envelope(blob)
        return None if envelope is None else envelope[index]

    return st_coordinate


def register_functions(conn: sqlite3.Connection) -> None:
    """Register the ``ST_*`` functions GeoPackage R-tree triggers call.

    Plain SQLite has none of them, and without them any INSERT or UPDATE on a feature table
    with an R-tree index fails with "no such function: ST_IsEmpty" (see TRAPS.md).
    """
    conn.create_function("ST_IsEmpty", 1, _st_is_empty, deterministic=True)
    for index, name in enumerate(("ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY")):
        conn.create_function(name, 1, _coordinate(index), deterministic=True)


def connect(path: str, *, timeout_s: float = 30.0) -> sqlite3.Connection:
    """Open a GeoPackage connection set up for the store.

    The connection is in autocommit mode (transactions are explicit ``BEGIN IMMEDIATE``),
    enforces foreign keys, waits up to ``timeout_s`` seconds for another writer, and has the
    ``ST_*`` functions registered.

    Parameters
    ----------
    path
        GeoPackage file (created when missing).
    timeout_s
        Busy timeout in seconds.

    Returns
    -------
    sqlite3.Connection
    """
    conn = sqlite3.connect(path, timeout=timeout_s, isolation_level=None,
                           check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {int(timeout_s * 1000)}")
    conn.execute("PRAGMA foreign_keys = ON")
    register_functions(conn)
    return conn


def _statements(script: str) -> list[str]:
    """Split an SQL script into complete statements (trigger bodies stay whole)."""
    statements: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip() and not buffer.strip().startswith("--"):
        statements.append(buffer.strip())
    return statements


def migrations() -> list[tuple[int, str, str]]:
    """Return the GeoPackage migrations as (version, name, SQL text), in order."""
    return migration_files(_MIGRATION_FILE)


def migrate(conn: sqlite3.Connection) -> int:
    """Create or upgrade a GeoPackage's schema; return the schema version in force.

    Pending migrations run in order in one ``BEGIN IMMEDIATE`` transaction, so two processes
    creating the same file do not both apply them.
    """
    # GDAL reads application_id from the file header itself, so write the header before
    # switching to WAL (where page 1 would wait in the -wal file) and checkpoint at the end.
    # PRAGMA takes no bound parameters; both values are module constants.
    if conn.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID:d}")
        conn.execute(f"PRAGMA user_version = {USER_VERSION:d}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations ("
                     " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                     " applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))")
        applied = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
        for version, name, text in migrations():
            if version in applied:
                continue
            for statement in _statements(text):
                conn.execute(statement)
            conn.execute("INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
                         (version, name))
            applied.add(version)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
    return max(applied, default=0)
