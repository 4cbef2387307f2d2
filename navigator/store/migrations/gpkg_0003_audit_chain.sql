-- The audit log becomes a hash chain and append-only against every SQL path, version 3.
-- Each new entry carries prev_hash (the hash of the entry before it) and hash (SHA-256 of
-- its canonical JSON; navigator/store/audit.py). Entries from before this migration keep
-- NULL hashes: the chain starts at the first entry written after it.
--
-- REPLACE (INSERT OR REPLACE, or an UPSERT's conflict policy) deletes the row it replaces
-- without firing DELETE triggers (unless recursive_triggers is on), so the UPDATE/DELETE
-- triggers of version 1 alone let `INSERT OR REPLACE INTO audit (id, ...)` rewrite an entry.
-- BEFORE INSERT triggers run before that delete: refuse any INSERT naming an existing id.
-- In a BEFORE INSERT trigger NEW.id is -1 when the statement gives no id; the AFTER INSERT
-- trigger refuses ids <= 0, so no entry ever has id -1 and the check below is exact.

ALTER TABLE audit ADD COLUMN prev_hash TEXT;
ALTER TABLE audit ADD COLUMN hash TEXT;

CREATE TRIGGER audit_no_overwrite BEFORE INSERT ON audit
  WHEN EXISTS (SELECT 1 FROM audit WHERE id = NEW.id)
BEGIN
  SELECT RAISE(ABORT, 'audit log is append-only: INSERT over an existing entry refused');
END;

CREATE TRIGGER audit_hash_required BEFORE INSERT ON audit
  WHEN NEW.hash IS NULL OR NEW.prev_hash IS NULL
    OR length(NEW.hash) != 64 OR length(NEW.prev_hash) != 64
    OR NEW.hash GLOB '*[^0-9a-f]*' OR NEW.prev_hash GLOB '*[^0-9a-f]*'
BEGIN
  SELECT RAISE(ABORT, 'audit log is append-only: an entry needs prev_hash and hash');
END;

CREATE TRIGGER audit_append_at_end AFTER INSERT ON audit
  WHEN NEW.id <= 0 OR EXISTS (SELECT 1 FROM audit WHERE id > NEW.id)
BEGIN
  SELECT RAISE(ABORT, 'audit log is append-only: an entry may only be added at the end');
END;
