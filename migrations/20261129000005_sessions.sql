-- Sessions, one row per browser. `data` is the session's JSON (src/ssr/session.rs); the
-- other columns are copied out of it when it is saved so sessions can be found and ended by
-- user, provider identity or the provider's session id (sign-out everywhere, back-channel
-- logout, unlinking, deleting a user).
CREATE TABLE sessions (
    id             TEXT PRIMARY KEY,
    data           TEXT NOT NULL,
    user_id        TEXT REFERENCES users (id) ON DELETE CASCADE,
    provider_slug  TEXT,
    subject        TEXT,
    provider_sid   TEXT,
    created_at     BIGINT NOT NULL,
    last_seen_at   BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_provider ON sessions (provider_slug, subject);
CREATE INDEX sessions_expires ON sessions (expires_at);
