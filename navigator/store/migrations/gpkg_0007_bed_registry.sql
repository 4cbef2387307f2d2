-- The live bed registry, shelter staff and referral episodes, version 7 (GeoPackage).
-- Same rules as the PostGIS migration 0007:
--   free = max(0, capacity - occupied - out_of_service - held - confirmed)
-- kept by every write and proved by triggers (SQLite cannot add a table CHECK later).
-- Counts migrated from older stores keep their free beds and have no reported_at (stale).

ALTER TABLE beds ADD COLUMN occupied INTEGER NOT NULL DEFAULT 0 CHECK (occupied >= 0);
ALTER TABLE beds ADD COLUMN out_of_service INTEGER NOT NULL DEFAULT 0 CHECK (out_of_service >= 0);
ALTER TABLE beds ADD COLUMN held INTEGER NOT NULL DEFAULT 0 CHECK (held >= 0);
ALTER TABLE beds ADD COLUMN confirmed INTEGER NOT NULL DEFAULT 0 CHECK (confirmed >= 0);
ALTER TABLE beds ADD COLUMN reported_at DATETIME;
ALTER TABLE beds ADD COLUMN reported_by TEXT NOT NULL DEFAULT '';
ALTER TABLE beds ADD COLUMN reported_via TEXT NOT NULL DEFAULT 'import'
  CHECK (reported_via IN ('import', 'staff', 'census'));

UPDATE beds SET held = (SELECT count(*) FROM holds h WHERE h.resource_id = beds.resource_id
                        AND h.bed_type = beds.bed_type AND h.status = 'held');
UPDATE beds SET held = MIN(held, capacity - free);
UPDATE beds SET occupied = capacity - free - held;

CREATE TRIGGER beds_free_derived_insert BEFORE INSERT ON beds
  WHEN NEW.occupied + NEW.out_of_service > NEW.capacity
    OR NEW.free != MAX(0, NEW.capacity - NEW.occupied - NEW.out_of_service - NEW.held
                          - NEW.confirmed)
BEGIN
  SELECT RAISE(ABORT, 'beds: free must be capacity - occupied - out_of_service - holds');
END;
CREATE TRIGGER beds_free_derived_update BEFORE UPDATE ON beds
  WHEN NEW.occupied + NEW.out_of_service > NEW.capacity
    OR NEW.free != MAX(0, NEW.capacity - NEW.occupied - NEW.out_of_service - NEW.held
                          - NEW.confirmed)
BEGIN
  SELECT RAISE(ABORT, 'beds: free must be capacity - occupied - out_of_service - holds');
END;

CREATE TABLE bed_sites (
  fid INTEGER PRIMARY KEY AUTOINCREMENT,
  resource_id TEXT NOT NULL UNIQUE REFERENCES resources (id) ON DELETE CASCADE,
  status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'full', 'closed', 'diverting')),
  note TEXT NOT NULL DEFAULT '' CHECK (length(note) <= 500),
  fresh_hours REAL CHECK (fresh_hours > 0 AND fresh_hours < 1e308),
  updated_at DATETIME,
  updated_by TEXT NOT NULL DEFAULT ''
);

ALTER TABLE holds ADD COLUMN response TEXT NOT NULL DEFAULT ''
  CHECK (response IN ('', 'accepted', 'declined'));
ALTER TABLE holds ADD COLUMN responded_by TEXT NOT NULL DEFAULT '';
ALTER TABLE holds ADD COLUMN responded_at DATETIME;
CREATE INDEX holds_resource_status ON holds (resource_id, status);

-- Widen the users role CHECK in place (as 0005 does for resource kinds): rebuilding users
-- would drop the columns and the sessions that later migrations hang on it. This is the
-- procedure SQLite documents for constraint changes that no stored row can violate.
PRAGMA writable_schema = ON;
UPDATE sqlite_master
  SET sql = replace(sql, '''planner'', ''admin''))',
                    '''planner'', ''admin'', ''shelter''))')
  WHERE type = 'table' AND name = 'users';
PRAGMA writable_schema = RESET;
PRAGMA writable_schema = OFF;
-- any DDL bumps the schema cookie, so every other connection reloads the edited schema
CREATE INDEX users_role ON users (role);
-- Refuse to record the migration if the CHECK was not widened (the text did not match).
CREATE TEMP TABLE migration_0007_check (ok INTEGER NOT NULL CHECK (ok = 1));
INSERT INTO migration_0007_check
  SELECT instr(sql, '''admin'', ''shelter''))') > 0 FROM sqlite_master
  WHERE type = 'table' AND name = 'users';
DROP TABLE migration_0007_check;

CREATE TABLE user_sites (
  fid INTEGER PRIMARY KEY AUTOINCREMENT,
  username TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
  resource_id TEXT NOT NULL CHECK (length(trim(resource_id)) > 0),
  UNIQUE (username, resource_id)
);

CREATE TABLE episodes (
  fid INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  client_ref TEXT NOT NULL CHECK (length(client_ref) BETWEEN 1 AND 64),
  state TEXT NOT NULL CHECK (state IN ('search', 'hold', 'accepted', 'declined', 'transport',
    'arrived', 'no_show', 'follow_up', 'closed')),
  actor TEXT NOT NULL,
  created_at DATETIME NOT NULL,
  updated_at DATETIME NOT NULL,
  hold_id TEXT REFERENCES holds (id) ON DELETE SET NULL,
  resource_id TEXT,
  bed_type TEXT CHECK (bed_type IN ('single_men', 'single_women', 'families', 'youth', 'dv')),
  transport TEXT CHECK (transport IN ('self', 'team', 'other')),
  eta DATETIME,
  arrived_at DATETIME,
  follow_up_due DATETIME,
  follow_ups_done INTEGER NOT NULL DEFAULT 0 CHECK (follow_ups_done >= 0),
  note TEXT NOT NULL DEFAULT '' CHECK (length(note) <= 500)
);
CREATE INDEX episodes_open ON episodes (state) WHERE state <> 'closed';

INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id) VALUES
  ('bed_sites', 'attributes', 'bed_sites', 'Shelter status, note and freshness window', NULL),
  ('user_sites', 'attributes', 'user_sites', 'Sites each shelter account reports for', NULL),
  ('episodes', 'attributes', 'episodes', 'Referral episodes (de-identified)', NULL);
