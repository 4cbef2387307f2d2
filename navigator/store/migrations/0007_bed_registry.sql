-- The live bed registry, shelter staff and referral episodes, version 7.
-- Staff report per bed type capacity, occupied and out_of_service; free is derived:
--   free = max(0, capacity - occupied - out_of_service - held - confirmed)
-- where held counts the holds still 'held' and confirmed the holds confirmed since the last
-- report (a report's occupied count includes the people who arrived, so it resets them).
-- Every write keeps free equal to that expression, and a CHECK proves it.
-- Counts migrated from older stores keep their free beds (occupied = capacity - free - held)
-- and have no reported_at: nobody confirmed them, so they are stale until a report.

ALTER TABLE beds
  ADD COLUMN occupied integer NOT NULL DEFAULT 0 CHECK (occupied >= 0),
  ADD COLUMN out_of_service integer NOT NULL DEFAULT 0 CHECK (out_of_service >= 0),
  ADD COLUMN held integer NOT NULL DEFAULT 0 CHECK (held >= 0),
  ADD COLUMN confirmed integer NOT NULL DEFAULT 0 CHECK (confirmed >= 0),
  ADD COLUMN reported_at timestamptz,
  ADD COLUMN reported_by text NOT NULL DEFAULT '',
  ADD COLUMN reported_via text NOT NULL DEFAULT 'import'
    CHECK (reported_via IN ('import', 'staff', 'census'));

UPDATE beds b SET held = (SELECT count(*) FROM holds h WHERE h.resource_id = b.resource_id
                          AND h.bed_type = b.bed_type AND h.status = 'held');
UPDATE beds SET held = LEAST(held, capacity - free);
UPDATE beds SET occupied = capacity - free - held;

ALTER TABLE beds
  ADD CONSTRAINT beds_counts_fit CHECK (occupied + out_of_service <= capacity),
  ADD CONSTRAINT beds_free_derived
    CHECK (free = GREATEST(0, capacity - occupied - out_of_service - held - confirmed));

-- A site's status and note, and its own freshness window (NULL: the setting).
CREATE TABLE bed_sites (
  resource_id text PRIMARY KEY REFERENCES resources (id) ON DELETE CASCADE,
  status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'full', 'closed', 'diverting')),
  note text NOT NULL DEFAULT '' CHECK (length(note) <= 500),
  fresh_hours double precision CHECK (fresh_hours > 0 AND fresh_hours < 'Infinity'),
  updated_at timestamptz,
  updated_by text NOT NULL DEFAULT ''
);

-- A shelter's answer to a hold.
ALTER TABLE holds
  ADD COLUMN response text NOT NULL DEFAULT '' CHECK (response IN ('', 'accepted', 'declined')),
  ADD COLUMN responded_by text NOT NULL DEFAULT '',
  ADD COLUMN responded_at timestamptz;
CREATE INDEX holds_resource_status ON holds (resource_id, status);

-- Shelter staff: which sites each account may report for (admins: all, without rows here).
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
  CHECK (role IN ('dispatcher', 'caseworker', 'planner', 'admin', 'shelter'));
CREATE TABLE user_sites (
  username text NOT NULL REFERENCES users (username) ON DELETE CASCADE,
  resource_id text NOT NULL CHECK (btrim(resource_id) <> ''),
  PRIMARY KEY (username, resource_id)
);

-- Referral episodes: one per client, de-identified (a case reference, no name).
CREATE TABLE episodes (
  id text PRIMARY KEY,
  client_ref text NOT NULL CHECK (length(client_ref) BETWEEN 1 AND 64),
  state text NOT NULL CHECK (state IN ('search', 'hold', 'accepted', 'declined', 'transport',
    'arrived', 'no_show', 'follow_up', 'closed')),
  actor text NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  hold_id text REFERENCES holds (id) ON DELETE SET NULL,
  resource_id text,
  bed_type text CHECK (bed_type IN ('single_men', 'single_women', 'families', 'youth', 'dv')),
  transport text CHECK (transport IN ('self', 'team', 'other')),
  eta timestamptz,
  arrived_at timestamptz,
  follow_up_due timestamptz,
  follow_ups_done integer NOT NULL DEFAULT 0 CHECK (follow_ups_done >= 0),
  note text NOT NULL DEFAULT '' CHECK (length(note) <= 500)
);
CREATE INDEX episodes_open ON episodes (state) WHERE state <> 'closed';

GRANT SELECT, INSERT, UPDATE, DELETE ON bed_sites, user_sites, episodes TO navigator_app;
