-- Live team positions and dispatch overrides, version 8.
-- position_at: when the team's current position was fixed (GPS ping or hand update); NULL
-- for a position only ever imported. A ping no newer than it is ignored (out of order).
-- override_reason: why a team lacking a needed skill or language was sent anyway.

ALTER TABLE teams ADD COLUMN position_at timestamptz;

ALTER TABLE assignments
  ADD COLUMN override_reason text NOT NULL DEFAULT '' CHECK (length(override_reason) <= 500);
