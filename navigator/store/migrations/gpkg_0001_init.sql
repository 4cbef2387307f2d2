-- GeoPackage 1.3 schema of the embedded store, version 1.
-- Feature tables keep lon/lat columns (CHECKed, since SQLite has no geometry type checks) next
-- to the GeoPackage geometry the store derives from them; QGIS and GDAL read `geom`.
-- SQLite stores a NaN parameter as NULL, so NOT NULL also refuses NaN coordinates.

CREATE TABLE IF NOT EXISTS gpkg_spatial_ref_sys (
  srs_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL PRIMARY KEY,
  organization TEXT NOT NULL,
  organization_coordsys_id INTEGER NOT NULL,
  definition TEXT NOT NULL,
  description TEXT
);
INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES
  ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian coordinate reference system'),
  ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system'),
  ('WGS 84 geodetic', 4326, 'EPSG', 4326,
   'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]',
   'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid');

CREATE TABLE IF NOT EXISTS gpkg_contents (
  table_name TEXT NOT NULL PRIMARY KEY,
  data_type TEXT NOT NULL,
  identifier TEXT UNIQUE,
  description TEXT DEFAULT '',
  last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE,
  srs_id INTEGER,
  CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id)
);

CREATE TABLE IF NOT EXISTS gpkg_geometry_columns (
  table_name TEXT NOT NULL,
  column_name TEXT NOT NULL,
  geometry_type_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL,
  z TINYINT NOT NULL,
  m TINYINT NOT NULL,
  CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
  CONSTRAINT uk_gc_table_name UNIQUE (table_name),
  CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
  CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id)
);

CREATE TABLE IF NOT EXISTS gpkg_extensions (
  table_name TEXT,
  column_name TEXT,
  extension_name TEXT NOT NULL,
  definition TEXT NOT NULL,
  scope TEXT NOT NULL,
  CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name)
);

CREATE TABLE resources (
  fid INTEGER PRIMARY KEY AUTOINCREMENT,
  geom POINT NOT NULL,
  id TEXT NOT NULL UNIQUE CHECK (length(trim(id)) > 0),
  kind TEXT NOT NULL CHECK (kind IN ('shelter', 'clinic', 'hospital', 'crisis_unit', 'team_base')),
  name TEXT NOT NULL CHECK (length(trim(name)) > 0),
  address TEXT NOT NULL DEFAULT '',
  phone TEXT NOT NULL DEFAULT '',
  opening_hours TEXT NOT NULL DEFAULT '',
  services TEXT NOT NULL DEFAULT '[]',
  walk_in BOOLEAN NOT NULL DEFAULT 0,
  eligibility TEXT NOT NULL DEFAULT '{}',
  languages TEXT NOT NULL DEFAULT '[]',
  wheelchair BOOLEAN NOT NULL DEFAULT 0,
  pets BOOLEAN NOT NULL DEFAULT 0,
  confidential BOOLEAN NOT NULL DEFAULT 0,
  intake_phone TEXT NOT NULL DEFAULT '',
  meeting_point_lon REAL CHECK (meeting_point_lon BETWEEN -180 AND 180),
  meeting_point_lat REAL CHECK (meeting_point_lat BETWEEN -90 AND 90),
  synthetic BOOLEAN NOT NULL DEFAULT 0,
  source TEXT NOT NULL DEFAULT '',
  lon REAL NOT NULL CHECK (lon BETWEEN -180 AND 180),
  lat REAL NOT NULL CHECK (lat BETWEEN -90 AND 90),
  CHECK ((meeting_point_lon IS NULL) = (meeting_point_lat IS NULL))
);
CREATE INDEX resources_kind ON resources (kind);
CREATE INDEX resources_lon_lat ON resources (lon, lat);

CREATE TABLE beds (
  fid INTEGER PRIMARY KEY AUTOINCREMENT,
  resource_id TEXT NOT NULL REFERENCES resources (id) ON DELETE CASCADE,
  bed_type TEXT NOT NULL CHECK (bed_type IN ('single_men', 'single_women', 'families', 'youth', 'dv')),
  capacity INTEGER NOT NULL CHECK (typeof(capacity) = 'integer' AND capacity >= 0),
  free INTEGER NOT NULL CHECK (typeof(free) = 'integer' AND free >= 0 AND free <= capacity),
  position INTEGER NOT NULL DEFAULT 0,
  UNIQUE (resource_id, bed_type)
);

