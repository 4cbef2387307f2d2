"""The store contract implemented once on top of a small transaction interface.

Both backends subclass :class:`SQLStore` and provide a :class:`Tx` (run a statement written
with ``%(name)s`` placeholders, upsert/insert a row or many rows of logical values with one
prepared statement, count or empty a table)
plus the few dialect fragments that differ. Reads and the bulk load live here; simple writes in
:mod:`navigator.store.writes`, guarded writes in :mod:`navigator.store.guarded` (holds) and
:mod:`navigator.store.assignments`, the audit hash chain in :mod:`navigator.store.audit`, the
transaction interface in :mod:`navigator.store.tx`.
"""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING, Any

import pandas as pd

from navigator.errors import ValidationError
from navigator.jsonsafe import json_safe
from navigator.model import (
    AuditEntry,
    Bundle,
    Hotline,
    Incident,
    IncidentStatus,
    Resource,
    ResourceKind,
    Team,
    TeamStatus,
    check_lonlat,
)
from navigator.store import rows
from navigator.store.audit import AuditMethods
from navigator.store.base import (
    BED_COLUMNS,
    HOTLINE_COLUMNS,
    INCIDENT_COLUMNS,
    RESOURCE_COLUMNS,
    TEAM_COLUMNS,
)
from navigator.store.changes import ChangeMethods
from navigator.store.region import RegionMethods
from navigator.store.tx import Tx, append_audit, enum_values, fetch_one, in_clause
from navigator.store.writes import SimpleWrites

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from contextlib import AbstractContextManager

    import geopandas as gpd
    from shapely.geometry.base import BaseGeometry


_RESOURCE_SELECT = ", ".join((*RESOURCE_COLUMNS, "lon", "lat"))
_TEAM_SELECT = ", ".join((*TEAM_COLUMNS, "lon", "lat"))
_INCIDENT_SELECT = ", ".join((*INCIDENT_COLUMNS, "area", "lon", "lat"))
_HOTLINE_SELECT = ", ".join((*HOTLINE_COLUMNS, "geom"))
_HOLD_SELECT = ", ".join(rows.HOLD_COLUMNS)
_ASSIGNMENT_SELECT = ", ".join(rows.ASSIGNMENT_COLUMNS)
#: Table and select list of each record kind :meth:`SQLStore._one` looks up.
_SELECTS = {"resource": ("resources", _RESOURCE_SELECT),
            "hotline": ("hotlines", _HOTLINE_SELECT), "team": ("teams", _TEAM_SELECT),
            "incident": ("incidents", _INCIDENT_SELECT), "hold": ("holds", _HOLD_SELECT),
            "assignment": ("assignments", _ASSIGNMENT_SELECT)}


