"""Who is to be placed: the people of an evacuation zone, or an uploaded list of households.

A zone's people come from the population layer the planner's coverage uses (Columbus: 2010
census block groups): each unit's people are pro-rated by the share of its area inside the
zone (areas in EPSG:6933, equal-area), rounded to whole people, then split by need with
planning shares (:data:`DEFAULT_SHARES`) by largest remainder, so the needs add up to the
unit's people. One demand group per unit and need, on the road nearest to the
representative point of the unit's part inside the zone; groups may be split between
shelters (they are estimates, not households).

A household list is a CSV with ``lon``, ``lat``, ``size`` and ``need`` (optional ``id``): one
household per row, all of one need category (the family is sheltered together), never split.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from navigator.errors import ValidationError
from navigator.exchange.polygons import read_polygon
from navigator.model import SURGE_NEEDS, check_lonlat

if TYPE_CHECKING:
    import geopandas as gpd
    from shapely.geometry.base import BaseGeometry

    from navigator.services.reports import Demand

__all__ = ["DEFAULT_SHARES", "HOUSEHOLD_COLUMNS", "MAX_HOUSEHOLDS", "check_shares",
           "parse_zone", "read_households", "zone_groups"]

#: Planning shares of a zone's people by need when nothing better is known (an emergency
#: manager overrides them): most evacuees need a general population space; FEMA's FNSS
#: guidance plans for people with disabilities and access needs in general shelters with
#: support; a few need a medical shelter; some arrive with household pets.
DEFAULT_SHARES: Mapping[str, float] = {"general": 0.80, "fnss": 0.12, "medical": 0.03,
                                       "pets": 0.05}
HOUSEHOLD_COLUMNS = ("id", "lon", "lat", "size", "need")
#: Largest household file, rows.
MAX_HOUSEHOLDS = 20000
#: Largest household, people.
MAX_HOUSEHOLD_SIZE = 50
_NEEDS = tuple(n.value for n in SURGE_NEEDS)


def check_shares(shares: Mapping[str, float] | None) -> dict[str, float]:
    """Return shares per need (default :data:`DEFAULT_SHARES`), checked to add up to 1."""
    if shares is None:
        return dict(DEFAULT_SHARES)
    out = {}
    for key, value in shares.items():
        if key not in _NEEDS:
            msg = f"shares[{key!r}]: unknown need, not one of {', '.join(_NEEDS)}"
            raise ValidationError(msg)
        if isinstance(value, bool) or not isinstance(value, int | float) or not (
                math.isfinite(value) and value >= 0):
            msg = f"shares[{key}]={value!r} must be a non-negative number"
            raise ValidationError(msg)
        out[key] = float(value)
    if abs(sum(out.values()) - 1.0) > 1e-6:
        msg = f"shares must add up to 1, they add up to {sum(out.values()):g}"
        raise ValidationError(msg)
    return {n: out.get(n, 0.0) for n in _NEEDS}


def parse_zone(zone: Mapping[str, Any] | str) -> BaseGeometry:
    """Return the zone polygon (EPSG:4326) of a GeoJSON geometry, Feature or collection.

    Raises
    ------
    ValidationError
        As :func:`navigator.exchange.polygons.read_polygon` (messages start ``zone:``).
    """
    return read_polygon(zone, label="zone")


def _split(people: int, shares: Mapping[str, float]) -> list[int]:
    """Split whole people by shares, largest remainder first (the parts add up)."""
    raw = np.array([people * shares[n] for n in _NEEDS])
    out = np.floor(raw).astype(int)
    for i in np.argsort(-(raw - out), kind="stable")[: people - int(out.sum())]:
        out[i] += 1
    return [int(v) for v in out]


def zone_groups(demand: Demand, zone: BaseGeometry, *,
                shares: Mapping[str, float] | None = None) -> tuple[gpd.GeoDataFrame, str]:
    """Return demand groups of the zone's people by need, and a note saying how.

    Columns: ``group_id`` (``<unit>/<need>``), ``need``, ``people``, ``whole`` (False) and
    point geometry (EPSG:4326, where the group waits).

    Raises
    ------
    ValidationError
        No population unit overlaps the zone, or the overlap holds no people.
    """
    import geopandas as gpd

    share = check_shares(shares)
    units = demand.population.units
    inside = units[units.intersects(zone)]
    if inside.empty:
        msg = ("zone: no population unit lies in the zone (it is outside the population "
               "layer and the road network)")
        raise ValidationError(msg)
    eq = inside.to_crs(6933)
    zone_eq = gpd.GeoSeries([zone], crs=4326).to_crs(6933).iloc[0]
    part = eq.geometry.intersection(zone_eq)
    point = inside.geom_type.isin(["Point", "MultiPoint"]).to_numpy()
    area = eq.geometry.area.to_numpy()
    frac = np.where(point, 1.0, np.divide(part.area.to_numpy(), area, out=np.zeros(len(eq)),
                                          where=area > 0))
    people = np.round(inside["population"].to_numpy(dtype=float) * frac).astype(int)
    where = gpd.GeoSeries(part, crs=6933).to_crs(4326).representative_point()
    rows: list[dict[str, Any]] = []
    geoms = []
    for uid, n, pt in zip(inside["unit_id"], people, where, strict=True):
        for need, k in zip(_NEEDS, _split(int(n), share), strict=True):
            if k > 0:
                rows.append({"group_id": f"{uid}/{need}", "need": need, "people": k,
                             "whole": False})
                geoms.append(pt)
    if not rows:
        msg = "zone: the zone holds no population (0 people in the units it overlaps)"
        raise ValidationError(msg)
    note = (f"{int(people.sum())} people from {int((people > 0).sum())} population units of "
            f"{demand.population.source}, pro-rated by the share of each unit's area inside "
            f"the zone; by need with shares "
            + ", ".join(f"{k} {v:.0%}" for k, v in share.items()))
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=4326), note


def read_households(text: str) -> gpd.GeoDataFrame:
    """Return the households of a CSV (see :func:`_read_households`), CSV errors named."""
    try:
        return _read_households(text)
    except csv.Error as e:
        msg = f"households: not a readable CSV ({e})"
        raise ValidationError(msg) from e


def _read_households(text: str) -> gpd.GeoDataFrame:
    """Return the households of a CSV (``lon``, ``lat``, ``size``, ``need``; ``id`` optional).

    Raises
    ------
    ValidationError
        No rows, a missing column, more than :data:`MAX_HOUSEHOLDS` rows, a bad coordinate,
        a size below 1 or not whole, an unknown need: the row and field are named.
    """
    import geopandas as gpd

    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    fields = [f.strip() for f in reader.fieldnames or []]
    missing = [c for c in ("lon", "lat", "size") if c not in fields]
    if missing:
        msg = f"households: missing column(s) {', '.join(missing)} (columns: " \
              f"{', '.join(HOUSEHOLD_COLUMNS)})"
        raise ValidationError(msg)
    rows: list[dict[str, Any]] = []
    lon: list[float] = []
    lat: list[float] = []
    for i, raw in enumerate(reader, start=2):
        if i - 1 > MAX_HOUSEHOLDS:
            msg = f"households: more than {MAX_HOUSEHOLDS} rows"
            raise ValidationError(msg)
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items()
               if isinstance(v, str)}
        label = f"households row {i}"
        try:
            x, y = float(row.get("lon", "")), float(row.get("lat", ""))
        except ValueError as e:
            msg = f"{label}: lon/lat must be numbers, got {row.get('lon')!r}, {row.get('lat')!r}"
            raise ValidationError(msg) from e
        check_lonlat(label, x, y)
        try:
            size = int(row.get("size", ""))
        except ValueError as e:
            msg = f"{label}: size={row.get('size')!r} must be a whole number of people"
            raise ValidationError(msg) from e
        if not 1 <= size <= MAX_HOUSEHOLD_SIZE:
            msg = f"{label}: size={size} must be 1 to {MAX_HOUSEHOLD_SIZE} people"
            raise ValidationError(msg)
        need = row.get("need") or "general"
        if need not in _NEEDS:
            msg = f"{label}: need={need!r} is not one of {', '.join(_NEEDS)}"
            raise ValidationError(msg)
        rows.append({"group_id": row.get("id") or f"household-{i - 1}", "need": need,
                     "people": size, "whole": True})
        lon.append(x)
        lat.append(y)
    if not rows:
        msg = "households: the file has no rows"
        raise ValidationError(msg)
    return gpd.GeoDataFrame(rows, geometry=gpd.points_from_xy(lon, lat), crs=4326)
