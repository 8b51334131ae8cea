-- edgejwt sessions: every login starts one; every refresh token records its session and its
-- parent, so a replayed parent can be told from a lost response (the reuse interval) and from
-- theft (the whole session is revoked). Audit events for the operator.

CREATE TABLE sessions (
  sid            TEXT    PRIMARY KEY,
  user_id        INTEGER REFERENCES users(id) ON DELETE CASCADE,
  created_at     INTEGER NOT NULL,
  last_used_at   INTEGER NOT NULL,
  expires_at     INTEGER,                      -- created_at + SESSION_LIFETIME; NULL: no absolute limit
  revoked_at     INTEGER,
  revoked_reason TEXT,                         -- logout, logout_all, reuse_detected, password_change, revoked
  user_agent     TEXT    NOT NULL DEFAULT ''   -- truncated
);
CREATE INDEX sessions_user_id ON sessions(user_id);

-- The session of each refresh token and the token it was rotated from.
ALTER TABLE outstanding_tokens ADD COLUMN sid TEXT;
ALTER TABLE outstanding_tokens ADD COLUMN parent_jti TEXT;
CREATE INDEX outstanding_tokens_sid ON outstanding_tokens(sid);
CREATE UNIQUE INDEX outstanding_tokens_parent_jti ON outstanding_tokens(parent_jti);

CREATE TABLE auth_events (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  at         INTEGER NOT NULL,                 -- Unix seconds
  user_id    INTEGER,
  sid        TEXT,
  event      TEXT    NOT NULL,                 -- login, login_failed, refresh, reuse_detected, logout, logout_all, password_change, session_expired
  client_ip  TEXT    NOT NULL DEFAULT '',
  user_agent TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX auth_events_user_at ON auth_events(user_id, at);
