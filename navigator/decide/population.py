"""Population layers for coverage planning: load, reproject, clip to the network, snap to it.

Public API
----------
- :class:`Population` - population units (polygons or points, EPSG:4326) with what was clipped.
- :func:`load_population` - read a layer (GeoPackage, shapefile, GeoJSON ...), check its CRS,
  reproject to EPSG:4326 and optionally clip it to the road network's area.
- :func:`clip_population` - keep the units whose representative point lies in an area.
- :func:`snap_population` - the graph node of each unit (representative point, metres away).
- :func:`unit_values` - per-node values (e.g. seconds) carried to the units.
- :func:`areal_people` - people per other polygon (e.g. H3 cells) by areal weighting.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt

from navigator.errors import ValidationError

if TYPE_CHECKING:
    import geopandas as gpd
    from shapely.geometry.base import BaseGeometry

    from navigator.roads import TravelGraph

__all__ = ["Population", "UnitNodes", "areal_people", "clip_population", "load_population",
           "snap_population", "unit_values"]


@dataclass(frozen=True, eq=False)
class Population:
    """Population units in EPSG:4326 and what clipping left out.

    Attributes
    ----------
    units
        GeoDataFrame with ``unit_id`` (str), ``population`` (float, people) and ``geometry``
        (polygons or points, EPSG:4326), one row per unit.
    source
        Where the layer came from (path and layer).
    column
        Name of the source column the population was read from.
    clipped_units, clipped_people
        Units and people left out because they lie outside the network area (0 if not clipped).
    """

    units: gpd.GeoDataFrame
    source: str
    column: str
    clipped_units: int = 0
    clipped_people: float = 0.0

    @property
    def total_people(self) -> float:
        """People in the kept units."""
        return float(self.units["population"].sum())

    def note(self) -> str:
        """Return one sentence saying what is kept and what was clipped."""
        kept = f"{len(self.units)} units, {self.total_people:,.0f} people kept from {self.source}"
        if not self.clipped_units:
            return kept
        return (f"{kept}; {self.clipped_units} units ({self.clipped_people:,.0f} people) lie "
                "outside the road network's area and were left out (not counted as gaps)")


def load_population(
    path: str | os.PathLike[str],
    *,
    layer: str | None = None,
    column: str = "pop2010",
    id_column: str | None = None,
    area: BaseGeometry | None = None,
) -> Population:
    """Read a population layer of polygons or points and return it in EPSG:4326.

    Parameters
    ----------
    path
        Any file GDAL reads (GeoPackage, shapefile, GeoJSON, ``zip://...``).
    layer
        Layer name for multi-layer files (None: the first layer).
    column
        Column holding people per unit (non-negative numbers).
    id_column
        Column naming each unit (default: ``GEOID10``/``GEOID`` if present, else the row number).
    area
        Polygon, EPSG:4326, to clip to (typically :func:`navigator.roads.network_area`).

    Returns
    -------
    Population

    Raises
    ------
    ValidationError
        If the file cannot be read, has no CRS, lacks ``column``, holds negative or missing
        counts or geometries other than polygons and points, or does not overlap ``area``.
    """
    import geopandas as gpd

    source = f"{os.fspath(path)}" + (f" (layer {layer})" if layer else "")
    try:
        gdf = gpd.read_file(path, layer=layer) if layer else gpd.read_file(path)
    except Exception as e:  # pyogrio raises its own DataSourceError/DataLayerError
        msg = f"cannot read population layer {source}: {e}"
        raise ValidationError(msg) from e
    return _from_frame(gdf, source=source, column=column, id_column=id_column, area=area)


def _from_frame(gdf: gpd.GeoDataFrame, *, source: str, column: str, id_column: str | None,
                area: BaseGeometry | None) -> Population:
    import geopandas as gpd
    import pandas as pd

    if gdf.crs is None:
        msg = (f"population layer {source} has no CRS: set one (e.g. EPSG:4326 for lon/lat) "
               "before loading it")
        raise ValidationError(msg)
    if len(gdf) == 0:
        msg = f"population layer {source} is empty"
        raise ValidationError(msg)
    if column not in gdf.columns:
        msg = (f"population layer {source} has no column {column!r}; columns are "
               f"{[c for c in gdf.columns if c != 'geometry']}")
        raise ValidationError(msg)
    kinds = set(gdf.geom_type.dropna().unique())
    if gdf.geometry.isna().any() or gdf.geometry.is_empty.any():
        msg = f"population layer {source} has rows without geometry"
        raise ValidationError(msg)
    if not kinds <= {"Polygon", "MultiPolygon", "Point"}:
        msg = f"population layer {source} must hold polygons or points, found {sorted(kinds)}"
        raise ValidationError(msg)
    pop = pd.to_numeric(gdf[column], errors="coerce").to_numpy(dtype=np.float64)
    if not np.isfinite(pop).all() or (pop < 0).any():
        msg = (f"population column {column!r} of {source} has missing, negative or "
               "non-numeric values")
        raise ValidationError(msg)
    _check_crs_bounds(gdf, source)
    gdf = gdf.to_crs(4326)
    if id_column is None:
        id_column = next((c for c in ("GEOID10", "GEOID", "geoid") if c in gdf.columns), None)
    ids = (gdf[id_column].astype(str).to_numpy() if id_column
           else np.arange(len(gdf)).astype(str))
    units = gpd.GeoDataFrame({"unit_id": ids, "population": pop},
                             geometry=gdf.geometry.to_numpy(), crs=4326)
    population = Population(units=units, source=source, column=column)
    return clip_population(population, area) if area is not None else population


def _check_crs_bounds(gdf: gpd.GeoDataFrame, source: str) -> None:
    """Refuse coordinates far outside the CRS's area of use (a wrongly labelled CRS)."""
    aou = gdf.crs.area_of_use
    if aou is None:
        return
    from pyproj import Transformer

    try:
        tr = Transformer.from_crs(4326, gdf.crs, always_xy=True)
        xs, ys = tr.transform([aou.west, aou.east, aou.west, aou.east],
                              [aou.south, aou.south, aou.north, aou.north])
    except Exception:  # some CRSs cannot project their whole area of use; skip the check
        return
    x0, y0, x1, y1 = gdf.total_bounds
    bx0, bx1, by0, by1 = min(xs), max(xs), min(ys), max(ys)
    if not (np.isfinite([bx0, bx1, by0, by1]).all()):
        return
    w, h = (bx1 - bx0) or 1.0, (by1 - by0) or 1.0
    if x1 < bx0 - w or x0 > bx1 + w or y1 < by0 - h or y0 > by1 + h:
        msg = (f"population layer {source}: coordinates {tuple(np.round(gdf.total_bounds, 3))} "
               f"lie outside the area of use of its CRS {gdf.crs.to_string()} "
               f"({aou.name}); is the CRS label wrong?")
        raise ValidationError(msg)


def clip_population(population: Population, area: BaseGeometry) -> Population:
    """Keep the units whose representative point lies in ``area``.

    A unit is kept or left out whole (its people are not split), so the clipped counts are
    exact numbers of units and people.

    Parameters
    ----------
    population
        Units in EPSG:4326.
    area
        Polygon or MultiPolygon, EPSG:4326 (e.g. the road network's area).

    Returns
    -------
    Population
        The kept units; ``clipped_units``/``clipped_people`` add to those already clipped.

    Raises
    ------
    ValidationError
        If no unit lies in ``area`` (wrong CRS, or a layer for another place).
    """
    units = population.units
    inside = units.geometry.representative_point().within(area).to_numpy()
    if not inside.any():
        x0, y0, x1, y1 = units.total_bounds
        a0, b0, a1, b1 = area.bounds
        msg = (f"population layer {population.source} does not overlap the road network: "
               f"layer bounds ({x0:.3f}, {y0:.3f}, {x1:.3f}, {y1:.3f}), network area "
               f"({a0:.3f}, {b0:.3f}, {a1:.3f}, {b1:.3f}) (lon/lat, EPSG:4326)")
        raise ValidationError(msg)
    left = units.loc[~inside]
    return Population(units=units.loc[inside].reset_index(drop=True), source=population.source,
                      column=population.column,
                      clipped_units=population.clipped_units + len(left),
                      clipped_people=population.clipped_people
                      + float(left["population"].sum()))


@dataclass(frozen=True)
class UnitNodes:
    """Graph node of each population unit.

    Attributes
    ----------
    node
        Node index per unit (-1 where the unit is farther than ``max_snap_m`` from any road).
    distance_m
        Metres from the unit's representative point to that node.
    """

    node: npt.NDArray[np.int64]
    distance_m: npt.NDArray[np.float64]

    @property
    def snapped(self) -> npt.NDArray[np.bool_]:
        """True where the unit has a node."""
        return self.node >= 0


def snap_population(tg: TravelGraph, population: Population, *,
                    max_snap_m: float = 1000.0) -> UnitNodes:
    """Snap each unit's representative point (EPSG:4326) to its nearest graph node.

    Parameters
    ----------
    tg
        Road network.
    population
        Units (already clipped to the network area, preferably).
    max_snap_m
        Units farther than this from every node, metres, get node -1.

    Returns
    -------
    UnitNodes

    Raises
    ------
    ValidationError
        If no unit snaps to the network (coverage would silently be zero).
    """
    from navigator.roads import snap

    pts = population.units.geometry.representative_point()
    s = snap(tg, pts.x.to_numpy(), pts.y.to_numpy(), max_snap_m=max_snap_m, strict=False)
    if not (s.node >= 0).any():
        msg = (f"no population unit of {population.source} is within {max_snap_m:g} m of the "
               "road network: check the layer's place and CRS")
        raise ValidationError(msg)
    return UnitNodes(node=s.node, distance_m=s.distance_m)


def unit_values(tg: TravelGraph, node_values: npt.ArrayLike, population: Population,
                unit_nodes: UnitNodes, *, method: Literal["centroid", "median"] = "centroid",
                missing: float = np.nan) -> npt.NDArray[np.float64]:
    """Carry per-node values (e.g. travel seconds) to the population units.

    Parameters
    ----------
    tg
        Road network.
    node_values
        One value per node.
    population, unit_nodes
        Units and their snapped nodes (:func:`snap_population`).
    method
        ``"centroid"``: the value at the node snapped from the unit's representative point.
        ``"median"``: the median over the nodes inside the unit's polygon (the centroid value
        where a polygon holds no node, and for point layers).
    missing
        Value of units not snapped to the network.

    Returns
    -------
    numpy.ndarray
        One value per unit.
    """
    v = np.asarray(node_values, dtype=np.float64)
    if v.shape != (tg.n_nodes,):
        msg = f"{v.shape} node values for a graph of {tg.n_nodes} nodes"
        raise ValidationError(msg)
    out = np.where(unit_nodes.node >= 0, v[np.maximum(unit_nodes.node, 0)], missing)
    if method == "centroid":
        return out
    if method != "median":
        msg = f"method must be 'centroid' or 'median', got {method!r}"
        raise ValidationError(msg)
    import geopandas as gpd
    import pandas as pd

    nodes = gpd.GeoDataFrame({"node": np.arange(tg.n_nodes)},
                             geometry=gpd.points_from_xy(tg.lon, tg.lat), crs=4326)
    units = population.units[["geometry"]].reset_index(drop=True)
    units = units[units.geom_type != "Point"]
    hit = gpd.sjoin(nodes, units, predicate="within", how="inner")
    med = pd.Series(v[hit["node"].to_numpy()], index=hit["index_right"].to_numpy())
    med = med.groupby(level=0).median()
    out[med.index.to_numpy()] = med.to_numpy()
    return out


def areal_people(areas: gpd.GeoDataFrame, population: Population) -> npt.NDArray[np.float64]:
    """Return the people in each of ``areas`` (e.g. H3 cells) by areal weighting.

    Each polygon unit's people are spread evenly over its area (point units count whole where
    they fall), measured in an equal-area CRS (EPSG:6933). People outside every area are not
    counted.

    Parameters
    ----------
    areas
        Polygons, any CRS.
    population
        Units, EPSG:4326.

    Returns
    -------
    numpy.ndarray
        People per area, in ``areas`` order.
    """
    import geopandas as gpd

    a = gpd.GeoDataFrame({"area_i": np.arange(len(areas))},
                         geometry=areas.geometry.to_numpy(), crs=areas.crs).to_crs(6933)
    u = population.units.to_crs(6933)
    out = np.zeros(len(areas))
    pts = u[u.geom_type == "Point"]
    if len(pts):
        hit = gpd.sjoin(pts, a, predicate="within", how="inner")
        np.add.at(out, hit["area_i"].to_numpy(), hit["population"].to_numpy())
    polys = u[u.geom_type != "Point"]
    if len(polys):
        polys = polys.assign(density=polys["population"] / polys.geometry.area)
        pieces = gpd.overlay(polys[["density", "geometry"]], a, how="intersection",
                             keep_geom_type=True)
        np.add.at(out, pieces["area_i"].to_numpy(),
                  (pieces["density"] * pieces.geometry.area).to_numpy())
    return out
