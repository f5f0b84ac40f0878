-- Applications behind forward authentication (src/apps.rs). `urls` holds the normalised
-- URLs one per line; `allowed_users` and `allowed_groups` the access lists one per line (for 'listed').
CREATE TABLE applications (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    urls        TEXT NOT NULL,
    icon        TEXT NOT NULL,
    access      TEXT NOT NULL,
    allowed_users  TEXT NOT NULL,
    allowed_groups TEXT NOT NULL,
    position    BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX applications_name_key ON applications (lower(name));
