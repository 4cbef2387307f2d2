-- Accounts of the web app: one row per user; passwords only as argon2 hashes.
CREATE TABLE users (
  username TEXT PRIMARY KEY CHECK (length(username) BETWEEN 1 AND 64
                                   AND username NOT GLOB '*[^A-Za-z0-9_.@-]*'),
  role TEXT NOT NULL CHECK (role IN ('dispatcher', 'caseworker', 'planner', 'admin')),
  password_hash TEXT NOT NULL CHECK (password_hash LIKE '$argon2%'),
  created_at DATETIME NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1))
);
