-- Compliance areas, version 16: polygons with a dispatch-to-on-scene target per priority
-- (seconds), for the response-time compliance report. An incident belongs to the smallest
-- area containing its point (ties: the lowest id); the rule lives in
-- navigator.services.compliance. Deleting an area is audited (the audit keeps its targets).

CREATE TABLE compliance_areas (
  id text PRIMARY KEY CHECK (btrim(id) <> ''),
  geom geometry(Geometry, 4326) NOT NULL,
  name text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
  area_class text NOT NULL CHECK (length(btrim(area_class)) BETWEEN 1 AND 40),
  target_p1_s double precision NOT NULL CHECK (target_p1_s > 0 AND target_p1_s <= 86400),
  target_p2_s double precision NOT NULL CHECK (target_p2_s > 0 AND target_p2_s <= 86400),
  target_p3_s double precision NOT NULL CHECK (target_p3_s > 0 AND target_p3_s <= 86400),
  target_p4_s double precision NOT NULL CHECK (target_p4_s > 0 AND target_p4_s <= 86400),
  created_by text NOT NULL,
  created_at timestamptz NOT NULL,
  CONSTRAINT compliance_areas_geom_valid CHECK (NOT ST_IsEmpty(geom) AND ST_IsValid(geom)
    -- polygons only (a type list here would make geometry_columns report the first type)
    AND ST_Dimension(geom) = 2 AND left(ST_GeometryType(geom), 9) <> 'ST_Geomet'
    AND ST_XMin(geom) >= -180 AND ST_XMax(geom) <= 180
    AND ST_YMin(geom) >= -90 AND ST_YMax(geom) <= 90)
);
CREATE INDEX compliance_areas_geom_gist ON compliance_areas USING gist (geom);

GRANT SELECT, INSERT, DELETE ON compliance_areas TO navigator_app;