class SQLStore(SimpleWrites, AuditMethods, RegionMethods, ChangeMethods, abc.ABC):
    """Reads, bulk load, simple writes and audit checks of the store contract, for any Tx."""

    url: str
    #: Filter of ``resources`` rows to the bbox params ``minx``..``maxy`` (index-assisted).
    RESOURCE_BBOX_SQL: str = ("lon BETWEEN %(minx)s AND %(maxx)s "
                              "AND lat BETWEEN %(miny)s AND %(maxy)s")

    @abc.abstractmethod
    def _transaction(self, *, write: bool) -> AbstractContextManager[Tx]:
        """Return a context manager of one transaction; ``write`` takes the write lock."""

    @abc.abstractmethod
    def _area(self, raw: Any) -> BaseGeometry | None:
        """Decode a stored area geometry."""

    @abc.abstractmethod
    def migrate(self) -> int:
        """Create or upgrade the schema; return the schema version now in force."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release connections."""

    @abc.abstractmethod
    def ping(self) -> bool:
        """Return whether the store answers now (quickly; never raises)."""

    def __enter__(self) -> SQLStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"

    # -- lifecycle -----------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        """Return the number of rows per table."""
        with self._transaction(write=False) as tx:
            return {table: tx.count(table) for table in rows.COUNTED_TABLES}

    # -- bulk load -----------------------------------------------------------------------------
    def load(self, bundle: Bundle, *, actor: str, replace: bool = False) -> dict[str, int]:
        """Upsert every record of ``bundle`` in one transaction; all or nothing.

        One prepared statement per table runs over all its rows (a 100,000-service directory
        loads in seconds); a failure anywhere rolls back everything.

        Parameters
        ----------
        bundle
            Records to load (each validated itself on construction).
        actor
            Who loads, for the audit log.
        replace
            Delete every record but the audit log first.

        Returns
        -------
        dict
            Number of records loaded per kind.

        Raises
        ------
        ValidationError
            Duplicate ids within the bundle, or a team whose base is no team_base resource.
        """
        rows.check_bundle(bundle)
        now = rows.utc_now()
        with self._transaction(write=True) as tx:
            if replace:
                for table in rows.DATA_TABLES:
                    tx.delete_all(table)
                stored: set[str] = set()
            else:
                found = tx.fetch("SELECT id FROM resources WHERE kind = %(kind)s",
                                 {"kind": ResourceKind.TEAM_BASE.value})
                stored = {r["id"] for r in found} - {r.id for r in bundle.resources}
            rows.check_team_bases(bundle, stored)
            # One prepared statement per table over all its rows (a 100k-service directory
            # loads in seconds); the holds still held are read once for every resource.
            tx.upsert_many("resources", rows.resource_rows(bundle.resources), key=("id",))
            held: dict[str, dict[str, int]] = {}
            if not replace:
                for r in tx.fetch("SELECT resource_id, bed_type, count(*) AS n FROM holds "
                                  "WHERE status = 'held' GROUP BY resource_id, bed_type"):
                    held.setdefault(r["resource_id"], {})[r["bed_type"]] = int(r["n"])
                tx.execute_many("DELETE FROM beds WHERE resource_id = %(id)s",
                                [{"id": r.id} for r in bundle.resources])
            tx.insert_many("beds", [bed for r in bundle.resources for bed in rows.bed_rows(
                r, held=held.get(r.id, {}), at=now, by=actor)])
            tx.upsert_many("hotlines", [rows.hotline_row(h) for h in bundle.hotlines],
                           key=("id",))
            tx.upsert_many("teams", [rows.team_row(t, updated_at=now) for t in bundle.teams],
                           key=("id",))
            tx.upsert_many("incidents", [rows.incident_row(i, now=now)
                                         for i in bundle.incidents], key=("id",))
            counts = bundle.counts()
            append_audit(tx, "load", actor=actor,
                         inputs={"replace": replace, "counts": counts,
                                 "notes": list(bundle.notes)},
                         result={"counts": counts})
        return counts

    # -- reads ---------------------------------------------------------------------------------
    def resources(self, *, kinds: Sequence[ResourceKind] | None = None,
                  bbox: tuple[float, float, float, float] | None = None,
                  include_confidential: bool = True) -> gpd.GeoDataFrame:
        """Return resources, optionally filtered by kind and a lon/lat bbox (EPSG:4326).

        Parameters
        ----------
        kinds
            Kinds to keep (all when None).
        bbox
            ``(min_lon, min_lat, max_lon, max_lat)`` in degrees, edges included.
        include_confidential
            Keep confidential (domestic-violence) sites.

        Returns
        -------
        geopandas.GeoDataFrame
            :data:`~navigator.store.base.RESOURCE_COLUMNS` and point ``geometry``.
        """
        params: dict[str, Any] = {}
        where = ["1 = 1"]
        if kinds is not None:
            where.append(in_clause("kind", "kind", enum_values("kinds", ResourceKind, kinds),
                                   params))
        if bbox is not None:
            params.update(_bbox_params(bbox))
            where.append(self.RESOURCE_BBOX_SQL)
        if not include_confidential:
            where.append("confidential = %(false)s")
            params["false"] = False
        query = (f"SELECT {_RESOURCE_SELECT} FROM resources WHERE {' AND '.join(where)} "
                 "ORDER BY id")
        with self._transaction(write=False) as tx:
            found = tx.fetch(query, params)
        return rows.point_frame(found, RESOURCE_COLUMNS)

    def resource(self, resource_id: str) -> Resource:
        """Return one resource with its beds; ``NotFoundError`` if unknown."""
        with self._transaction(write=False) as tx:
            found = self._one(tx, "resource", resource_id)
            beds = tx.fetch("SELECT bed_type, capacity, free FROM beds "
                            "WHERE resource_id = %(id)s ORDER BY position, bed_type",
                            {"id": resource_id})
        return rows.resource_from_row(found, beds)

    def beds(self, resource_ids: Iterable[str] | None = None) -> pd.DataFrame:
        """Return bed counts (:data:`~navigator.store.base.BED_COLUMNS`), one row per type."""
        params: dict[str, Any] = {}
        where = "1 = 1"
        if resource_ids is not None:
            where = in_clause("resource_id", "rid", list(resource_ids), params)
        with self._transaction(write=False) as tx:
            found = tx.fetch(f"SELECT {', '.join(BED_COLUMNS)} FROM beds WHERE {where} "
                             "ORDER BY resource_id, position, bed_type", params)
        out = pd.DataFrame(found, columns=list(BED_COLUMNS))
        return out.astype({"resource_id": object, "bed_type": object,
                           "capacity": "int64", "free": "int64"})

    def hotlines(self) -> gpd.GeoDataFrame:
        """Return every hotline with its service area (MultiPolygon; None = nationwide)."""
        with self._transaction(write=False) as tx:
            found = tx.fetch(f"SELECT {_HOTLINE_SELECT} FROM hotlines ORDER BY id")
        return rows.area_frame(found, HOTLINE_COLUMNS, [self._area(r["geom"]) for r in found])

    def hotline(self, hotline_id: str) -> Hotline:
        """Return one hotline (area as a MultiPolygon); ``NotFoundError`` if unknown."""
        with self._transaction(write=False) as tx:
            found = self._one(tx, "hotline", hotline_id)
        return rows.hotline_from_row(found, self._area(found["geom"]))

    def teams(self, *, statuses: Sequence[TeamStatus] | None = None) -> gpd.GeoDataFrame:
        """Return teams at their current positions, optionally filtered by status."""
        params: dict[str, Any] = {}
        where = "1 = 1"
        if statuses is not None:
            where = in_clause("status", "st", enum_values("statuses", TeamStatus, statuses),
                              params)
        with self._transaction(write=False) as tx:
            found = tx.fetch(f"SELECT {_TEAM_SELECT} FROM teams WHERE {where} ORDER BY id",
                             params)
        return rows.point_frame(found, TEAM_COLUMNS)

    def team(self, team_id: str) -> Team:
        """Return one team; ``NotFoundError`` if unknown."""
        with self._transaction(write=False) as tx:
            return rows.team_from_row(self._one(tx, "team", team_id))

    def incidents(self, *, statuses: Sequence[IncidentStatus] | None = None
                  ) -> gpd.GeoDataFrame:
        """Return incidents, optionally filtered by status."""
        params: dict[str, Any] = {}
        where = "1 = 1"
        if statuses is not None:
            where = in_clause("status", "st",
                              enum_values("statuses", IncidentStatus, statuses), params)
        with self._transaction(write=False) as tx:
            found = tx.fetch(f"SELECT {_INCIDENT_SELECT} FROM incidents WHERE {where} "
                             "ORDER BY id", params)
        out = rows.point_frame(found, INCIDENT_COLUMNS)
        # the area as a GeoJSON geometry (None: a point incident), ready for pages and APIs
        out["area"] = pd.Series([json_safe(self._area(r["area"])) for r in found],
                                dtype=object)
        return out

    def incident(self, incident_id: str) -> Incident:
        """Return one incident; ``NotFoundError`` if unknown."""
        with self._transaction(write=False) as tx:
            return self._incident(tx, incident_id)

    def _incident(self, tx: Tx, incident_id: str) -> Incident:
        row = self._one(tx, "incident", incident_id)
        return rows.incident_from_row(row, self._area(row["area"]))

    def assignments(self, *, active_only: bool = False) -> pd.DataFrame:
        """Return assignments, newest first."""
        where = "status = 'active'" if active_only else "1 = 1"
        with self._transaction(write=False) as tx:
            found = tx.fetch(f"SELECT {_ASSIGNMENT_SELECT} FROM assignments WHERE {where} "
                             "ORDER BY created_at DESC, id DESC")
        return rows.frame(found, rows.ASSIGNMENT_COLUMNS)

    def audit_log(self, *, limit: int = 100, action: str | None = None) -> list[AuditEntry]:
        """Return the newest audit entries first."""
        params: dict[str, Any] = {"limit": int(limit)}
        where = "1 = 1"
        if action is not None:
            where = "action = %(action)s"
            params["action"] = action
        with self._transaction(write=False) as tx:
            found = tx.fetch(f"SELECT {', '.join(rows.AUDIT_COLUMNS)} FROM audit "
                             f"WHERE {where} ORDER BY id DESC LIMIT %(limit)s", params)
        return [rows.audit_from_row(r) for r in found]

    # -- helpers -------------------------------------------------------------------------------
    def _one(self, tx: Tx, kind: str, record_id: str) -> dict[str, Any]:
        """Return the row of one record, or raise ``NotFoundError`` naming it."""
        table, select = _SELECTS[kind]
        return fetch_one(tx, f"SELECT {select} FROM {table} WHERE id = %(id)s", {"id": record_id},
                         f"{kind} {record_id!r}")


def _bbox_params(bbox: tuple[float, float, float, float]) -> dict[str, float]:
    """Return validated bbox params ``minx``..``maxy``."""
    try:
        minx, miny, maxx, maxy = (float(v) for v in bbox)
    except (TypeError, ValueError) as e:
        msg = f"bbox must be (min_lon, min_lat, max_lon, max_lat), got {bbox!r}"
        raise ValidationError(msg) from e
    check_lonlat("bbox", minx, miny, name="min")
    check_lonlat("bbox", maxx, maxy, name="max")
    if minx > maxx or miny > maxy:
        msg = f"bbox {bbox!r}: min must not exceed max (antimeridian boxes are not supported)"
        raise ValidationError(msg)
    return {"minx": minx, "miny": miny, "maxx": maxx, "maxy": maxy}
