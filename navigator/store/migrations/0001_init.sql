-- PostGIS schema of the store, version 1.
-- A geometry(Point,4326) column accepts POINT(200 95), POINT(NaN NaN), POINT EMPTY and
-- POINT(Infinity 0) (TRAPS.md): every point is guarded by a CHECK. NaN sorts above every
-- number in PostgreSQL, so BETWEEN refuses it too. lon/lat are generated from geom so reads
-- are the same on both backends.

CREATE EXTENSION IF NOT EXISTS postgis;

CREATE TABLE resources (
  id text PRIMARY KEY CHECK (btrim(id) <> ''),
  kind text NOT NULL CHECK (kind IN ('shelter', 'clinic', 'hospital', 'crisis_unit', 'team_base')),
  name text NOT NULL CHECK (btrim(name) <> ''),
  address text NOT NULL DEFAULT '',
  phone text NOT NULL DEFAULT '',
  opening_hours text NOT NULL DEFAULT '',
  services text[] NOT NULL DEFAULT '{}',
  walk_in boolean NOT NULL DEFAULT false,
  eligibility jsonb NOT NULL DEFAULT '{}',
  languages text[] NOT NULL DEFAULT '{}',
  wheelchair boolean NOT NULL DEFAULT false,
  pets boolean NOT NULL DEFAULT false,
  confidential boolean NOT NULL DEFAULT false,
  intake_phone text NOT NULL DEFAULT '',
  meeting_point_lon double precision CHECK (meeting_point_lon BETWEEN -180 AND 180),
  meeting_point_lat double precision CHECK (meeting_point_lat BETWEEN -90 AND 90),
  synthetic boolean NOT NULL DEFAULT false,
  source text NOT NULL DEFAULT '',
  geom geometry(Point, 4326) NOT NULL,
  lon double precision GENERATED ALWAYS AS (ST_X(geom)) STORED,
  lat double precision GENERATED ALWAYS AS (ST_Y(geom)) STORED,
  CONSTRAINT resources_geom_in_range CHECK (NOT ST_IsEmpty(geom)
    AND ST_X(geom) BETWEEN -180 AND 180 AND ST_Y(geom) BETWEEN -90 AND 90),
  CONSTRAINT resources_meeting_point_pair
    CHECK ((meeting_point_lon IS NULL) = (meeting_point_lat IS NULL))
);
CREATE INDEX resources_geom_gist ON resources USING gist (geom);
CREATE INDEX resources_kind ON resources (kind);

CREATE TABLE beds (
  resource_id text NOT NULL REFERENCES resources (id) ON DELETE CASCADE,
  bed_type text NOT NULL CHECK (bed_type IN ('single_men', 'single_women', 'families', 'youth', 'dv')),
  capacity integer NOT NULL CHECK (capacity >= 0),
  free integer NOT NULL,
  position integer NOT NULL DEFAULT 0,
  PRIMARY KEY (resource_id, bed_type),
  CONSTRAINT beds_free_in_range CHECK (free >= 0 AND free <= capacity)
);

CREATE TABLE hotlines (
  id text PRIMARY KEY CHECK (btrim(id) <> ''),
  name text NOT NULL,
  phone text NOT NULL,
  channels text[] NOT NULL DEFAULT '{call}',
  languages text[] NOT NULL DEFAULT '{}',
  opening_hours text NOT NULL DEFAULT '24/7',
  text_number text NOT NULL DEFAULT '',
  chat_url text NOT NULL DEFAULT '',
  synthetic boolean NOT NULL DEFAULT false,
  source text NOT NULL DEFAULT '',
  geom geometry(MultiPolygon, 4326),
  CONSTRAINT hotlines_area_valid CHECK (geom IS NULL OR (NOT ST_IsEmpty(geom)
    AND ST_IsValid(geom) AND ST_XMin(geom) >= -180 AND ST_XMax(geom) <= 180
    AND ST_YMin(geom) >= -90 AND ST_YMax(geom) <= 90))
);
CREATE INDEX hotlines_geom_gist ON hotlines USING gist (geom);

