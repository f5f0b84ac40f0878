-- Issue 22 item 3: who must have signed in with two factors. The policy itself is a row of
-- `settings` (`require_second_factor`: nobody, administrators or everyone; absent: nobody).
-- SQLite and PostgreSQL alike.

-- An application may require two factors of everyone who opens it.
ALTER TABLE applications ADD COLUMN require_second_factor BOOLEAN NOT NULL DEFAULT FALSE;

-- Whether a provider's sign-in counts as two factors: amr (as its ID token's amr claim
-- says), always or never.
ALTER TABLE oidc_providers ADD COLUMN second_factor TEXT NOT NULL DEFAULT 'amr';

-- A personal access token made in a session with two factors may open what requires them;
-- one made with a password alone may not (it would carry a password-only sign-in past the
-- policy).
ALTER TABLE personal_tokens ADD COLUMN two_factors BOOLEAN NOT NULL DEFAULT FALSE;