CREATE TABLE hotlines (
  fid INTEGER PRIMARY KEY AUTOINCREMENT,
  geom MULTIPOLYGON,
  id TEXT NOT NULL UNIQUE CHECK (length(trim(id)) > 0),
  name TEXT NOT NULL,
  phone TEXT NOT NULL,
  channels TEXT NOT NULL DEFAULT '["call"]',
  languages TEXT NOT NULL DEFAULT '[]',
  opening_hours TEXT NOT NULL DEFAULT '24/7',
  text_number TEXT NOT NULL DEFAULT '',
  chat_url TEXT NOT NULL DEFAULT '',
  synthetic BOOLEAN NOT NULL DEFAULT 0,
  source TEXT NOT NULL DEFAULT ''
);

CREATE TABLE teams (
  fid INTEGER PRIMARY KEY AUTOINCREMENT,
  geom POINT NOT NULL,
  id TEXT NOT NULL UNIQUE CHECK (length(trim(id)) > 0),
  name TEXT NOT NULL,
  base_id TEXT NOT NULL REFERENCES resources (id),
  status TEXT NOT NULL CHECK (status IN ('available', 'en_route', 'on_scene', 'returning', 'off_duty')),
  skills TEXT NOT NULL DEFAULT '[]',
  languages TEXT NOT NULL DEFAULT '[]',
  shift_start DATETIME,
  shift_end DATETIME,
  synthetic BOOLEAN NOT NULL DEFAULT 0,
  source TEXT NOT NULL DEFAULT '',
  updated_at DATETIME NOT NULL,
  lon REAL NOT NULL CHECK (lon BETWEEN -180 AND 180),
  lat REAL NOT NULL CHECK (lat BETWEEN -90 AND 90),
  CHECK (shift_start IS NULL OR shift_end IS NULL OR shift_end > shift_start)
);
CREATE INDEX teams_status ON teams (status);

CREATE TABLE incidents (
  fid INTEGER PRIMARY KEY AUTOINCREMENT,
  geom POINT NOT NULL,
  id TEXT NOT NULL UNIQUE CHECK (length(trim(id)) > 0),
  crisis_type TEXT NOT NULL CHECK (crisis_type IN ('suicide_risk', 'mental_health', 'substance_use', 'domestic_violence', 'welfare_check', 'youth', 'housing')),
  priority INTEGER NOT NULL CHECK (priority IN (1, 2, 3, 4)),
  needed_skills TEXT NOT NULL DEFAULT '[]',
  needed_languages TEXT NOT NULL DEFAULT '[]',
  status TEXT NOT NULL CHECK (status IN ('open', 'assigned', 'resolved', 'cancelled')),
  created_at DATETIME NOT NULL,
  updated_at DATETIME NOT NULL,
  notes TEXT NOT NULL DEFAULT '',
  synthetic BOOLEAN NOT NULL DEFAULT 0,
  lon REAL NOT NULL CHECK (lon BETWEEN -180 AND 180),
  lat REAL NOT NULL CHECK (lat BETWEEN -90 AND 90)
);
CREATE INDEX incidents_status ON incidents (status);

CREATE TABLE holds (
  fid INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  resource_id TEXT NOT NULL REFERENCES resources (id),
  bed_type TEXT NOT NULL CHECK (bed_type IN ('single_men', 'single_women', 'families', 'youth', 'dv')),
  status TEXT NOT NULL CHECK (status IN ('held', 'confirmed', 'released', 'expired')),
  actor TEXT NOT NULL,
  created_at DATETIME NOT NULL,
  expires_at DATETIME NOT NULL,
  updated_at DATETIME NOT NULL,
  idempotency_key TEXT UNIQUE,
  client_ref TEXT NOT NULL DEFAULT ''
);
CREATE INDEX holds_held_expiry ON holds (expires_at) WHERE status = 'held';

