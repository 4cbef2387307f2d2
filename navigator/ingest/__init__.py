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
from navigator.ingest.osm import deduplicated_resources, osm_resources

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
    "osm_resources",
    "real_columbus_resources",
]
