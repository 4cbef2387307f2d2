-- Surge (emergency / evacuation) shelters, version 10 (GeoPackage): the resource kind, the
-- bed types by need (general, fnss, medical, pets) and each surge shelter's activation.
-- The CHECKs are widened in place as in gpkg_0005 (SQLite cannot ALTER a CHECK; rebuilding
-- would cascade-delete rows): edit the tables' SQL under writable_schema, then any DDL bumps
-- the schema cookie so every other connection reloads it.
PRAGMA writable_schema = ON;
UPDATE sqlite_master
  SET sql = replace(sql, '''team_base'', ''other''))',
                    '''team_base'', ''other'', ''evacuation_shelter''))')
  WHERE type = 'table' AND name = 'resources';
UPDATE sqlite_master
  SET sql = replace(sql, '''youth'', ''dv''))',
                    '''youth'', ''dv'', ''general'', ''fnss'', ''medical'', ''pets''))')
  WHERE type = 'table' AND name IN ('beds', 'holds', 'episodes');
PRAGMA writable_schema = RESET;
PRAGMA writable_schema = OFF;

CREATE TABLE surge_sites (
  fid INTEGER PRIMARY KEY AUTOINCREMENT,
  resource_id TEXT NOT NULL UNIQUE REFERENCES resources (id) ON DELETE CASCADE,
  active BOOLEAN NOT NULL DEFAULT 0 CHECK (active IN (0, 1)),
  opens_at DATETIME,
  note TEXT NOT NULL DEFAULT '' CHECK (length(note) <= 500),
  updated_at DATETIME,
  updated_by TEXT NOT NULL DEFAULT '',
  CHECK (active = (opens_at IS NOT NULL))
);

-- Refuse to record the migration if a CHECK was not widened (the text did not match).
CREATE TEMP TABLE migration_0010_check (ok INTEGER NOT NULL CHECK (ok = 1));
INSERT INTO migration_0010_check
  SELECT instr(sql, '''other'', ''evacuation_shelter''))') > 0 FROM sqlite_master
  WHERE type = 'table' AND name = 'resources';
INSERT INTO migration_0010_check
  SELECT instr(sql, '''medical'', ''pets''))') > 0 FROM sqlite_master
  WHERE type = 'table' AND name IN ('beds', 'holds', 'episodes');
DROP TABLE migration_0010_check;
