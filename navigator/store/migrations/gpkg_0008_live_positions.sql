-- Live team positions and dispatch overrides, version 8 (GeoPackage).
-- Same columns as the PostGIS migration 0008.

ALTER TABLE teams ADD COLUMN position_at DATETIME;

ALTER TABLE assignments
  ADD COLUMN override_reason TEXT NOT NULL DEFAULT '' CHECK (length(override_reason) <= 500);
