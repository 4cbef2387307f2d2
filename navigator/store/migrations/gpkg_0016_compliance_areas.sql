-- Compliance areas, version 16 (GeoPackage). Same columns and rules as the PostGIS migration
-- 0016; the geometry is GeoPackage binary (Polygon or MultiPolygon), validated by the store
-- before it is written.

CREATE TABLE compliance_areas (
  fid INTEGER PRIMARY KEY AUTOINCREMENT,
  geom GEOMETRY NOT NULL,
  id TEXT NOT NULL UNIQUE CHECK (length(trim(id)) > 0),
  name TEXT NOT NULL CHECK (length(trim(name)) BETWEEN 1 AND 200),
  area_class TEXT NOT NULL CHECK (length(trim(area_class)) BETWEEN 1 AND 40),
  target_p1_s REAL NOT NULL CHECK (target_p1_s > 0 AND target_p1_s <= 86400),
  target_p2_s REAL NOT NULL CHECK (target_p2_s > 0 AND target_p2_s <= 86400),
  target_p3_s REAL NOT NULL CHECK (target_p3_s > 0 AND target_p3_s <= 86400),
  target_p4_s REAL NOT NULL CHECK (target_p4_s > 0 AND target_p4_s <= 86400),
  created_by TEXT NOT NULL,
  created_at DATETIME NOT NULL
);

INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id) VALUES
  ('compliance_areas', 'features', 'compliance_areas',
   'Response-time compliance areas (targets per priority)', 4326);
INSERT INTO gpkg_geometry_columns VALUES ('compliance_areas', 'geom', 'GEOMETRY', 4326, 0, 0);
