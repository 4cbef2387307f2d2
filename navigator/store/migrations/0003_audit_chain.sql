-- The audit log becomes a hash chain, version 3.
-- Each new entry carries prev_hash (the hash of the entry before it) and hash (SHA-256 of
-- its canonical JSON; navigator/store/audit.py). Entries from before this migration keep
-- NULL hashes: the chain starts at the first entry written after it. The constraint is
-- NOT VALID so those old rows pass, while every new row (and any row someone manages to
-- update) must carry both hashes.

ALTER TABLE audit ADD COLUMN prev_hash text, ADD COLUMN hash text;
ALTER TABLE audit ADD CONSTRAINT audit_chained CHECK (
  hash IS NOT NULL AND prev_hash IS NOT NULL
  AND hash ~ '^[0-9a-f]{64}$' AND prev_hash ~ '^[0-9a-f]{64}$') NOT VALID;
