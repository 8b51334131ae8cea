-- The KV mirror of ended sessions, made durable (an outbox in the rows themselves). Ending a
-- session sets `kv_pending` in the same transaction that revokes it (and on each sessionless
-- refresh token that logout everywhere blacklists); the issuer clears it once KV holds the
-- revocation. A request that failed between the two (KV down, the isolate gone) leaves the
-- flag: the next end of the same sessions and the every-minute Cron Trigger write what it did
-- not. The partial indexes hold only the pending rows (none, unless KV failed).
ALTER TABLE sessions ADD COLUMN kv_pending INTEGER;
ALTER TABLE blacklisted_tokens ADD COLUMN kv_pending INTEGER;
CREATE INDEX sessions_kv_pending ON sessions(kv_pending, user_id) WHERE kv_pending = 1;
CREATE INDEX blacklisted_tokens_kv_pending ON blacklisted_tokens(kv_pending) WHERE kv_pending = 1;
