-- The live dispatch console and team safety check-ins, version 12.
-- changes: one change counter per topic; every audited write of that topic bumps it in the
-- same transaction (navigator.store.changes), so any process sees a write by reading one row.
-- team_checkins: when a team went on scene, its last safety check-in and the last
-- acknowledgement of an overdue alert (both audited).

CREATE TABLE changes (
  topic text PRIMARY KEY CHECK (length(topic) BETWEEN 1 AND 40),
  version bigint NOT NULL DEFAULT 0 CHECK (version >= 0),
  changed_at timestamptz
);
INSERT INTO changes (topic, version) VALUES ('dispatch', 0);

CREATE TABLE team_checkins (
  team_id text PRIMARY KEY REFERENCES teams (id) ON DELETE CASCADE,
  on_scene_at timestamptz,
  checked_in_at timestamptz,
  checked_in_by text NOT NULL DEFAULT '',
  note text NOT NULL DEFAULT '' CHECK (length(note) <= 500),
  acknowledged_at timestamptz,
  acknowledged_by text NOT NULL DEFAULT ''
);

GRANT SELECT, UPDATE ON changes TO navigator_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON team_checkins TO navigator_app;
