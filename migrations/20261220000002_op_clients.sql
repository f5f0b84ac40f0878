-- Issue 21, slice 2: an application that is also an OpenID Connect client (1:1 beside
-- `applications`, which forward auth reads; its cache stays as it was). The secret is never
-- stored: `secret_hash` is 'sha256:' + base64url(SHA-256), `secret_hint` its first four
-- characters after the 'pc_cs_' prefix, both NULL for a public client (auth_method 'none').
-- URI lists hold one URI per line, compared byte for byte. The client ID may change until
-- the first code exchange (`first_used_at`).
CREATE TABLE op_clients (
    app_id        TEXT PRIMARY KEY REFERENCES applications (id) ON DELETE CASCADE,
    client_id     TEXT NOT NULL,
    secret_hash   TEXT,
    secret_hint   TEXT,
    auth_method   TEXT NOT NULL,            -- client_secret_basic | client_secret_post | none
    redirect_uris TEXT NOT NULL,
    post_logout_redirect_uris TEXT NOT NULL,
    backchannel_logout_uri TEXT NOT NULL DEFAULT '',
    scopes        TEXT NOT NULL,            -- allowed, space-separated
    id_token_alg  TEXT NOT NULL DEFAULT 'RS256',
    device_flow   BOOLEAN NOT NULL DEFAULT FALSE,
    consent       BOOLEAN NOT NULL DEFAULT FALSE,
    first_used_at BIGINT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE UNIQUE INDEX op_clients_client_id_key ON op_clients (client_id);
