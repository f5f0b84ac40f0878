-- Issue 21, slice 3: the authorization code flow. Codes and tokens are stored as
-- base64url(SHA-256) only; the code or token itself never is.
-- A Portcullis session's id as the applications see it (`sid`), copied from the session's
-- value as `provider_sid` is: a grant without offline_access lives only while its session does.
ALTER TABLE sessions ADD COLUMN op_sid TEXT;
CREATE INDEX sessions_op_sid ON sessions (op_sid);
-- An authorization request waiting for the person to sign in: written only once valid,
-- single use, 10 minutes.
CREATE TABLE op_auth_requests (
    id          TEXT PRIMARY KEY,
    app_id      TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    request     TEXT NOT NULL,             -- the validated request, JSON
    login_after BIGINT,                    -- prompt=login / max_age (slice 4)
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
-- A code carries everything the exchange needs: issuing one writes this one row.
CREATE TABLE op_codes (
    code_hash      TEXT PRIMARY KEY,
    app_id         TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    sid            TEXT NOT NULL,
    redirect_uri   TEXT NOT NULL,
    scope          TEXT NOT NULL,
    nonce          TEXT,
    code_challenge TEXT,
    auth_time      BIGINT NOT NULL,
    amr            TEXT NOT NULL,          -- space-separated
    expires_at     BIGINT NOT NULL,        -- 60 s
    used_at        BIGINT,                 -- set by the one exchange
    grant_id       TEXT                    -- its grant: a second use revokes it
);
-- The token family: one per exchanged code.
CREATE TABLE op_grants (
    id         TEXT PRIMARY KEY,
    app_id     TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    sid        TEXT NOT NULL,
    scope      TEXT NOT NULL,
    auth_time  BIGINT NOT NULL,
    amr        TEXT NOT NULL,
    offline    BOOLEAN NOT NULL,           -- offline_access: outlives the session (slice 5)
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX op_grants_sid ON op_grants (sid);
CREATE INDEX op_grants_user ON op_grants (user_id);
CREATE TABLE op_tokens (
    token_hash  TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,             -- access | refresh
    grant_id    TEXT NOT NULL REFERENCES op_grants (id) ON DELETE CASCADE,
    parent_hash TEXT,                      -- the refresh token it was issued for (slice 5)
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);
CREATE INDEX op_tokens_grant ON op_tokens (grant_id);
CREATE INDEX op_tokens_expires ON op_tokens (expires_at);
