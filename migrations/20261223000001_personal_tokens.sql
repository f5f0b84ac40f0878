-- Issue 23 item 3: personal access tokens, a script's way through forward authentication.
-- The token is never stored: token_hash is base64url(SHA-256) of it (256 random bits, so a
-- fast hash; the check looks it up). Revoking deletes the row. SQLite and PostgreSQL alike.
CREATE TABLE personal_tokens (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    hint TEXT NOT NULL,                 -- the token's last four characters
    apps TEXT NOT NULL,                 -- application ids, one per line
    created_at BIGINT NOT NULL,
    expires_at BIGINT,                  -- NULL: never
    last_used_at BIGINT                 -- written at most every five minutes
);
CREATE UNIQUE INDEX personal_tokens_hash ON personal_tokens (token_hash);
CREATE INDEX personal_tokens_user ON personal_tokens (user_id);

-- Tokens open an application only when it allows them (off by default).
ALTER TABLE applications ADD COLUMN allow_tokens BOOLEAN NOT NULL DEFAULT FALSE;
