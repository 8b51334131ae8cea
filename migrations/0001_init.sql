-- edgejwt issuer schema: Django-like users and simplejwt's token blacklist tables.
-- Applied with `wrangler d1 migrations apply DB [--local|--remote]`.

-- Django's auth_user, plus `claims`: a JSON object of extra token claims (e.g. roles).
CREATE TABLE users (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  username     TEXT    NOT NULL UNIQUE,
  password     TEXT    NOT NULL,               -- Django format: pbkdf2_sha256$<iterations>$<salt>$<hash>
  email        TEXT    NOT NULL DEFAULT '',
  first_name   TEXT    NOT NULL DEFAULT '',
  last_name    TEXT    NOT NULL DEFAULT '',
  is_active    INTEGER NOT NULL DEFAULT 1,
  is_staff     INTEGER NOT NULL DEFAULT 0,
  is_superuser INTEGER NOT NULL DEFAULT 0,
  last_login   INTEGER,                        -- Unix seconds
  date_joined  INTEGER NOT NULL DEFAULT (unixepoch()),
  claims       TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(claims) AND json_type(claims) = 'object')
);

-- simplejwt's OutstandingToken: every refresh and sliding token issued. Never the raw token.
CREATE TABLE outstanding_tokens (
  jti        TEXT    PRIMARY KEY,
  user_id    INTEGER REFERENCES users(id) ON DELETE SET NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX outstanding_tokens_user_id ON outstanding_tokens(user_id);
CREATE INDEX outstanding_tokens_expires_at ON outstanding_tokens(expires_at);

-- simplejwt's BlacklistedToken. The primary key makes blacklisting a jti a single
-- conditional insert: of concurrent rotations of one token exactly one inserts.
CREATE TABLE blacklisted_tokens (
  jti            TEXT    PRIMARY KEY REFERENCES outstanding_tokens(jti) ON DELETE CASCADE,
  blacklisted_at INTEGER NOT NULL,
  expires_at     INTEGER NOT NULL
);
CREATE INDEX blacklisted_tokens_expires_at ON blacklisted_tokens(expires_at);
