-- The region a store was set up for (navigator region init), version 14 (GeoPackage).
-- Same table as the PostGIS migration 0014: one row at most.

CREATE TABLE region (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  osm_file TEXT NOT NULL CHECK (length(osm_file) BETWEEN 1 AND 1000),
  osm_sha256 TEXT NOT NULL CHECK (length(osm_sha256) = 64
                                  AND osm_sha256 NOT GLOB '*[^0-9a-f]*'),
  population_file TEXT NOT NULL CHECK (length(population_file) BETWEEN 1 AND 1000),
  population_sha256 TEXT NOT NULL CHECK (length(population_sha256) = 64
                                         AND population_sha256 NOT GLOB '*[^0-9a-f]*'),
  population_column TEXT NOT NULL CHECK (length(population_column) BETWEEN 1 AND 1000),
  population_layer TEXT NOT NULL DEFAULT '' CHECK (length(population_layer) <= 200),
  timezone TEXT NOT NULL CHECK (length(timezone) BETWEEN 1 AND 1000),
  holidays TEXT NOT NULL CHECK (length(holidays) BETWEEN 1 AND 1000),
  rural INTEGER NOT NULL DEFAULT 0 CHECK (rural IN (0, 1)),
  population_snap_m REAL NOT NULL CHECK (population_snap_m > 0 AND population_snap_m < 1e308),
  unit_name TEXT NOT NULL CHECK (length(unit_name) BETWEEN 1 AND 1000),
  recorded_at DATETIME NOT NULL,
  recorded_by TEXT NOT NULL
);
