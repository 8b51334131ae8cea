-- Indexes so that no statement the issuer runs per request reads more rows as the tables grow
-- (EXPLAIN QUERY PLAN and D1's rows_read: tests/worker/query-plans.test.mjs; figures in
-- docs/SCALING.md).

-- Ending sessions (logout, logout everywhere, reuse detection, password change) blacklists the
-- tokens of the sessions it just revoked, found by (revoked_at, revoked_reason). Without this
-- index SQLite walked outstanding_tokens_expires_at over every unexpired token in the database.
CREATE INDEX sessions_revoked ON sessions(revoked_at, revoked_reason);

-- A user's live sessions (the session list, logout everywhere, a password change): sessions
-- are kept after they end, so by user_id alone these read every session the user ever had.
CREATE INDEX sessions_user_id_revoked_at ON sessions(user_id, revoked_at);
DROP INDEX sessions_user_id;

-- A session's tokens that are still alive, and its last expiry (the session list), from the
-- index alone. It serves every lookup by sid, so the single-column index goes.
CREATE INDEX outstanding_tokens_sid_expires_at ON outstanding_tokens(sid, expires_at);
DROP INDEX outstanding_tokens_sid;

-- The daily flush records `session_expired` once per session: without this index each session
-- it looked at scanned all of auth_events. Partial: the events of logins and refreshes write
-- no entry in it.
CREATE INDEX auth_events_session_expired ON auth_events(sid) WHERE event = 'session_expired';
