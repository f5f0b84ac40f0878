-- A user's groups: assigned in Portcullis (source '') or sent by a provider in its groups
-- claim (source = the provider's slug, replaced at each sign-in through it).
CREATE TABLE user_groups (
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    source      TEXT NOT NULL,
    group_name  TEXT NOT NULL,
    PRIMARY KEY (user_id, source, group_name)
);
CREATE INDEX user_groups_group ON user_groups (group_name);

-- Which claim carries a provider's groups (a dotted path is allowed, e.g. realm_access.roles).
ALTER TABLE oidc_providers ADD COLUMN groups_claim TEXT NOT NULL DEFAULT 'groups';