CREATE TABLE assignments (
  fid INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  team_id TEXT NOT NULL REFERENCES teams (id),
  incident_id TEXT NOT NULL REFERENCES incidents (id),
  status TEXT NOT NULL CHECK (status IN ('active', 'completed', 'cancelled')),
  actor TEXT NOT NULL,
  created_at DATETIME NOT NULL,
  updated_at DATETIME NOT NULL,
  eta_s REAL CHECK (eta_s >= 0),
  idempotency_key TEXT UNIQUE
);
CREATE UNIQUE INDEX assignments_one_active_per_team ON assignments (team_id) WHERE status = 'active';

CREATE TABLE audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at DATETIME NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  subject TEXT NOT NULL DEFAULT '',
  inputs TEXT NOT NULL DEFAULT '{}',
  result TEXT NOT NULL DEFAULT '{}'
);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
  SELECT RAISE(ABORT, 'audit log is append-only: UPDATE refused');
END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
  SELECT RAISE(ABORT, 'audit log is append-only: DELETE refused');
END;

INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id) VALUES
  ('resources', 'features', 'resources', 'Shelters, clinics, crisis units and team bases', 4326),
  ('hotlines', 'features', 'hotlines', 'Hotlines with their service areas (none = nationwide)', 4326),
  ('teams', 'features', 'teams', 'Mobile crisis teams at their current positions', 4326),
  ('incidents', 'features', 'incidents', 'Calls for a mobile crisis team', 4326),
  ('beds', 'attributes', 'beds', 'Bed capacity and free beds per shelter and bed type', NULL),
  ('holds', 'attributes', 'holds', 'Bed holds', NULL),
  ('assignments', 'attributes', 'assignments', 'Teams sent to incidents', NULL),
  ('audit', 'attributes', 'audit', 'Append-only audit log', NULL);
INSERT INTO gpkg_geometry_columns VALUES
  ('resources', 'geom', 'POINT', 4326, 0, 0),
  ('hotlines', 'geom', 'MULTIPOLYGON', 4326, 0, 0),
  ('teams', 'geom', 'POINT', 4326, 0, 0),
  ('incidents', 'geom', 'POINT', 4326, 0, 0);

-- R-tree spatial indexes with the standard GeoPackage triggers, in their 1.4 form
-- (update5/6/7): the 1.3 update1 trigger's INSERT OR REPLACE fails under an UPSERT, whose
-- conflict policy overrides the trigger's. The store registers ST_IsEmpty/ST_MinX/... on
-- every connection (see navigator/store/gpkg.py).

CREATE VIRTUAL TABLE rtree_resources_geom USING rtree(id, minx, maxx, miny, maxy);
INSERT INTO gpkg_extensions VALUES ('resources', 'geom', 'gpkg_rtree_index', 'http://www.geopackage.org/spec120/#extension_rtree', 'write-only');
CREATE TRIGGER rtree_resources_geom_insert AFTER INSERT ON resources
  WHEN (new.geom NOT NULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN
  INSERT OR REPLACE INTO rtree_resources_geom VALUES (NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom));
END;
CREATE TRIGGER rtree_resources_geom_update6 AFTER UPDATE OF geom ON resources
  WHEN OLD.fid = NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom)) AND (OLD.geom NOTNULL AND NOT ST_IsEmpty(OLD.geom))
BEGIN
  UPDATE rtree_resources_geom SET minx = ST_MinX(NEW.geom), maxx = ST_MaxX(NEW.geom), miny = ST_MinY(NEW.geom), maxy = ST_MaxY(NEW.geom) WHERE id = NEW.fid;
END;
CREATE TRIGGER rtree_resources_geom_update7 AFTER UPDATE OF geom ON resources
  WHEN OLD.fid = NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom)) AND (OLD.geom ISNULL OR ST_IsEmpty(OLD.geom))
BEGIN
  INSERT INTO rtree_resources_geom VALUES (NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom));
END;
CREATE TRIGGER rtree_resources_geom_update2 AFTER UPDATE OF geom ON resources
  WHEN OLD.fid = NEW.fid AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
BEGIN
  DELETE FROM rtree_resources_geom WHERE id = OLD.fid;
