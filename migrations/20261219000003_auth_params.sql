-- Issue 19 item 3: extra authorization parameters per provider (`prompt=select_account`,
-- Entra's `domain_hint`, Google's `hd`, Keycloak's `kc_idp_hint`...), one `key=value` per
-- line as validated by `provider::auth_params` ('' = none). SQLite and PostgreSQL alike.
ALTER TABLE oidc_providers ADD COLUMN auth_params TEXT NOT NULL DEFAULT '';
