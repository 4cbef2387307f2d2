-- The audit log's head in one row, version 17 (PostGIS only; the GeoPackage appends under
-- its write lock).
-- audit_head holds the hash of the newest entry. An append is one statement
-- (navigator/store/postgis.py, CHAIN_AUDIT): UPDATE audit_head (its row lock is the audit
-- append lock, and READ COMMITTED re-reads the newest head after waiting for it) computes the
-- new entry's SHA-256 in the database over the canonical JSON the application made around
-- the previous hash (navigator/store/audit.py, chain_parts), and the INSERT takes prev_hash
-- and hash from it. The hash is the same as before; `navigator audit verify` recomputes every
-- entry's hash from the audit rows alone, so a forged head only breaks the next entry's link.

CREATE TABLE audit_head (
  id integer PRIMARY KEY CHECK (id = 1),
  prev_hash text NOT NULL CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
  hash text NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$')
);

INSERT INTO audit_head (id, prev_hash, hash)
SELECT 1, repeat('0', 64), coalesce((SELECT hash FROM audit ORDER BY id DESC LIMIT 1),
                                    repeat('0', 64));

GRANT SELECT, UPDATE ON audit_head TO navigator_app;

-- The head row stays: no DELETE or TRUNCATE (the application role may not anyway), and a
-- one-statement append that finds no head fails instead of writing without an audit entry.
CREATE TRIGGER audit_head_kept BEFORE DELETE ON audit_head
  FOR EACH ROW EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head
  FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();

CREATE FUNCTION audit_head_missing() RETURNS integer LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the audit log has no head row (audit_head): nothing was written'
    USING ERRCODE = 'data_corrupted';
END
$$;
