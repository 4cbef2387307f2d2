"""Real Columbus resources from the City of Columbus Points of Interest file."""

from __future__ import annotations

import math
import re
import string
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from navigator.errors import ValidationError
from navigator.exchange.area import checked_area, clipped_resources
from navigator.model import Bundle, Resource, ResourceKind

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

#: POI_TYPE values Navigator uses and the kind each becomes (DECISIONS.md, Data).
POI_KINDS: dict[str, ResourceKind] = {
    "Group Quarters - Shelter": ResourceKind.SHELTER,
    "Medical - Hospital/Medical Center": ResourceKind.HOSPITAL,
    "Medical - Clinic": ResourceKind.CLINIC,
    "Medical - Women's Health": ResourceKind.CLINIC,
    "Emergency Response - Fire/EMS": ResourceKind.TEAM_BASE,
    "Emergency Response - Police": ResourceKind.TEAM_BASE,
}
#: Columns the file must have.
POI_COLUMNS = ("X", "Y", "OBJECTID", "LSN", "POI_NAME", "POI_TYPE", "PHONE_NUM")
#: Medical flag columns (YES/NO) and the service each names.
POI_SERVICE_FLAGS = {"OB_GYN": "womens_health", "PEDIATRICS": "pediatrics",
                     "PRIMARY_CARE": "primary_care"}
#: Credit line for records from this file.
CITY_CREDIT = "City of Columbus open data (Points of Interest)"


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


_DIRECTIONS = {"N", "S", "E", "W", "NE", "NW", "SE", "SW"}


def _address(value: object) -> str:
    words = _text(value).split()
    return " ".join(w if w in _DIRECTIONS
                    else w.lower() if re.fullmatch(r"\d+(ST|ND|RD|TH)", w)
                    else w if any(c.isdigit() for c in w)
                    else string.capwords(w.lower()) for w in words)


def _phone(value: object) -> str:
    text = _text(value)
    digits = re.sub(r"\D", "", text)
    if len(digits) == 10 and digits == text:
        return f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"
    return text


def poi_id(objectid: int) -> str:
    """Return the Navigator id of a City of Columbus POI row."""
    return f"columbus-poi-{objectid}"


def poi_flag_services(row: pd.Series) -> tuple[str, ...]:
    """Return the services a row's real YES flags (OB_GYN, PEDIATRICS, PRIMARY_CARE) name."""
    return tuple(service for column, service in POI_SERVICE_FLAGS.items()
                 if _text(row.get(column)).upper() == "YES")


def read_poi_table(path: str | Path) -> pd.DataFrame:
    """Read the city POI CSV (UTF-8 with BOM) and check its columns.

    Raises
    ------
    ValidationError
        If the file is missing, unreadable or lacks a required column.
    """
    try:
        df = pd.read_csv(path, encoding="utf-8-sig", dtype={"OBJECTID": "Int64"})
    except (OSError, ValueError, pd.errors.ParserError) as e:
        msg = f"cannot read City of Columbus POI file {str(path)!r}: {e}"
        raise ValidationError(msg) from e
    missing = [c for c in POI_COLUMNS if c not in df.columns]
    if missing:
        msg = f"{path}: City of Columbus POI file lacks column(s) {', '.join(missing)}"
        raise ValidationError(msg)
    return df


def columbus_resources(path: str | Path, *, area: BaseGeometry | None = None) -> Bundle:
    """Return the shelters, hospitals, clinics and team bases of the city POI file.

    Only real values are filled in: name, address (``LSN``), phone, coordinates, and the
    services named by the YES flags ``OB_GYN``/``PEDIATRICS``/``PRIMARY_CARE``. Nothing is
    generated, so every record has ``synthetic=False``.

    Parameters
    ----------
    path
        ``columbus_points_of_interest.csv`` (the city's columns, WGS84 ``X``/``Y``).
    area
        Polygon (EPSG:4326) to keep; default the Columbus drive network's bbox.

    Returns
    -------
    Bundle
        ``resources`` inside the area, and ``notes`` saying what was skipped and clipped.
    """
    area = checked_area(area)
    df = read_poi_table(path)
    used = df[df["POI_TYPE"].isin(list(POI_KINDS))]
    notes = [f"{CITY_CREDIT}: {len(df)} rows read, {len(used)} of the used POI types"]
    resources: list[Resource] = []
    no_coords: list[str] = []
    for _, row in used.iterrows():
        name = _text(row["POI_NAME"]) or _text(row["POI_TYPE"])
        lon, lat = row["X"], row["Y"]
        if pd.isna(lon) or pd.isna(lat):
            no_coords.append(f"{name} (OBJECTID {row['OBJECTID']})")
            continue
        kind = POI_KINDS[row["POI_TYPE"]]
        services: tuple[str, ...] = ()
        if kind in (ResourceKind.CLINIC, ResourceKind.HOSPITAL):
            services = poi_flag_services(row)
            if row["POI_TYPE"] == "Medical - Women's Health" and "womens_health" not in services:
                services = ("womens_health", *services)
        resources.append(Resource(
            id=poi_id(int(row["OBJECTID"])), kind=kind, name=name,
            lon=round(float(lon), 7), lat=round(float(lat), 7),
            address=_address(row["LSN"]), phone=_phone(row["PHONE_NUM"]),
            services=services, source=f"City of Columbus POI {int(row['OBJECTID'])}",
        ))
    if no_coords:
        notes.append(f"{CITY_CREDIT}: skipped {len(no_coords)} row(s) without coordinates: "
                     + "; ".join(no_coords))
    kept, clip_notes = clipped_resources(resources, area, label=CITY_CREDIT)
    notes.extend(clip_notes)
    counts = pd.Series([r.kind.value for r in kept]).value_counts().sort_index()
    notes.append(f"{CITY_CREDIT}: kept " + ", ".join(f"{n} {k}" for k, n in counts.items()))
    return Bundle(resources=kept, notes=tuple(notes))
