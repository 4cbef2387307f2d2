-- The live dispatch console and team safety check-ins, version 12 (GeoPackage).
-- Same tables as the PostGIS migration 0012.

CREATE TABLE changes (
  topic TEXT PRIMARY KEY CHECK (length(topic) BETWEEN 1 AND 40),
  version INTEGER NOT NULL DEFAULT 0 CHECK (version >= 0),
  changed_at DATETIME
);
INSERT INTO changes (topic, version) VALUES ('dispatch', 0);

CREATE TABLE team_checkins (
  team_id TEXT PRIMARY KEY REFERENCES teams (id) ON DELETE CASCADE,
  on_scene_at DATETIME,
  checked_in_at DATETIME,
  checked_in_by TEXT NOT NULL DEFAULT '',
  note TEXT NOT NULL DEFAULT '' CHECK (length(note) <= 500),
  acknowledged_at DATETIME,
  acknowledged_by TEXT NOT NULL DEFAULT ''
);
