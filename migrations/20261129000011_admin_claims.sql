-- Admin Claims (issue 11 part 2): rules, in the Required Claims syntax, that make a user
-- signing in through the provider an administrator ('' = the provider grants no admin role).
ALTER TABLE oidc_providers ADD COLUMN admin_claims TEXT NOT NULL DEFAULT '';
-- Why an administrator whose provider rules no longer match kept the role (the last
-- administrator who can sign in), shown on the users page; NULL otherwise.
ALTER TABLE users ADD COLUMN admin_kept TEXT;
