-- Per provider, opt-in: a first sign-in whose identity is unknown may link to the local
-- account with the same email, when the provider says the email is verified and the
-- account is no administrator and has no identity from this provider yet.
ALTER TABLE oidc_providers ADD COLUMN link_by_email BOOLEAN NOT NULL DEFAULT FALSE;
