-- Road closures, version 9 (GeoPackage). Same columns and rules as the PostGIS migration
-- 0009; the geometry is GeoPackage binary (any of the four closure types), validated by the
-- store before it is written.

CREATE TABLE road_closures (
  fid INTEGER PRIMARY KEY AUTOINCREMENT,
  geom GEOMETRY NOT NULL,
  id TEXT NOT NULL UNIQUE CHECK (length(trim(id)) > 0),
  reason TEXT NOT NULL CHECK (length(trim(reason)) BETWEEN 1 AND 500),
  starts_at DATETIME NOT NULL,
  expires_at DATETIME CHECK (expires_at IS NULL OR expires_at > starts_at),
  created_by TEXT NOT NULL,
  created_at DATETIME NOT NULL,
  lifted_at DATETIME,
  lifted_by TEXT NOT NULL DEFAULT '',
  changed_at DATETIME NOT NULL
);
CREATE INDEX road_closures_open ON road_closures (starts_at) WHERE lifted_at IS NULL;

INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id) VALUES
  ('road_closures', 'features', 'road_closures', 'Road closures (areas or road segments)', 4326);
INSERT INTO gpkg_geometry_columns VALUES ('road_closures', 'geom', 'GEOMETRY', 4326, 0, 0);
