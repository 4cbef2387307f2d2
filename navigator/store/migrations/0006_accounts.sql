-- Accounts hardening, version 6: login throttling, server-side sessions, TOTP second factor.
--
-- login_throttle: one row per account name or client address that failed to log in recently
-- (navigator/store/logins.py). Every worker of every process shares it, so a lock holds
-- across gunicorn workers. A row is deleted once expires_at passes: the table stays bounded.
CREATE TABLE login_throttle (
  scope text NOT NULL CHECK (scope IN ('account', 'address')),
  key text NOT NULL CHECK (length(key) BETWEEN 1 AND 128),
  window_start timestamptz NOT NULL,
  failures integer NOT NULL CHECK (failures >= 0),
  locked_until timestamptz,
  lockouts integer NOT NULL DEFAULT 0 CHECK (lockouts >= 0),
  seen text NOT NULL DEFAULT '[]',
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (scope, key)
);
CREATE INDEX login_throttle_expires ON login_throttle (expires_at);

-- sessions: id is the SHA-256 (hex) of the random token the signed cookie carries, so a
-- copy of this table does not hold usable session tokens.
CREATE TABLE sessions (
  id text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{64}$'),
  username text NOT NULL REFERENCES users (username) ON DELETE CASCADE,
  created_at timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL,
  revoked_at timestamptz,
  address text NOT NULL DEFAULT '' CHECK (length(address) <= 128)
);
CREATE INDEX sessions_live_by_user ON sessions (username) WHERE revoked_at IS NULL;
CREATE INDEX sessions_created ON sessions (created_at);

-- TOTP (RFC 6238): a secret set but not enabled is an enrolment awaiting its first code;
-- totp_last_step is the last 30-second step a code was accepted for (replay refused).
ALTER TABLE users
  ADD COLUMN totp_secret text CHECK (totp_secret ~ '^[A-Z2-7]{16,128}$'),
  ADD COLUMN totp_enabled boolean NOT NULL DEFAULT false,
  ADD COLUMN totp_last_step bigint CHECK (totp_last_step >= 0),
  ADD CONSTRAINT users_totp_needs_secret CHECK (NOT totp_enabled OR totp_secret IS NOT NULL);

GRANT SELECT, INSERT, UPDATE, DELETE ON login_throttle, sessions TO navigator_app;
