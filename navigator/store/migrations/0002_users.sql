-- Accounts of the web app: one row per user; passwords only as argon2 hashes.
CREATE TABLE users (
  username text PRIMARY KEY CHECK (username ~ '^[A-Za-z0-9_.@-]{1,64}$'),
  role text NOT NULL CHECK (role IN ('dispatcher', 'caseworker', 'planner', 'admin')),
  password_hash text NOT NULL CHECK (password_hash LIKE '$argon2%'),
  created_at timestamptz NOT NULL,
  disabled boolean NOT NULL DEFAULT false
);
