CREATE TABLE oidc_providers (
    slug              TEXT PRIMARY KEY,
    name              TEXT NOT NULL,
    logo              TEXT NOT NULL,
    issuer_url        TEXT NOT NULL,
    client_id         TEXT NOT NULL,
    -- "v1:" + base64(nonce || ciphertext); never the secret itself
    client_secret_enc TEXT NOT NULL,
    -- space-separated, as sent to the provider
    scopes            TEXT NOT NULL,
    required_claims   TEXT NOT NULL,
    allow_new_users   BOOLEAN NOT NULL,
    enabled           BOOLEAN NOT NULL,
    position          BIGINT NOT NULL,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
CREATE UNIQUE INDEX oidc_providers_slug_lower_key ON oidc_providers (lower(slug));

-- An identity at a provider, linked to one local user. Deleting the provider or the user
-- deletes its links; re-creating a slug does not revive them.
CREATE TABLE linked_identities (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider_slug TEXT NOT NULL REFERENCES oidc_providers (slug) ON DELETE CASCADE,
    subject       TEXT NOT NULL,
    username      TEXT,
    email         TEXT,
    linked_at     BIGINT NOT NULL,
    last_login_at BIGINT
);
CREATE UNIQUE INDEX linked_identities_subject_key ON linked_identities (provider_slug, subject);
CREATE UNIQUE INDEX linked_identities_user_provider_key ON linked_identities (user_id, provider_slug);
