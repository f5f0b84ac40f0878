-- Sign-in attempts in progress are capped per client (its address, IPv6 by /64) and per
-- browser (its binding cookie), below the global ceiling: the client each came from.
ALTER TABLE oidc_pending ADD COLUMN client_key TEXT;
CREATE INDEX oidc_pending_client ON oidc_pending (client_key, expires_at);
CREATE INDEX oidc_pending_binding ON oidc_pending (binding_hash, created_at);
