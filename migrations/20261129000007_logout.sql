-- Signing out at the provider too (OpenID Connect RP-Initiated Logout 1.0), per provider;
-- it has effect only when the provider's discovery document names an end_session_endpoint.
ALTER TABLE oidc_providers ADD COLUMN sign_out_at_provider BOOLEAN NOT NULL DEFAULT TRUE;

-- A sign-out sent on to a provider's end_session_endpoint: the `state` it carries, checked
-- when the browser comes back on /login/<slug>/signed-out (the session is gone by then).
-- `end_session_url` is where a browser without JavaScript is sent on to (it holds the
-- id_token_hint, so it is kept here, not in a URL of ours).
CREATE TABLE oidc_logout_states (
    state          TEXT PRIMARY KEY,
    provider_slug  TEXT NOT NULL,
    end_session_url TEXT NOT NULL,
    expires_at     BIGINT NOT NULL
);
CREATE INDEX oidc_logout_states_expires ON oidc_logout_states (expires_at);

-- Back-channel logout tokens already used (OpenID Connect Back-Channel Logout 1.0 §2.6,
-- `jti` replay), kept until they could no longer be accepted anyway.
CREATE TABLE oidc_logout_jtis (
    provider_slug  TEXT NOT NULL,
    jti            TEXT NOT NULL,
    expires_at     BIGINT NOT NULL,
    PRIMARY KEY (provider_slug, jti)
);
CREATE INDEX oidc_logout_jtis_expires ON oidc_logout_jtis (expires_at);
