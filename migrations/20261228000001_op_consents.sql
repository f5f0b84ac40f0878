-- Issue 21, slice 4: what a person allowed an application that asks first ("Ask people
-- before sharing", `op_clients.consent`), or allowed when an application sent
-- `prompt=consent`: the scopes, space-separated. A request for scopes outside them asks
-- again; an answer widens the row.
CREATE TABLE op_consents (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    app_id     TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    scope      TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, app_id)
);
