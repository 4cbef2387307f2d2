"""Data ingest and exchange: city and OSM POIs, the seeded demo, HSDS, GeoJSON/CSV/GeoPackage."""

from __future__ import annotations

from navigator.ingest.area import (
    COLUMBUS_CORE_BBOX,
    COLUMBUS_DRIVE_BBOX,
    area_timezone,
    clipped_resources,
    columbus_area,
)
from navigator.ingest.columbus import columbus_resources
from navigator.ingest.demo import DEMO_SEED, demo_bundle, real_columbus_resources
from navigator.ingest.files import (
    read_resources_csv,
    read_resources_geojson,
    resources_frame,
    resources_geojson,
    write_resources_geojson,
    write_resources_gpkg,
)
from navigator.ingest.hsds import (
    hsds_json,
    hsds_schema_errors,
    hsds_services,
    store_public_bundle,
    write_hsds_package,
)
from navigator.ingest.hsds_read import read_hsds_json, read_hsds_package
from navigator.ingest.osm import deduplicated_resources, osm_resources
from navigator.ingest.schedule import opening_hours_from_rows, schedule_rows

__all__ = [
    "COLUMBUS_CORE_BBOX",
    "COLUMBUS_DRIVE_BBOX",
    "DEMO_SEED",
    "area_timezone",
    "clipped_resources",
    "columbus_area",
    "columbus_resources",
    "deduplicated_resources",
    "demo_bundle",
    "hsds_json",
    "hsds_schema_errors",
    "hsds_services",
    "opening_hours_from_rows",
    "osm_resources",
    "read_hsds_json",
    "read_hsds_package",
    "read_resources_csv",
    "read_resources_geojson",
    "real_columbus_resources",
    "resources_frame",
    "resources_geojson",
    "schedule_rows",
    "store_public_bundle",
    "write_hsds_package",
    "write_resources_geojson",
    "write_resources_gpkg",
]