END;
CREATE TRIGGER rtree_resources_geom_update5 AFTER UPDATE ON resources
  WHEN OLD.fid != NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN
  DELETE FROM rtree_resources_geom WHERE id = OLD.fid;
  INSERT OR REPLACE INTO rtree_resources_geom VALUES (NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom));
END;
CREATE TRIGGER rtree_resources_geom_update4 AFTER UPDATE ON resources
  WHEN OLD.fid != NEW.fid AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
BEGIN
  DELETE FROM rtree_resources_geom WHERE id IN (OLD.fid, NEW.fid);
END;
CREATE TRIGGER rtree_resources_geom_delete AFTER DELETE ON resources
  WHEN old.geom NOT NULL
BEGIN
  DELETE FROM rtree_resources_geom WHERE id = OLD.fid;
END;

CREATE VIRTUAL TABLE rtree_hotlines_geom USING rtree(id, minx, maxx, miny, maxy);
INSERT INTO gpkg_extensions VALUES ('hotlines', 'geom', 'gpkg_rtree_index', 'http://www.geopackage.org/spec120/#extension_rtree', 'write-only');
CREATE TRIGGER rtree_hotlines_geom_insert AFTER INSERT ON hotlines
  WHEN (new.geom NOT NULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN
  INSERT OR REPLACE INTO rtree_hotlines_geom VALUES (NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom));
END;
CREATE TRIGGER rtree_hotlines_geom_update6 AFTER UPDATE OF geom ON hotlines
  WHEN OLD.fid = NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom)) AND (OLD.geom NOTNULL AND NOT ST_IsEmpty(OLD.geom))
BEGIN
  UPDATE rtree_hotlines_geom SET minx = ST_MinX(NEW.geom), maxx = ST_MaxX(NEW.geom), miny = ST_MinY(NEW.geom), maxy = ST_MaxY(NEW.geom) WHERE id = NEW.fid;
END;
CREATE TRIGGER rtree_hotlines_geom_update7 AFTER UPDATE OF geom ON hotlines
  WHEN OLD.fid = NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom)) AND (OLD.geom ISNULL OR ST_IsEmpty(OLD.geom))
BEGIN
  INSERT INTO rtree_hotlines_geom VALUES (NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom));
END;
CREATE TRIGGER rtree_hotlines_geom_update2 AFTER UPDATE OF geom ON hotlines
  WHEN OLD.fid = NEW.fid AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
BEGIN
  DELETE FROM rtree_hotlines_geom WHERE id = OLD.fid;
END;
CREATE TRIGGER rtree_hotlines_geom_update5 AFTER UPDATE ON hotlines
  WHEN OLD.fid != NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN
  DELETE FROM rtree_hotlines_geom WHERE id = OLD.fid;
  INSERT OR REPLACE INTO rtree_hotlines_geom VALUES (NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom));
END;
CREATE TRIGGER rtree_hotlines_geom_update4 AFTER UPDATE ON hotlines
  WHEN OLD.fid != NEW.fid AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
BEGIN
  DELETE FROM rtree_hotlines_geom WHERE id IN (OLD.fid, NEW.fid);
END;
CREATE TRIGGER rtree_hotlines_geom_delete AFTER DELETE ON hotlines
  WHEN old.geom NOT NULL
BEGIN
  DELETE FROM rtree_hotlines_geom WHERE id = OLD.fid;
END;

CREATE VIRTUAL TABLE rtree_teams_geom USING rtree(id, minx, maxx, miny, maxy);
INSERT INTO gpkg_extensions VALUES ('teams', 'geom', 'gpkg_rtree_index', 'http://www.geopackage.org/spec120/#extension_rtree', 'write-only');
CREATE TRIGGER rtree_teams_geom_insert AFTER INSERT ON teams
  WHEN (new.geom NOT NULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN
  INSERT OR REPLACE INTO rtree_teams_geom VALUES (NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom));
END;
CREATE TRIGGER rtree_teams_geom_update6 AFTER UPDATE OF geom ON teams
  WHEN OLD.fid = NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom)) AND (OLD.geom NOTNULL AND NOT ST_IsEmpty(OLD.geom))
