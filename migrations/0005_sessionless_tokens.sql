-- Logout everywhere and a password change blacklist the user's refresh tokens of no session
-- (imported from Django, or minted with SESSION_CLAIM off). By outstanding_tokens_user_id that
-- read every token the user ever had, each rotation of each session included; this partial
-- index holds only the sessionless ones (none unless imported or sessions are off).
CREATE INDEX outstanding_tokens_sessionless ON outstanding_tokens(user_id, expires_at) WHERE sid IS NULL;
