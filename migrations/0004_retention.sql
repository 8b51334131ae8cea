-- Retention: the daily flush deletes audit events older than AUTH_EVENTS_RETENTION (default
-- 90 days; one row per login and per refresh, so the table would otherwise outgrow D1's 10 GB)
-- by this index, and deletes a session with its last token (docs/SCALING.md).
CREATE INDEX auth_events_at ON auth_events(at);
