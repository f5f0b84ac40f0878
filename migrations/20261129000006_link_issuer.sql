-- Identities are bound to the issuer that vouched for them: a link matches only the same
-- (provider, issuer, subject). Existing links belong to the provider's current issuer.
-- After an administrator changes a provider's issuer, the old links stay (shown to the
-- administrator as unmatched) but no identity from the new issuer signs in through them.
ALTER TABLE linked_identities ADD COLUMN issuer TEXT NOT NULL DEFAULT '';
UPDATE linked_identities SET issuer = (
    SELECT p.issuer_url FROM oidc_providers p WHERE p.slug = linked_identities.provider_slug
);
DROP INDEX linked_identities_subject_key;
CREATE UNIQUE INDEX linked_identities_subject_key
    ON linked_identities (provider_slug, issuer, subject);
