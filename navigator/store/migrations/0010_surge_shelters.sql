-- Surge (emergency / evacuation) shelters, version 10: the resource kind, the bed types by
-- need (general, fnss, medical, pets) and each surge shelter's activation.
ALTER TABLE resources DROP CONSTRAINT resources_kind_check;
ALTER TABLE resources ADD CONSTRAINT resources_kind_check
  CHECK (kind IN ('shelter', 'clinic', 'hospital', 'crisis_unit', 'team_base', 'other',
    'evacuation_shelter'));

ALTER TABLE beds DROP CONSTRAINT beds_bed_type_check;
ALTER TABLE beds ADD CONSTRAINT beds_bed_type_check
  CHECK (bed_type IN ('single_men', 'single_women', 'families', 'youth', 'dv', 'general',
    'fnss', 'medical', 'pets'));
ALTER TABLE holds DROP CONSTRAINT holds_bed_type_check;
ALTER TABLE holds ADD CONSTRAINT holds_bed_type_check
  CHECK (bed_type IN ('single_men', 'single_women', 'families', 'youth', 'dv', 'general',
    'fnss', 'medical', 'pets'));
ALTER TABLE episodes DROP CONSTRAINT episodes_bed_type_check;
ALTER TABLE episodes ADD CONSTRAINT episodes_bed_type_check
  CHECK (bed_type IN ('single_men', 'single_women', 'families', 'youth', 'dv', 'general',
    'fnss', 'medical', 'pets'));

-- Whether a surge shelter is activated, since when, and why (no row: never activated).
CREATE TABLE surge_sites (
  resource_id text PRIMARY KEY REFERENCES resources (id) ON DELETE CASCADE,
  active boolean NOT NULL DEFAULT false,
  opens_at timestamptz,
  note text NOT NULL DEFAULT '' CHECK (length(note) <= 500),
  updated_at timestamptz,
  updated_by text NOT NULL DEFAULT '',
  CONSTRAINT surge_sites_active_opens CHECK (active = (opens_at IS NOT NULL))
);

GRANT SELECT, INSERT, UPDATE, DELETE ON surge_sites TO navigator_app;
