-- Resource kind 'other' (directory services that fit no other kind), version 5.
-- SQLite cannot ALTER a CHECK, and rebuilding `resources` would cascade-delete its beds
-- (foreign keys are on). Widening a CHECK changes no stored row, so this uses the procedure
-- SQLite documents for changing constraints in place ("Making Other Kinds Of Table Schema
-- Changes", lang_altertable.html): edit the table's SQL under writable_schema, reload it on
-- this connection (RESET), and bump the schema cookie (any DDL does) so every other
-- connection reloads it too.
PRAGMA writable_schema = ON;
UPDATE sqlite_master
  SET sql = replace(sql, '''crisis_unit'', ''team_base''))',
                    '''crisis_unit'', ''team_base'', ''other''))')
  WHERE type = 'table' AND name = 'resources';
PRAGMA writable_schema = RESET;
PRAGMA writable_schema = OFF;
DROP INDEX resources_kind;
CREATE INDEX resources_kind ON resources (kind);
-- Refuse to record the migration if the CHECK was not widened (the text did not match).
CREATE TEMP TABLE migration_0005_check (ok INTEGER NOT NULL CHECK (ok = 1));
INSERT INTO migration_0005_check
  SELECT instr(sql, '''team_base'', ''other''))') > 0 FROM sqlite_master
  WHERE type = 'table' AND name = 'resources';
DROP TABLE migration_0005_check;