CREATE TABLE teams (
  id text PRIMARY KEY CHECK (btrim(id) <> ''),
  name text NOT NULL,
  base_id text NOT NULL REFERENCES resources (id),
  status text NOT NULL CHECK (status IN ('available', 'en_route', 'on_scene', 'returning', 'off_duty')),
  skills text[] NOT NULL DEFAULT '{}',
  languages text[] NOT NULL DEFAULT '{}',
  shift_start timestamptz,
  shift_end timestamptz,
  synthetic boolean NOT NULL DEFAULT false,
  source text NOT NULL DEFAULT '',
  updated_at timestamptz NOT NULL,
  geom geometry(Point, 4326) NOT NULL,
  lon double precision GENERATED ALWAYS AS (ST_X(geom)) STORED,
  lat double precision GENERATED ALWAYS AS (ST_Y(geom)) STORED,
  CONSTRAINT teams_geom_in_range CHECK (NOT ST_IsEmpty(geom)
    AND ST_X(geom) BETWEEN -180 AND 180 AND ST_Y(geom) BETWEEN -90 AND 90),
  CONSTRAINT teams_shift_order CHECK (shift_end > shift_start)
);
CREATE INDEX teams_geom_gist ON teams USING gist (geom);
CREATE INDEX teams_status ON teams (status);

CREATE TABLE incidents (
  id text PRIMARY KEY CHECK (btrim(id) <> ''),
  crisis_type text NOT NULL CHECK (crisis_type IN ('suicide_risk', 'mental_health',
    'substance_use', 'domestic_violence', 'welfare_check', 'youth', 'housing')),
  priority integer NOT NULL CHECK (priority BETWEEN 1 AND 4),
  needed_skills text[] NOT NULL DEFAULT '{}',
  needed_languages text[] NOT NULL DEFAULT '{}',
  status text NOT NULL CHECK (status IN ('open', 'assigned', 'resolved', 'cancelled')),
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  notes text NOT NULL DEFAULT '',
  synthetic boolean NOT NULL DEFAULT false,
  geom geometry(Point, 4326) NOT NULL,
  lon double precision GENERATED ALWAYS AS (ST_X(geom)) STORED,
  lat double precision GENERATED ALWAYS AS (ST_Y(geom)) STORED,
  CONSTRAINT incidents_geom_in_range CHECK (NOT ST_IsEmpty(geom)
    AND ST_X(geom) BETWEEN -180 AND 180 AND ST_Y(geom) BETWEEN -90 AND 90)
);
CREATE INDEX incidents_geom_gist ON incidents USING gist (geom);
CREATE INDEX incidents_status ON incidents (status);

CREATE TABLE holds (
  id text PRIMARY KEY,
  resource_id text NOT NULL REFERENCES resources (id),
  bed_type text NOT NULL CHECK (bed_type IN ('single_men', 'single_women', 'families', 'youth', 'dv')),
  status text NOT NULL CHECK (status IN ('held', 'confirmed', 'released', 'expired')),
  actor text NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  idempotency_key text CONSTRAINT holds_idempotency_key UNIQUE,
  client_ref text NOT NULL DEFAULT ''
);
CREATE INDEX holds_held_expiry ON holds (expires_at) WHERE status = 'held';

CREATE TABLE assignments (
  id text PRIMARY KEY,
  team_id text NOT NULL REFERENCES teams (id),
  incident_id text NOT NULL REFERENCES incidents (id),
  status text NOT NULL CHECK (status IN ('active', 'completed', 'cancelled')),
  actor text NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  eta_s double precision CHECK (eta_s >= 0 AND eta_s < 'Infinity'),
  idempotency_key text CONSTRAINT assignments_idempotency_key UNIQUE
);
CREATE UNIQUE INDEX assignments_one_active_per_team ON assignments (team_id)
  WHERE status = 'active';

CREATE TABLE audit (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at timestamptz NOT NULL,
  actor text NOT NULL,
  action text NOT NULL,
  subject text NOT NULL DEFAULT '',
  inputs jsonb NOT NULL DEFAULT '{}',
  result jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_action ON audit (action, id);

CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit log is append-only: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_no_update_delete BEFORE UPDATE OR DELETE ON audit
  FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
  FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
