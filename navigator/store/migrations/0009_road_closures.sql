-- Road closures, version 9: an area (Polygon/MultiPolygon) or road segments
-- (LineString/MultiLineString) out of use from starts_at until expires_at or lifted_at.
-- Rows are never deleted: lifting sets lifted_at/lifted_by and changed_at, so
-- (count, count lifted, max changed_at) is a cheap version that every web worker compares.

CREATE TABLE road_closures (
  id text PRIMARY KEY CHECK (btrim(id) <> ''),
  geom geometry(Geometry, 4326) NOT NULL,
  reason text NOT NULL CHECK (length(btrim(reason)) BETWEEN 1 AND 500),
  starts_at timestamptz NOT NULL,
  expires_at timestamptz,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL,
  lifted_at timestamptz,
  lifted_by text NOT NULL DEFAULT '',
  changed_at timestamptz NOT NULL,
  CONSTRAINT road_closures_expiry_after_start CHECK (expires_at IS NULL OR expires_at > starts_at),
  CONSTRAINT road_closures_geom_valid CHECK (NOT ST_IsEmpty(geom) AND ST_IsValid(geom)
    -- lines or areas, no collections (a type list here would make geometry_columns
    -- report the first type listed instead of GEOMETRY)
    AND ST_Dimension(geom) IN (1, 2) AND left(ST_GeometryType(geom), 9) <> 'ST_Geomet'
    AND ST_XMin(geom) >= -180 AND ST_XMax(geom) <= 180
    AND ST_YMin(geom) >= -90 AND ST_YMax(geom) <= 90)
);
CREATE INDEX road_closures_geom_gist ON road_closures USING gist (geom);
CREATE INDEX road_closures_open ON road_closures (starts_at) WHERE lifted_at IS NULL;

-- DELETE only for a full reload (Store.load(replace=True)); nothing else deletes closures.
GRANT SELECT, INSERT, UPDATE, DELETE ON road_closures TO navigator_app;
