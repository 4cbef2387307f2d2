-- The region a store was set up for (navigator region init), version 14.
-- One row at most (id = 1): name, OSM extract and population layer (absolute paths and the
-- SHA-256 of their bytes at init time), time zone and holiday calendar. The input files are
-- not copied; a later change to either is refused when the store is opened.

CREATE TABLE region (
  id integer PRIMARY KEY CHECK (id = 1),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  osm_file text NOT NULL CHECK (length(osm_file) BETWEEN 1 AND 1000),
  osm_sha256 text NOT NULL CHECK (osm_sha256 ~ '^[0-9a-f]{64}$'),
  population_file text NOT NULL CHECK (length(population_file) BETWEEN 1 AND 1000),
  population_sha256 text NOT NULL CHECK (population_sha256 ~ '^[0-9a-f]{64}$'),
  population_column text NOT NULL CHECK (length(population_column) BETWEEN 1 AND 1000),
  population_layer text NOT NULL DEFAULT '' CHECK (length(population_layer) <= 200),
  timezone text NOT NULL CHECK (length(timezone) BETWEEN 1 AND 1000),
  holidays text NOT NULL CHECK (length(holidays) BETWEEN 1 AND 1000),
  rural boolean NOT NULL DEFAULT false,
  population_snap_m double precision NOT NULL CHECK (population_snap_m > 0
                                                     AND population_snap_m < 'Infinity'),
  unit_name text NOT NULL CHECK (length(unit_name) BETWEEN 1 AND 1000),
  recorded_at timestamptz NOT NULL,
  recorded_by text NOT NULL
);

GRANT SELECT, INSERT, UPDATE, DELETE ON region TO navigator_app;
