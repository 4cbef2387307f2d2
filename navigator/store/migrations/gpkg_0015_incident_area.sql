-- Area incidents, version 15 (GeoPackage). Same columns and rules as the PostGIS migration
-- 0015. The area is GeoPackage binary in a plain BLOB column (a GeoPackage registers one
-- geometry column per table: geom, the incident's point); the store validates it before
-- writing (valid, non-empty MultiPolygon in lon/lat degrees).

ALTER TABLE incidents ADD COLUMN area BLOB;
ALTER TABLE incidents ADD COLUMN area_radius_m REAL CHECK (area_radius_m IS NULL
  OR (area IS NOT NULL AND area_radius_m > 0 AND area_radius_m <= 25000));
