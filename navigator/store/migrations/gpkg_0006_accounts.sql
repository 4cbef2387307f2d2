-- Accounts hardening, version 6: login throttling, server-side sessions, TOTP second factor.
--
-- login_throttle: one row per account name or client address that failed to log in recently
-- (navigator/store/logins.py). Every process sharing the file shares it, so a lock holds
-- across web workers. A row is deleted once expires_at passes: the table stays bounded.
CREATE TABLE login_throttle (
  scope TEXT NOT NULL CHECK (scope IN ('account', 'address')),
  key TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 128),
  window_start DATETIME NOT NULL,
  failures INTEGER NOT NULL CHECK (failures >= 0),
  locked_until DATETIME,
  lockouts INTEGER NOT NULL DEFAULT 0 CHECK (lockouts >= 0),
  seen TEXT NOT NULL DEFAULT '[]',
  expires_at DATETIME NOT NULL,
  PRIMARY KEY (scope, key)
);
CREATE INDEX login_throttle_expires ON login_throttle (expires_at);

-- sessions: id is the SHA-256 (hex) of the random token the signed cookie carries, so a
-- copy of this table does not hold usable session tokens.
CREATE TABLE sessions (
  id TEXT PRIMARY KEY CHECK (length(id) = 64 AND id NOT GLOB '*[^0-9a-f]*'),
  username TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
  created_at DATETIME NOT NULL,
  last_seen_at DATETIME NOT NULL,
  revoked_at DATETIME,
  address TEXT NOT NULL DEFAULT '' CHECK (length(address) <= 128)
);
CREATE INDEX sessions_live_by_user ON sessions (username) WHERE revoked_at IS NULL;
CREATE INDEX sessions_created ON sessions (created_at);

-- TOTP (RFC 6238): a secret set but not enabled is an enrolment awaiting its first code;
-- totp_last_step is the last 30-second step a code was accepted for (replay refused).
ALTER TABLE users ADD COLUMN totp_secret TEXT
  CHECK (totp_secret IS NULL OR (length(totp_secret) BETWEEN 16 AND 128
                                 AND totp_secret NOT GLOB '*[^A-Z2-7]*'));
ALTER TABLE users ADD COLUMN totp_enabled INTEGER NOT NULL DEFAULT 0
  CHECK (totp_enabled IN (0, 1));
ALTER TABLE users ADD COLUMN totp_last_step INTEGER CHECK (totp_last_step >= 0);
