-- Issue 18 item 9: a provider's claim groups no longer share one namespace with the groups
-- an administrator assigns. Applications (access lists, Remote-Groups) see a group that
-- provider `slug` sends as `slug:group`, unless the administrator marks that provider's
-- groups as authoritative (then as sent, as before). Stored rows stay as sent
-- (`user_groups.group_name`); the prefix is applied where groups are read
-- (`src/ssr/groups.rs`, `apps::provider_group`), so turning the flag on or off applies at
-- once. New providers default to prefixed: a user who can name their own group at a
-- provider (a Forgejo or Gitea organisation `media`) no longer gets the applications of
-- the assigned group `media`.
ALTER TABLE oidc_providers ADD COLUMN groups_authoritative BOOLEAN NOT NULL DEFAULT FALSE;

-- Item 8: a provider's groups go when it is disabled, however it is disabled. Before, the
-- editor and `provider update --enabled false` kept them: drop what they left behind.
DELETE FROM user_groups
WHERE source <> '' AND source IN (SELECT slug FROM oidc_providers WHERE enabled = FALSE);

-- Existing installations: access lists were written for unprefixed claim groups. A
-- provider whose groups claim has already given somebody a group may be what some access
-- list relies on, so it stays authoritative (nothing that works today stops working; the
-- README asks administrators to review it: untick "Groups are authoritative" and list its
-- groups as `slug:group`). A provider that has given nobody a group so far (no groups
-- claim, or one it never sends) cannot be what any access works through: it becomes
-- prefixed, like every new provider, and the hole closes there.
UPDATE oidc_providers SET groups_authoritative = TRUE
WHERE groups_claim <> ''
  AND EXISTS (SELECT 1 FROM user_groups g WHERE g.source = oidc_providers.slug);
