-- Where each account's email came from (issue 18 item 5), so that linking a first sign-in
-- by email and Remote-Email trust only an email set by an administrator, by the user at an
-- account with a password, or by a provider that has link-by-email on (decided when the
-- email is used, from these columns: src/email_source.rs).
--   email_source:   'admin' (first-run setup, `portcullis user add`), 'user' (the user, at an
--                   account with a password), 'provider', or NULL: unknown, never trusted.
--   email_provider: the provider's slug when email_source is 'provider'.
ALTER TABLE users ADD COLUMN email_source TEXT;
ALTER TABLE users ADD COLUMN email_provider TEXT;

-- Existing rows. Until now a password account was created only by first-run setup or
-- `portcullis user add`, with an email an administrator typed, and only a sign-in through a
-- provider wrote a user row afterwards (the email re-sync, the display name, the Admin
-- Claims flag; each moves updated_at). A password account never written since it was
-- created therefore still holds the email an administrator typed.
UPDATE users SET email_source = 'admin'
 WHERE email IS NOT NULL AND password_hash IS NOT NULL AND updated_at = created_at;

-- Any other email may have come from a provider (the account was created by a first
-- sign-in, or a sign-in re-synced its email). When one of the account's linked identities
-- carries that email (ignoring case), that provider verified it for this account's owner:
-- it is that provider's, preferring one that links by email (its word is the one trusted).
UPDATE users SET email_source = 'provider', email_provider = (
        SELECT l.provider_slug FROM linked_identities l
          JOIN oidc_providers p ON p.slug = l.provider_slug
         WHERE l.user_id = users.id AND lower(l.email) = lower(users.email)
         ORDER BY p.link_by_email DESC, l.provider_slug
         LIMIT 1)
 WHERE email IS NOT NULL AND email_source IS NULL
   AND EXISTS (SELECT 1 FROM linked_identities l
                WHERE l.user_id = users.id AND lower(l.email) = lower(users.email));

-- The rest stays unknown, failing closed: an email no current link carries, on an account a
-- sign-in has written to, may be one a provider set before it was unlinked (or before its
-- email moved on), and nothing left tells it from one an administrator typed. Such an email
-- links no sign-in and is not sent as Remote-Email until a trusted source sets it again
-- (a sign-in through a provider that links by email and verified that address).
