-- One row per sign-in or link attempt between the redirect to the provider and its
-- callback: single-use (deleted when consumed), bound to the browser that started it (the
-- hash of a cookie value), expiring after 10 minutes.
CREATE TABLE oidc_pending (
    state          TEXT PRIMARY KEY,
    binding_hash   TEXT NOT NULL,
    provider_slug  TEXT NOT NULL,
    nonce          TEXT NOT NULL,
    pkce_verifier  TEXT NOT NULL,
    mode           TEXT NOT NULL,
    user_id        TEXT,
    return_to      TEXT,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL
);
CREATE INDEX oidc_pending_expires ON oidc_pending (expires_at);
