-- How Portcullis authenticates at the token endpoint: 'auto' (from discovery),
-- 'client_secret_basic' or 'client_secret_post'.
ALTER TABLE oidc_providers ADD COLUMN token_auth_method TEXT NOT NULL DEFAULT 'auto';
