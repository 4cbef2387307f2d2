-- Resource kind 'other' (directory services that fit no other kind), version 5.
ALTER TABLE resources DROP CONSTRAINT resources_kind_check;
ALTER TABLE resources ADD CONSTRAINT resources_kind_check
  CHECK (kind IN ('shelter', 'clinic', 'hospital', 'crisis_unit', 'team_base', 'other'));
