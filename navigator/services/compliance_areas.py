"""Compliance areas: import from GeoJSON (checked against the road network), list, delete."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from navigator.errors import ValidationError
from navigator.exchange.closures import MAX_IMPORT_BYTES, read_closure_file
from navigator.exchange.compliance_areas import compliance_areas_from_geojson
from navigator.jsonsafe import feature_collection
from navigator.model import ComplianceArea

if TYPE_CHECKING:
    from navigator.roads import TravelGraph
    from navigator.store import Store

__all__ = ["MAX_IMPORT_BYTES", "area_dict", "areas_geojson", "delete_compliance_area",
           "import_compliance_areas", "list_compliance_areas", "read_area_file"]

#: Reads a GeoJSON file of areas (the same reader and size limit as closure imports).
read_area_file = read_closure_file


def area_dict(area: ComplianceArea) -> dict[str, Any]:
    """Return an area's fields as plain values (no geometry)."""
    return {"id": area.id, "name": area.name, "class": area.area_class,
            "targets_s": {str(k): v for k, v in area.targets_s.items()},
            "created_by": area.created_by,
            "created_at": area.created_at.isoformat() if area.created_at else None}


def areas_geojson(areas: list[ComplianceArea]) -> dict[str, Any]:
    """Return areas as a GeoJSON FeatureCollection (EPSG:4326)."""
    import geopandas as gpd

    frame = gpd.GeoDataFrame([area_dict(a) for a in areas],
                             columns=["id", "name", "class", "targets_s", "created_by",
                                      "created_at"],
                             geometry=[a.geometry for a in areas], crs="EPSG:4326")
    return feature_collection(frame)


def import_compliance_areas(store: Store, graph: TravelGraph, geojson: Any, *, actor: str,
                            replace: bool = False) -> list[ComplianceArea]:
    """Store the areas of a GeoJSON Feature / FeatureCollection, all or nothing (audited).

    Parameters
    ----------
    store, graph
        Where to store, and the road network every area must hold a node of.
    geojson
        Parsed GeoJSON (:mod:`navigator.exchange.compliance_areas` describes the properties).
    actor
        Who imports (audit).
    replace
        Delete the areas held first (same transaction).

    Returns
    -------
    list of ComplianceArea
        Every area the store holds afterwards.

    Raises
    ------
    ValidationError
        Unreadable GeoJSON, a non-polygon or invalid geometry, a missing name / class, an
        unknown priority, a target that is not in (0, 86400] seconds, or an area holding no
        road of the network. Nothing is written.
    ConflictError
        An id the store already holds (without ``replace``).
    """
    import shapely

    areas = compliance_areas_from_geojson(geojson)
    for area in areas:
        if area.geometry.is_valid and not shapely.contains_xy(
                area.geometry, graph.lon, graph.lat).any():
            msg = (f"compliance area {area.name!r} holds no road of the network (it lies "
                   "outside the region, or its coordinates are swapped)")
            raise ValidationError(msg)
    return store.add_compliance_areas(areas, actor=actor, replace=replace)


def list_compliance_areas(store: Store) -> list[ComplianceArea]:
    """Return every compliance area, by id."""
    return store.compliance_areas()


def delete_compliance_area(store: Store, *, area_id: str, actor: str) -> ComplianceArea:
    """Delete one compliance area (audited); ``NotFoundError`` if unknown."""
    return store.delete_compliance_area(area_id, actor=actor)
