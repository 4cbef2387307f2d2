-- Area incidents, version 15: 988's georouting gives an area, not a point. An incident may
-- carry the area the caller may be in (a MultiPolygon; a centre + radius is kept as its
-- circle built in a metric CRS, with the radius for display). geom stays the area's centre
-- or representative point, so every point query keeps working. Refining the incident to an
-- exact point clears both columns (audited).

ALTER TABLE incidents
  ADD COLUMN area geometry(MultiPolygon, 4326),
  ADD COLUMN area_radius_m double precision;
ALTER TABLE incidents
  ADD CONSTRAINT incidents_area_valid CHECK (area IS NULL OR (NOT ST_IsEmpty(area)
    AND ST_IsValid(area) AND ST_XMin(area) >= -180 AND ST_XMax(area) <= 180
    AND ST_YMin(area) >= -90 AND ST_YMax(area) <= 90)),
  ADD CONSTRAINT incidents_area_radius CHECK (area_radius_m IS NULL OR (area IS NOT NULL
    AND area_radius_m > 0 AND area_radius_m <= 25000));