BEGIN
  UPDATE rtree_teams_geom SET minx = ST_MinX(NEW.geom), maxx = ST_MaxX(NEW.geom), miny = ST_MinY(NEW.geom), maxy = ST_MaxY(NEW.geom) WHERE id = NEW.fid;
END;
CREATE TRIGGER rtree_teams_geom_update7 AFTER UPDATE OF geom ON teams
  WHEN OLD.fid = NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom)) AND (OLD.geom ISNULL OR ST_IsEmpty(OLD.geom))
BEGIN
  INSERT INTO rtree_teams_geom VALUES (NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom));
END;
CREATE TRIGGER rtree_teams_geom_update2 AFTER UPDATE OF geom ON teams
  WHEN OLD.fid = NEW.fid AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
BEGIN
  DELETE FROM rtree_teams_geom WHERE id = OLD.fid;
END;
CREATE TRIGGER rtree_teams_geom_update5 AFTER UPDATE ON teams
  WHEN OLD.fid != NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN
  DELETE FROM rtree_teams_geom WHERE id = OLD.fid;
  INSERT OR REPLACE INTO rtree_teams_geom VALUES (NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom));
END;
CREATE TRIGGER rtree_teams_geom_update4 AFTER UPDATE ON teams
  WHEN OLD.fid != NEW.fid AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
BEGIN
  DELETE FROM rtree_teams_geom WHERE id IN (OLD.fid, NEW.fid);
END;
CREATE TRIGGER rtree_teams_geom_delete AFTER DELETE ON teams
  WHEN old.geom NOT NULL
BEGIN
  DELETE FROM rtree_teams_geom WHERE id = OLD.fid;
END;

CREATE VIRTUAL TABLE rtree_incidents_geom USING rtree(id, minx, maxx, miny, maxy);
INSERT INTO gpkg_extensions VALUES ('incidents', 'geom', 'gpkg_rtree_index', 'http://www.geopackage.org/spec120/#extension_rtree', 'write-only');
CREATE TRIGGER rtree_incidents_geom_insert AFTER INSERT ON incidents
  WHEN (new.geom NOT NULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN
  INSERT OR REPLACE INTO rtree_incidents_geom VALUES (NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom));
END;
CREATE TRIGGER rtree_incidents_geom_update6 AFTER UPDATE OF geom ON incidents
  WHEN OLD.fid = NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom)) AND (OLD.geom NOTNULL AND NOT ST_IsEmpty(OLD.geom))
BEGIN
  UPDATE rtree_incidents_geom SET minx = ST_MinX(NEW.geom), maxx = ST_MaxX(NEW.geom), miny = ST_MinY(NEW.geom), maxy = ST_MaxY(NEW.geom) WHERE id = NEW.fid;
END;
CREATE TRIGGER rtree_incidents_geom_update7 AFTER UPDATE OF geom ON incidents
  WHEN OLD.fid = NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom)) AND (OLD.geom ISNULL OR ST_IsEmpty(OLD.geom))
BEGIN
  INSERT INTO rtree_incidents_geom VALUES (NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom));
END;
CREATE TRIGGER rtree_incidents_geom_update2 AFTER UPDATE OF geom ON incidents
  WHEN OLD.fid = NEW.fid AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
BEGIN
  DELETE FROM rtree_incidents_geom WHERE id = OLD.fid;
END;
CREATE TRIGGER rtree_incidents_geom_update5 AFTER UPDATE ON incidents
  WHEN OLD.fid != NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
BEGIN
  DELETE FROM rtree_incidents_geom WHERE id = OLD.fid;
  INSERT OR REPLACE INTO rtree_incidents_geom VALUES (NEW.fid, ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom));
END;
CREATE TRIGGER rtree_incidents_geom_update4 AFTER UPDATE ON incidents
  WHEN OLD.fid != NEW.fid AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
BEGIN
  DELETE FROM rtree_incidents_geom WHERE id IN (OLD.fid, NEW.fid);
END;
CREATE TRIGGER rtree_incidents_geom_delete AFTER DELETE ON incidents
  WHEN old.geom NOT NULL
BEGIN
  DELETE FROM rtree_incidents_geom WHERE id = OLD.fid;
END;
